namespace Varpulis.Actors.Pipelines;

/// <summary>
/// Marker of every message of the pipeline protocol (commands, replies, journal events, snapshots). Bound to
/// <see cref="Serialization.VarpulisSerializer"/>: nothing of ours is ever serialized by a fallback serializer.
/// </summary>
public interface IPipelineProtocol
{
}

/// <summary>A command for one pipeline entity; routed by <see cref="PipelineId"/> through the shard region.</summary>
public interface IPipelineCommand : IPipelineProtocol
{
    string PipelineId { get; }

    /// <summary>The tenant the caller acts for: a pipeline of another tenant answers as not found.</summary>
    string TenantId { get; }
}

/// <summary>
/// Creates the pipeline: the entity compiles the source (the only compilation of a deploy) and refuses a program with
/// more than <paramref name="MaxStreams"/> streams (<c>quota_exceeded</c>; 0: no limit). Idempotent for the same id
/// and definition.
/// </summary>
public sealed record DeployPipeline(string PipelineId, string TenantId, string Name, string Source, DateTimeOffset CreatedAt, int MaxStreams = 0) : IPipelineCommand;

/// <summary>Deploys the pipeline unless it exists or was deleted (directory reconciliation at startup).</summary>
public sealed record EnsurePipeline(string PipelineId, string TenantId, string Name, string Source, DateTimeOffset CreatedAt) : IPipelineCommand;

/// <summary>Replaces the program, keeping the state of streams whose name and shape did not change (at most <paramref name="MaxStreams"/> streams; 0: no limit).</summary>
public sealed record ReloadPipeline(string PipelineId, string TenantId, string Source, int MaxStreams = 0) : IPipelineCommand;

/// <summary>Deletes the pipeline: a tombstone is journaled and the entity stops.</summary>
public sealed record DeletePipeline(string PipelineId, string TenantId) : IPipelineCommand;

/// <summary>
/// Input events as the client sent them (UTF-8 JSON): one event object, or <c>{"events": [...]}</c> when
/// <paramref name="IsBatch"/>. The entity parses them against its program's schemas. With an
/// <paramref name="IdempotencyKey"/>, a repeat of the key gets the first reply and nothing is processed again. A
/// request that reaches the entity after <paramref name="DeadlineUnixMs"/> (it waited out a move) is refused
/// (<c>unavailable</c>) unprocessed: its sender gave up on it and may have sent it again.
/// </summary>
public sealed record IngestEvents(string PipelineId, string TenantId, byte[] Body, bool IsBatch, string? IdempotencyKey = null, long DeadlineUnixMs = 0) : IPipelineCommand;

public sealed record GetPipelineInfo(string PipelineId, string TenantId) : IPipelineCommand;

public sealed record GetPipelineMetrics(string PipelineId, string TenantId) : IPipelineCommand;

/// <summary>Takes a checkpoint of the engine, returns it and stores it as the entity's snapshot.</summary>
public sealed record CheckpointPipeline(string PipelineId, string TenantId) : IPipelineCommand;

/// <summary>Restores a checkpoint document (the JSON of <c>Engine.CreateCheckpoint</c>).</summary>
public sealed record RestorePipeline(string PipelineId, string TenantId, string CheckpointJson) : IPipelineCommand;

/// <summary>
/// Subscribes <paramref name="Subscriber"/> (a node's output relay) to the pipeline's live output: the entity answers
/// <see cref="PipelineOutputSubscribed"/>, then sends every accepted request's output events as a
/// <see cref="PipelineOutputBatch"/>, and <see cref="PipelineOutputEnded"/> when it stops (moving or deleted). The
/// subscription ends when the subscriber stops (the entity watches it).
/// </summary>
public sealed record SubscribePipelineOutput(string PipelineId, string TenantId, Akka.Actor.IActorRef Subscriber) : IPipelineCommand;

/// <summary>Lists the live partial matches of a pattern stream, oldest first: <paramref name="Limit"/> of them after the first <paramref name="Offset"/>.</summary>
public sealed record ListPipelineRuns(string PipelineId, string TenantId, string Stream, int Limit, int Offset = 0) : IPipelineCommand;

// ---------------------------------------------------------------- replies

/// <summary>What a command failed with: a stable code (rest-api.md) and a message.</summary>
public sealed record PipelineError(string Code, string Message, IReadOnlyList<DiagnosticInfo>? Diagnostics = null) : IPipelineProtocol
{
    public static PipelineError NotFound(string id) => new("pipeline_not_found", $"pipeline '{id}' not found");

    /// <summary>A program with more streams than the tenant's quota allows.</summary>
    public static PipelineError TooManyStreams(string tenantId, int streams, int max)
        => new("quota_exceeded", $"the program has {streams} streams; tenant '{tenantId}' may have at most {max} per pipeline");

