using System.Text.Json.Serialization;

namespace Varpulis.Contracts.Cluster;

/// <summary>
/// <c>GET /api/v1/cluster/scaling</c> and the scaling webhook's body (rest-api.md ScalingRecommendation).
/// <see cref="Timestamp"/> is when the coordinator decided it (RFC 3339 UTC).
/// </summary>
public sealed record ScalingRecommendation(
    string Action,
    int CurrentWorkers,
    int TargetWorkers,
    string Reason,
    double AvgPipelinesPerWorker,
    int TotalPipelines,
    [property: JsonConverter(typeof(Rfc3339Converter))] DateTimeOffset Timestamp);

/// <summary>One coordinator in <see cref="RaftStatus"/>.</summary>
public sealed record RaftNode(int Id, string Address, string Role, bool IsCurrent, bool Reachable);

/// <summary>
/// <c>GET /api/v1/cluster/raft/status</c> (alias <c>/api/v1/cluster/raft</c>): the same <see cref="LeaderId"/> and
/// <see cref="Term"/> on every coordinator once a leader is settled. <see cref="LeaderId"/> is null while none is
/// known. <see cref="StateVersion"/> (<c>generation.sequence</c>) is the newest coordinator-state record in this
/// coordinator's <c>--raft-data-dir</c> when the coordinator state is replicated over the coordinators (embedded
/// journal); null when it is in the shared PostgreSQL journal, or without <c>--raft</c>.
/// </summary>
public sealed record RaftStatus(bool Enabled, int ThisNodeId, int? LeaderId, long Term, IReadOnlyList<RaftNode> Nodes)
{
    public string? StateVersion { get; init; }
}

/// <summary>The serializer context of the HA and scaling contract (snake_case, nulls written).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ScalingRecommendation))]
[JsonSerializable(typeof(RaftStatus))]
public sealed partial class HaJsonContext : JsonSerializerContext
{
}
