using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.DeadLetters;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Metrics;
using Varpulis.Actors.Pipelines.Routes;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// Settings of every pipeline entity of a node: snapshot cadence, how often it reports its counters to the node's
/// agent, the node's worker id (null on a single server) and state directory (connector positions, <c>dlq.jsonl</c>).
/// </summary>
public sealed record PipelineEntitySettings(int SnapshotEveryEvents, TimeSpan SnapshotInterval, TimeSpan ReportInterval, string? WorkerId = null, string? StateDir = null)
{
    /// <summary>Settings of the pipelines' connectors (ingest timeout, drain timeout, Kafka tuning); the ids are filled in per pipeline.</summary>
    public PipelineConnectorsSettings Connectors { get; init; } = new("", "", "");

    public static readonly PipelineEntitySettings Default = new(100_000, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5));
}

/// <summary>
/// One pipeline: a sharded persistent actor around a <see cref="PipelineRuntime"/>. Receive, call the engine,
/// persist, reply. The journal holds the definition events and every accepted input request or source batch (its
/// accepted events in <see cref="EventBatchCodec"/> form); snapshots are
/// engine checkpoints (every N events, every T seconds while events arrive, and on demand). Recovery is the
/// latest snapshot plus the replay of what followed it, through the same code as live input. On hand-off (a drain or
/// rebalance moves it) it lets its writes finish, snapshots and stops, and recovers on the other worker from the
/// snapshot. It tells the node's <see cref="WorkerAgent"/> when it runs and stops, and pushes its output to the
/// nodes that subscribed (SSE).
/// </summary>
public sealed class PipelineEntity : ReceivePersistentActor, IWithTimers
{
    private readonly string _pipelineId;
    private readonly PipelineEntitySettings _settings;
    private readonly IActorRef _agent;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ILoggerFactory _loggers;
    private readonly PipelineTelemetry _telemetry;
    private bool _restarting;
    private PipelineRuntime? _runtime;
    private bool _deleted;
    private DateTimeOffset _startedAt;
    private long _sinceSnapshot;
    private int _pendingEvents;
    private bool _countedAsRunning;
    private int _countedStreams;
    private readonly HashSet<IActorRef> _subscribers = new();
    private bool _reportedUp;
    private bool _handingOff;
    private long _handOffSnapshotSeq = -1;
    private readonly IdempotencyTable _idempotency = new();
    private readonly Dictionary<string, List<IActorRef>> _keyWaiters = new(StringComparer.Ordinal);
    private readonly PipelineConnectorState _connectorState = new();
    private IActorRef? _connectors;
    private DeadLetterBounds? _dlqBounds;
    private bool _restartConnectors;
    private bool _handOffWaitsForConnectors;
    private long _dlqEvents;
    private readonly RouteLedger _routes = new();
    private IActorRef? _routeSender;

    public PipelineEntity(string pipelineId, PipelineEntitySettings settings, IActorRef agent, TimeProvider time, ILoggerFactory loggers)
    {
        _pipelineId = pipelineId;
        _settings = settings;
        _agent = agent;
        _time = time;
        _log = loggers.CreateLogger<PipelineEntity>();
        _loggers = loggers;
        _telemetry = new PipelineTelemetry(new PipelineSeries(pipelineId), _log);
        _startedAt = time.GetUtcNow();

        Recover<SnapshotOffer>(offer => ApplySnapshot((PipelineSnapshot)offer.Snapshot));
        Recover<PipelineDefined>(ApplyDefined);
        Recover<PipelineSourceReloaded>(e => ApplyReload(e.Source));
        Recover<EventBatchAccepted>(ReplayBatch);
        Recover<EventsAccepted>(ReplayBody);
        Recover<SourceEventsAccepted>(ReplaySourceBody);
        Recover<PipelineCheckpointRestored>(e => ReplayRestore(e.CheckpointJson));
        Recover<PipelineRemoved>(_ => ApplyRemoved());
        Recover<PipelineRoutesChanged>(e => _routes.SetRoutes(e.Routes));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        // While handing off, nothing new is processed: the snapshot being written must be the last state here.
        Command<IPipelineCommand>(c => _handingOff, c => Sender.Tell(PipelineError.Unavailable(c.PipelineId, "moving to another worker")));
        Command<HandOffPipeline>(_ => HandOff());
        Command<SubscribePipelineOutput>(Subscribe);
        Command<Terminated>(OnTerminated);
        Command<IngestSourceBatch>(IngestFromSource);
        Command<SinkProgress>(p =>
        {
            _connectorState.Settle(p.SettledSequenceNr);
            if (p.SettledEntries is { } entries) _connectorState.SettleEntries(entries);
        });
        Command<DeadLetterCount>(c => _dlqEvents = c.Count);
        Command<ConnectorsStopped>(_ => ConnectorsStoppedForHandOff());
        Command<ConnectorsStopTimeout>(_ => ConnectorsStoppedForHandOff());
        Command<GetConnectorStatus>(c => ToConnectors(c, () => new ConnectorStatusList(Array.Empty<ConnectorStatus>())));
        Command<GetDeadLetters>(c => ToConnectors(c, () => new DeadLetterPage(0, Array.Empty<DeadLetter>())));
        Command<ClearDeadLetters>(c => ToConnectors(c, () => new DeadLettersCleared(0)));
        Command<ReplayDeadLetters>(c => ToConnectors(c, () => new DeadLettersReplayed(0, 0, 0, 0)));
        Command<ReportTick>(_ => ReportCounters());
        Command<DeployPipeline>(d => Deploy(d.PipelineId, d.TenantId, d.Name, d.Source, d.CreatedAt, d.MaxStreams, ensure: false));
        Command<EnsurePipeline>(d => Deploy(d.PipelineId, d.TenantId, d.Name, d.Source, d.CreatedAt, 0, ensure: true));
        Command<IngestEvents>(Ingest);
        Command<DeliverRoutedEvents>(DeliverRouted);
        Command<SetPipelineRoutes>(SetRoutes);
        Command<RouteSender.Confirmed>(c => _routes.Confirm(c.Target, c.HighWater));
        Command<RouteSender.TargetGone>(g => _routes.Abandon(g.Target));
        Command<ReloadPipeline>(Reload);
        Command<DeletePipeline>(Delete);
        Command<GetPipelineInfo>(c => WithRuntime(c, rt => Sender.Tell(Info(rt))));
        Command<GetPipelineMetrics>(c => WithRuntime(c, rt => Sender.Tell(_telemetry.Snapshot(_pipelineId, rt.Engine, _time.GetUtcNow()) with { DlqEvents = _dlqEvents })));
        Command<CheckpointPipeline>(Checkpoint);
        Command<RestorePipeline>(Restore);
        Command<ListPipelineRuns>(ListRuns);
        Command<SnapshotTick>(_ =>
        {
            if (_runtime is not null && _sinceSnapshot > 0) TakeSnapshot();
        });
        Command<SaveSnapshotSuccess>(s =>
        {
            DeleteMessages(s.Metadata.SequenceNr);
            if (s.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
            if (_handingOff && s.Metadata.SequenceNr >= _handOffSnapshotSeq) StopAfterHandOff(snapshotted: true);
            else if (_deleted) Passivate();
        });
        Command<SaveSnapshotFailure>(f =>
        {
            _log.LogWarning(f.Cause, "Snapshot of pipeline {PipelineId} failed", _pipelineId);
            // The journal holds everything: the next owner replays a longer tail.
            if (_handingOff && f.Metadata.SequenceNr >= _handOffSnapshotSeq) StopAfterHandOff(snapshotted: false);
            else if (_deleted) Passivate();
        });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.LogWarning(f.Cause, "Journal cleanup of pipeline {PipelineId} failed", _pipelineId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.LogWarning(f.Cause, "Snapshot cleanup of pipeline {PipelineId} failed", _pipelineId));
    }

    public override string PersistenceId => "pipeline-" + _pipelineId;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string pipelineId, PipelineEntitySettings settings, IActorRef agent, TimeProvider time, ILoggerFactory loggers)
        => Akka.Actor.Props.Create(() => new PipelineEntity(pipelineId, settings, agent, time, loggers));

