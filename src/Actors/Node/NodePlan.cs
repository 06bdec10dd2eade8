using Varpulis.Actors.Cluster;
using Varpulis.Actors.Configuration;

namespace Varpulis.Actors.Node;

/// <summary>What a node is in its cluster.</summary>
public enum NodeKind
{
    /// <summary><c>varpulis server</c> alone: a cluster of one with both roles, joining itself.</summary>
    Single,

    /// <summary><c>varpulis coordinator</c>: role <c>coordinator</c>; hosts the singletons, runs no pipeline.</summary>
    Coordinator,

    /// <summary><c>varpulis server --coordinator URL</c>: role <c>worker</c>; runs pipelines, joins the coordinator's cluster.</summary>
    Worker,
}

/// <summary>
/// How a node takes part in the cluster, decided before its actor system starts: its roles, remoting address, the
/// seed nodes it joins, the journal it writes to (a worker's comes from its coordinator) and the failure detector's
/// timings.
/// </summary>
public sealed record NodePlan(
    NodeKind Kind,
    string PublicHostname,
    string BindHostname,
    int RemotingPort,
    IReadOnlyList<string> SeedNodes,
    PersistenceSettings Persistence,
    string JournalDir,
    bool OwnsJournalFiles,
    TimeSpan HeartbeatInterval,
    TimeSpan HeartbeatTimeout,
    string? WorkerId,
    string? AdvertiseAddress,
    int MaxPipelines,
    string Placement)
{
    /// <summary>The Akka.NET actor system name shared by every node of a Varpulis cluster.</summary>
    public const string SystemName = "varpulis";

    /// <summary>A coordinator started with <c>--raft</c>: its id and peers (it joins them, not itself).</summary>
    public Cluster.Raft.RaftPlan? Raft { get; init; }

    public bool HostsPipelines => Kind != NodeKind.Coordinator;

    public bool HostsSingletons => Kind != NodeKind.Worker;

    /// <summary>The member roles: <c>worker</c> and/or <c>coordinator</c>, and a worker's id and address (<see cref="MemberRoles"/>).</summary>
    public IReadOnlyList<string> Roles => Kind switch
    {
        NodeKind.Single => [MemberRoles.Worker, MemberRoles.Coordinator],
        NodeKind.Coordinator => Raft is null ? [MemberRoles.Coordinator] : MemberRoles.ForRaftCoordinator(Raft.NodeId),
        _ => MemberRoles.ForWorker(WorkerId!, AdvertiseAddress!),
    };

    /// <summary>A single server: loopback remoting on a free port (unless configured), its own state directory, joins itself.</summary>
    public static NodePlan Single(VarpulisSettings s) => new(
        NodeKind.Single,
        string.IsNullOrEmpty(s.Cluster.Hostname) ? "127.0.0.1" : s.Cluster.Hostname,
        string.IsNullOrEmpty(s.Cluster.Hostname) ? "127.0.0.1" : s.Cluster.Hostname,
        s.Cluster.Port,
        [],
        s.Persistence,
        s.Server.StateDir,
        OwnsJournalFiles: true,
        TimeSpan.FromSeconds(s.Cluster.HeartbeatIntervalSecs),
        TimeSpan.FromSeconds(s.Cluster.HeartbeatTimeoutSecs),
        WorkerId: null,
        AdvertiseAddress: null,
        s.Cluster.MaxPipelines,
        s.Cluster.Placement);
}

/// <summary>What this node is, for the layers that serve it differently (the coordinator's API and <c>/health</c>).</summary>
public sealed record NodeRole(NodeKind Kind)
{
    public bool IsCoordinator => Kind == NodeKind.Coordinator;
}

/// <summary>
/// The node's <see cref="NodePlan"/>, known before its actor system starts: at once for a single server and a
/// coordinator, after the join bootstrap for a worker (the host's <c>WorkerBootstrap</c>).
/// </summary>
public sealed class NodePlanHolder
{
    private NodePlan? _plan;

    public NodePlanHolder(NodePlan? plan = null) => _plan = plan;

    public NodePlan Plan => _plan ?? throw new InvalidOperationException("the node plan is not known yet: the worker has not reached its coordinator");

    public void Set(NodePlan plan) => _plan = plan;

    /// <summary>
    /// A raft coordinator that is not yet a member: the <c>--raft-node-id</c>s of the peers that answered its last round
    /// of seed requests (published in its own seed answer, so that a peer does not start a cluster while a lower id is
    /// alive but not yet visible to it). Empty otherwise.
    /// </summary>
    public IReadOnlyList<int> RaftPeersAnswering
    {
        get => Volatile.Read(ref _raftPeersAnswering);
        set => Volatile.Write(ref _raftPeersAnswering, value);
    }

    private IReadOnlyList<int> _raftPeersAnswering = [];
}
