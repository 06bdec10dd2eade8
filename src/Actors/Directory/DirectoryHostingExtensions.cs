using Akka.Hosting;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Directory;

public static class DirectoryHostingExtensions
{
    /// <summary>Starts the server directory (after the pipeline region, which it reconciles). <c>IRequiredActor&lt;ServerDirectory&gt;</c>.</summary>
    public static AkkaConfigurationBuilder AddServerDirectory(this AkkaConfigurationBuilder builder)
    {
        return builder.WithActors((system, registry, resolver) =>
        {
            var region = registry.Get<PipelineEntity>();
            var directory = system.ActorOf(ServerDirectory.Props(region, resolver.GetService<ILoggerFactory>()), "directory");
            registry.Register<ServerDirectory>(directory);
        });
    }
}
