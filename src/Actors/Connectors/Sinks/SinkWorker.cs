using Akka.Actor;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors.DeadLetters;

namespace Varpulis.Actors.Connectors.Sinks;

/// <summary>How one sink delivers: breaker thresholds, retries, the per-attempt timeout, batching and the queue bound.</summary>
public sealed record SinkSettings(int FailureThreshold, TimeSpan ResetTimeout, int Retries, TimeSpan Timeout, int BatchSize, int QueueCapacity)
{
    /// <summary>First retry backoff; doubles per attempt up to 5 s.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public static SinkSettings From(Vpl.Compilation.Connectors.ConnectorParameters p) => new(
        (int)p.GetInt("failure_threshold"), p.GetDuration("reset_timeout"), (int)p.GetInt("retries"), p.GetDuration("timeout"),
        (int)p.GetInt("batch_size"), (int)p.GetInt("queue_capacity"));
}

/// <summary>
/// The sink guard of one connector: a bounded queue of output events, one delivery in flight at a time (events that
/// arrive meanwhile leave together, up to <c>batch_size</c>), retries with backoff, the circuit breaker, and the
/// dead-letter queue for events that fail after their retries, arrive while the circuit is open, or find the queue
/// full. Deliveries run on the connector's own tasks, so a slow or hanging endpoint never blocks the pipeline:
/// <see cref="Enqueue"/> only appends. Reports <see cref="Settled"/> as outputs leave for good (delivered or stored in
/// the DLQ) so that the pipeline knows what its sinks have finished with.
/// </summary>
public sealed class SinkWorker : ReceiveActor, IWithTimers
{
    private readonly ISinkConnector _connector;
    private readonly SinkSettings _settings;
    private readonly IActorRef _deadLetters;
    private readonly ConnectorHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly DeadLetterBounds? _bounds;
    private readonly SinkCircuitBreaker _breaker;
    private readonly LinkedList<Item> _queue = new();
    private readonly Dictionary<long, List<Item>> _awaitingDlq = new();
    // Per journal entry of the pipeline: how many of its outputs this sink has not finished with yet.
    private readonly SortedDictionary<long, int> _outstanding = new();
    private List<Item>? _inFlight;
    private List<long>? _settledEntries;
    private long _dlqToken;
    private long _highestSeen;
    private long _lastSettled;

