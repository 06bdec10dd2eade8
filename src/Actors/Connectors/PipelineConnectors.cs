using Akka.Actor;
using Akka.Streams;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors.DeadLetters;
using Varpulis.Actors.Connectors.Sinks;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors;

/// <summary>
/// Everything a pipeline connects to, as one child actor of the pipeline entity, created from the compiled bindings
/// (<c>CompiledProgram.ConnectorBindings</c>). It runs one source graph per source connector (batches go to
/// <c>ingestTarget</c> as <see cref="IngestSourceBatch"/>; the reply after the journal write acknowledges them
/// upstream), one <see cref="SinkWorker"/> per sink connector (fed by <see cref="DeliverToSinks"/>), and the
/// pipeline's <see cref="DeadLetterQueue"/>. It answers <see cref="GetConnectorStatus"/>, the DLQ requests
/// (<see cref="GetDeadLetters"/>, <see cref="ClearDeadLetters"/>, <see cref="ReplayDeadLetters"/>),
/// <see cref="GetSinkProgress"/>, and <see cref="StopConnectors"/> (drain sources, then stop). It tells its parent
/// (the pipeline entity) <see cref="SinkProgress"/> as its sinks settle outputs and <see cref="DeadLetterCount"/> as the
/// DLQ changes. Outputs of journal entries its DLQ journal records as settled (sent again by a recovering pipeline) are
/// dropped: it holds <see cref="DeliverToSinks"/> until the DLQ has recovered and said how far its sinks had got.
/// </summary>
public sealed class PipelineConnectors : ReceiveActor, IWithTimers
{
    private readonly PipelineConnectorsSettings _settings;
    private readonly IReadOnlyList<ConnectorBinding> _bindings;
    private readonly IActorRef _ingestTarget;
    private readonly IConnectorFactory _factory;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly DeadLetterBounds _bounds;
    private readonly List<ConnectorHealth> _health = new();
    private readonly Dictionary<string, IActorRef> _sinks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _settledBySink = new(StringComparer.Ordinal);
    // Entries above the settled position with outputs for some sinks: how many of those sinks have not finished them.
    private readonly SortedDictionary<long, int> _openEntries = new();
    private List<long>? _finishedEntries;
    private readonly List<RunningSource> _sources = new();
    private IActorRef _deadLetters = ActorRefs.Nobody;
    private long _highestSeen;
    private long _settledPersisted;
    private long _settledReported;
    private bool _replaying;
    private List<DeliverToSinks>? _beforeFloor = new();

