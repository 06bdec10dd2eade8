using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Cluster.Raft;

public static class RaftHostingExtensions
{
    /// <summary>The <see cref="LeadershipKeeper"/> singleton on the <c>coordinator</c> role (a coordinator node only).</summary>
    public static AkkaConfigurationBuilder AddLeadershipKeeper(this AkkaConfigurationBuilder builder, int nodeId)
    {
        builder.AddHocon(ClusterSingleton.DefaultConfig(), HoconAddMode.Append);
        return builder.WithSingleton<LeadershipKeeper>(
            LeadershipKeeper.SingletonName,
            (_, _, resolver) => LeadershipKeeper.Props(nodeId, resolver.GetService<TimeProvider>(), resolver.GetService<ILoggerFactory>()),
            new ClusterSingletonOptions { Role = MemberRoles.Coordinator, BufferSize = 100 });
    }
}