    public SinkWorker(ISinkConnector connector, SinkSettings settings, IActorRef deadLetters, ConnectorHealth health, TimeProvider time, ILogger log, DeadLetterBounds? bounds = null)
    {
        _bounds = bounds;
        _connector = connector;
        _settings = settings;
        _deadLetters = deadLetters;
        _health = health;
        _time = time;
        _log = log;
        _breaker = new SinkCircuitBreaker(settings.FailureThreshold, settings.ResetTimeout, time);

        Receive<Enqueue>(OnEnqueue);
        Receive<Replay>(OnReplay);
        Receive<Attempted>(OnAttempted);
        Receive<RetryNow>(r => Attempt(r.Items, r.Attempt, r.Probe));
        Receive<DeadLetterQueue.Stored>(OnStored);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The worker of one sink; <paramref name="bounds"/> counts its letters from the hand-over to the DLQ until they are journaled.</summary>
    public static Props Props(ISinkConnector connector, SinkSettings settings, IActorRef deadLetters, ConnectorHealth health, TimeProvider time, ILogger log, DeadLetterBounds? bounds = null)
        => Akka.Actor.Props.Create(() => new SinkWorker(connector, settings, deadLetters, health, time, log, bounds));

    // ------------------------------------------------------------------ messages

    /// <summary>Output events of the pipeline's journal entry <paramref name="SequenceNr"/> for this sink.</summary>
    public sealed record Enqueue(long SequenceNr, IReadOnlyList<SinkRecord> Records);

    /// <summary>Dead letters to deliver again; answered with <see cref="ReplayOutcome"/> once each was tried.</summary>
    public sealed record Replay(IReadOnlyList<DeadLetter> Letters);

    public sealed record ReplayOutcome(string Connector, IReadOnlyList<long> Delivered, IReadOnlyList<long> Failed);

    /// <summary>
    /// To the parent: every output of journal entries up to <paramref name="SequenceNr"/> has left this sink for good, and
    /// so have those of the later <paramref name="Entries"/> (finished while an earlier entry is still on its way).
    /// </summary>
    public sealed record Settled(string Connector, long SequenceNr, IReadOnlyList<long> Entries);

    /// <summary>One output event in the worker: from the pipeline (with its journal entry) or from a replay (with its DLQ id).</summary>
    private sealed record Item(SinkRecord Record, long SequenceNr, DeadLetter? Letter, ReplayTracker? Replay);

    private sealed record Attempted(List<Item> Items, int Attempt, bool Probe, SinkDeliveryResult Result);

    private sealed record RetryNow(List<Item> Items, int Attempt, bool Probe);

    /// <summary>Collects the outcome of one replay request.</summary>
    private sealed class ReplayTracker(IActorRef replyTo, int count)
    {
        public readonly List<long> Delivered = new();
        public readonly List<long> Failed = new();

        public void Done(long id, bool delivered, string connector)
        {
            (delivered ? Delivered : Failed).Add(id);
            if (Delivered.Count + Failed.Count == count) replyTo.Tell(new ReplayOutcome(connector, Delivered, Failed));
        }
    }

    // ------------------------------------------------------------------ receive

    private void OnEnqueue(Enqueue e)
    {
        _highestSeen = Math.Max(_highestSeen, e.SequenceNr);
        if (e.Records.Count > 0) _outstanding[e.SequenceNr] = _outstanding.GetValueOrDefault(e.SequenceNr) + e.Records.Count;
        List<Item>? overflow = null;
        foreach (var r in e.Records)
        {
            var item = new Item(r, e.SequenceNr, null, null);
            if (_queue.Count >= _settings.QueueCapacity) (overflow ??= new()).Add(item);
            else _queue.AddLast(item);
        }
        if (overflow is not null) DeadLetterItems(overflow, $"sink queue full ({_settings.QueueCapacity} events waiting)");
        Dispatch();
        ReportSettled();
    }

    private void OnReplay(Replay r)
    {
        if (r.Letters.Count == 0)
        {
            Sender.Tell(new ReplayOutcome(_connector.Connector, Array.Empty<long>(), Array.Empty<long>()));
            return;
        }
        var tracker = new ReplayTracker(Sender, r.Letters.Count);
        foreach (var l in r.Letters)
            _queue.AddLast(new Item(new SinkRecord(l.Connector, l.Topic, l.Key, System.Text.Encoding.UTF8.GetBytes(l.EventJson)), 0, l, tracker));
        Dispatch();
    }

    /// <summary>Starts the next delivery when none is in flight, as the breaker allows.</summary>
    private void Dispatch()
    {
        if (_inFlight is not null || _queue.Count == 0) return;
        var permit = _breaker.Acquire(out var transition);
        if (transition == BreakerTransition.HalfOpened)
        {
            _health.SetCircuit(CircuitState.HalfOpen);
            _log.LogInformation("Circuit breaker half-open: sink {Connector} of pipeline {PipelineId} sends one probe", _connector.Connector, _health.PipelineId);
        }
        switch (permit)
        {
            case BreakerPermit.Reject:
                var rejected = _queue.ToList();
                _queue.Clear();
                FailFinally(rejected, "circuit breaker open: " + _breaker.LastError);
                return;
            case BreakerPermit.Probe:
                Attempt([Take()], 0, probe: true);
                return;
            default:
                var batch = new List<Item>(Math.Min(_queue.Count, _settings.BatchSize));
                while (batch.Count < _settings.BatchSize && _queue.Count > 0) batch.Add(Take());
                Attempt(batch, 0, probe: false);
                return;
        }
    }

    private Item Take()
    {
        var first = _queue.First!.Value;
        _queue.RemoveFirst();
        return first;
    }

    private void Attempt(List<Item> items, int attempt, bool probe)
    {
        _inFlight = items;
        var records = items.Select(i => i.Record).ToList();
        var timeout = _settings.Timeout;
        var connector = _connector;
        // The connector's task runs outside the actor; only its result comes back as a message.
        Task.Run(async () =>
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                return await connector.DeliverAsync(records, cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return SinkDeliveryResult.Failed(records.Count, ex is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0.###} s" : ex.Message);
            }
        }).PipeTo(Self, success: r => new Attempted(items, attempt, probe, r));
    }

    private void OnAttempted(Attempted a)
    {
        var delivered = new List<Item>();
        var failed = new List<Item>();
        string? error = null;
        for (int i = 0; i < a.Items.Count; i++)
        {
            var e = i < a.Result.Errors.Count ? a.Result.Errors[i] : "no result";
            if (e is null) delivered.Add(a.Items[i]);
            else
            {
                failed.Add(a.Items[i]);
                error ??= e;
            }
        }
        Succeeded(delivered);
        if (failed.Count > 0 && !a.Probe && a.Attempt < _settings.Retries)
        {
            var delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, _settings.RetryBackoff.Ticks << a.Attempt));
            _log.LogDebug("Sink {Connector} of pipeline {PipelineId}: {Failed} events failed ({Error}); retry {Attempt} in {Delay} ms",
                _connector.Connector, _health.PipelineId, failed.Count, error, a.Attempt + 1, delay.TotalMilliseconds);
            _inFlight = failed;
            Timers.StartSingleTimer("retry", new RetryNow(failed, a.Attempt + 1, a.Probe), delay);
            return;
        }
        _inFlight = null;
        if (failed.Count == 0)
        {
            if (_breaker.RecordSuccess() == BreakerTransition.Closed)
            {
                _health.SetCircuit(CircuitState.Closed);
                _log.LogInformation("Circuit breaker closed: sink {Connector} of pipeline {PipelineId} delivers again", _connector.Connector, _health.PipelineId);
            }
        }
        else
        {
            _health.AddFailed(failed.Count, error!);
            if (_breaker.RecordFailure(error!) == BreakerTransition.Opened)
            {
                _health.SetCircuit(CircuitState.Open);
                _log.LogWarning("Circuit breaker opened: sink {Connector} of pipeline {PipelineId} after {Failures} consecutive failed deliveries; last error: {Error}; probing again in {ResetTimeout} s",
                    _connector.Connector, _health.PipelineId, a.Probe ? 1 : _settings.FailureThreshold, error, _settings.ResetTimeout.TotalSeconds);
            }
            FailFinally(failed, error!);
        }
        Dispatch();
        ReportSettled();
    }

    private void Succeeded(List<Item> delivered)
    {
        if (delivered.Count == 0) return;
        _health.AddDelivered(delivered.Count);
        foreach (var i in delivered)
        {
            i.Replay?.Done(i.Letter!.Id, true, _connector.Connector);
            Finished(i);
        }
    }

    /// <summary>An output of the pipeline has left this sink for good (delivered, or stored in the DLQ).</summary>
    private void Finished(Item i)
    {
        if (i.Letter is not null || !_outstanding.TryGetValue(i.SequenceNr, out int left)) return;
        if (left > 1)
        {
            _outstanding[i.SequenceNr] = left - 1;
            return;
        }
        _outstanding.Remove(i.SequenceNr);
        (_settledEntries ??= new()).Add(i.SequenceNr);
    }

    /// <summary>Events that will not be delivered now: new ones go to the DLQ; replayed ones stay in it.</summary>
    private void FailFinally(List<Item> items, string error)
    {
        var fresh = new List<Item>();
        foreach (var i in items)
        {
            if (i.Letter is not null) i.Replay!.Done(i.Letter.Id, false, _connector.Connector);
            else fresh.Add(i);
        }
        if (fresh.Count > 0) DeadLetterItems(fresh, error);
    }

    private void DeadLetterItems(List<Item> items, string error)
    {
        long token = ++_dlqToken;
        _awaitingDlq[token] = items;
        var records = new SinkRecord[items.Count];
        for (int i = 0; i < records.Length; i++) records[i] = items[i].Record;
        _bounds?.Handed(records.Length);
        _deadLetters.Tell(new DeadLetterQueue.Store(records, _time.GetUtcNow(), error, token));
    }

    private void OnStored(DeadLetterQueue.Stored s)
    {
        if (!_awaitingDlq.Remove(s.Token, out var items)) return;
        _bounds?.Written(items.Count);
        _health.AddDeadLettered(items.Count);
        foreach (var i in items) Finished(i);
        ReportSettled();
    }

    /// <summary>
    /// Tells the parent how far this sink has got: the entry before the oldest one with outputs still here, and the later
    /// entries finished since the last report (so that one hanging delivery does not hold back everything after it).
    /// </summary>
    private void ReportSettled()
    {
        long settled = _highestSeen;
        foreach (var kv in _outstanding)
        {
            settled = kv.Key - 1;
            break;
        }
        var entries = _settledEntries;
        _settledEntries = null;
        bool advanced = settled > _lastSettled;
        if (advanced) _lastSettled = settled;
        IReadOnlyList<long> later = entries is null ? Array.Empty<long>() : entries.Where(n => n > _lastSettled).ToList();
        if (!advanced && later.Count == 0) return;
        Context.Parent.Tell(new Settled(_connector.Connector, _lastSettled, later));
    }

    protected override void PostStop()
    {
        // Letters the DLQ never confirmed stay unsettled in the pipeline (sent again wherever it runs next).
        foreach (var items in _awaitingDlq.Values) _bounds?.Written(items.Count);
        _awaitingDlq.Clear();
        _connector.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        base.PostStop();
    }
}
