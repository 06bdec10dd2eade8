using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Connectors;

/// <summary>
/// Marker of the messages of a pipeline's connectors (<see cref="PipelineConnectors"/>), its dead-letter queue
/// (<see cref="DeadLetters.DeadLetterQueue"/>) and their journal events. Bound to <see cref="Serialization.VarpulisSerializer"/>.
/// </summary>
public interface IConnectorsProtocol
{
}

// ---------------------------------------------------------------- pipeline → connectors

/// <summary>
/// Output events of one journaled input batch (<paramref name="SequenceNr"/>, the pipeline's journal sequence
/// number) for the pipeline's sinks. Sent after the batch is journaled; never blocks the sender.
/// </summary>
public sealed record DeliverToSinks(long SequenceNr, IReadOnlyList<SinkRecord> Records) : IConnectorsProtocol;

/// <summary>
/// One output event for one sink: <paramref name="Json"/> is the event in the SSE shape
/// <c>{"event_type", "timestamp", "data"}</c>; <paramref name="Topic"/> and <paramref name="Key"/> are the MQTT/Kafka
/// topic and the Kafka record key (null where the kind has none).
/// </summary>
public sealed record SinkRecord(string Connector, string? Topic, string? Key, byte[] Json) : IConnectorsProtocol;

/// <summary>
/// Asks for the health of every connector of the pipeline. A pipeline command too (routed by pipeline id through the
/// shard region; the entity checks <see cref="TenantId"/> and forwards it to its connectors).
/// </summary>
public sealed record GetConnectorStatus(string PipelineId) : IConnectorsProtocol, IPipelineCommand
{
    public string TenantId { get; init; } = "";
}

/// <summary>The health of one connector in one direction (the items of <c>GET /pipelines/{id}/connectors</c>).</summary>
public sealed record ConnectorStatus(
    string Name,
    string Kind,
    string Direction,
    string State,
    string? Circuit,
    long Delivered,
    long Failed,
    long Rejected,
    long Dlq,
    string? LastError) : IConnectorsProtocol;

public sealed record ConnectorStatusList(IReadOnlyList<ConnectorStatus> Connectors) : IConnectorsProtocol;

/// <summary>Asks for the journal sequence number through which every output has been delivered or dead-lettered.</summary>
public sealed record GetSinkProgress(string PipelineId) : IConnectorsProtocol;

/// <summary>
/// Outputs of batches up to <paramref name="SettledSequenceNr"/> are settled (delivered or in the DLQ). Also sent by
/// <see cref="PipelineConnectors"/> to its parent (the pipeline entity) each time its sinks get further, with the later
/// <paramref name="SettledEntries"/> whose outputs are settled too (while an earlier one is still on its way).
/// </summary>
public sealed record SinkProgress(long SettledSequenceNr, IReadOnlyList<long>? SettledEntries = null) : IConnectorsProtocol;

/// <summary>The number of events in the pipeline's DLQ (to the pipeline entity after every change: <c>dlq_events</c>).</summary>
public sealed record DeadLetterCount(long Count) : IConnectorsProtocol;

/// <summary>What happens to the DLQ when a pipeline's connectors stop.</summary>
public enum DeadLetterDisposal
{
    /// <summary>Stays as it is (reload, restart, hand-off on a single server).</summary>
    Keep = 0,

    /// <summary>Its lines leave this node's <c>dlq.jsonl</c> (the pipeline moves; its new node writes them to its own file); the journal stays.</summary>
    Release = 1,

    /// <summary>The pipeline is deleted: lines and journal go.</summary>
    Delete = 2,
}

/// <summary>
/// Stops every source and sink (undeploy, hand-off, reload); replied with <see cref="ConnectorsStopped"/> once sources
/// have drained (every batch read is journaled and acknowledged). <paramref name="DeadLetters"/> says what becomes of
/// the DLQ.
/// </summary>
public sealed record StopConnectors(string PipelineId, DeadLetterDisposal DeadLetters = DeadLetterDisposal.Keep) : IConnectorsProtocol;

public sealed record ConnectorsStopped(string PipelineId) : IConnectorsProtocol;

// ---------------------------------------------------------------- connectors → pipeline

