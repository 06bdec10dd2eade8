using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Cluster.Raft;
using Varpulis.Actors.Cluster.Scaling;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Persistence;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Serialization;

namespace Varpulis.Actors.Node;

public static class NodeHostingExtensions
{
    /// <summary>The largest message between nodes: a 16 MiB batch with its envelope, or its reply.</summary>
    public const long MaxFrameBytes = 40L << 20;

    /// <summary>
    /// A Varpulis node as <paramref name="plan"/> says: remoting, cluster membership with its roles (a single server and
    /// a coordinator join themselves, a worker joins the coordinator's seed nodes), the failure detector and the
    /// split-brain resolver (keep-majority counted over the <c>coordinator</c> role), strict serialization through
    /// <see cref="VarpulisSerializer"/>, persistence, the pipeline region (or, on a coordinator, its proxy), the node's
    /// <see cref="WorkerAgent"/>, and the directory and cluster manager singletons (hosted by coordinators; proxies elsewhere).
    /// </summary>
    public static AkkaConfigurationBuilder WithVarpulisNode(this AkkaConfigurationBuilder builder, VarpulisSettings settings, NodePlan plan)
    {
        var p = settings.Persistence;
        builder
            .AddHocon(
                $$"""
                akka.cluster.min-nr-of-members = 1
                akka.cluster.sharding.distributed-data.durable.keys = []
                akka.cluster.distributed-data.durable.keys = []
                akka.cluster.distributed-data.notify-subscribers-interval = 200ms
                akka.cluster.log-info = off
                akka.actor.serialize-messages = off
                akka.persistence.journal.auto-start-journals = []
                akka.cluster.sharding.rebalance-interval = 2s
                # The proxies warn at startup before the cluster is even up; a worker without a coordinator says so itself (Heartbeat failed).
                akka.cluster.singleton-proxy.log-singleton-identification-failure = off
                akka.remote.dot-netty.tcp.maximum-frame-size = {{MaxFrameBytes}}b
                akka.remote.dot-netty.tcp.send-buffer-size = {{MaxFrameBytes}}b
                akka.remote.dot-netty.tcp.receive-buffer-size = {{MaxFrameBytes}}b
                # A request crossing to another worker waits for its reply: no 40 ms batching delay on either hop.
                akka.remote.dot-netty.tcp.batching.enabled = false
                akka.cluster.roles = [{{string.Join(", ", plan.Roles.Select(Quote))}}]
                {{FailureDetection(plan)}}
                """,
                HoconAddMode.Prepend)
            .WithRemoting(new RemoteOptions { HostName = plan.BindHostname, PublicHostName = plan.PublicHostname, Port = plan.RemotingPort })
            // Roles are in the HOCON above, quoted: a worker's metadata roles hold ':' and URLs.
            .WithClustering(new ClusterOptions())
            .AddStartup((system, _) =>
            {
                // Every node answers Distributed Data writes (tenants, placement directives) from the start.
                Akka.DistributedData.DistributedData.Get(system);
                var cluster = Akka.Cluster.Cluster.Get(system);
                if (plan.Raft is not null)
                {
                    // A raft coordinator joins its peers once it has found them (the host's RaftJoiner).
                }
                else if (plan.SeedNodes.Count == 0)
                {
                    // A single server or a coordinator: its own seed, whatever port remoting picked.
                    cluster.Join(cluster.SelfAddress);
                }
                else
                {
                    cluster.JoinSeedNodes(plan.SeedNodes.Select(Address.Parse).ToList());
                }
            })
            .WithCustomSerializer(
                "varpulis",
                [typeof(IPipelineProtocol), typeof(IDirectoryProtocol), typeof(IClusterManagerProtocol), typeof(IClusterBootstrapProtocol), typeof(Connectors.IConnectorsProtocol), typeof(IPipelineGroupProtocol)],
                system => new VarpulisSerializer(system))
            .WithVarpulisPersistence(plan.Persistence, plan.JournalDir, plan.OwnsJournalFiles, defaultPlugins: plan.Raft?.StateDataDir is null)
            .AddClusterManager(plan.HostsSingletons, plan.Placement);
        if (plan.HostsPipelines)
        {
            var entitySettings = new PipelineEntitySettings(
                p.SnapshotEveryEvents,
                TimeSpan.FromSeconds(Math.Max(0, p.SnapshotIntervalSecs)),
                plan.HeartbeatInterval,
                plan.WorkerId,
                settings.Server.StateDir)
            {
                Connectors = new Connectors.PipelineConnectorsSettings("", "", "")
                {
                    DeadLetterBacklogLimit = settings.Server.DlqBacklogLimit,
                    DeadLetterMaxEvents = settings.Server.DlqMaxEvents,
                },
            };
            builder
                .AddWorkerAgent(plan.WorkerId, plan.MaxPipelines, plan.HeartbeatInterval, plan.HeartbeatTimeout)
                .AddPipelineRegion(entitySettings, VarpulisPersistence.ShardingPluginId);
        }
        else
        {
            builder.AddPipelineRegionProxy();
        }
        builder.AddServerDirectory(plan.HostsSingletons);
        builder.AddPipelineGroupManager(plan.HostsSingletons);
        if (plan.Kind == NodeKind.Coordinator)
        {
            builder.AddClusterBootstrapResponder(plan.Persistence);
            if (plan.Raft is { StateDataDir: { } stateDir } raft) builder.AddReplicatedCoordinatorState(stateDir, raft.Majority);
            builder.AddLeadershipKeeper(plan.Raft?.NodeId ?? 1);
            builder.AddScalingAdvisor(settings.Coordinator.Scaling);
            builder.AddClusterSeries(plan.HeartbeatInterval);
        }
        return builder;
    }