    // ------------------------------------------------------------------ recovery

    private void ApplySnapshot(PipelineSnapshot s)
    {
        if (s.Deleted)
        {
            _deleted = true;
            _runtime = null;
            return;
        }
        var program = PipelineCompiler.Compile(s.Source, out var diagnostics);
        if (program is null)
        {
            _log.LogError("Pipeline {PipelineId} could not recompile its source from a snapshot: {Error}", _pipelineId, PipelineCompiler.Summary(diagnostics));
            return;
        }
        _runtime = new PipelineRuntime(new PipelineDefined(s.PipelineId, s.TenantId, s.Name, s.Source, s.CreatedAt), program, EngineOptionsFor());
        if (s.CheckpointJson is not null) _runtime.Restore(s.CheckpointJson);
        _idempotency.Import(s.Replies);
        _connectorState.UseProgram(program);
        _connectorState.Import(s.SourceOffsets, s.SinkBacklog);
        _routes.Import(s.Routing);
    }

    private void ApplyDefined(PipelineDefined d)
    {
        var program = PipelineCompiler.Compile(d.Source, out var diagnostics);
        if (program is null)
        {
            _log.LogError("Pipeline {PipelineId} could not recompile its source: {Error}", _pipelineId, PipelineCompiler.Summary(diagnostics));
            return;
        }
        _runtime = new PipelineRuntime(d, program, EngineOptionsFor());
        _connectorState.UseProgram(program);
    }

    private void ApplyReload(string source)
    {
        if (_runtime is null) return;
        var program = PipelineCompiler.Compile(source, out var diagnostics);
        if (program is null)
        {
            _log.LogError("Pipeline {PipelineId} could not recompile a reloaded source: {Error}", _pipelineId, PipelineCompiler.Summary(diagnostics));
            return;
        }
        try
        {
            _runtime.Reload(source, program);
            _connectorState.UseProgram(program);
        }
        catch (CheckpointException ex)
        {
            _log.LogError(ex, "Pipeline {PipelineId} could not replay a reload", _pipelineId);
        }
    }

    /// <summary>A journaled batch's events, decoded and processed without parsing JSON again.</summary>
    private void ReplayBatch(EventBatchAccepted e) => Replay(e, rt => rt.Replay(e.Batch, e.Errors));

    /// <summary>A request of a journal written before event batches (the body as received): parsed again.</summary>
    private void ReplayBody(EventsAccepted e)
    {
        var hash = e.IdempotencyKey is null ? null : IdempotencyTable.HashOf(e.Body);
        Replay(new EventBatchAccepted(e.IngestTimeNanos, e.IsBatch, [], e.IdempotencyKey, hash, Route: e.Route), rt => rt.Ingest(e.Body, e.IsBatch, e.IngestTimeNanos));
    }

    /// <summary>A source batch of a journal written before event batches (the batch body): parsed again.</summary>
    private void ReplaySourceBody(SourceEventsAccepted e)
        => Replay(new EventBatchAccepted(e.IngestTimeNanos, true, [], Source: new SourceOrigin(e.Connector, e.Offsets)), rt => rt.Ingest(e.Body, true, e.IngestTimeNanos));