    public PipelineConnectors(
        PipelineConnectorsSettings settings, IReadOnlyList<ConnectorBinding> bindings, IActorRef ingestTarget, IConnectorFactory factory, TimeProvider time, ILoggerFactory loggers, DeadLetterBounds? bounds)
    {
        _bounds = bounds ?? new DeadLetterBounds(settings.PipelineId, settings.DeadLetterBacklogLimit, settings.DeadLetterMaxEvents);
        _settings = settings;
        _bindings = bindings;
        _ingestTarget = ingestTarget;
        _factory = factory;
        _time = time;
        _loggers = loggers;
        _log = loggers.CreateLogger<PipelineConnectors>();

        Receive<DeliverToSinks>(d =>
        {
            if (_beforeFloor is not null) _beforeFloor.Add(d);
            else OnDeliver(d);
        });
        Receive<Floor>(OnFloor);
        Receive<SinkWorker.Settled>(OnSettled);
        Receive<DeadLetterCount>(c => Context.Parent.Tell(c));
        Receive<SettleTick>(_ => PersistSettled());
        Receive<GetConnectorStatus>(_ => Sender.Tell(new ConnectorStatusList(_health.Select(h => h.Snapshot()).ToList())));
        Receive<GetDeadLetters>(q => _deadLetters.Forward(q));
        Receive<ClearDeadLetters>(q => _deadLetters.Forward(q));
        Receive<GetSinkProgress>(q => _deadLetters.Forward(q));
        Receive<ReplayDeadLetters>(OnReplay);
        Receive<ReplayFinished>(f =>
        {
            _replaying = false;
            f.ReplyTo.Tell(f.Reply);
        });
        Receive<StopConnectors>(OnStop);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// The connectors of one pipeline; <paramref name="bounds"/> (the pipeline's, which it reads before taking events;
    /// null: one of the limits in <paramref name="settings"/>) counts the letters on their way to the DLQ and in it.
    /// </summary>
    public static Props Props(
        PipelineConnectorsSettings settings, IReadOnlyList<ConnectorBinding> bindings, IActorRef ingestTarget, IConnectorFactory factory, TimeProvider time, ILoggerFactory loggers,
        DeadLetterBounds? bounds = null)
        => Akka.Actor.Props.Create(() => new PipelineConnectors(settings, bindings, ingestTarget, factory, time, loggers, bounds));

    private sealed record ReplayFinished(IActorRef ReplyTo, object Reply);

    /// <summary>How far the sinks had got according to the DLQ journal (null: it did not answer; nothing is dropped).</summary>
    private sealed record Floor(long SequenceNr);

    private sealed class SettleTick
    {
        public static readonly SettleTick Instance = new();
    }

    protected override void PreStart()
    {
        var dlqLog = _loggers.CreateLogger<DeadLetterQueue>();
        _deadLetters = Context.ActorOf(DeadLetterQueue.Props(_settings.PipelineId, _settings.PipelineName, DlqFile.For(_settings.StateDir), _time, dlqLog, _bounds), "dlq");
        var materializer = Context.Materializer();
        var sourceLog = _loggers.CreateLogger("Varpulis.Actors.Connectors.Sources");
        var sinkLog = _loggers.CreateLogger("Varpulis.Actors.Connectors.Sinks");
        var target = new ActorSourceTarget(_ingestTarget, _settings.PipelineId, _settings.IngestTimeout, _settings.BacklogRetryPause);
        foreach (var group in _bindings.Where(b => b.Direction == BindingDirection.Source).GroupBy(b => b.Connector))
        {
            var list = group.ToList();
            var health = new ConnectorHealth(_settings.PipelineId, group.Key, list[0].Kind, BindingDirection.Source);
            _health.Add(health);
            try
            {
                var source = _factory.CreateSource(group.Key, list, health, sourceLog);
                _sources.Add(SourceGraph.Run(source, SourceSettings.From(list[0].Parameters), target, health, sourceLog, materializer));
            }
            catch (ConnectorConfigurationException ex)
            {
                health.SetConnection(ConnectionState.Failed, ex.Message);
                _log.LogError("Source {Connector} of pipeline {PipelineId} cannot start: {Error}", group.Key, _settings.PipelineId, ex.Message);
            }
        }
        foreach (var group in _bindings.Where(b => b.Direction == BindingDirection.Sink).GroupBy(b => b.Connector))
        {
            var list = group.ToList();
            var health = new ConnectorHealth(_settings.PipelineId, group.Key, list[0].Kind, BindingDirection.Sink);
            _health.Add(health);
            ISinkConnector connector;
            try
            {
                connector = _factory.CreateSink(group.Key, list, health, sinkLog);
            }
            catch (ConnectorConfigurationException ex)
            {
                // Its events go to the DLQ (replayable once the configuration is fixed).
                health.SetConnection(ConnectionState.Failed, ex.Message);
                connector = new UnavailableSink(group.Key, list[0].Kind, ex.Message);
                _log.LogError("Sink {Connector} of pipeline {PipelineId} cannot start: {Error}", group.Key, _settings.PipelineId, ex.Message);
            }
            _sinks[group.Key] = Context.ActorOf(SinkWorker.Props(connector, SinkSettings.From(list[0].Parameters), _deadLetters, health, _time, sinkLog, _bounds), "sink-" + Uri.EscapeDataString(group.Key));
        }
        Timers.StartPeriodicTimer("settle", SettleTick.Instance, _settings.SettleInterval);
        _deadLetters.Ask<SinkProgress>(new GetSinkProgress(_settings.PipelineId), _settings.IngestTimeout)
            .PipeTo(Self, success: p => new Floor(p.SettledSequenceNr), failure: _ => new Floor(0));
    }

    private void OnFloor(Floor f)
    {
        if (_beforeFloor is null) return;
        _settledPersisted = Math.Max(_settledPersisted, f.SequenceNr);
        _settledReported = _settledPersisted;
        var held = _beforeFloor;
        _beforeFloor = null;
        int dropped = 0;
        foreach (var d in held)
        {
            if (d.SequenceNr <= f.SequenceNr) dropped += d.Records.Count;
            else OnDeliver(d);
        }
        if (dropped > 0) _log.LogDebug("Pipeline {PipelineId}: {Count} outputs sent again on recovery were settled already", _settings.PipelineId, dropped);
        // Everything through the floor is settled: the pipeline may forget it.
        Context.Parent.Tell(new SinkProgress(f.SequenceNr));
    }

    private void OnDeliver(DeliverToSinks d)
    {
        _highestSeen = Math.Max(_highestSeen, d.SequenceNr);
        var byConnector = ByConnector(d.Records);
        foreach (var (connector, records) in byConnector)
        {
            if (!_sinks.ContainsKey(connector)) _log.LogWarning("Pipeline {PipelineId} has no sink {Connector}: {Count} events dropped", _settings.PipelineId, connector, records.Count);
        }
        // Every sink hears of every entry, so that an idle sink counts as settled through it.
        int waiting = 0;
        foreach (var (connector, worker) in _sinks)
        {
            if (byConnector.TryGetValue(connector, out var records)) waiting++;
            worker.Tell(new SinkWorker.Enqueue(d.SequenceNr, records ?? Array.Empty<SinkRecord>()));
        }
        if (waiting > 0) _openEntries[d.SequenceNr] = waiting;
        if (_sinks.Count == 0) ReportProgress();
    }

    /// <summary>The records per sink (without copying when they all go to one, the common case).</summary>
    private static Dictionary<string, IReadOnlyList<SinkRecord>> ByConnector(IReadOnlyList<SinkRecord> records)
    {
        var result = new Dictionary<string, IReadOnlyList<SinkRecord>>(StringComparer.Ordinal);
        if (records.Count == 0) return result;
        string first = records[0].Connector;
        bool one = true;
        for (int i = 1; i < records.Count && one; i++) one = records[i].Connector == first;
        if (one)
        {
            result[first] = records;
            return result;
        }
        foreach (var g in records.GroupBy(r => r.Connector)) result[g.Key] = g.ToList();
        return result;
    }

    private void OnSettled(SinkWorker.Settled s)
    {
        _settledBySink[s.Connector] = Math.Max(_settledBySink.GetValueOrDefault(s.Connector), s.SequenceNr);
        foreach (long entry in s.Entries)
        {
            if (!_openEntries.TryGetValue(entry, out int left)) continue;
            if (left > 1)
            {
                _openEntries[entry] = left - 1;
                continue;
            }
            _openEntries.Remove(entry);
            (_finishedEntries ??= new()).Add(entry);
        }
        ReportProgress();
    }

    /// <summary>The journal position through which every sink has finished (delivered or dead-lettered).</summary>
    private long Settled() => _sinks.Count == 0 ? _highestSeen : _sinks.Keys.Min(k => _settledBySink.GetValueOrDefault(k));

    /// <summary>
    /// Tells the pipeline how far every sink has got, and which later entries every sink has finished with: it keeps the
    /// outputs of the others only (so that one hanging delivery does not make it keep everything produced after it).
    /// </summary>
    private void ReportProgress()
    {
        long settled = Settled();
        while (_openEntries.Count > 0)
        {
            long first = _openEntries.Keys.First();
            if (first > settled) break;
            _openEntries.Remove(first);
        }
        var finished = _finishedEntries;
        _finishedEntries = null;
        bool advanced = settled > _settledReported;
        if (advanced) _settledReported = settled;
        IReadOnlyList<long>? later = finished?.Where(n => n > _settledReported).ToList();
        if (later is { Count: 0 }) later = null;
        if (!advanced && later is null) return;
        Context.Parent.Tell(new SinkProgress(_settledReported, later));
    }

    /// <summary>The journal position through which every sink has finished; persisted at most once per interval.</summary>
    private void PersistSettled()
    {
        long settled = Settled();
        if (settled <= _settledPersisted) return;
        _settledPersisted = settled;
        _deadLetters.Tell(new DeadLetterQueue.Settle(settled));
    }

    private void OnReplay(ReplayDeadLetters cmd)
    {
        if (_replaying)
        {
            Sender.Tell(new ConnectorsError("replay_in_progress", $"a replay of pipeline {_settings.PipelineId}'s DLQ is already running"));
            return;
        }
        _replaying = true;
        var replyTo = Sender;
        var self = Self;
        var dlq = _deadLetters;
        var sinks = new Dictionary<string, IActorRef>(_sinks);
        var log = _log;
        var pipelineId = _settings.PipelineId;
        RunReplay(cmd, dlq, sinks, log, pipelineId).ContinueWith(
            t => self.Tell(new ReplayFinished(replyTo, t.IsCompletedSuccessfully ? t.Result : new ConnectorsError("replay_failed", t.Exception?.GetBaseException().Message ?? "cancelled"))),
            TaskScheduler.Default);
    }

    private static async Task<object> RunReplay(ReplayDeadLetters cmd, IActorRef dlq, Dictionary<string, IActorRef> sinks, ILogger log, string pipelineId)
    {
        var timeout = TimeSpan.FromMinutes(10);
        var candidates = await dlq.Ask<DeadLetterQueue.ReplayCandidates>(new DeadLetterQueue.TakeForReplay(cmd.Connector, cmd.Limit), timeout).ConfigureAwait(false);
        var outcomes = new List<Task<SinkWorker.ReplayOutcome>>();
        int skipped = 0;
        foreach (var group in candidates.Letters.GroupBy(l => l.Connector))
        {
            if (sinks.TryGetValue(group.Key, out var worker)) outcomes.Add(worker.Ask<SinkWorker.ReplayOutcome>(new SinkWorker.Replay(group.ToList()), timeout));
            else skipped += group.Count();
        }
        var results = await Task.WhenAll(outcomes).ConfigureAwait(false);
        var delivered = results.SelectMany(r => r.Delivered).ToList();
        int failed = results.Sum(r => r.Failed.Count);
        var removed = await dlq.Ask<DeadLetterQueue.Removed>(new DeadLetterQueue.Remove(delivered), timeout).ConfigureAwait(false);
        log.LogInformation("DLQ replay of pipeline {PipelineId}: {Delivered} delivered and removed, {Failed} failed, {Skipped} without a sink; {Remaining} remain",
            pipelineId, delivered.Count, failed, skipped, removed.Remaining);
        return new DeadLettersReplayed(delivered.Count, failed, skipped, removed.Remaining);
    }

    private void OnStop(StopConnectors cmd)
    {
        var replyTo = Sender;
        var self = Self;
        if (cmd.DeadLetters == DeadLetterDisposal.Delete)
        {
            // A deleted pipeline reads and writes nothing more: sources and sinks stop at once, its DLQ lines leave the
            // node's file now (the DLQ's journal goes behind them), and the file sources' positions go.
            foreach (var s in _sources) s.Abort();
            foreach (var w in _sinks.Values) Context.Stop(w);
            _deadLetters.Tell(new DeadLetterQueue.Release(DeleteJournal: true));
            DlqFile.For(_settings.StateDir).Rewrite(_settings.PipelineId, Array.Empty<string>());
            TryDelete(Path.Combine(_settings.StateDir, "connectors", _settings.PipelineId));
            replyTo.Tell(new ConnectorsStopped(cmd.PipelineId));
            return;
        }
        PersistSettled();
        if (cmd.DeadLetters == DeadLetterDisposal.Release) _deadLetters.Tell(new DeadLetterQueue.Release());
        var drains = _sources.Select(s => s.DrainAsync()).ToArray();
        Task.WhenAll(drains).WaitAsync(_settings.DrainTimeout).ContinueWith(
            _ =>
            {
                replyTo.Tell(new ConnectorsStopped(cmd.PipelineId));
                self.Tell(PoisonPill.Instance);
            },
            TaskScheduler.Default);
    }

    private void TryDelete(string dir)
    {
        try
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("Could not remove the connector positions of deleted pipeline {PipelineId} ({Dir}): {Error}", _settings.PipelineId, dir, ex.Message);
        }
    }

    protected override void PostStop()
    {
        foreach (var s in _sources) s.Abort();
        foreach (var h in _health)
        {
            h.SetConnection(ConnectionState.Stopped);
            h.Unpublish();
        }
        _bounds.Unpublish();
        base.PostStop();
    }

    /// <summary>A sink whose configuration cannot be resolved (an unset environment variable): every delivery fails with that reason.</summary>
    private sealed class UnavailableSink(string connector, ConnectorKind kind, string error) : ISinkConnector
    {
        public string Connector => connector;

        public ConnectorKind Kind => kind;

        public Task<SinkDeliveryResult> DeliverAsync(IReadOnlyList<SinkRecord> records, CancellationToken cancellationToken)
            => Task.FromResult(SinkDeliveryResult.Failed(records.Count, error));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
