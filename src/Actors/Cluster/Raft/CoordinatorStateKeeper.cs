using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// Runs on every raft coordinator with the embedded journal (<c>/user/coordinator-state</c>): keeps this coordinator's
/// durable copy of the coordinator state (<see cref="CoordinatorStateFiles"/> in its <c>--raft-data-dir</c>). The
/// leader's journal and snapshot store (<see cref="ReplicatedJournal"/>, <see cref="ReplicatedSnapshotStore"/>) write
/// each record to every keeper and count a write done when a majority of the peers have it on disk; a new leader reads
/// a majority and takes the newest. Keepers also exchange digests (when a coordinator comes up and every
/// <see cref="GossipInterval"/>) and copy what the other has newer, so a coordinator that was down or is new catches up
/// without a write, and after a full restart every copy converges on the newest.
/// </summary>
public sealed class CoordinatorStateKeeper : ReceiveActor, IWithTimers
{
    public const string Name = "coordinator-state";
    public static readonly TimeSpan GossipInterval = TimeSpan.FromSeconds(5);

    private readonly CoordinatorStateFiles _files;
    private readonly ILogger _log;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);

    public CoordinatorStateKeeper(CoordinatorStateFiles files, ILogger log)
    {
        _files = files;
        _log = log;
        Receive<PutCoordinatorState>(p =>
        {
            var (accepted, stored) = _files.Put(p.Key, p.Version, p.Data);
            Sender.Tell(new CoordinatorStateStored(p.Key, p.Version, accepted, stored));
        });
        Receive<GetCoordinatorState>(g =>
        {
            var (version, data) = _files.Get(g.Key);
            Sender.Tell(new CoordinatorStateValue(g.Key, version, data, _files.Latest));
        });
        Receive<CoordinatorStateDigest>(d =>
        {
            var mine = _files.Versions();
            var pull = d.Versions.Where(kv => !mine.TryGetValue(kv.Key, out var v) || kv.Value > v).Select(kv => kv.Key).ToList();
            if (pull.Count > 0) Sender.Tell(new PullCoordinatorState(pull));
            foreach (var (key, version) in mine)
            {
                if (!d.Versions.TryGetValue(key, out var theirs) || version > theirs) Sender.Tell(new PutCoordinatorState(key, version, _files.Get(key).Data));
            }
        });
        Receive<PullCoordinatorState>(p =>
        {
            foreach (var key in p.Keys)
            {
                var (version, data) = _files.Get(key);
                if (version > StateVersion.Zero) Sender.Tell(new PutCoordinatorState(key, version, data));
            }
        });
        Receive<CoordinatorStateStored>(_ => { });
        Receive<GetCoordinatorStateSummary>(_ => Sender.Tell(new CoordinatorStateSummary(_files.Latest, _files.Count)));
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (up.Member.HasRole(MemberRoles.Coordinator) && up.Member.Address != _cluster.SelfAddress) SendDigest(up.Member.Address);
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<Gossip>(_ =>
        {
            foreach (var m in _cluster.State.Members)
            {
                if (m.Status == MemberStatus.Up && m.HasRole(MemberRoles.Coordinator) && m.Address != _cluster.SelfAddress && !_cluster.State.Unreachable.Contains(m))
                    SendDigest(m.Address);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CoordinatorStateFiles files, ILogger log) => Akka.Actor.Props.Create(() => new CoordinatorStateKeeper(files, log));

    /// <summary>The keeper of the coordinator at <paramref name="address"/>.</summary>
    public static ActorSelection At(ActorSystem system, Address address) => system.ActorSelection(new RootActorPath(address) / "user" / Name);

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        Timers.StartPeriodicTimer("gossip", Gossip.Instance, GossipInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void SendDigest(Address address)
    {
        var versions = _files.Versions();
        _log.LogDebug("Coordinator state: digest of {Count} records to {Address}", versions.Count, address);
        At(Context.System, address).Tell(new CoordinatorStateDigest(versions), Self);
    }

    private sealed record Gossip
    {
        public static readonly Gossip Instance = new();
    }
}
