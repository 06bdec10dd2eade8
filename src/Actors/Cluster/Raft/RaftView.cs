using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;

namespace Varpulis.Actors.Cluster.Raft;

/// <summary>The <c>--raft*</c> settings as a node plan carries them: this coordinator's id and every peer's URL (id = position, from 1).</summary>
public sealed record RaftPlan(int NodeId, IReadOnlyList<string> Peers)
{
    /// <summary>
    /// Where this coordinator keeps its copy of the replicated coordinator state (its <c>--raft-data-dir</c>); null when
    /// the coordinator state is in the shared PostgreSQL journal.
    /// </summary>
    public string? StateDataDir { get; init; }

    public int Majority => Peers.Count / 2 + 1;

    public string SelfUrl => Peers[NodeId - 1];
}

/// <summary>One coordinator as <c>/api/v1/cluster/raft/status</c> shows it.</summary>
public sealed record RaftNodeView(int Id, string Address, string Role, bool IsCurrent, bool Reachable);

/// <summary>
/// A coordinator's view of the coordinators' leadership: the <see cref="LeaderRecord"/> (term and leader) from its
/// Distributed Data replica, and the cluster's membership. The leader is the coordinator that hosts the singletons
/// (the oldest up coordinator); a leader is <em>available</em> when the record names that coordinator and it is
/// reachable, and the peers that are up and reachable are a majority of <c>--raft-peers</c>. While it is not (the
/// leader was lost and the singletons are moving, or a majority is gone), writes are refused with 503
/// <c>leader_unavailable</c>.
/// </summary>
public sealed class RaftView
{
    private readonly ActorSystem _system;
    private volatile LeaderRecord? _record;

    public RaftView(ActorSystem system, RaftPlan? plan)
    {
        _system = system;
        Plan = plan;
        system.ActorOf(Props.Create(() => new Follower(DistributedData.Get(system).Replicator, this)), "raft-view");
    }

    /// <summary>Null: a coordinator started without <c>--raft</c>.</summary>
    public RaftPlan? Plan { get; }

    public bool Enabled => Plan is not null;

    public int ThisNodeId => Plan?.NodeId ?? 1;

    public LeaderRecord? Record => _record;

    private Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(_system);

    /// <summary>The coordinators that are up, oldest first (the first hosts the singletons).</summary>
    private List<Member> UpCoordinators()
        => Cluster.State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole(MemberRoles.Coordinator))
            .OrderBy(m => m, Member.AgeOrdering)
            .ToList();

    private bool IsReachable(Member m) => !Cluster.State.Unreachable.Contains(m);

    /// <summary>True when this coordinator hosts the singletons.</summary>
    public bool IsLeader
    {
        get
        {
            var oldest = UpCoordinators().FirstOrDefault();
            return oldest is not null && oldest.Address == Cluster.SelfAddress && Cluster.SelfMember.Status == MemberStatus.Up;
        }
    }

    /// <summary>How many of the peers are up and reachable from here (this one included).</summary>
    public int ReachablePeers
    {
        get
        {
            // Before it has joined, a coordinator reaches only itself.
            if (Cluster.SelfMember.Status != MemberStatus.Up) return 1;
            return UpCoordinators().Count(m => IsReachable(m) && (Plan is null || MemberRoles.RaftNodeIdOf(m) is not null));
        }
    }

    public bool HasQuorum => ReachablePeers >= (Plan?.Majority ?? 1);

    /// <summary>Null when writes may go ahead; else why not (the 503 <c>leader_unavailable</c> message).</summary>
    public string? WhyNoLeader()
    {
        if (Cluster.SelfMember.Status != MemberStatus.Up) return "this coordinator has not joined the other coordinators yet";
        if (!HasQuorum)
            return $"only {ReachablePeers} of {Plan!.Peers.Count} coordinators are reachable; a majority ({Plan.Majority}) is needed to elect a leader";
        var oldest = UpCoordinators().FirstOrDefault();
        if (oldest is null || !IsReachable(oldest)) return "the leader is unreachable; a new leader is being elected";
        if (_record is not { } r || r.Address != oldest.Address.ToString()) return "a new leader is taking over";
        return null;
    }

    /// <summary>The coordinators of <c>--raft-peers</c> (or, without <c>--raft</c>, those in the cluster) with their roles.</summary>
    public IReadOnlyList<RaftNodeView> Nodes()
    {
        var up = UpCoordinators();
        var leaderAddress = _record?.Address;
        if (Plan is null)
        {
            return up.Select((m, i) => new RaftNodeView(i + 1, m.Address.ToString(), m.Address.ToString() == leaderAddress ? "leader" : "follower",
                m.Address == Cluster.SelfAddress, IsReachable(m))).ToList();
        }
        var result = new List<RaftNodeView>(Plan.Peers.Count);
        for (int id = 1; id <= Plan.Peers.Count; id++)
        {
            var member = up.FirstOrDefault(m => MemberRoles.RaftNodeIdOf(m) == id);
            bool leader = _record is { } r && r.NodeId == id && member is not null && member.Address.ToString() == r.Address;
            result.Add(new RaftNodeView(id, Plan.Peers[id - 1], leader ? "leader" : "follower", id == Plan.NodeId, member is not null && IsReachable(member)));
        }
        return result;
    }

    private sealed class Follower : ReceiveActor
    {
        public Follower(IActorRef replicator, RaftView owner)
        {
            replicator.Tell(Dsl.Subscribe(LeadershipKeeper.Key, Self));
            replicator.Tell(Dsl.Get(LeadershipKeeper.Key, ReadLocal.Instance));
            Receive<Changed>(c => owner._record = c.Get(LeadershipKeeper.Key).Value);
            Receive<GetSuccess>(g => owner._record = g.Get(LeadershipKeeper.Key).Value);
            Receive<NotFound>(_ => { });
            Receive<GetFailure>(_ => { });
        }
    }
}
