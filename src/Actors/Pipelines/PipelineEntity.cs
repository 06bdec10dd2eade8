using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Metrics;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// Settings of every pipeline entity of a node: snapshot cadence, how often it reports its counters to the node's
/// agent, and the node's worker id (null on a single server).
/// </summary>
public sealed record PipelineEntitySettings(int SnapshotEveryEvents, TimeSpan SnapshotInterval, TimeSpan ReportInterval, string? WorkerId = null)
{
    public static readonly PipelineEntitySettings Default = new(100_000, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5));
}

/// <summary>
/// One pipeline: a sharded persistent actor around a <see cref="PipelineRuntime"/>. Receive, call the engine,
/// persist, reply. The journal holds the definition events and every accepted input request (its accepted events in
/// <see cref="EventBatchCodec"/> form); snapshots are
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

    public PipelineEntity(string pipelineId, PipelineEntitySettings settings, IActorRef agent, TimeProvider time, ILoggerFactory loggers)
    {
        _pipelineId = pipelineId;
        _settings = settings;
        _agent = agent;
        _time = time;
        _log = loggers.CreateLogger<PipelineEntity>();
        _telemetry = new PipelineTelemetry(new PipelineSeries(pipelineId), _log);
        _startedAt = time.GetUtcNow();

        Recover<SnapshotOffer>(offer => ApplySnapshot((PipelineSnapshot)offer.Snapshot));
        Recover<PipelineDefined>(ApplyDefined);
        Recover<PipelineSourceReloaded>(e => ApplyReload(e.Source));
        Recover<EventBatchAccepted>(ReplayBatch);
        Recover<EventsAccepted>(ReplayBody);
        Recover<PipelineCheckpointRestored>(e => ReplayRestore(e.CheckpointJson));
        Recover<PipelineRemoved>(_ => ApplyRemoved());
        Recover<RecoveryCompleted>(_ => OnRecovered());

        // While handing off, nothing new is processed: the snapshot being written must be the last state here.
        Command<IPipelineCommand>(c => _handingOff, c => Sender.Tell(PipelineError.Unavailable(c.PipelineId, "moving to another worker")));
        Command<HandOffPipeline>(_ => HandOff());
        Command<SubscribePipelineOutput>(Subscribe);
        Command<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Command<ReportTick>(_ => ReportCounters());
        Command<DeployPipeline>(d => Deploy(d.PipelineId, d.TenantId, d.Name, d.Source, d.CreatedAt, d.MaxStreams, ensure: false));
        Command<EnsurePipeline>(d => Deploy(d.PipelineId, d.TenantId, d.Name, d.Source, d.CreatedAt, 0, ensure: true));
        Command<IngestEvents>(Ingest);
        Command<ReloadPipeline>(Reload);
        Command<DeletePipeline>(Delete);
        Command<GetPipelineInfo>(c => WithRuntime(c, rt => Sender.Tell(Info(rt))));
        Command<GetPipelineMetrics>(c => WithRuntime(c, rt => Sender.Tell(_telemetry.Snapshot(_pipelineId, rt.Engine, _time.GetUtcNow()))));
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
        }
        catch (CheckpointException ex)
        {
            _log.LogError(ex, "Pipeline {PipelineId} could not replay a reload", _pipelineId);
        }
    }

    /// <summary>An accepted request's events, decoded and processed without parsing JSON again.</summary>
    private void ReplayBatch(EventBatchAccepted e)
    {
        if (_runtime is null) return;
        IngestOutcome outcome;
        try
        {
            outcome = _runtime.Replay(e.Batch, e.Errors);
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
            _log.LogError(ex, "Pipeline {PipelineId} skipped a journaled batch it could not replay", _pipelineId);
            return;
        }
        Journaled(outcome.Accepted, e.IdempotencyKey, e.BodyHash, e.IngestTimeNanos, e.IdempotencyKey is null ? null : ResultOf(outcome, e.IsBatch));
    }

    /// <summary>An accepted request of a journal written before event batches (the body as received): parsed again.</summary>
    private void ReplayBody(EventsAccepted e)
    {
        if (_runtime is null) return;
        IngestOutcome outcome;
        try
        {
            outcome = _runtime.Ingest(e.Body, e.IsBatch, e.IngestTimeNanos);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _log.LogError(ex, "Pipeline {PipelineId} skipped a journaled batch it could not replay", _pipelineId);
            return;
        }
        var key = e.IdempotencyKey;
        Journaled(outcome.Accepted, key, key is null ? null : IdempotencyTable.HashOf(e.Body), e.IngestTimeNanos, key is null ? null : ResultOf(outcome, e.IsBatch));
    }

    /// <summary>
    /// What a journaled request leaves behind, once written (live) and on replay alike: its events count towards the
    /// next snapshot, and the reply a repeat of its key gets (rebuilt on replay exactly as it was first given).
    /// </summary>
    private void Journaled(int accepted, string? key, byte[]? bodyHash, long ingestTimeNanos, IngestResult? reply)
    {
        _sinceSnapshot += accepted;
        if (key is not null && bodyHash is not null && reply is not null) _idempotency.CompleteWithHash(key, bodyHash, ingestTimeNanos, reply);
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
        long now = NowNanos();
        IngestOutcome outcome;
        try
        {
            outcome = rt.Ingest(cmd.Body, cmd.IsBatch, now);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The engine's state may be half-updated: answer, then restart from the journal.
            _log.LogError(ex, "Pipeline {PipelineId} failed processing events", _pipelineId);
            Sender.Tell(new PipelineError("engine_error", "the engine failed processing the events: " + ex.Message));
            throw new PipelineRestartException(_pipelineId, ex);
        }
        if (outcome.RequestError is not null)
        {
            Sender.Tell(new PipelineError("invalid_request", outcome.RequestError));
            return;
        }
        VarpulisMetrics.EventsRejected.Inc(outcome.Rejected);
        var result = ResultOf(outcome, cmd.IsBatch);
        if (outcome.Accepted == 0)
        {
            Sender.Tell(result);
            return;
        }
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
        var idempotencyKey = cmd.IdempotencyKey;
        byte[]? bodyHash = null;
        if (idempotencyKey is not null)
        {
            _idempotency.Begin(idempotencyKey, cmd.Body, now);
            bodyHash = IdempotencyTable.HashOf(cmd.Body);
        }
        // The journal holds the accepted events as the engine took them (not the body): recovery decodes them
        // without parsing JSON. A keyed request also keeps what its reply is rebuilt from.
        var record = new EventBatchAccepted(now, cmd.IsBatch, outcome.Batch!, idempotencyKey, bodyHash, idempotencyKey is null ? null : result.Errors);
        PersistAsync(record, _ =>
        {
            _pendingEvents -= accepted;
            _telemetry.SetQueue(rt.Engine, _pendingEvents);
            sender.Tell(result);
            Journaled(accepted, idempotencyKey, bodyHash, now, result);
            if (idempotencyKey is not null)
            {
                if (_keyWaiters.Remove(idempotencyKey, out var waiters))
                {
                    foreach (var w in waiters) w.Tell(result);
                }
            }
            if (live is not null)
            {
                var batch = new PipelineOutputBatch(_pipelineId, live);
                foreach (var subscriber in _subscribers) subscriber.Tell(batch);
            }
            if (_settings.SnapshotEveryEvents > 0 && _sinceSnapshot >= _settings.SnapshotEveryEvents) TakeSnapshot();
        });
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
        var sender = Sender;
        PersistAsync(new PipelineSourceReloaded(cmd.Source, _time.GetUtcNow()), _ =>
        {
            _log.LogInformation("Pipeline reloaded: {PipelineId} ({PipelineName}), kept {Kept}, reset {Reset}",
                _pipelineId, rt.Definition.Name, report.RestoredStreams.Count, report.ResetStreams.Count);
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
        return new PipelineSnapshot(d.PipelineId, d.TenantId, d.Name, rt.Source, d.CreatedAt, Deleted: false, checkpointJson, _idempotency.Export());
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
        Host = new PipelineEngineHost(_pipelineId, _log),
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

    /// <summary>Periodic report of the counters to the node's agent.</summary>
    private sealed class ReportTick
    {
        public static readonly ReportTick Instance = new();
    }
}

/// <summary>Thrown to restart a pipeline entity from its journal after the engine failed mid-batch.</summary>
public sealed class PipelineRestartException(string pipelineId, Exception inner)
    : Exception($"pipeline '{pipelineId}' restarts from its journal", inner);