    /// <summary>
    /// One journaled batch, whatever its layout: its Kafka offsets back into the ledger, its route origin marked applied,
    /// its events through the engine, then the same bookkeeping as when it was first written (<see cref="Journaled"/>).
    /// </summary>
    private void Replay(EventBatchAccepted e, Func<PipelineRuntime, IngestOutcome> process)
    {
        if (e.Source is { } source) _connectorState.RecordOffsets(source.Offsets);
        if (_runtime is null) return;
        if (e.Route is { } origin) _routes.MarkApplied(origin.Source, origin.Sequence);
        IngestOutcome outcome;
        try
        {
            outcome = process(_runtime);
        }
        catch (SerializationException ex)
        {
            // Bytes that cannot be read are a damaged journal: skipping them would lose accepted events without a
            // trace, so recovery fails (as for any unreadable journal record) and the journal stays as it is.
            _log.LogCritical(ex, "Pipeline {PipelineId} cannot recover: its journal holds an unreadable event batch", _pipelineId);
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A batch the engine cannot process must not stop the pipeline from ever recovering again.
            _connectorState.DiscardPending();
            _log.LogError(ex, "Pipeline {PipelineId} skipped a journaled batch it could not replay", _pipelineId);
            return;
        }
        // The batches this one routed, under the same sequence numbers: owed until their receivers confirm.
        _routes.Route(outcome.Outputs);
        Journaled(e, outcome.Accepted, e.IdempotencyKey is null ? null : ResultOf(outcome, e.IsBatch), _connectorState.TakePending());
    }

    /// <summary>
    /// What a journaled batch leaves behind, once written (live) and on replay alike: its events count towards the next
    /// snapshot, a keyed request's reply is remembered for repeats of its key (rebuilt on replay exactly as it was first
    /// given), and the outputs for the sinks are kept under its sequence number until the sinks settle them.
    /// </summary>
    private void Journaled(EventBatchAccepted e, int accepted, IngestResult? reply, List<SinkRecord>? sinkRecords)
    {
        _sinceSnapshot += accepted;
        if (e.IdempotencyKey is { } key && e.BodyHash is { } hash && reply is not null) _idempotency.CompleteWithHash(key, hash, e.IngestTimeNanos, reply);
        if (sinkRecords is not null) _connectorState.AddUnsettled(LastSequenceNr, sinkRecords);
    }

    private void ReplayRestore(string checkpointJson)
    {
        if (_runtime is null) return;
        try
        {
            _runtime.Restore(checkpointJson);
        }
        catch (CheckpointException ex)
        {
            _log.LogError(ex, "Pipeline {PipelineId} could not replay a checkpoint restore", _pipelineId);
        }
    }

    private void ApplyRemoved()
    {
        _deleted = true;
        _runtime = null;
    }

    private void OnRecovered()
    {
        _startedAt = _time.GetUtcNow();
        if (_runtime is not null)
        {
            CountRunning();
            _telemetry.Reset(_runtime.Engine);
            StartSnapshotTimer();
            ReportUp();
            StartConnectors();
            // Whatever the pipeline still owes its routes' receivers goes out again; they drop what they already have.
            if (_routes.PendingCount > 0) RouteSenderRef().Tell(new RouteSender.Owe(_routes.Pending.ToList()));
            _log.LogDebug("Pipeline {PipelineId} recovered: events processed {Events}, live runs {ActiveRuns}, last sequence number {SequenceNr}",
                _pipelineId, _runtime.Engine.EventsProcessed, _runtime.Engine.ActiveRuns, LastSequenceNr);
        }
    }

    // ------------------------------------------------------------------ commands

    private void Deploy(string id, string tenant, string name, string source, DateTimeOffset createdAt, int maxStreams, bool ensure)
    {
        if (_deleted)
        {
            if (ensure) Sender.Tell(new PipelineDeleted(_pipelineId));
            else Sender.Tell(PipelineError.NotFound(_pipelineId));
            if (!_countedAsRunning) Passivate();
            return;
        }
        if (_runtime is not null)
        {
            Sender.Tell(_runtime.Definition.TenantId == tenant ? Info(_runtime) : new PipelineError("conflict", $"pipeline id '{id}' is taken"));
            return;
        }
        var program = ensure ? PipelineCompiler.Compile(source, out var diagnostics) : PipelineCompiler.CompileDeployable(source, out diagnostics);
        if (program is null)
        {
            Sender.Tell(new PipelineError("parse_error", PipelineCompiler.Summary(diagnostics), diagnostics));
            Passivate();
            return;
        }
        if (maxStreams > 0 && program.Streams.Count > maxStreams)
        {
            Sender.Tell(PipelineError.TooManyStreams(tenant, program.Streams.Count, maxStreams));
            Passivate();
            return;
        }
        var defined = new PipelineDefined(id, tenant, name, source, createdAt);
        Persist(defined, d =>
        {
            _runtime = new PipelineRuntime(d, program, EngineOptionsFor());
            _startedAt = _time.GetUtcNow();
            CountRunning();
            _telemetry.Reset(_runtime.Engine);
            StartSnapshotTimer();
            ReportUp();
            _connectorState.UseProgram(program);
            StartConnectors();
            if (program.Streams.Count == 1) _log.LogInformation("Pipeline deployed: {PipelineId} ({PipelineName}), {StreamCount} stream", id, name, 1);
            else _log.LogInformation("Pipeline deployed: {PipelineId} ({PipelineName}), {StreamCount} streams", id, name, program.Streams.Count);
            Sender.Tell(Info(_runtime));
        });
    }

