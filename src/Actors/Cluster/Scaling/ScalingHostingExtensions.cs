using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Configuration;

namespace Varpulis.Actors.Cluster.Scaling;

public static class ScalingHostingExtensions
{
    /// <summary>The <see cref="ScalingAdvisor"/> singleton on the <c>coordinator</c> role (coordinator nodes), registered as <c>IRequiredActor&lt;ScalingAdvisor&gt;</c> (its proxy).</summary>
    public static AkkaConfigurationBuilder AddScalingAdvisor(this AkkaConfigurationBuilder builder, ScalingSettings settings)
    {
        builder.AddHocon(ClusterSingleton.DefaultConfig(), HoconAddMode.Append);
        return builder.WithSingleton<ScalingAdvisor>(
            ScalingAdvisor.SingletonName,
            (_, registry, resolver) => ScalingAdvisor.Props(registry.Get<ClusterManager>(), settings, resolver.GetService<TimeProvider>(), resolver.GetService<ILoggerFactory>()),
            new ClusterSingletonOptions { Role = MemberRoles.Coordinator, BufferSize = 100 });
    }
}
