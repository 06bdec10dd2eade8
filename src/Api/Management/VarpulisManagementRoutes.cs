using Akka.Actor;
using Akka.Http.Dsl;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Dsl;
using Akka.Management.Routes;

namespace Varpulis.Api.Management;

/// <summary>
/// The one <see cref="IManagementRouteProvider"/> of a Varpulis node. Akka.Management concatenates its providers' routes
/// and serves the first that answers, with no hook for authentication; so the node registers only this provider, which
/// puts the access gate first, then Akka.Management's own routes (cluster-bootstrap's seed-node discovery, the remoting
/// address), the cluster routes of the JVM's Akka Management Cluster HTTP, the cluster manager's routes for
/// <c>pbm varpulis</c> (<see cref="VarpulisClusterRoute"/>), and a JSON 404 last.
/// </summary>
public sealed class VarpulisManagementRoutes(ExtendedActorSystem system) : IManagementRouteProvider
{
    public (string, HttpModuleBase)[] Routes(ManagementRouteProviderSettings settings)
    {
        var setup = system.Settings.Setup.Get<ManagementAccess>();
        var access = setup.HasValue ? setup.Value : new ManagementAccess(null);
        bool readOnly = settings.ReadOnly;
        return
        [
            ("[.*]", new ManagementAccessGate(access)),
            .. ClusterBootstrap.Get(system).Routes(settings),
            .. new AddressRouteProvider().Routes(settings),
            (ClusterMembersRoute.Pattern, new ClusterMembersRoute(readOnly)),
            (ClusterMemberRoute.Pattern, new ClusterMemberRoute(readOnly)),
            (ClusterShardTypesRoute.Pattern, new ClusterShardTypesRoute()),
            (ClusterShardsRoute.Pattern, new ClusterShardsRoute()),
            (VarpulisClusterRoute.Pattern, new VarpulisClusterRoute()),
            ("[.*]", new ManagementNotFound()),
        ];
    }
}