    private void Ingest(IngestEvents cmd)
    {
        if (!TryGetRuntime(cmd, out var rt)) return;
        if (cmd.DeadlineUnixMs > 0 && _time.GetUtcNow().ToUnixTimeMilliseconds() > cmd.DeadlineUnixMs)
        {
            // Its sender stopped waiting (it was buffered through a move): processing it now could count it twice.
            Sender.Tell(PipelineError.Unavailable(_pipelineId, "recovering; the request waited too long and was not processed"));
            return;
        }
        if (cmd.IdempotencyKey is { } key && !Repeat(key, cmd.Body)) return;
        if (DeadLetterQueueRefuses()) return;
        Process(rt, cmd.Body, cmd.IsBatch, cmd.IdempotencyKey, null);
    }

    /// <summary>
    /// A routed batch from another pipeline of the group: applied when it is the next one from its source, journaled
    /// with its origin, confirmed once journaled. A repeat, or a batch after a gap, changes nothing; the answer tells the
    /// sender where this pipeline stands (after the writes in flight, so that what it confirms is journaled).
    /// </summary>
    private void DeliverRouted(DeliverRoutedEvents cmd)
    {
        if (!TryGetRuntime(cmd, out var rt)) return;
        long high = _routes.Applied(cmd.Source);
        if (cmd.Sequence != high + 1)
        {
            var sender = Sender;
            DeferAsync(new RouteAck(cmd.Source, _pipelineId, high, cmd.Sequence), ack => sender.Tell(ack));
            return;
        }
        _routes.MarkApplied(cmd.Source, cmd.Sequence);
        Process(rt, cmd.Body, true, null, new RouteOrigin(cmd.Source, cmd.Sequence));
    }

    private void SetRoutes(SetPipelineRoutes cmd)
    {
        if (!TryGetRuntime(cmd, out _)) return;
        var sender = Sender;
        Persist(new PipelineRoutesChanged(cmd.Routes, _time.GetUtcNow()), e =>
        {
            _routes.SetRoutes(e.Routes);
            _log.LogInformation("Pipeline {PipelineId} routes: {Routes}", _pipelineId,
                string.Join("; ", e.Routes.Select(r => $"[{string.Join(", ", r.EventTypes)}] -> {r.TargetName} ({r.TargetIds.Count})")));
            sender.Tell(new PipelineRoutesSet(_pipelineId, e.Routes.Count));
        });
    }

    /// <summary>Processes one input request (a client's, or a routed batch with its <paramref name="origin"/>), journals it, answers.</summary>
    private void Process(PipelineRuntime rt, byte[] body, bool isBatch, string? idempotencyKey, RouteOrigin? origin)
    {
        long now = NowNanos();
        if (!TryIngest(rt, body, isBatch, now, origin, null, out var outcome, out var result, out var sinkRecords)) return;
        if (outcome.RequestError is not null) _log.LogError("Pipeline {PipelineId} could not read routed batch {Sequence} from {Source}: {Error}", _pipelineId, origin!.Sequence, origin.Source, outcome.RequestError);
        byte[]? bodyHash = null;
        if (idempotencyKey is not null)
        {
            bodyHash = IdempotencyTable.HashOf(body);
            _idempotency.BeginWithHash(idempotencyKey, bodyHash, now);
        }
        // The journal holds the accepted events as the engine took them (not the body): recovery decodes them without
        // parsing JSON. A keyed request also keeps what its reply is rebuilt from; a routed batch (even one with no
        // event accepted) its origin, which the receiver's de-duplication recovers from.
        var record = new EventBatchAccepted(now, isBatch, outcome.Batch ?? PipelineRuntime.EmptyBatch, idempotencyKey, bodyHash,
            idempotencyKey is null ? null : result.Errors, origin);
        Commit(rt, outcome, record, result, origin is null ? result : new RouteAck(origin.Source, _pipelineId, origin.Sequence, origin.Sequence), sinkRecords);
    }

    /// <summary>
    /// A batch read by one of the pipeline's sources (<see cref="PipelineConnectors"/>): Kafka records journaled before
    /// (sent again after a crash between the journal write and the offset commit) are dropped, the rest is processed like
    /// a REST batch and journaled with its Kafka offsets in one write. The reply, the source's cue to acknowledge upstream
    /// (MQTT PUBACK, Kafka commit, file position), comes only after that write.
    /// </summary>
    private void IngestFromSource(IngestSourceBatch cmd)
    {
        if (_runtime is not { } rt || (_handingOff && !_handOffWaitsForConnectors))
        {
            Sender.Tell(_runtime is null ? PipelineError.NotFound(_pipelineId) : PipelineError.Unavailable(_pipelineId, "moving to another worker"));
            return;
        }
        if (DeadLetterQueueRefuses()) return;
        var body = SourceBatchBuilder.Without(cmd.Body, cmd.Positions, _connectorState.Ledger.IsDuplicate, out var positions);
        if (positions.Count == 0)
        {
            Sender.Tell(new IngestResult(0, 0, Array.Empty<IngestError>(), "[]"u8.ToArray(), 0, 0));
            return;
        }
        long now = NowNanos();
        if (!TryIngest(rt, body, true, now, null, cmd.Connector, out var outcome, out var result, out var sinkRecords)) return;
        // Noted at once: a batch still in flight behind this one may hold the same records.
        var offsets = PipelineConnectorState.HighestOffsets(positions);
        _connectorState.RecordOffsets(offsets);
        var record = new EventBatchAccepted(now, true, outcome.Batch!, Source: new SourceOrigin(cmd.Connector, offsets));
        Commit(rt, outcome, record, result, result, sinkRecords);
    }

