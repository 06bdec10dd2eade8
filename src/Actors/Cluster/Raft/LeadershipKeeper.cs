using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Persistence;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// The leader's term: a persistent cluster singleton on the <c>coordinator</c> role, so it runs on the same coordinator
/// as the cluster manager and the directory (the oldest). Each time it starts there it journals the next
/// <see cref="LeaderRecord"/> (term + 1, this coordinator) and writes it to a majority of nodes in Distributed Data,
/// where every coordinator reads it for <c>/api/v1/cluster/raft/status</c>; it logs <c>Raft leadership changed</c>.
/// </summary>
public sealed class LeadershipKeeper : ReceivePersistentActor, IWithTimers
{
    public const string SingletonName = "leadership";
    public static readonly LWWRegisterKey<LeaderRecord> Key = new("varpulis-leader");
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(3);

    private readonly int _nodeId;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly IActorRef _replicator;
    private LeaderRecord? _current;
    private LeaderRecord? _previous;

    public LeadershipKeeper(int nodeId, TimeProvider time, ILoggerFactory loggers)
    {
        _nodeId = nodeId;
        _time = time;
        _log = loggers.CreateLogger("Varpulis.Raft");
        _replicator = DistributedData.Get(Context.System).Replicator;

        Recover<LeaderRecord>(r => _current = r);
        Recover<SnapshotOffer>(o => _current = (LeaderRecord)o.Snapshot);
        Recover<RecoveryCompleted>(_ => TakeLeadership());
        Command<GetLeadership>(_ => Sender.Tell((object?)_current ?? new LeaderRecord(0, 0, "", DateTimeOffset.UnixEpoch)));
        Command<Publish>(_ => PublishCurrent());
        Command<UpdateSuccess>(_ => Timers.Cancel("publish"));
        Command<UpdateTimeout>(_ => Timers.StartSingleTimer("publish", Publish.Instance, TimeSpan.FromSeconds(1)));
        Command<ModifyFailure>(f =>
        {
            _log.LogWarning(f.Cause, "The leader record could not be replicated; retrying");
            Timers.StartSingleTimer("publish", Publish.Instance, TimeSpan.FromSeconds(1));
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.LogWarning(f.Cause, "Leadership snapshot failed"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(_ => { });
    }

    public override string PersistenceId => "varpulis-leadership";

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(int nodeId, TimeProvider time, ILoggerFactory loggers)
        => Akka.Actor.Props.Create(() => new LeadershipKeeper(nodeId, time, loggers));

    private void TakeLeadership()
    {
        _previous = _current;
        var next = new LeaderRecord((_current?.Term ?? 0) + 1, _nodeId, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), _time.GetUtcNow());
        Persist(next, r =>
        {
            _current = r;
            SaveSnapshot(r);
            if (_previous is null)
                _log.LogInformation("Raft leadership changed: coordinator {NodeId} ({Address}) is the leader, term {Term} (first term)", r.NodeId, r.Address, r.Term);
            else
                _log.LogInformation("Raft leadership changed: coordinator {NodeId} ({Address}) is the leader, term {Term} (was coordinator {PreviousNodeId}, term {PreviousTerm})",
                    r.NodeId, r.Address, r.Term, _previous.NodeId, _previous.Term);
            PublishCurrent();
        });
    }

    private void PublishCurrent()
    {
        if (_current is not { } r) return;
        var node = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;
        _replicator.Tell(Dsl.Update(Key, new LWWRegister<LeaderRecord>(node, r), new WriteMajority(WriteTimeout), reg => reg.WithValue(node, r)));
    }

    private sealed record Publish
    {
        public static readonly Publish Instance = new();
    }
}
