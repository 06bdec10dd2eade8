using System.Collections.Concurrent;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Outputs;

/// <summary>One message of an output stream: an event's JSON, a skipped-events warning, or a keep-alive.</summary>
public readonly record struct OutputMessage(OutputMessageKind Kind, string Data)
{
    public static readonly OutputMessage KeepAlive = new(OutputMessageKind.KeepAlive, "");
}

public enum OutputMessageKind
{
    Event,
    Warning,
    KeepAlive,
}

/// <summary>
/// The live output of one pipeline on this node: a BroadcastHub fed without back-pressure (<c>Source.ActorRef</c>,
/// drop-oldest), where each subscriber has its own drop-oldest backlog, so a slow subscriber loses its oldest events
/// (and is told how many) instead of slowing the hub or the pipeline. Fed by an <see cref="OutputRelay"/> that
/// subscribes to the pipeline wherever it runs; completed when the pipeline is deleted.
/// </summary>
public sealed class OutputHub
{
    private readonly IActorRef _input;
    private readonly Source<string, NotUsed> _hub;
    private readonly Action<OutputHub> _onIdle;
    private int _subscribers;
    private volatile bool _connected;

    internal OutputHub(string pipelineId, IMaterializer materializer, int inputBuffer, Action<OutputHub> onIdle)
    {
        PipelineId = pipelineId;
        _onIdle = onIdle;
        (_input, _hub) = Source.ActorRef<string>(inputBuffer, OverflowStrategy.DropHead)
            .ToMaterialized(BroadcastHub.Sink<string>(bufferSize: 256), Keep.Both)
            .Run(materializer);
        // Keep the hub draining while nobody listens, so the first subscriber does not get stale events.
        _hub.RunWith(Sink.Ignore<string>(), materializer);
    }

    public string PipelineId { get; }

    /// <summary>True while at least one subscriber is attached.</summary>
    public bool HasSubscribers => Volatile.Read(ref _subscribers) > 0;

    public int Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>True while the relay's subscription to the pipeline is in place (false during a move).</summary>
    public bool IsConnected => _connected;

    internal IActorRef? Relay { get; set; }

    internal void SetConnected(bool connected) => _connected = connected;

    /// <summary>Hands one output event (its JSON) to the hub; never blocks.</summary>
    public void Publish(string json) => _input.Tell(json);

    /// <summary>Ends every subscriber's stream (the pipeline is gone).</summary>
    internal void Complete() => _input.Tell(new Status.Success(NotUsed.Instance));

    /// <summary>
    /// A source of this pipeline's output from now on. <paramref name="backlog"/> events wait per subscriber; past
    /// that the oldest are dropped and a warning says how many. An idle stream yields a keep-alive every
    /// <paramref name="keepAlive"/>.
    /// </summary>
    public Source<OutputMessage, NotUsed> Subscribe(int backlog, TimeSpan keepAlive)
    {
        return _hub
            .ConflateWithSeed(json => new Backlog(backlog).Add(json), (b, json) => b.Add(json))
            .SelectMany(b => b.Drain())
            .KeepAlive(keepAlive, () => OutputMessage.KeepAlive)
            .WatchTermination((mat, done) =>
            {
                done.ContinueWith(_ =>
                {
                    if (Interlocked.Decrement(ref _subscribers) == 0) _onIdle(this);
                }, TaskScheduler.Default);
                return mat;
            })
            .MapMaterializedValue(m =>
            {
                Interlocked.Increment(ref _subscribers);
                return m;
            });
    }

    /// <summary>The events one subscriber has not taken yet; the oldest go first when it is full.</summary>
    private sealed class Backlog(int capacity)
    {
        private readonly Queue<string> _items = new();
        private long _skipped;

        public Backlog Add(string json)
        {
            if (_items.Count >= capacity)
            {
                _items.Dequeue();
                _skipped++;
            }
            _items.Enqueue(json);
            return this;
        }

        public IEnumerable<OutputMessage> Drain()
        {
            var list = new List<OutputMessage>(_items.Count + 1);
            if (_skipped > 0) list.Add(new OutputMessage(OutputMessageKind.Warning, $"{{\"warning\":\"skipped {_skipped} events\"}}"));
            foreach (var s in _items) list.Add(new OutputMessage(OutputMessageKind.Event, s));
            return list;
        }
    }
}

/// <summary>
/// The output hubs of this node, one per pipeline that has SSE clients here, wherever the pipeline runs in the cluster.
/// A hub and its relay exist while clients listen: the last client leaving removes them; a deleted pipeline completes
/// them (its clients' streams end).
/// </summary>
public sealed class OutputHubs
{
    private readonly Dictionary<string, OutputHub> _hubs = new(StringComparer.Ordinal);
    private readonly ActorSystem _system;
    private readonly Func<IActorRef> _region;
    private readonly IMaterializer _materializer;
    private readonly int _inputBuffer;