    /// <summary>
    /// Runs a request (a client's, a routed batch with its <paramref name="origin"/>, a batch of the source
    /// <paramref name="source"/>) through the engine and answers it when there is nothing to journal: the engine failed
    /// (the pipeline restarts from its journal; a routed batch is journaled first, its replay skips what fails, so that
    /// it cannot stop its route for ever), the request could not be read, or no event of it was accepted (a routed
    /// batch is journaled all the same: its origin is what the receiver's de-duplication recovers from). True: journal
    /// it (<see cref="Commit"/>) with <paramref name="result"/> and the outputs for the sinks.
    /// </summary>
    private bool TryIngest(PipelineRuntime rt, byte[] body, bool isBatch, long now, RouteOrigin? origin, string? source,
        out IngestOutcome outcome, out IngestResult result, out List<SinkRecord>? sinkRecords)
    {
        result = null!;
        sinkRecords = null;
        try
        {
            outcome = rt.Ingest(body, isBatch, now);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The engine's state may be half-updated: answer, then restart from the journal.
            if (source is null) _log.LogError(ex, "Pipeline {PipelineId} failed processing events", _pipelineId);
            else _log.LogError(ex, "Pipeline {PipelineId} failed processing events of source {Connector}", _pipelineId, source);
            Sender.Tell(new PipelineError("engine_error", $"the engine of pipeline '{_pipelineId}' failed processing the events: " + ex.Message));
            if (origin is null) throw new PipelineRestartException(_pipelineId, ex);
            Persist(new EventBatchAccepted(now, isBatch, rt.LastBatch ?? PipelineRuntime.EmptyBatch, Route: origin), _ => throw new PipelineRestartException(_pipelineId, ex));
            outcome = null!;
            return false;
        }
        if (outcome.RequestError is not null && origin is null)
        {
            Sender.Tell(new PipelineError("invalid_request", outcome.RequestError));
            return false;
        }
        VarpulisMetrics.EventsRejected.Inc(outcome.Rejected);
        result = ResultOf(outcome, isBatch);
        sinkRecords = _connectorState.TakePending();
        if (outcome.Accepted == 0 && origin is null)
        {
            Sender.Tell(result);
            return false;
        }
        return true;
    }

    /// <summary>
    /// Journals a batch the engine took (a client's request, a routed batch, a source batch) and, once it is written,
    /// answers <paramref name="reply"/>, owes the routed outputs to their receivers, does the bookkeeping replay does too
    /// (<see cref="Journaled"/>), answers the repeats of its key that waited, and pushes the outputs live and to the sinks.
    /// </summary>
    private void Commit(PipelineRuntime rt, IngestOutcome outcome, EventBatchAccepted record, IngestResult result, object reply, List<SinkRecord>? sinkRecords)
    {
        var routed = _routes.Route(outcome.Outputs);
        _telemetry.Record(outcome, rt.Engine, _time.GetUtcNow());
        if (_log.IsEnabled(LogLevel.Debug)) LogIngest(outcome, rt);
        List<string>? live = null;
        if (_subscribers.Count > 0 && outcome.Outputs.Count > 0)
        {
            live = new List<string>(outcome.Outputs.Count);
            foreach (var e in outcome.Outputs) live.Add(EventJson.ToJsonLine(e, OutputShape.Data));
        }
        int accepted = outcome.Accepted;
        _pendingEvents += accepted;
        _telemetry.SetQueue(rt.Engine, _pendingEvents);
        var sender = Sender;
        PersistAsync(record, e =>
        {
            _pendingEvents -= accepted;
            _telemetry.SetQueue(rt.Engine, _pendingEvents);
            sender.Tell(reply);
            if (routed.Count > 0) RouteSenderRef().Tell(new RouteSender.Owe(routed));
            Journaled(e, accepted, result, sinkRecords);
            if (e.IdempotencyKey is { } key && _keyWaiters.Remove(key, out var waiters))
            {
                foreach (var w in waiters) w.Tell(result);
            }
            if (live is not null)
            {
                var batch = new PipelineOutputBatch(_pipelineId, live);
                foreach (var subscriber in _subscribers) subscriber.Tell(batch);
            }
            if (sinkRecords is not null) _connectors?.Tell(new DeliverToSinks(LastSequenceNr, sinkRecords));
            if (_settings.SnapshotEveryEvents > 0 && _sinceSnapshot >= _settings.SnapshotEveryEvents) TakeSnapshot();
        });
    }

    // ------------------------------------------------------------------ connectors

    /// <summary>
    /// Starts the connectors child when the program has connectors (deploy, recovery, after a reload), then sends it
    /// the outputs its sinks had not settled (it drops those its DLQ journal says were settled).
    /// </summary>
    private void StartConnectors()
    {
        if (_connectors is not null || _runtime is null || !_connectorState.HasConnectors || _handingOff || _deleted) return;
        var d = _runtime.Definition;
        var settings = _settings.Connectors with
        {
            PipelineId = _pipelineId,
            PipelineName = d.Name,
            StateDir = _settings.StateDir ?? Configuration.ServerSettings.DefaultStateDir,
        };
        _dlqBounds = new DeadLetterBounds(_pipelineId, settings.DeadLetterBacklogLimit, settings.DeadLetterMaxEvents);
        _connectors = Context.ActorOf(
            PipelineConnectors.Props(settings, _connectorState.Bindings, Self, new ConnectorFactory(settings, ConnectorFactory.SharedHttp), _time, _loggers, _dlqBounds),
            "connectors");
        Context.Watch(_connectors);
        foreach (var u in _connectorState.Unsettled) _connectors.Tell(new DeliverToSinks(u.SequenceNr, u.Records));
    }

    /// <summary>
    /// Whether the DLQ is at one of its bounds (<see cref="DeadLetterBounds"/>: letters waiting to be journaled, letters
    /// held): then new events are refused with the reason (a client gets 503, a source offers its batch again later) and
    /// nothing is processed.
    /// </summary>
    private bool DeadLetterQueueRefuses()
    {
        if (_dlqBounds?.Refusal() is not { } refusal) return false;
        Sender.Tell(refusal);
        return true;
    }

