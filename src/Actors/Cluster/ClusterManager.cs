using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// The coordinator's cluster manager: a persistent cluster singleton on the <c>coordinator</c> role (the oldest
/// coordinator hosts it; it moves when that one goes). It follows the members (cluster events) and what each node
/// runs (<see cref="WorkerHeartbeat"/>s from the <see cref="WorkerAgent"/>s), answers the coordinator API, drains and
/// removes workers, plans rebalances, keeps the migration history, and tells the shard allocation strategy what it
/// needs through <see cref="PlacementDirectives"/> in Distributed Data. Decisions are in <see cref="ClusterManagerState"/>.
/// Where pipelines run is not journaled: a manager that takes over (a leader change) asks every worker for its report
/// and holds back each answer built from placements (workers, placements, topology, summary, metrics, drains, removals,
/// rebalances) until all of them reported, left, or <see cref="CatchUpLimit"/> passed, so that nothing reads as not
/// running merely because this manager has not heard of it yet.
/// </summary>
public sealed class ClusterManager : ReceivePersistentActor, IWithTimers
{
    public const string SingletonName = "cluster-manager";
    private const int SnapshotEvery = 200;
    private static readonly TimeSpan RemovalTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DirectivesWriteTimeout = TimeSpan.FromSeconds(3);

    /// <summary>How long a manager that took over waits for the workers' reports before it answers with what it has.</summary>
    public static readonly TimeSpan CatchUpLimit = TimeSpan.FromSeconds(10);

    private readonly ClusterManagerState _state = new();
    private readonly string _placementMode;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly IActorRef _replicator;
    private readonly Dictionary<string, PendingDrain> _pendingDrains = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingRemoval> _pendingRemovals = new(StringComparer.Ordinal);
    private string _publishedDirectives = "";
    private bool _holding;
    private int _sinceSnapshot;