    /// <summary>An <c>Idempotency-Key</c> used again with a different request body.</summary>
    public static PipelineError KeyReused(string key) => new("idempotency_key_reused",
        $"Idempotency-Key '{key}' was already used for a different request body on this pipeline; use a new key for a new request");

    /// <summary>The pipeline cannot answer now (moving to another worker, restarting): nothing was processed; retry.</summary>
    public static PipelineError Unavailable(string id, string why) => new("unavailable", $"pipeline '{id}' is {why}; retry shortly");

    /// <summary>The code of <see cref="DeadLetterBacklogFull"/> (REST: 503 <c>unavailable</c>, <c>Retry-After: 1</c>).</summary>
    public const string DeadLetterBacklogCode = "dlq_backlog_full";

    /// <summary>The code of <see cref="DeadLetterQueueFull"/> (REST: 503 <c>unavailable</c>, <c>Retry-After: 5</c>).</summary>
    public const string DeadLetterQueueFullCode = "dlq_full";

    /// <summary>
    /// Whether <paramref name="code"/> is one of the DLQ's refusals (<see cref="Connectors.DeadLetters.DeadLetterBounds"/>):
    /// nothing was processed, the pipeline takes the same events once its DLQ is under its bounds again (a source offers
    /// its batch again).
    /// </summary>
    public static bool IsDeadLetterRefusal(string code) => code is DeadLetterBacklogCode or DeadLetterQueueFullCode;

    /// <summary>
    /// The pipeline takes no new events while its DLQ has <paramref name="limit"/> or more letters waiting to be journaled:
    /// nothing was processed; retry once it has caught up.
    /// </summary>
    public static PipelineError DeadLetterBacklogFull(string id, long limit) => new(DeadLetterBacklogCode,
        $"pipeline '{id}' takes no events while its dead-letter queue has {limit.ToString(System.Globalization.CultureInfo.InvariantCulture)} or more events waiting to be written (server.dlq_backlog_limit)");

    /// <summary>
    /// The pipeline takes no new events while its DLQ holds <paramref name="held"/> letters, at least its bound
    /// <paramref name="max"/>: nothing was processed; someone has to replay or clear the DLQ.
    /// </summary>
    public static PipelineError DeadLetterQueueFull(string id, long held, long max) => new(DeadLetterQueueFullCode,
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"pipeline '{id}' takes no events while its dead-letter queue holds {held} events (server.dlq_max_events = {max}): replay or clear it (varpulis dlq replay / varpulis dlq clear, POST /api/v1/pipelines/{id}/dlq/replay / DELETE /api/v1/pipelines/{id}/dlq)"));
}

/// <summary>
/// The shard region's hand-off stop message (drain, rebalance, graceful leave): the entity lets its journal writes
/// finish, saves a snapshot of its engine, then stops, so that it recovers elsewhere from the snapshot alone.
/// </summary>
public sealed record HandOffPipeline : IPipelineProtocol
{
    public static readonly HandOffPipeline Instance = new();
}

/// <summary>The subscription of <see cref="SubscribePipelineOutput"/> is in place.</summary>
public sealed record PipelineOutputSubscribed(string PipelineId) : IPipelineProtocol;

/// <summary>Output events of one accepted request, each a JSON line of the SSE data shape.</summary>
public sealed record PipelineOutputBatch(string PipelineId, IReadOnlyList<string> Events) : IPipelineProtocol;

/// <summary>The pipeline stopped sending output: <c>moving</c> (subscribe again: it is recovering elsewhere) or <c>deleted</c>.</summary>
public sealed record PipelineOutputEnded(string PipelineId, string Reason) : IPipelineProtocol;

/// <summary>One compiler diagnostic as the API shows it.</summary>
public sealed record DiagnosticInfo(string Severity, int Line, int Column, string Message, string? Hint);

/// <summary>A pipeline as the API shows it; <paramref name="WorkerId"/> is the worker running it (null on a single server).</summary>
public sealed record PipelineInfo(
    string Id,
    string TenantId,
    string Name,
    string Status,
    string Source,
    IReadOnlyList<string> Streams,
    DateTimeOffset CreatedAt,
    DateTimeOffset StartedAt,
    string? WorkerId = null) : IPipelineProtocol;

public sealed record PipelineReloaded(IReadOnlyList<string> KeptState, IReadOnlyList<string> ResetState) : IPipelineProtocol;

public sealed record PipelineDeleted(string PipelineId) : IPipelineProtocol;

/// <summary>
/// The result of an ingestion: counts, per-event errors, and the output events already rendered as a JSON array
/// (Fields shape for a single event, Flat for a batch) so the API copies them as they are.
/// </summary>
public sealed record IngestResult(
    int Accepted,
    int Rejected,
    IReadOnlyList<IngestError> Errors,
    byte[] OutputEventsJson,
    int OutputCount,
    long ProcessingTimeUs) : IPipelineProtocol;