    /// <summary>After a reload: the connectors stop (sources drained) and start again with the new program's bindings.</summary>
    private void RestartConnectors()
    {
        if (_connectors is null)
        {
            StartConnectors();
            return;
        }
        _restartConnectors = true;
        _connectors.Tell(new StopConnectors(_pipelineId));
    }

    private void OnTerminated(Terminated t)
    {
        if (!t.ActorRef.Equals(_connectors))
        {
            _subscribers.Remove(t.ActorRef);
            return;
        }
        _connectors = null;
        _dlqBounds = null;
        if (_deleted || _runtime is null) return;
        if (_handOffWaitsForConnectors)
        {
            ConnectorsStoppedForHandOff();
            return;
        }
        if (!_restartConnectors) _log.LogWarning("The connectors of pipeline {PipelineId} stopped; starting them again", _pipelineId);
        _restartConnectors = false;
        StartConnectors();
    }

    /// <summary>A connector request (health, DLQ): the connectors answer; a pipeline without connectors has nothing to show.</summary>
    private void ToConnectors(IPipelineCommand cmd, Func<object> none)
    {
        if (!TryGetRuntime(cmd, out _)) return;
        if (_connectors is { } c) c.Forward(cmd);
        else Sender.Tell(none());
    }

    /// <summary>
    /// A request with an idempotency key: false when it is a repeat, answered here (the first reply, or after the first
    /// one is written), or a reuse of the key for another body.
    /// </summary>
    private bool Repeat(string key, byte[] body)
    {
        switch (_idempotency.Find(key, body))
        {
            case IdempotencyTable.Lookup.Done:
                Sender.Tell(_idempotency.ReplyOf(key)!);
                return false;
            case IdempotencyTable.Lookup.Pending:
                if (!_keyWaiters.TryGetValue(key, out var waiters)) _keyWaiters[key] = waiters = new List<IActorRef>();
                waiters.Add(Sender);
                return false;
            case IdempotencyTable.Lookup.Mismatch:
                Sender.Tell(PipelineError.KeyReused(key));
                return false;
            default:
                return true;
        }
    }

    private static IngestResult ResultOf(IngestOutcome outcome, bool isBatch)
        => new(
            outcome.Accepted,
            outcome.Rejected,
            outcome.Errors.ToList(),
            PipelineRuntime.RenderArray(outcome.Outputs, isBatch ? OutputShape.Flat : OutputShape.Fields),
            outcome.Outputs.Count,
            (long)outcome.ElapsedMicros);

    /// <summary>
    /// <c>RUST_LOG=...,varpulis_runtime::engine=debug</c>: one line per request; <c>=trace</c> adds each output
    /// event. Only called when debug is on, so the hot path pays one level check.
    /// </summary>
    private void LogIngest(IngestOutcome outcome, PipelineRuntime rt)
    {
        var engine = rt.Engine;
        _log.LogDebug(
            "Pipeline {PipelineId} ingested a request: accepted {Accepted}, rejected {Rejected}, outputs {Outputs}, live runs {ActiveRuns}, engine time {ElapsedUs:F0} us, watermark {Watermark}",
            _pipelineId, outcome.Accepted, outcome.Rejected, outcome.Outputs.Count, engine.ActiveRuns, outcome.ElapsedMicros,
            engine.Watermark == long.MinValue ? "none" : TimeFormat.FormatTimestamp(engine.Watermark));
        if (!_log.IsEnabled(LogLevel.Trace)) return;
        foreach (var e in outcome.Outputs)
            _log.LogTrace("Pipeline {PipelineId} output {Output}", _pipelineId, EventJson.ToJsonLine(e, OutputShape.Data));
    }

    private void Reload(ReloadPipeline cmd)
    {
        if (!TryGetRuntime(cmd, out var rt)) return;
        var program = PipelineCompiler.CompileDeployable(cmd.Source, out var diagnostics);
        if (program is null)
        {
            Sender.Tell(new PipelineError("parse_error", PipelineCompiler.Summary(diagnostics), diagnostics));
            return;
        }
        if (cmd.MaxStreams > 0 && program.Streams.Count > cmd.MaxStreams)
        {
            Sender.Tell(PipelineError.TooManyStreams(cmd.TenantId, program.Streams.Count, cmd.MaxStreams));
            return;
        }
        RestoreReport report;
        try
        {
            report = rt.Reload(cmd.Source, program);
        }
        catch (CheckpointException ex)
        {
            _log.LogError(ex, "Pipeline {PipelineId} could not carry its state into the reloaded program", _pipelineId);
            Sender.Tell(new PipelineError("engine_error", "the state could not be carried into the new program: " + ex.Message));
            return;
        }
        CountRunning();
        _telemetry.Reset(rt.Engine);
        _connectorState.UseProgram(program);
        var sender = Sender;
        PersistAsync(new PipelineSourceReloaded(cmd.Source, _time.GetUtcNow()), _ =>
        {
            _log.LogInformation("Pipeline reloaded: {PipelineId} ({PipelineName}), kept {Kept}, reset {Reset}",
                _pipelineId, rt.Definition.Name, report.RestoredStreams.Count, report.ResetStreams.Count);
            RestartConnectors();
            sender.Tell(new PipelineReloaded(report.RestoredStreams, report.ResetStreams));
        });
    }