    public OutputHubs(ActorSystem system, Func<IActorRef> region, int inputBuffer = 4096)
    {
        _system = system;
        _region = region;
        _materializer = system.Materializer(namePrefix: "output-hubs");
        _inputBuffer = inputBuffer;
    }

    /// <summary>The hub of a pipeline of <paramref name="tenantId"/>, subscribing to it if this node had none.</summary>
    public OutputHub Get(string pipelineId, string tenantId)
    {
        lock (_hubs)
        {
            if (_hubs.TryGetValue(pipelineId, out var hub)) return hub;
            hub = new OutputHub(pipelineId, _materializer, _inputBuffer, Idle);
            hub.Relay = _system.ActorOf(OutputRelay.Props(hub, pipelineId, tenantId, _region(), this));
            _hubs[pipelineId] = hub;
            return hub;
        }
    }

    /// <summary>The hub of a pipeline if this node has one.</summary>
    public OutputHub? Find(string pipelineId)
    {
        lock (_hubs) return _hubs.TryGetValue(pipelineId, out var h) ? h : null;
    }

    /// <summary>The pipeline is gone: end its clients' streams and forget the hub.</summary>
    internal void Remove(OutputHub hub)
    {
        lock (_hubs)
        {
            if (_hubs.TryGetValue(hub.PipelineId, out var h) && ReferenceEquals(h, hub)) _hubs.Remove(hub.PipelineId);
        }
        hub.Relay?.Tell(PoisonPill.Instance);
        hub.Complete();
    }

    private void Idle(OutputHub hub)
    {
        lock (_hubs)
        {
            // A client may have attached in between.
            if (hub.HasSubscribers) return;
            if (_hubs.TryGetValue(hub.PipelineId, out var h) && ReferenceEquals(h, hub)) _hubs.Remove(hub.PipelineId);
        }
        hub.Relay?.Tell(PoisonPill.Instance);
        hub.Complete();
    }
}

/// <summary>
/// Feeds one hub from its pipeline: subscribes through the shard region (so it finds the pipeline wherever it runs),
/// watches the entity, and subscribes again when the pipeline moves (hand-off, worker loss), retrying every second.
/// A deleted or unknown pipeline ends the hub.
/// </summary>
internal sealed class OutputRelay : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(1);

    private readonly OutputHub _hub;
    private readonly string _pipelineId;
    private readonly string _tenantId;
    private readonly IActorRef _region;
    private readonly OutputHubs _owner;
    private IActorRef? _entity;

    public OutputRelay(OutputHub hub, string pipelineId, string tenantId, IActorRef region, OutputHubs owner)
    {
        _hub = hub;
        _pipelineId = pipelineId;
        _tenantId = tenantId;
        _region = region;
        _owner = owner;

        Receive<PipelineOutputSubscribed>(_ =>
        {
            if (_entity is not null) Context.Unwatch(_entity);
            _entity = Sender;
            Context.Watch(_entity);
            Timers.Cancel("subscribe");
            _hub.SetConnected(true);
        });
        Receive<PipelineOutputBatch>(b =>
        {
            foreach (var json in b.Events) _hub.Publish(json);
        });
        Receive<PipelineOutputEnded>(e =>
        {
            if (e.Reason == "deleted") _owner.Remove(_hub);
            else Resubscribe();
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_entity)) Resubscribe();
        });
        Receive<PipelineError>(e =>
        {
            // Not found: deleted meanwhile. Unavailable: moving or restarting, try again.
            if (e.Code == "pipeline_not_found") _owner.Remove(_hub);
            else ScheduleRetry();
        });
        Receive<Retry>(_ => Subscribe());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(OutputHub hub, string pipelineId, string tenantId, IActorRef region, OutputHubs owner)
        => Akka.Actor.Props.Create(() => new OutputRelay(hub, pipelineId, tenantId, region, owner));

    protected override void PreStart() => Subscribe();

    private void Subscribe()
    {
        _region.Tell(new SubscribePipelineOutput(_pipelineId, _tenantId, Self));
        ScheduleRetry();
    }

    private void Resubscribe()
    {
        if (_entity is not null) Context.Unwatch(_entity);
        _entity = null;
        _hub.SetConnected(false);
        Subscribe();
    }

    private void ScheduleRetry() => Timers.StartSingleTimer("subscribe", Retry.Instance, RetryEvery);

    private sealed class Retry
    {
        public static readonly Retry Instance = new();
    }
}