public sealed record IngestError(int Index, string Error);

public sealed record PipelineMetrics(
    string PipelineId,
    long EventsProcessed,
    long OutputEventsEmitted,
    double EventsPerSecond,
    double LatencyP50Us,
    double LatencyP99Us,
    long ActiveRuns,
    long LateEvents,
    long DlqEvents) : IPipelineProtocol;

public sealed record CheckpointTaken(string PipelineId, string CheckpointJson, long EventsProcessed, DateTimeOffset CreatedAt) : IPipelineProtocol;

public sealed record PipelineRestored(string PipelineId, long EventsRestored, IReadOnlyList<string> RestoredStreams, IReadOnlyList<string> ResetStreams) : IPipelineProtocol;

/// <summary>Live runs of a stream, rendered as a JSON array (<paramref name="Count"/> items of <paramref name="Total"/> live runs).</summary>
public sealed record PipelineRuns(string PipelineId, string Stream, string RunsJson, int Count, int Total = 0) : IPipelineProtocol;

// ---------------------------------------------------------------- journal and snapshots

/// <summary>Marker of what a pipeline entity writes to its journal and snapshot store.</summary>
public interface IPipelineEvent : IPipelineProtocol
{
}

/// <summary>The pipeline was deployed.</summary>
public sealed record PipelineDefined(string PipelineId, string TenantId, string Name, string Source, DateTimeOffset CreatedAt) : IPipelineEvent;

/// <summary>The pipeline's program was replaced.</summary>
public sealed record PipelineSourceReloaded(string Source, DateTimeOffset At) : IPipelineEvent;

/// <summary>
/// An accepted input request as journals before <see cref="EventBatchAccepted"/> hold it: the body exactly as
/// received, with the ingestion time that stands in for missing event timestamps. Replaying it through the same
/// program rebuilds exactly the same events, and the same reply for its <paramref name="IdempotencyKey"/>. A batch that
/// came over a pipeline group's route carries its <paramref name="Route"/> origin, so the pipeline recovers which
/// routed batches it has applied. No longer written; still read.
/// </summary>
public sealed record EventsAccepted(long IngestTimeNanos, bool IsBatch, byte[] Body, string? IdempotencyKey = null, Routes.RouteOrigin? Route = null) : IPipelineEvent;

/// <summary>
/// An accepted input request: the events the engine accepted from it, as it held them (an
/// <see cref="Varpulis.Vpl.Runtime.EventBatchCodec"/> batch: types, timestamps with missing ones already filled in
/// with the ingestion time, field values), not the request body, so recovery processes them without parsing JSON.
/// A request with an <paramref name="IdempotencyKey"/> also keeps what its reply is rebuilt from on recovery: the
/// SHA-256 of its body (<paramref name="BodyHash"/>: a repeat of the key must carry the same body), whether it was a
/// batch request (the reply's shape) and the events it rejected (<paramref name="Errors"/>). A batch that came over a
/// pipeline group's route carries its <paramref name="Route"/> origin (the receiver's de-duplication survives a
/// restart); a batch read by a source connector carries its <paramref name="Source"/> (the connector and the Kafka
/// offsets it held, journaled in the same write).
/// </summary>
public sealed record EventBatchAccepted(
    long IngestTimeNanos,
    bool IsBatch,
    byte[] Batch,
    string? IdempotencyKey = null,
    byte[]? BodyHash = null,
    IReadOnlyList<IngestError>? Errors = null,
    Routes.RouteOrigin? Route = null,
    SourceOrigin? Source = null) : IPipelineEvent;

/// <summary>A checkpoint was restored into the engine.</summary>
public sealed record PipelineCheckpointRestored(string CheckpointJson, DateTimeOffset At) : IPipelineEvent;

/// <summary>The pipeline was deleted (tombstone: it is never deployed again under this id).</summary>
public sealed record PipelineRemoved(DateTimeOffset At) : IPipelineEvent;

/// <summary>
/// A snapshot: the definition, the engine checkpoint (null once deleted), the remembered idempotent replies, the
/// connectors' part (<see cref="Connectors.PipelineConnectorState"/>: the journaled Kafka offsets and the sink outputs not
/// yet delivered or dead-lettered) and the routing state (pipeline groups).
/// </summary>
public sealed record PipelineSnapshot(
    string PipelineId,
    string TenantId,
    string Name,
    string Source,
    DateTimeOffset CreatedAt,
    bool Deleted,
    string? CheckpointJson,
    IReadOnlyList<IdempotentReply>? Replies = null,
    IReadOnlyList<Connectors.KafkaPartitionOffset>? SourceOffsets = null,
    IReadOnlyList<Connectors.UnsettledOutputs>? SinkBacklog = null,
    Routes.RouteSnapshot? Routing = null) : IPipelineEvent;