    private void Delete(DeletePipeline cmd)
    {
        if (!TryGetRuntime(cmd, out var rt)) return;
        var sender = Sender;
        Persist(new PipelineRemoved(_time.GetUtcNow()), _ =>
        {
            _log.LogInformation("Pipeline deleted: {PipelineId} ({PipelineName})", _pipelineId, rt.Definition.Name);
            var d = rt.Definition;
            ApplyRemoved();
            UncountRunning();
            _telemetry.RemoveSeries();
            Timers.CancelAll();
            // Sources stop at once (nothing more is read for a deleted pipeline); the DLQ's lines and journal go.
            _connectors?.Tell(new StopConnectors(_pipelineId, DeadLetterDisposal.Delete));
            EndSubscriptions("deleted");
            ReportDown("deleted");
            sender.Tell(new PipelineDeleted(_pipelineId));
            SaveSnapshot(new PipelineSnapshot(d.PipelineId, d.TenantId, d.Name, rt.Source, d.CreatedAt, Deleted: true, CheckpointJson: null));
        });
    }

    private void Checkpoint(CheckpointPipeline cmd)
    {
        if (!TryGetRuntime(cmd, out var rt)) return;
        var json = rt.CreateCheckpointJson();
        SaveSnapshot(SnapshotOf(rt, json));
        _sinceSnapshot = 0;
        Sender.Tell(new CheckpointTaken(_pipelineId, json, rt.Engine.EventsProcessed, _time.GetUtcNow()));
    }

    private void Restore(RestorePipeline cmd)
    {
        if (!TryGetRuntime(cmd, out var rt)) return;
        RestoreReport report;
        try
        {
            report = rt.Restore(cmd.CheckpointJson);
        }
        catch (CheckpointException ex)
        {
            Sender.Tell(new PipelineError("invalid_request", "invalid checkpoint: " + ex.Message));
            return;
        }
        _telemetry.Reset(rt.Engine);
        var sender = Sender;
        PersistAsync(new PipelineCheckpointRestored(cmd.CheckpointJson, _time.GetUtcNow()), _ =>
        {
            _log.LogInformation("Pipeline restored from checkpoint: {PipelineId}, events processed {Events}", _pipelineId, report.EventsRestored);
            sender.Tell(new PipelineRestored(_pipelineId, report.EventsRestored, report.RestoredStreams, report.ResetStreams));
            // The restored document is large: a snapshot now keeps the journal short.
            TakeSnapshot();
        });
    }

    private void ListRuns(ListPipelineRuns cmd)
    {
        if (!TryGetRuntime(cmd, out var rt)) return;
        int offset = Math.Max(0, cmd.Offset);
        var runs = rt.Engine.ListRuns(cmd.Stream, (int)Math.Min((long)offset + cmd.Limit, int.MaxValue));
        if (runs is null)
        {
            Sender.Tell(new PipelineError("stream_not_found", $"pipeline '{_pipelineId}' has no stream '{cmd.Stream}'"));
            return;
        }
        var page = runs.Skip(offset).ToList();
        long total = 0;
        foreach (var s in rt.Engine.GetStreamStats())
        {
            if (s.Stream == cmd.Stream) total = s.ActiveRuns;
        }
        Sender.Tell(new PipelineRuns(_pipelineId, cmd.Stream, PipelineRuntime.RenderRuns(page), page.Count, (int)Math.Min(total, int.MaxValue)));
    }

    private void Subscribe(SubscribePipelineOutput cmd)
    {
        if (!TryGetRuntime(cmd, out _)) return;
        if (_subscribers.Add(cmd.Subscriber)) Context.Watch(cmd.Subscriber);
        cmd.Subscriber.Tell(new PipelineOutputSubscribed(_pipelineId));
    }

    /// <summary>The region hands this pipeline off: finish the writes in flight, snapshot, stop.</summary>
    private void HandOff()
    {
        if (_handingOff) return;
        _handingOff = true;
        Timers.CancelAll();
        if (_connectors is { } connectors)
        {
            // Sources drain first: what they read is journaled and acknowledged here; the broker keeps the rest for
            // the next owner. In a cluster the DLQ's lines leave this node's file (the next owner writes them to its own).
            _handOffWaitsForConnectors = true;
            connectors.Tell(new StopConnectors(_pipelineId, _settings.WorkerId is null ? DeadLetterDisposal.Keep : DeadLetterDisposal.Release));
            Timers.StartSingleTimer("connectors-stop", ConnectorsStopTimeout.Instance, _settings.Connectors.DrainTimeout + TimeSpan.FromSeconds(5));
            return;
        }
        SnapshotAndStop();
    }

    /// <summary>The connectors have stopped (or did not answer in time): the hand-off goes on.</summary>
    private void ConnectorsStoppedForHandOff()
    {
        if (!_handOffWaitsForConnectors) return;
        _handOffWaitsForConnectors = false;
        Timers.Cancel("connectors-stop");
        SnapshotAndStop();
    }

    private void SnapshotAndStop()
    {
        // DeferAsync runs after every pending PersistAsync handler: the snapshot covers every acknowledged event.
        DeferAsync(HandOffPipeline.Instance, _ =>
        {
            if (_runtime is null)
            {
                StopAfterHandOff(snapshotted: false);
                return;
            }
            _handOffSnapshotSeq = LastSequenceNr;
            TakeSnapshot();
        });
    }

    private void StopAfterHandOff(bool snapshotted)
    {
        if (_runtime is not null)
        {
            _log.LogInformation("Pipeline handed off: {PipelineId} ({PipelineName}), {Events} events processed, {Snapshot}",
                _pipelineId, _runtime.Definition.Name, _runtime.Engine.EventsProcessed,
                snapshotted ? $"snapshot at sequence number {_handOffSnapshotSeq}" : "no snapshot (the journal will be replayed)");
        }
        EndSubscriptions("moving");
        ReportDown("handoff");
        Context.Stop(Self);
    }

