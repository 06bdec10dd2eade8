using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// One per node that runs pipelines (<c>/user/worker-agent</c>): knows which pipelines run here (the entities tell it
/// when they start and stop, and their counters), tells the cluster manager at once when that changes, and sends it a
/// <see cref="WorkerHeartbeat"/> every heartbeat interval (the runbook's worker heartbeat; reachability itself is
/// Akka.NET's failure detector's). Logs <c>Heartbeat failed</c> (ERROR) while a coordinator is unreachable. A worker
/// left without any coordinator for longer than the heartbeat timeout (the coordinator stopped, or restarted as a new
/// cluster) leaves, so that its host joins again through the coordinator's URL (<see cref="RejoinRequested"/>).
/// </summary>
public sealed class WorkerAgent : ReceiveActor, IWithTimers
{
    public const string Name = "worker-agent";

    private readonly IActorRef _manager;
    private readonly string? _workerId;
    private readonly int _maxPipelines;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly string _self;
    private readonly Dictionary<string, HostedPipeline> _pipelines = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _entities = new();
    private readonly Dictionary<string, (long EventsIn, DateTimeOffset At)> _counted = new(StringComparer.Ordinal);
    private readonly TimeSpan _orphanAfter;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly CoordinatedShutdown _shutdown;
    private DateTimeOffset? _alone;

    /// <summary>Set when this node left its cluster on its own because no coordinator was left in it: its host should join again.</summary>
    public static bool RejoinRequested { get; private set; }

    /// <summary>The host joined again.</summary>
    public static void ResetRejoin() => RejoinRequested = false;

    public WorkerAgent(IActorRef manager, string? workerId, int maxPipelines, TimeSpan interval, TimeSpan orphanAfter, TimeProvider time, ILoggerFactory loggers)
    {
        _orphanAfter = orphanAfter;
        _manager = manager;
        _workerId = workerId;
        _maxPipelines = maxPipelines;
        _time = time;
        _log = loggers.CreateLogger<WorkerAgent>();
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        _cluster = cluster;
        _shutdown = CoordinatedShutdown.Get(Context.System);
        _self = cluster.SelfAddress.ToString();
        cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IReachabilityEvent));

        Receive<PipelineUp>(up =>
        {
            _pipelines[up.Pipeline.PipelineId] = up.Pipeline;
            _counted[up.Pipeline.PipelineId] = (up.Pipeline.EventsIn, _time.GetUtcNow());
            _entities[Sender] = up.Pipeline.PipelineId;
            Context.Watch(Sender);
            _manager.Tell(new PipelineHosted(_self, _workerId, up.Pipeline));
        });
        Receive<PipelineCounters>(c =>
        {
            if (!_pipelines.TryGetValue(c.PipelineId, out var p)) return;
            var now = _time.GetUtcNow();
            // The input rate since the previous report of this pipeline.
            double rate = _counted.TryGetValue(c.PipelineId, out var last) && now > last.At && c.EventsIn >= last.EventsIn
                ? (c.EventsIn - last.EventsIn) / (now - last.At).TotalSeconds
                : p.EventsPerSecond;
            _counted[c.PipelineId] = (c.EventsIn, now);
            _pipelines[c.PipelineId] = p with { EventsIn = c.EventsIn, EventsOut = c.EventsOut, EventsPerSecond = rate };
        });
        Receive<PipelineDown>(down =>
        {
            Context.Unwatch(Sender);
            _entities.Remove(Sender);
            Release(down.PipelineId, down.Reason);
        });
        Receive<Terminated>(t =>
        {
            if (_entities.Remove(t.ActorRef, out var id)) Release(id, "stopped");
        });
        Receive<ReportNow>(_ => Report());
        Receive<Tick>(_ =>
        {
            Report();
            WatchCoordinators();
        });
        Receive<ClusterEvent.UnreachableMember>(u =>
        {
            if (u.Member.HasRole(MemberRoles.Coordinator))
                _log.LogError("Heartbeat failed: coordinator {Address} is unreachable", u.Member.Address);
        });
        Receive<ClusterEvent.ReachableMember>(r =>
        {
            if (r.Member.HasRole(MemberRoles.Coordinator))
                _log.LogInformation("Heartbeat restored: coordinator {Address} is reachable again", r.Member.Address);
        });
        Timers.StartPeriodicTimer("heartbeat", Tick.Instance, interval);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef manager, string? workerId, int maxPipelines, TimeSpan interval, TimeSpan orphanAfter, TimeProvider time, ILoggerFactory loggers)
        => Akka.Actor.Props.Create(() => new WorkerAgent(manager, workerId, maxPipelines, interval, orphanAfter, time, loggers));

    private void WatchCoordinators()
    {
        var state = _cluster.State;
        if (_cluster.SelfMember.Status != MemberStatus.Up) return;
        bool any = state.Members.Any(m => m.HasRole(MemberRoles.Coordinator) && m.Status == MemberStatus.Up && !state.Unreachable.Contains(m));
        if (any)
        {
            _alone = null;
            return;
        }
        var now = _time.GetUtcNow();
        _alone ??= now;
        if (now - _alone.Value < _orphanAfter) return;
        _log.LogError("Heartbeat failed: no coordinator in the cluster for {Seconds:0} s; leaving it to join again through the coordinator", (now - _alone.Value).TotalSeconds);
        RejoinRequested = true;
        _cluster.Leave(_cluster.SelfAddress);
        _alone = null;
    }

    protected override void PreStart() => Report();

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private void Release(string pipelineId, string reason)
    {
        _counted.Remove(pipelineId);
        if (!_pipelines.Remove(pipelineId)) return;
        // A node stopping on its own (SIGTERM, docker stop, a swarm scale-down or update) hands its shards off as it
        // leaves the cluster, before the manager sees it leave: say why the pipeline moves. (A node the coordinator
        // removes shuts down for ClusterLeavingReason; the manager knows that removal.)
        if (reason == "handoff" && StoppingItself) reason = "leaving";
        _manager.Tell(new PipelineReleased(_self, pipelineId, reason));
    }

    private bool StoppingItself => _shutdown.ShutdownReason is { } r && r is not CoordinatedShutdown.ClusterLeavingReason;

    private void Report()
        => _manager.Tell(new WorkerHeartbeat(_self, _workerId, Environment.ProcessorCount, _maxPipelines, _pipelines.Values.ToList(), _time.GetUtcNow()));

    /// <summary>From an entity: it runs here now.</summary>
    public sealed record PipelineUp(HostedPipeline Pipeline);

    /// <summary>From an entity: its counters.</summary>
    public sealed record PipelineCounters(string PipelineId, long EventsIn, long EventsOut);

    /// <summary>From an entity: it stops here (<c>handoff</c>, <c>deleted</c>).</summary>
    public sealed record PipelineDown(string PipelineId, string Reason);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
