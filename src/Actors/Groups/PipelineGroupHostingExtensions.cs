using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Groups;

public static class PipelineGroupHostingExtensions
{
    /// <summary>
    /// The pipeline group manager singleton on the <c>coordinator</c> role (after the directory, the cluster manager and
    /// the pipeline region or its proxy, which it uses), with a proxy registered as
    /// <c>IRequiredActor&lt;PipelineGroupManager&gt;</c>. On a worker, only the proxy.
    /// </summary>
    public static AkkaConfigurationBuilder AddPipelineGroupManager(this AkkaConfigurationBuilder builder, bool hostSingleton)
    {
        builder.AddHocon(ClusterSingleton.DefaultConfig(), HoconAddMode.Append);
        var options = new ClusterSingletonOptions { Role = MemberRoles.Coordinator, BufferSize = 10_000 };
        if (!hostSingleton) return builder.WithSingletonProxy<PipelineGroupManager>(PipelineGroupManager.SingletonName, options);
        return builder.WithSingleton<PipelineGroupManager>(
            PipelineGroupManager.SingletonName,
            (_, registry, resolver) => PipelineGroupManager.Props(
                registry.Get<ServerDirectory>(), registry.Get<PipelineEntity>(), registry.Get<ClusterManager>(),
                resolver.GetService<TimeProvider>(), resolver.GetService<ILoggerFactory>()),
            options);
    }
}
