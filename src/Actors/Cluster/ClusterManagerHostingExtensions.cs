using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Cluster;

public static class ClusterManagerHostingExtensions
{
    /// <summary>
    /// The cluster manager singleton on the <c>coordinator</c> role, with a proxy registered as
    /// <c>IRequiredActor&lt;ClusterManager&gt;</c>; on a worker, only the proxy.
    /// </summary>
    public static AkkaConfigurationBuilder AddClusterManager(this AkkaConfigurationBuilder builder, bool hostSingleton, string placementMode)
    {
        builder.AddHocon(ClusterSingleton.DefaultConfig(), HoconAddMode.Append);
        var options = new ClusterSingletonOptions { Role = MemberRoles.Coordinator, BufferSize = 10_000 };
        if (!hostSingleton) return builder.WithSingletonProxy<ClusterManager>(ClusterManager.SingletonName, options);
        return builder.WithSingleton<ClusterManager>(
            ClusterManager.SingletonName,
            (_, _, resolver) => ClusterManager.Props(placementMode, resolver.GetService<TimeProvider>(), resolver.GetService<ILoggerFactory>()),
            options);
    }

    /// <summary>A coordinator's side of the join handshake (<see cref="ClusterBootstrapResponder"/>).</summary>
    public static AkkaConfigurationBuilder AddClusterBootstrapResponder(this AkkaConfigurationBuilder builder, Configuration.PersistenceSettings persistence)
        => builder.WithActors((system, _) => system.ActorOf(ClusterBootstrapResponder.Props(persistence), ClusterBootstrapResponder.Name));

    /// <summary>The node's <see cref="WorkerAgent"/> (nodes that run pipelines), registered as <c>IRequiredActor&lt;WorkerAgent&gt;</c>.</summary>
    public static AkkaConfigurationBuilder AddWorkerAgent(this AkkaConfigurationBuilder builder, string? workerId, int maxPipelines, TimeSpan interval, TimeSpan orphanAfter)
    {
        return builder.WithActors((system, registry, resolver) =>
        {
            var agent = system.ActorOf(
                WorkerAgent.Props(registry.Get<ClusterManager>(), workerId, maxPipelines, interval, orphanAfter, resolver.GetService<TimeProvider>(), resolver.GetService<ILoggerFactory>()),
                WorkerAgent.Name);
            registry.Register<WorkerAgent>(agent);
        });
    }
}