/// <summary>
/// A batch read by a source, in the REST batch format (<c>{"events": [...]}</c>), for the pipeline to process and
/// journal. The pipeline replies (an <c>IngestResult</c>, or a <c>PipelineError</c>) only after the journal write:
/// that reply is the acknowledgement the source waits for before it acknowledges upstream (MQTT PUBACK, Kafka
/// offset commit, file position). <paramref name="Positions"/> gives each event's origin, in body order.
/// </summary>
public sealed record IngestSourceBatch(string PipelineId, string Connector, byte[] Body, IReadOnlyList<SourcePosition> Positions) : IConnectorsProtocol;

// ---------------------------------------------------------------- dead-letter queue

/// <summary>
/// One dead-lettered output event: when, which sink, why, and the event (<c>{"event_type", "timestamp", "data"}</c>
/// JSON). <paramref name="Id"/> increases through the life of the pipeline's DLQ.
/// </summary>
public sealed record DeadLetter(long Id, DateTimeOffset Timestamp, string Connector, string? Topic, string? Key, string Error, string EventJson) : IConnectorsProtocol;

/// <summary>A page of the DLQ, oldest first (a pipeline command too, as <see cref="GetConnectorStatus"/>).</summary>
public sealed record GetDeadLetters(string PipelineId, int Offset, int Limit) : IConnectorsProtocol, IPipelineCommand
{
    public string TenantId { get; init; } = "";
}

public sealed record DeadLetterPage(long Total, IReadOnlyList<DeadLetter> Letters) : IConnectorsProtocol;

/// <summary>Empties the DLQ (a pipeline command too).</summary>
public sealed record ClearDeadLetters(string PipelineId) : IConnectorsProtocol, IPipelineCommand
{
    public string TenantId { get; init; } = "";
}

public sealed record DeadLettersCleared(long Removed) : IConnectorsProtocol;

/// <summary>
/// Re-delivers dead letters to their sinks through each sink's circuit breaker; those delivered leave the DLQ, the
/// others stay. <paramref name="Connector"/> restricts the replay to one sink; <paramref name="Limit"/> to the oldest.
/// </summary>
public sealed record ReplayDeadLetters(string PipelineId, string? Connector = null, int Limit = int.MaxValue) : IConnectorsProtocol, IPipelineCommand
{
    public string TenantId { get; init; } = "";
}

/// <summary>
/// Replay result: <paramref name="Delivered"/> left the DLQ; <paramref name="Failed"/> stayed (delivery failed or the
/// circuit is open); <paramref name="Skipped"/> stayed because the pipeline has no such sink any more.
/// </summary>
public sealed record DeadLettersReplayed(int Delivered, int Failed, int Skipped, long Remaining) : IConnectorsProtocol;

/// <summary>A DLQ request that could not be served.</summary>
public sealed record ConnectorsError(string Code, string Message) : IConnectorsProtocol;

// ---------------------------------------------------------------- DLQ journal and snapshot

/// <summary>Marker of what a <see cref="DeadLetters.DeadLetterQueue"/> writes to its journal and snapshot store.</summary>
public interface IDeadLetterEvent : IConnectorsProtocol
{
}

/// <summary>Letters added (journals written before <see cref="DeadLetterBlock"/>; still replayed).</summary>
public sealed record DeadLettersAdded(IReadOnlyList<DeadLetter> Letters) : IDeadLetterEvent;

/// <summary>Letters added by one DLQ write, in the compact layout of <see cref="DeadLetters.DeadLetterLayout"/>.</summary>
public sealed record DeadLetterBlock(byte[] Block) : IDeadLetterEvent;

public sealed record DeadLettersRemoved(IReadOnlyList<long> Ids) : IDeadLetterEvent;

public sealed record DeadLettersPurged(long ThroughId) : IDeadLetterEvent;

/// <summary>Every output of the pipeline's journal through <paramref name="SequenceNr"/> is delivered or dead-lettered.</summary>
public sealed record SinkOutputsSettled(long SequenceNr) : IDeadLetterEvent;

/// <summary>A DLQ snapshot written before <see cref="DeadLetterBlockSnapshot"/> (still read).</summary>
public sealed record DeadLetterSnapshot(long NextId, long SettledSequenceNr, IReadOnlyList<DeadLetter> Letters) : IDeadLetterEvent;

/// <summary>A DLQ snapshot: its letters as blocks of <see cref="DeadLetters.DeadLetterLayout"/>.</summary>
public sealed record DeadLetterBlockSnapshot(long NextId, long SettledSequenceNr, IReadOnlyList<byte[]> Blocks) : IDeadLetterEvent;