    private void EndSubscriptions(string reason)
    {
        var ended = new PipelineOutputEnded(_pipelineId, reason);
        foreach (var s in _subscribers)
        {
            Context.Unwatch(s);
            s.Tell(ended);
        }
        _subscribers.Clear();
    }

    private void ReportUp()
    {
        if (_runtime is null) return;
        var d = _runtime.Definition;
        _agent.Tell(new WorkerAgent.PipelineUp(new HostedPipeline(_pipelineId, d.TenantId, d.Name, _runtime.Engine.EventsProcessed, _runtime.Engine.OutputEventsEmitted, _startedAt)));
        _reportedUp = true;
        if (_settings.ReportInterval > TimeSpan.Zero) Timers.StartPeriodicTimer("report", ReportTick.Instance, _settings.ReportInterval);
    }

    private void ReportCounters()
    {
        if (_runtime is not null) _agent.Tell(new WorkerAgent.PipelineCounters(_pipelineId, _runtime.Engine.EventsProcessed, _runtime.Engine.OutputEventsEmitted));
    }

    private void ReportDown(string reason)
    {
        if (!_reportedUp) return;
        _agent.Tell(new WorkerAgent.PipelineDown(_pipelineId, reason));
        _reportedUp = false;
    }

    // ------------------------------------------------------------------ helpers

    private void WithRuntime(IPipelineCommand cmd, Action<PipelineRuntime> action)
    {
        if (TryGetRuntime(cmd, out var rt)) action(rt);
    }

    private bool TryGetRuntime(IPipelineCommand cmd, out PipelineRuntime rt)
    {
        rt = _runtime!;
        if (_runtime is not null && _runtime.Definition.TenantId == cmd.TenantId) return true;
        Sender.Tell(PipelineError.NotFound(cmd.PipelineId));
        // An entity woken by a message for a pipeline that does not exist must not stay remembered.
        if (_runtime is null && _pendingEvents == 0) Passivate();
        return false;
    }

    private PipelineInfo Info(PipelineRuntime rt)
    {
        var d = rt.Definition;
        return new PipelineInfo(d.PipelineId, d.TenantId, d.Name, "running", rt.Source, rt.StreamNames, d.CreatedAt, _startedAt, _settings.WorkerId);
    }

    private PipelineSnapshot SnapshotOf(PipelineRuntime rt, string checkpointJson)
    {
        var d = rt.Definition;
        return new PipelineSnapshot(d.PipelineId, d.TenantId, d.Name, rt.Source, d.CreatedAt, Deleted: false, checkpointJson, _idempotency.Export(),
            _connectorState.ExportOffsets(), _connectorState.ExportUnsettled(), _routes.Export());
    }

    /// <summary>The child that delivers this pipeline's routed batches (started when it first owes one).</summary>
    private IActorRef RouteSenderRef()
    {
        if (_routeSender is not null) return _routeSender;
        var region = ClusterSharding.Get(Context.System).ShardRegion(PipelineHostingExtensions.RegionName);
        _routeSender = Context.ActorOf(RouteSender.Props(_pipelineId, _runtime!.Definition.TenantId, region, _time, _log), "routes");
        return _routeSender;
    }

    private void TakeSnapshot()
    {
        if (_runtime is null) return;
        SaveSnapshot(SnapshotOf(_runtime, _runtime.CreateCheckpointJson()));
        _sinceSnapshot = 0;
    }

    private void StartSnapshotTimer()
    {
        if (_settings.SnapshotInterval > TimeSpan.Zero)
            Timers.StartPeriodicTimer("snapshot", SnapshotTick.Instance, _settings.SnapshotInterval);
    }

    private void Passivate() => Context.Parent.Tell(new Passivate(PoisonPill.Instance));

    private long NowNanos() => (_time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private EngineOptions EngineOptionsFor() => new()
    {
        Host = new PipelineEngineHost(_pipelineId, _log, _connectorState),
        LatencySampleInterval = PipelineTelemetry.LatencySampleInterval,
    };

    private void CountRunning()
    {
        int streams = _runtime?.Program.Streams.Count ?? 0;
        if (!_countedAsRunning)
        {
            VarpulisMetrics.Pipelines.Inc();
            _countedAsRunning = true;
        }
        VarpulisMetrics.ActiveStreams.Inc(streams - _countedStreams);
        _countedStreams = streams;
    }

    private void UncountRunning()
    {
        if (!_countedAsRunning) return;
        VarpulisMetrics.Pipelines.Dec();
        VarpulisMetrics.ActiveStreams.Dec(_countedStreams);
        _countedAsRunning = false;
        _countedStreams = 0;
    }

    protected override void PreRestart(Exception reason, object message)
    {
        _telemetry.CountRestart();
        _restarting = true;
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        UncountRunning();
        // A restart keeps the pipeline's series (its next instance continues them); any other stop takes them away.
        if (!_restarting) _telemetry.RemoveSeries();
        base.PostStop();
    }

    /// <summary>Periodic snapshot check.</summary>
    private sealed class SnapshotTick
    {
        public static readonly SnapshotTick Instance = new();
    }

    /// <summary>A hand-off stops waiting for the connectors to drain.</summary>
    private sealed class ConnectorsStopTimeout
    {
        public static readonly ConnectorsStopTimeout Instance = new();
    }

    /// <summary>Periodic report of the counters to the node's agent.</summary>
    private sealed class ReportTick
    {
        public static readonly ReportTick Instance = new();
    }
}

/// <summary>Thrown to restart a pipeline entity from its journal after the engine failed mid-batch.</summary>
public sealed class PipelineRestartException(string pipelineId, Exception inner)
    : Exception($"pipeline '{pipelineId}' restarts from its journal", inner);
