using System.Text.Json;
using System.Text.Json.Serialization;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Contracts.Connectors;

/// <summary>
/// One connector of a pipeline in one direction (<c>GET /api/v1/pipelines/{id}/connectors</c>, rest-api.md):
/// <see cref="State"/> <c>connected</c>, <c>reconnecting</c>, <c>failed</c> or <c>stopped</c>; <see cref="Circuit"/>
/// <c>closed</c>, <c>open</c> or <c>half_open</c> for sinks, null for sources. Counters since the pipeline started on
/// this node: events delivered (sinks) or journaled (sources), failed deliveries, messages a source rejected (not
/// events), and events this sink dead-lettered.
/// </summary>
public sealed record ConnectorHealthInfo(
    string Name,
    string Kind,
    string Direction,
    string State,
    string? Circuit,
    long Delivered,
    long Failed,
    long Dlq,
    string? LastError,
    long Rejected);

/// <summary>One dead-lettered output event: the DLQ line of <c>dlq.jsonl</c> with its id, topic and key.</summary>
public sealed record DeadLetterInfo(
    long Id,
    [property: JsonConverter(typeof(Rfc3339Converter))] DateTimeOffset Timestamp,
    string Connector,
    string? Topic,
    string? Key,
    string Error,
    JsonElement Event);

/// <summary>List pagination, as every paged list of the API writes it.</summary>
public sealed record PaginationInfo(long Total, int Limit, int Offset, bool HasMore);

/// <summary><c>GET /api/v1/pipelines/{id}/dlq?limit=&amp;offset=</c>: the pipeline's dead letters, oldest first.</summary>
public sealed record DeadLetterList(string PipelineId, IReadOnlyList<DeadLetterInfo> Events, long Total, PaginationInfo Pagination);

/// <summary><c>DELETE /api/v1/pipelines/{id}/dlq</c>: how many dead letters were removed.</summary>
public sealed record DeadLettersClearResult(string PipelineId, bool Cleared, long Removed);

/// <summary>
/// <c>POST /api/v1/pipelines/{id}/dlq/replay</c>: <see cref="Delivered"/> events were delivered and left the DLQ;
/// <see cref="Failed"/> stayed (delivery failed again or the circuit is open); <see cref="Skipped"/> stayed because the
/// pipeline has no such sink any more; <see cref="Remaining"/> are in the DLQ now.
/// </summary>
public sealed record DeadLettersReplayResult(string PipelineId, int Delivered, int Failed, int Skipped, long Remaining);

/// <summary>The source-generated serializer context of the connectors contract (snake_case; nulls written so clients see every field).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(IReadOnlyList<ConnectorHealthInfo>))]
[JsonSerializable(typeof(DeadLetterList))]
[JsonSerializable(typeof(DeadLettersClearResult))]
[JsonSerializable(typeof(DeadLettersReplayResult))]
public sealed partial class ConnectorsJsonContext : JsonSerializerContext
{
}