    public ClusterManager(string placementMode, TimeProvider time, ILoggerFactory loggers)
    {
        _placementMode = placementMode;
        _time = time;
        _log = loggers.CreateLogger<ClusterManager>();
        _cluster = Akka.Cluster.Cluster.Get(Context.System);
        _replicator = DistributedData.Get(Context.System).Replicator;

        Recover<SnapshotOffer>(o => _state.Apply((ClusterManagerSnapshot)o.Snapshot));
        Recover<IClusterManagerEvent>(_state.Apply);
        Recover<RecoveryCompleted>(_ => OnRecovered());

        // Membership.
        Command<ClusterEvent.MemberUp>(e => MemberUp(e.Member));
        Command<ClusterEvent.MemberWeaklyUp>(e => _state.MemberChanged(e.Member));
        Command<ClusterEvent.MemberJoined>(e => _state.MemberChanged(e.Member));
        Command<ClusterEvent.MemberLeft>(e => _state.MemberChanged(e.Member));
        Command<ClusterEvent.MemberExited>(e => _state.MemberChanged(e.Member));
        Command<ClusterEvent.MemberRemoved>(e => MemberRemoved(e.Member));
        Command<ClusterEvent.UnreachableMember>(e => Reachability(e.Member, reachable: false));
        Command<ClusterEvent.ReachableMember>(e => Reachability(e.Member, reachable: true));
        Command<ClusterEvent.IClusterDomainEvent>(_ => { });

        // Node reports.
        Command<WorkerHeartbeat>(hb =>
        {
            foreach (var m in _state.Heartbeat(hb, _time.GetUtcNow())) Completed(m);
            PublishDirectives();
            CheckDrains();
            CheckCaughtUp();
        });
        Command<PipelineHosted>(h =>
        {
            if (_state.Hosted(h.AkkaAddress, h.Pipeline, _time.GetUtcNow()) is { } done) Completed(done);
            CheckDrains();
        });
        Command<PipelineReleased>(Released);

        // API. What is built from placements waits until this manager caught up (see the class summary).
        WhenCaughtUp<GetWorkers>(_ => Sender.Tell(new WorkerList(_state.DescribeWorkers())));
        WhenCaughtUp<GetWorker>(g =>
        {
            var v = _state.FindWorker(g.WorkerId);
            Sender.Tell(v is null ? NotFound(g.WorkerId) : new WorkerFound(_state.Describe(v)));
        });
        WhenCaughtUp<DrainWorker>(Drain);
        WhenCaughtUp<RemoveWorker>(Remove);
        WhenCaughtUp<RebalanceCluster>(_ => Rebalance());
        WhenCaughtUp<GetTopology>(_ => Sender.Tell(new TopologyReport(Topology())));
        WhenCaughtUp<GetClusterSummary>(_ => Sender.Tell(new SummaryReport(Summary())));
        WhenCaughtUp<GetPlacements>(g => Sender.Tell(new PlacementList(_state.Placements(g.PipelineIds))));
        WhenCaughtUp<GetClusterMetrics>(_ => Sender.Tell(_state.Metrics()));
        Command<GetMigrations>(_ => Sender.Tell(new MigrationList(_state.Migrations.Reverse().ToList())));
        Command<GetClusterHealth>(_ => Sender.Tell(new ClusterHealth(_state.Counts(), 0, _state.ActiveMigrations.Count(), _cluster.SelfAddress.ToString())));
        Command<CheckPlacementCapacity>(_ => Sender.Tell(new PlacementCapacity(_state.AvailableWorkers.Count())));

        // Timers and bookkeeping.
        Command<CatchUpTimedOut>(_ =>
        {
            if (_state.CaughtUp) return;
            var silent = _state.GiveUpWaiting();
            _log.LogWarning("Cluster manager: no report from {Count} worker(s) ({Workers}) within {Seconds:0} s of taking over; answering with the pipelines the others reported",
                silent.Count, string.Join(", ", silent.Select(a => _state.WorkerIdOf(a) ?? a)), CatchUpLimit.TotalSeconds);
            CheckCaughtUp();
        });
        Command<DrainTimedOut>(t => DrainTimeout(t.Address));
        Command<RemovalTimedOut>(t => RemovalTimeoutReached(t.Address));
        Command<UpdateSuccess>(_ => { });
        Command<UpdateTimeout>(_ => _log.LogDebug("Placement directives reached only part of the cluster in time; gossip completes it"));
        Command<ModifyFailure>(f => _log.LogWarning(f.Cause, "Placement directives could not be written"));
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.LogWarning(f.Cause, "Cluster manager snapshot failed"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.LogWarning(f.Cause, "Cluster manager journal cleanup failed"));
    }

