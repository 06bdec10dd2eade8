using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Directory;

public static class DirectoryHostingExtensions
{
    /// <summary>
    /// The directory singleton on the <c>coordinator</c> role (after the pipeline region or its proxy, which it
    /// reconciles), with a proxy registered as <c>IRequiredActor&lt;ServerDirectory&gt;</c>. On a worker, only the proxy.
    /// </summary>
    public static AkkaConfigurationBuilder AddServerDirectory(this AkkaConfigurationBuilder builder, bool hostSingleton)
    {
        builder.AddHocon(ClusterSingleton.DefaultConfig(), HoconAddMode.Append);
        var options = new ClusterSingletonOptions { Role = MemberRoles.Coordinator, BufferSize = 10_000 };
        if (!hostSingleton) return builder.WithSingletonProxy<ServerDirectory>(ServerDirectory.SingletonName, options);
        return builder.WithSingleton<ServerDirectory>(
            ServerDirectory.SingletonName,
            (_, registry, resolver) => ServerDirectory.Props(registry.Get<PipelineEntity>(), registry.Get<ClusterManager>(), resolver.GetService<ILoggerFactory>()),
            options);
    }
}
