namespace Varpulis.Actors.Pipelines.Routes;

/// <summary>
/// One outgoing route of a pipeline (a pipeline group's route, as the sending pipeline keeps it): its output events whose
/// type matches one of <paramref name="EventTypes"/> (exact, <c>Prefix*</c> or <c>*</c>) become input events of
/// <paramref name="TargetName"/>. That pipeline runs as <paramref name="TargetIds"/> (one id, or one per replica); with
/// several replicas an event goes to the replica chosen by a stable hash of its <paramref name="PartitionKey"/> field.
/// </summary>
public sealed record PipelineRoute(string TargetName, IReadOnlyList<string> TargetIds, string? PartitionKey, IReadOnlyList<string> EventTypes);

/// <summary>
/// Gives a pipeline its outgoing routes (a pipeline group's deploy). Journaled, so that a recovering pipeline routes
/// exactly the outputs it routed before. Reply: <see cref="PipelineRoutesSet"/>, or <see cref="PipelineError"/>.
/// </summary>
public sealed record SetPipelineRoutes(string PipelineId, string TenantId, IReadOnlyList<PipelineRoute> Routes) : IPipelineCommand;

/// <summary>
/// Routed events for <see cref="PipelineId"/> from the pipeline <paramref name="Source"/>: its <paramref name="Sequence"/>-th
/// routed batch to this pipeline (1, 2, ... with no gap), as a <c>{"events": [...]}</c> body. The receiver applies
/// sequence <c>high + 1</c> only (high: the last it applied from that source, kept with its state) and answers every
/// delivery with <see cref="RouteAck"/>: a repeat or a batch after a gap changes nothing and tells the sender where
/// the receiver stands.
/// </summary>
public sealed record DeliverRoutedEvents(string PipelineId, string TenantId, string Source, long Sequence, byte[] Body) : IPipelineCommand;

/// <summary>
/// The answer to the delivery of batch <paramref name="Sequence"/>: the receiver <paramref name="Target"/> has applied (and
/// journaled) every batch of <paramref name="Source"/> up to <paramref name="HighWater"/>. A high water below the
/// sequence means the receiver refused the batch because an earlier one is missing: send again from high water + 1.
/// </summary>
public sealed record RouteAck(string Source, string Target, long HighWater, long Sequence) : IPipelineProtocol;

/// <summary>A routed batch the sending pipeline owes: <paramref name="Sequence"/>-th to <paramref name="Target"/> (a pipeline id).</summary>
public sealed record RoutedBatch(string Target, long Sequence, byte[] Body);

/// <summary>The routes a pipeline keeps in its journal (<see cref="SetPipelineRoutes"/>).</summary>
public sealed record PipelineRoutesChanged(IReadOnlyList<PipelineRoute> Routes, DateTimeOffset At) : IPipelineEvent;

/// <summary>The routes are in place (the reply of <see cref="SetPipelineRoutes"/>).</summary>
public sealed record PipelineRoutesSet(string PipelineId, int Routes) : IPipelineProtocol;

/// <summary>
/// A pipeline's routing state in its snapshot: its routes, the last sequence number given per target, the batches not
/// yet confirmed by their receiver (sent again after recovery), and, as a receiver, the last sequence applied per source.
/// </summary>
public sealed record RouteSnapshot(
    IReadOnlyList<PipelineRoute> Routes,
    IReadOnlyDictionary<string, long> LastSent,
    IReadOnlyList<RoutedBatch> Pending,
    IReadOnlyDictionary<string, long> Applied);

/// <summary>Where a journaled input batch came from when it was routed: the source pipeline and its sequence number.</summary>
public sealed record RouteOrigin(string Source, long Sequence);