    /// <summary>
    /// The heartbeat flags on Akka.NET's failure detector and split-brain resolver: failure-detector heartbeats every
    /// interval (at most every second, see <see cref="Timings"/>); a member silent for about (heartbeat + acceptable
    /// pause) is unreachable (its worker shows <c>unhealthy</c>), and downed <c>stable-after</c> later, so about the
    /// heartbeat timeout after its last heartbeat; its pipelines then recover elsewhere. Keep-majority counts the
    /// <c>coordinator</c> members only: the coordinators are the quorum (like the Raft peers they stand for), so a
    /// worker cut off from them downs itself, and a coordinator with one worker never loses a 1-1 tie to it.
    /// </summary>
    internal static string FailureDetection(NodePlan plan)
    {
        if (plan.Kind == NodeKind.Single) return "";
        var (interval, pause, stable) = Timings(plan.HeartbeatInterval, plan.HeartbeatTimeout);
        return $"""
            akka.cluster.failure-detector.heartbeat-interval = {Ms(interval)}
            akka.cluster.failure-detector.expected-response-after = {Ms(interval)}
            akka.cluster.failure-detector.acceptable-heartbeat-pause = {Ms(pause)}
            akka.cluster.split-brain-resolver.active-strategy = keep-majority
            akka.cluster.split-brain-resolver.stable-after = {Ms(stable)}
            akka.cluster.down-removal-margin = {Ms(stable)}
            akka.cluster.split-brain-resolver.keep-majority.role = "{MemberRoles.Coordinator}"
            akka.cluster.seed-node-timeout = {Ms(TimeSpan.FromSeconds(Math.Max(2, interval.TotalSeconds)))}
            """;
    }

    /// <summary>
    /// Failure-detector heartbeat interval, acceptable pause and SBR stable-after for the heartbeat flags
    /// (<see cref="FailureDetection"/>). The detector's heartbeats come every <paramref name="interval"/> but at most
    /// every second: the phi-accrual detector judges from several heartbeats within the pause (Akka.NET warns when
    /// heartbeats are further apart than 2/3 of it), and the runbook's worker heartbeat (the report of each worker's
    /// pipelines, <c>last_heartbeat</c>) keeps the flag's own interval. stable-after = max(1 s, T/5); pause = T −
    /// stable-after − heartbeat (at least 1.5 heartbeats): downed about T after the last heartbeat. The removal
    /// margin (how long sharding and singletons wait after a removal before starting its actors elsewhere, so that a
    /// node that downed itself on the other side of a partition has stopped them) is stable-after too, as Akka.NET's
    /// default makes it, but explicit here.
    /// </summary>
    public static (TimeSpan Interval, TimeSpan Pause, TimeSpan StableAfter) Timings(TimeSpan interval, TimeSpan timeout)
    {
        var heartbeat = interval < TimeSpan.FromSeconds(1) ? interval : TimeSpan.FromSeconds(1);
        var stable = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, timeout.Ticks / 5));
        var pause = TimeSpan.FromTicks(Math.Max(heartbeat.Ticks * 3 / 2, (timeout - stable - heartbeat).Ticks));
        return (heartbeat, pause, stable);
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string Ms(TimeSpan t) => ((long)Math.Round(t.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
}