    public override string PersistenceId => "varpulis-cluster-manager";

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string placementMode, TimeProvider time, ILoggerFactory loggers)
        => Akka.Actor.Props.Create(() => new ClusterManager(placementMode, time, loggers));

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        base.PostStop();
    }

    private void OnRecovered()
    {
        // The members as of now, before the subscription's events arrive: a question stashed during recovery is
        // answered from the real membership, not from an empty one.
        var current = _cluster.State;
        foreach (var m in current.Members) _state.MemberChanged(m, reachable: !current.Unreachable.Contains(m));
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        var awaited = _state.TakeOver();
        _log.LogInformation("Cluster manager running on {Address}: {Drains} drains and {Migrations} migrations in progress, waiting for the reports of {Workers} workers",
            _cluster.SelfAddress, _state.Drains.Count, _state.ActiveMigrations.Count(), awaited.Count);
        foreach (var a in awaited) AskForReport(a);
        _holding = awaited.Count > 0;
        if (_holding) Timers.StartSingleTimer("catch-up", CatchUpTimedOut.Instance, CatchUpLimit);
        PublishDirectives(force: true);
    }

    /// <summary>A command answered from placements: held back (stashed) until this manager caught up.</summary>
    private void WhenCaughtUp<T>(Action<T> handler)
        => Command<T>(m =>
        {
            if (_state.CaughtUp) handler(m);
            else Stash.Stash();
        });

    /// <summary>Once every awaited worker reported (or left, or was given up on): the held-back commands are answered.</summary>
    private void CheckCaughtUp()
    {
        if (!_holding || !_state.CaughtUp) return;
        _holding = false;
        Timers.Cancel("catch-up");
        _log.LogInformation("Cluster manager caught up: {Count} pipelines placed on {Workers} workers", _state.AllPlacements.Count, _state.Workers.Count());
        Stash.UnstashAll();
    }

    // ------------------------------------------------------------------ membership

    private void MemberUp(Member m)
    {
        _state.MemberChanged(m);
        if (m.HasRole(MemberRoles.Worker))
        {
            var id = MemberRoles.WorkerIdOf(m);
            if (id is not null)
            {
                _log.LogInformation("Worker registered: {WorkerId} at {Advertise} ({Address})", id, MemberRoles.AdvertiseAddressOf(m), m.Address);
            }
            // What it runs, now rather than at its next heartbeat (this manager may be new).
            Context.ActorSelection(new RootActorPath(m.Address) / "user" / WorkerAgent.Name).Tell(ReportNow.Instance);
        }
        PublishDirectives();
    }

    private void Reachability(Member m, bool reachable)
    {
        _state.MemberChanged(m, reachable);
        var id = MemberRoles.WorkerIdOf(m);
        if (!m.HasRole(MemberRoles.Worker)) return;
        if (reachable) _log.LogInformation("Worker reachable again: {WorkerId} ({Address})", id, m.Address);
        else _log.LogWarning("Worker unhealthy: {WorkerId} ({Address}) missed its heartbeats; it is downed if it stays silent", id, m.Address);
    }

    private void MemberRemoved(Member m)
    {
        var address = m.Address.ToString();
        var id = MemberRoles.WorkerIdOf(m);
        bool requested = _pendingRemovals.ContainsKey(address);
        var lost = _state.MemberRemoved(address);
        var now = _time.GetUtcNow();
        if (m.HasRole(MemberRoles.Worker))
        {
            if (lost.Count > 0 || !requested)
            {
                _log.LogInformation("Worker removed: {WorkerId} ({Address}), {Count} pipelines to recover elsewhere", id, address, lost.Count);
            }
            var reason = requested ? MigrationReason.WorkerRemoved : MigrationReason.WorkerLost;
            var events = new List<IClusterManagerEvent>();
            foreach (var p in lost)
            {
                if (_state.OpenMigration(p.Pipeline.PipelineId, p.Pipeline.Name, id, null, reason, now) is { } opened)
                {
                    events.Add(new MigrationRecorded(opened));
                    LogStarted(opened);
                }
            }
            if (_state.IsDraining(address)) events.Add(new DrainEnded(id ?? address, address, now));
            PersistAll(events, e => AfterPersist(e));
            if (_pendingDrains.Remove(address, out var drain))
            {
                // Gone before it finished draining: what it still had recovers elsewhere.
                ClusterTelemetry.Drain(drain.WorkerId, drain.Since, now, drain.Pipelines.Count);
                foreach (var w in drain.Waiters) w.Tell(new WorkerDrained(new DrainResult(drain.WorkerId, drain.Pipelines.Count, "drained")));
                Timers.Cancel("drain-" + address);
            }
            if (_pendingRemovals.Remove(address, out var removal))
            {
                foreach (var w in removal.Waiters) w.Tell(new WorkerRemoved(new WorkerDeleted(true, removal.WorkerId, removal.Pipelines)));
                Timers.Cancel("remove-" + address);
            }
        }
        PublishDirectives();
        CheckCaughtUp();
    }

    // ------------------------------------------------------------------ pipelines

    private void Released(PipelineReleased r)
    {
        var placed = _state.PlacementOf(r.PipelineId);
        _state.Released(r.AkkaAddress, r.PipelineId);
        var now = _time.GetUtcNow();
        if (r.Reason == "deleted")
        {
            if (_state.FailMigration(r.PipelineId, "the pipeline was deleted", now) is { } failed) Persist(new MigrationRecorded(failed), AfterPersist);
        }
        else if (r.Reason is "handoff" or "leaving" && placed is not null)
        {
            var member = _state.Member(r.AkkaAddress);
            string reason = _state.IsDraining(r.AkkaAddress) ? MigrationReason.Drain
                : r.Reason == "leaving" || _pendingRemovals.ContainsKey(r.AkkaAddress) || member?.Member.Status is MemberStatus.Leaving or MemberStatus.Exiting ? MigrationReason.WorkerRemoved
                : MigrationReason.Rebalance;
            var target = _state.Moves.TryGetValue(r.PipelineId, out var t) ? _state.WorkerIdOf(t) : null;
            if (_state.OpenMigration(r.PipelineId, placed.Pipeline.Name, _state.WorkerIdOf(r.AkkaAddress), target, reason, now) is { } opened)
            {
                Persist(new MigrationRecorded(opened), AfterPersist);
                LogStarted(opened);
            }
        }
        CheckDrains();
    }

    // ------------------------------------------------------------------ drain

    private void Drain(DrainWorker cmd)
    {
        var v = _state.FindWorker(cmd.WorkerId);
        if (v is null)
        {
            Sender.Tell(NotFound(cmd.WorkerId));
            return;
        }
        var address = v.Member.Address.ToString();
        if (_pendingDrains.TryGetValue(address, out var pending))
        {
            pending.Waiters.Add(Sender);
            return;
        }
        if (!_state.IsDraining(address) && !_state.AvailableWorkers.Any(w => w.Member.Address.ToString() != address))
        {
            Sender.Tell(new ClusterError("conflict",
                $"worker '{cmd.WorkerId}' is the last worker that can run pipelines: start another worker before draining it"));
            return;
        }
        var now = _time.GetUtcNow();
        var pipelines = _state.PlacedOn(address);
        var drain = new PendingDrain(address, cmd.WorkerId, now, pipelines.Select(p => p.Pipeline.PipelineId).ToHashSet(StringComparer.Ordinal));
        drain.Waiters.Add(Sender);
        _pendingDrains[address] = drain;
        var events = new List<IClusterManagerEvent>();
        if (!_state.IsDraining(address)) events.Add(new DrainBegun(cmd.WorkerId, address, now));
        PersistAll(events, e =>
        {
            AfterPersist(e);
            _log.LogInformation("Drain started: worker {WorkerId} ({Address}) with {Count} pipelines", cmd.WorkerId, address, pipelines.Count);
        });
        var migrations = new List<IClusterManagerEvent>();
        foreach (var p in pipelines)
        {
            if (_state.OpenMigration(p.Pipeline.PipelineId, p.Pipeline.Name, cmd.WorkerId, null, MigrationReason.Drain, now) is { } opened)
            {
                migrations.Add(new MigrationRecorded(opened));
                LogStarted(opened);
            }
        }
        PersistAll(migrations, AfterPersist);
        DeferAsync(0, _ =>
        {
            PublishDirectives();
            AskForReport(address);
            Timers.StartSingleTimer("drain-" + address, new DrainTimedOut(address), DrainWorker.DrainTimeout);
            CheckDrains();
        });
    }

    /// <summary>Answers the drains whose worker runs nothing any more (confirmed by a report sent after the drain began) and whose pipelines run elsewhere.</summary>
    private void CheckDrains()
    {
        foreach (var drain in _pendingDrains.Values.ToList())
        {
            if (_state.PlacedOn(drain.Address).Count > 0)
            {
                continue;
            }
            var hb = _state.LastHeartbeat(drain.Address);
            if (hb is null || _state.HeardAt(drain.Address) < drain.Since || hb.Pipelines.Count > 0)
            {
                AskForReport(drain.Address);
                continue;
            }
            if (_state.ActiveMigrations.Any(m => drain.Pipelines.Contains(m.PipelineId))) continue;
            _pendingDrains.Remove(drain.Address);
            Timers.Cancel("drain-" + drain.Address);
            _log.LogInformation("Drain completed: worker {WorkerId} runs no pipeline; {Count} migrated", drain.WorkerId, drain.Pipelines.Count);
            ClusterTelemetry.Drain(drain.WorkerId, drain.Since, _time.GetUtcNow(), drain.Pipelines.Count);
            foreach (var w in drain.Waiters) w.Tell(new WorkerDrained(new DrainResult(drain.WorkerId, drain.Pipelines.Count, "drained")));
        }
    }

    private void DrainTimeout(string address)
    {
        if (!_pendingDrains.Remove(address, out var drain)) return;
        int left = _state.PlacedOn(address).Count;
        var error = new ClusterError("unavailable",
            $"worker '{drain.WorkerId}' still runs {left} pipelines after {DrainWorker.DrainTimeout.TotalMinutes:0} minutes; it stays draining: retry the drain to wait again");
        ClusterTelemetry.Drain(drain.WorkerId, drain.Since, _time.GetUtcNow(), drain.Pipelines.Count, error.Message);
        foreach (var w in drain.Waiters) w.Tell(error);
    }

    private void AskForReport(string address)
    {
        if (Address.TryParse(address, out var a)) Context.ActorSelection(new RootActorPath(a) / "user" / WorkerAgent.Name).Tell(ReportNow.Instance);
    }

    // ------------------------------------------------------------------ removal

    private void Remove(RemoveWorker cmd)
    {
        var v = _state.FindWorker(cmd.WorkerId);
        if (v is null)
        {
            Sender.Tell(NotFound(cmd.WorkerId));
            return;
        }
        var address = v.Member.Address.ToString();
        if (!_pendingRemovals.TryGetValue(address, out var removal))
        {
            removal = new PendingRemoval(cmd.WorkerId, _state.PlacedOn(address).Count);
            _pendingRemovals[address] = removal;
            Timers.StartSingleTimer("remove-" + address, new RemovalTimedOut(address), RemovalTimeout);
            if (v.Reachable)
            {
                _log.LogInformation("Removing worker {WorkerId} ({Address}): it leaves the cluster, handing its {Count} pipelines off", cmd.WorkerId, address, removal.Pipelines);
                _cluster.Leave(v.Member.Address);
            }
            else
            {
                _log.LogInformation("Removing worker {WorkerId} ({Address}): unreachable, downed; its {Count} pipelines recover elsewhere from the journal", cmd.WorkerId, address, removal.Pipelines);
                _cluster.Down(v.Member.Address);
            }
        }
        removal.Waiters.Add(Sender);
    }

    private void RemovalTimeoutReached(string address)
    {
        if (!_pendingRemovals.Remove(address, out var removal)) return;
        var error = new ClusterError("unavailable", $"worker '{removal.WorkerId}' has not left the cluster after {RemovalTimeout.TotalSeconds:0} s; retry");
        foreach (var w in removal.Waiters) w.Tell(error);
    }

    // ------------------------------------------------------------------ rebalance

    private void Rebalance()
    {
        var plan = _state.PlanRebalance();
        var now = _time.GetUtcNow();
        var opened = new List<MigrationInfo>();
        foreach (var (p, target) in plan)
        {
            var m = _state.OpenMigration(p.Pipeline.PipelineId, p.Pipeline.Name, _state.WorkerIdOf(p.Address), _state.WorkerIdOf(target), MigrationReason.Rebalance, now);
            if (m is null) continue;
            _state.RequestMove(p.Pipeline.PipelineId, target);
            opened.Add(m);
            LogStarted(m);
        }
        var sender = Sender;
        PersistAll(opened.Select(m => (IClusterManagerEvent)new MigrationRecorded(m)).ToList(), AfterPersist);
        DeferAsync(0, _ =>
        {
            PublishDirectives();
            sender.Tell(new RebalanceStarted(new RebalanceResult(opened.Count > 0 ? "started" : "balanced", opened.Count, opened)));
        });
    }

    // ------------------------------------------------------------------ views

    private ClusterTopology Topology()
    {
        var self = _cluster.SelfAddress.ToString();
        var nodes = _cluster.State.Members
            .Where(m => m.Status != MemberStatus.Removed)
            .OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
            .Select(m => new ClusterNodeInfo(
                m.Address.ToString(),
                MemberRoles.Visible(m),
                m.Status.ToString().ToLowerInvariant(),
                !_cluster.State.Unreachable.Contains(m),
                MemberRoles.WorkerIdOf(m),
                MemberRoles.AdvertiseAddressOf(m),
                m.Address.ToString() == self))
            .ToList();
        return new ClusterTopology(nodes, _state.Placements(null));
    }

    private ClusterSummary Summary()
        => new(
            _state.Counts(),
            _state.Coordinators.Count(),
            _state.AllPlacements.Count,
            0,
            _state.ActiveMigrations.Count(),
            _state.Migrations.Count(m => m.Status == MigrationStatus.Completed),
            _cluster.SelfAddress.ToString());

    // ------------------------------------------------------------------ helpers

    private void Completed(MigrationInfo m)
    {
        Persist(new MigrationRecorded(m), AfterPersist);
        _log.LogInformation("Migration completed: pipeline {PipelineId} ({PipelineName}) from {From} to {To} in {DurationMs} ms ({Reason})",
            m.PipelineId, m.PipelineName, m.FromWorker ?? "-", m.ToWorker ?? "-", m.DurationMs, m.Reason);
        PublishDirectives();
    }

    private void LogStarted(MigrationInfo m)
        => _log.LogInformation("Migration started: pipeline {PipelineId} ({PipelineName}) from {From} ({Reason})",
            m.PipelineId, m.PipelineName, m.FromWorker ?? "-", m.Reason);

    private void AfterPersist(IClusterManagerEvent e)
    {
        _state.Apply(e);
        if (e is MigrationRecorded { Migration.Status: not MigrationStatus.InProgress } finished) ClusterTelemetry.Migration(finished.Migration);
        if (++_sinceSnapshot >= SnapshotEvery)
        {
            _sinceSnapshot = 0;
            SaveSnapshot(_state.Snapshot());
        }
    }

    /// <summary>Writes the directives to every node when they changed.</summary>
    private void PublishDirectives(bool force = false)
    {
        var d = _state.Directives(_placementMode, ImmutableDictionary<string, string>.Empty);
        var fingerprint = string.Join("|",
            string.Join(",", d.Draining),
            string.Join(",", d.Moves.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)),
            string.Join(",", d.Capacity.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)),
            string.Join(",", d.WorkerIds.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)),
            d.Mode);
        if (!force && fingerprint == _publishedDirectives) return;
        _publishedDirectives = fingerprint;
        var node = _cluster.SelfUniqueAddress;
        _replicator.Tell(Dsl.Update(
            PipelineAllocationStrategy.DirectivesKey,
            new LWWRegister<PlacementDirectives>(node, d),
            new WriteAll(DirectivesWriteTimeout),
            register => register.WithValue(node, d)));
    }

    private static ClusterError NotFound(string workerId) => new("worker_not_found", $"worker '{workerId}' not found");

    private sealed class PendingDrain(string address, string workerId, DateTimeOffset since, HashSet<string> pipelines)
    {
        public string Address { get; } = address;
        public string WorkerId { get; } = workerId;
        public DateTimeOffset Since { get; } = since;
        public HashSet<string> Pipelines { get; } = pipelines;
        public List<IActorRef> Waiters { get; } = new();
    }

    private sealed class PendingRemoval(string workerId, int pipelines)
    {
        public string WorkerId { get; } = workerId;
        public int Pipelines { get; } = pipelines;
        public List<IActorRef> Waiters { get; } = new();
    }

    private sealed record DrainTimedOut(string Address);

    private sealed class CatchUpTimedOut
    {
        public static readonly CatchUpTimedOut Instance = new();
    }

    private sealed record RemovalTimedOut(string Address);
}
