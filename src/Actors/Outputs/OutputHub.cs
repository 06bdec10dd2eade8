using System.Collections.Concurrent;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;

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
/// The live output of one pipeline: a BroadcastHub fed without back-pressure (<c>Source.ActorRef</c>, drop-oldest),
/// where each subscriber has its own drop-oldest backlog, so a slow subscriber loses its oldest events (and is told
/// how many) instead of slowing the hub or the pipeline.
/// </summary>
public sealed class OutputHub
{
    private readonly IActorRef _input;
    private readonly Source<string, NotUsed> _hub;
    private int _subscribers;

    internal OutputHub(IMaterializer materializer, int inputBuffer)
    {
        (_input, _hub) = Source.ActorRef<string>(inputBuffer, OverflowStrategy.DropHead)
            .ToMaterialized(BroadcastHub.Sink<string>(bufferSize: 256), Keep.Both)
            .Run(materializer);
        // Keep the hub draining while nobody listens, so the first subscriber does not get stale events.
        _hub.RunWith(Sink.Ignore<string>(), materializer);
    }

    /// <summary>True while at least one subscriber is attached: the pipeline renders outputs only then.</summary>
    public bool HasSubscribers => Volatile.Read(ref _subscribers) > 0;

    public int Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>Hands one output event (its JSON) to the hub; never blocks.</summary>
    public void Publish(string json) => _input.Tell(json);

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
                done.ContinueWith(_ => Interlocked.Decrement(ref _subscribers), TaskScheduler.Default);
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

/// <summary>The output hubs of the pipelines running on this node, by pipeline id.</summary>
public sealed class OutputHubs
{
    private readonly ConcurrentDictionary<string, Lazy<OutputHub>> _hubs = new(StringComparer.Ordinal);
    private readonly IMaterializer _materializer;
    private readonly int _inputBuffer;

    public OutputHubs(ActorSystem system, int inputBuffer = 4096)
    {
        _materializer = system.Materializer(namePrefix: "output-hubs");
        _inputBuffer = inputBuffer;
    }

    public OutputHub Get(string pipelineId)
        => _hubs.GetOrAdd(pipelineId, _ => new Lazy<OutputHub>(() => new OutputHub(_materializer, _inputBuffer))).Value;

    /// <summary>The hub of a pipeline if anyone created it.</summary>
    public OutputHub? Find(string pipelineId) => _hubs.TryGetValue(pipelineId, out var h) && h.IsValueCreated ? h.Value : null;
}
