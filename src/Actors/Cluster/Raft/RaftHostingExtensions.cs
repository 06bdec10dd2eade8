using System.Globalization;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Cluster.Raft;

public static class RaftHostingExtensions
{
    /// <summary>Plugin id of the coordinator singletons' replicated journal and snapshot store.</summary>
    public const string ReplicatedPluginId = "coordinator-state";

    /// <summary>The <see cref="LeadershipKeeper"/> singleton on the <c>coordinator</c> role (a coordinator node only).</summary>
    public static AkkaConfigurationBuilder AddLeadershipKeeper(this AkkaConfigurationBuilder builder, int nodeId)
    {
        builder.AddHocon(ClusterSingleton.DefaultConfig(), HoconAddMode.Append);
        return builder.WithSingleton<LeadershipKeeper>(
            LeadershipKeeper.SingletonName,
            (_, _, resolver) => LeadershipKeeper.Props(nodeId, resolver.GetService<TimeProvider>(), resolver.GetService<ILoggerFactory>()),
            new ClusterSingletonOptions { Role = MemberRoles.Coordinator, BufferSize = 100 });
    }

    /// <summary>
    /// A raft coordinator with the embedded journal: the coordinator singletons persist through
    /// <see cref="ReplicatedJournal"/> and <see cref="ReplicatedSnapshotStore"/> (the node's default plugins; this node
    /// runs no pipeline), and this coordinator's <see cref="CoordinatorStateKeeper"/> keeps its copy under
    /// <paramref name="dataDir"/>. <paramref name="majority"/>: a majority of <c>--raft-peers</c>.
    /// </summary>
    public static AkkaConfigurationBuilder AddReplicatedCoordinatorState(this AkkaConfigurationBuilder builder, string dataDir, int majority)
    {
        builder.AddHocon(
            $$"""
            varpulis.coordinator-state.majority = {{majority.ToString(CultureInfo.InvariantCulture)}}
            akka.persistence.journal.plugin = "akka.persistence.journal.{{ReplicatedPluginId}}"
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.{{ReplicatedPluginId}}"
            akka.persistence.journal.{{ReplicatedPluginId}} {
              class = "{{typeof(ReplicatedJournal).AssemblyQualifiedName}}"
              plugin-dispatcher = "akka.actor.default-dispatcher"
              # A recovery waits for a majority of the coordinators (after a full restart they join one by one).
              recovery-event-timeout = 150s
              circuit-breaker.call-timeout = 150s
            }
            akka.persistence.snapshot-store.{{ReplicatedPluginId}} {
              class = "{{typeof(ReplicatedSnapshotStore).AssemblyQualifiedName}}"
              plugin-dispatcher = "akka.actor.default-dispatcher"
              circuit-breaker.call-timeout = 150s
            }
            """,
            HoconAddMode.Prepend);
        return builder.StartActors((system, registry, resolver) =>
        {
            var log = resolver.GetService<ILoggerFactory>().CreateLogger("Varpulis.Raft");
            var files = CoordinatorStateFiles.Open(dataDir, out var problems);
            foreach (var p in problems) log.LogWarning("Raft: skipped a coordinator state file: {Problem}", p);
            log.LogInformation("Raft: coordinator state in {Dir}: {Records} records, version {Version} (written to a majority of {Majority} coordinators)",
                files.Directory, files.Count, files.Latest, majority);
            var keeper = system.ActorOf(CoordinatorStateKeeper.Props(files, log), CoordinatorStateKeeper.Name);
            registry.Register<CoordinatorStateKeeper>(keeper);
        });
    }
}
