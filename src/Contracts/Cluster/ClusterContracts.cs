using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Varpulis.Contracts.Cluster;

/// <summary>Worker statuses of <see cref="WorkerInfo.Status"/> (rest-api.md).</summary>
public static class WorkerStatus
{
    public const string Ready = "ready";
    public const string Unhealthy = "unhealthy";
    public const string Draining = "draining";
}

/// <summary>
/// One worker as the coordinator sees it (<c>GET /api/v1/cluster/workers</c>): its id and advertised HTTP address as it
/// was started with, its Akka.NET cluster address, status, roles and the pipelines it runs.
/// </summary>
public sealed record WorkerInfo(
    string Id,
    string Address,
    string AkkaAddress,
    string Status,
    IReadOnlyList<string> Roles,
    int PipelinesRunning,
    int MaxPipelines,
    int CpuCores,
    IReadOnlyList<string> AssignedPipelines,
    long EventsProcessed,
    [property: JsonConverter(typeof(Rfc3339NullableConverter))] DateTimeOffset? LastHeartbeat);

/// <summary>The reply of <c>POST /api/v1/cluster/workers/{id}/drain</c>, sent once the worker runs no pipeline.</summary>
public sealed record DrainResult(string WorkerId, int PipelinesMigrated, string Status);

/// <summary>The reply of <c>DELETE /api/v1/cluster/workers/{id}</c>.</summary>
public sealed record WorkerDeleted(bool Deleted, string WorkerId, int PipelinesMoved);

/// <summary>Worker counts by status (coordinator <c>/health</c> and the summary).</summary>
public sealed record WorkerCounts(int Total, int Healthy, int Unhealthy, int Draining);

/// <summary><c>GET /health</c> on a coordinator (rest-api.md): <c>healthy</c>, <c>degraded</c>, <c>no_workers</c> or <c>critical</c>.</summary>
public sealed record CoordinatorHealth(
    string Status,
    string Role,
    string Version,
    string HaRole,
    WorkerCounts Workers,
    int PipelineGroups,
    int ActiveMigrations,
    long UptimeSeconds);

/// <summary><c>GET /api/v1/cluster/summary</c>: the cluster in counts.</summary>
public sealed record ClusterSummary(
    WorkerCounts Workers,
    int Coordinators,
    int Pipelines,
    int PipelineGroups,
    int ActiveMigrations,
    int CompletedMigrations,
    string? Leader);

/// <summary>A member of the Akka.NET cluster in the topology.</summary>
public sealed record ClusterNodeInfo(
    string AkkaAddress,
    IReadOnlyList<string> Roles,
    string Status,
    bool Reachable,
    string? WorkerId,
    string? Address,
    bool Leader);

/// <summary>Where a pipeline runs (topology, <c>pbm varpulis pipelines</c>). <see cref="WorkerId"/> is null while it is not placed.</summary>
public sealed record PipelinePlacementInfo(string PipelineId, string Name, string TenantId, string? WorkerId, string Status);

/// <summary><c>GET /api/v1/cluster/topology</c>: every member and every pipeline with its worker.</summary>
public sealed record ClusterTopology(IReadOnlyList<ClusterNodeInfo> Nodes, IReadOnlyList<PipelinePlacementInfo> Pipelines);

/// <summary>Reasons of a migration.</summary>
public static class MigrationReason
{
    public const string Drain = "drain";
    public const string WorkerLost = "worker_lost";
    public const string WorkerRemoved = "worker_removed";
    public const string Rebalance = "rebalance";
}

/// <summary>Outcomes of a migration.</summary>
public static class MigrationStatus
{
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>One move of a pipeline between workers (<c>GET /api/v1/cluster/migrations</c>).</summary>
public sealed record MigrationInfo(
    string Id,
    string PipelineId,
    string PipelineName,
    string? FromWorker,
    string? ToWorker,
    string Reason,
    string Status,
    [property: JsonConverter(typeof(Rfc3339Converter))] DateTimeOffset StartedAt,
    [property: JsonConverter(typeof(Rfc3339NullableConverter))] DateTimeOffset? CompletedAt,
    long? DurationMs,
    string? Error);

/// <summary>The reply of <c>POST /api/v1/cluster/rebalance</c>: the moves started (empty when balanced).</summary>
public sealed record RebalanceResult(string Status, int PipelinesMoved, IReadOnlyList<MigrationInfo> Migrations);

/// <summary>One worker in <c>GET /api/v1/cluster/metrics</c>: its pipelines' counters summed, as of its last report.</summary>
public sealed record WorkerMetricsInfo(
    string WorkerId,
    int Pipelines,
    long EventsIn,
    long EventsOut,
    double EventsPerSecond,
    [property: JsonConverter(typeof(Rfc3339NullableConverter))] DateTimeOffset? LastHeartbeat);

/// <summary>
/// One deployed pipeline in <c>GET /api/v1/cluster/metrics</c>, as its worker reported it: events in and out since it
/// started (they carry on across moves), and its input rate over the last report interval. <see cref="Group"/> is the
/// pipeline group it belongs to (null for a pipeline deployed alone); <see cref="PipelineName"/> the group's name for it.
/// </summary>
public sealed record PipelineMetricsInfo(
    string? Group,
    string PipelineName,
    string PipelineId,
    string WorkerId,
    long EventsIn,
    long EventsOut,
    double EventsPerSecond);

/// <summary><c>GET /api/v1/cluster/metrics</c>.</summary>
public sealed record ClusterMetrics(IReadOnlyList<WorkerMetricsInfo> Workers, IReadOnlyList<PipelineMetricsInfo> Pipelines);

/// <summary>
/// <c>GET /api/v1/cluster/seed</c> (open): what a worker needs to join: the seed nodes' Akka.NET addresses, the
/// failure detector's timings (every node uses the coordinator's) and where the journal is. No secret is in it: a
/// PostgreSQL connection string travels over Akka.NET remoting (the join handshake).
/// </summary>
public sealed record SeedInfo(
    string ClusterName,
    IReadOnlyList<string> SeedNodes,
    double HeartbeatIntervalSecs,
    double HeartbeatTimeoutSecs,
    JournalInfo Journal)
{
    /// <summary>A raft coordinator's <c>--raft-node-id</c> (null otherwise): peers decide who starts the cluster by it.</summary>
    public int? RaftNodeId { get; init; }

    /// <summary>This coordinator's own Akka.NET address, also before it has joined (<see cref="SeedNodes"/> is empty then).</summary>
    public string? SelfAddress { get; init; }

    /// <summary>
    /// A raft coordinator not yet in a cluster: the ids of the peers that answered its last round. A peer starts a
    /// cluster only when no lower id answers it <em>or</em> any of the peers that answer it.
    /// </summary>
    public IReadOnlyList<int>? RaftPeersAnswering { get; init; }
}

/// <summary>
/// The cluster's journal: <c>postgresql</c>, or <c>embedded</c>: SQLite files under the coordinator's
/// <see cref="StateDir"/>, which workers on the same host share. A worker knows it is on that host when its
/// <c>/proc/sys/kernel/random/boot_id</c> is <see cref="BootId"/> and it reads <see cref="ClusterId"/> in
/// <c>STATE_DIR/cluster.id</c>.
/// </summary>
public sealed record JournalInfo(string Mode, string? StateDir, string? BootId, string? ClusterId);

/// <summary>Timestamps as the contract writes them: RFC 3339 UTC with milliseconds (<c>2025-01-01T00:00:00.000Z</c>).</summary>
public sealed class Rfc3339Converter : JsonConverter<DateTimeOffset>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string ToText(DateTimeOffset t) => t.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
        => writer.WriteStringValue(ToText(value));
}

/// <summary>The nullable form of <see cref="Rfc3339Converter"/>.</summary>
public sealed class Rfc3339NullableConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => reader.TokenType == JsonTokenType.Null
            ? null
            : DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteStringValue(Rfc3339Converter.ToText(v));
        else writer.WriteNullValue();
    }
}

/// <summary>
/// The source-generated serializer context of the coordinator's HTTP contract (snake_case, as
/// <see cref="ContractsJsonContext"/>). Nulls are written (<c>last_heartbeat: null</c>) so clients see every field.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(WorkerInfo))]
[JsonSerializable(typeof(IReadOnlyList<WorkerInfo>))]
[JsonSerializable(typeof(DrainResult))]
[JsonSerializable(typeof(WorkerDeleted))]
[JsonSerializable(typeof(CoordinatorHealth))]
[JsonSerializable(typeof(ClusterSummary))]
[JsonSerializable(typeof(ClusterTopology))]
[JsonSerializable(typeof(MigrationInfo))]
[JsonSerializable(typeof(IReadOnlyList<MigrationInfo>))]
[JsonSerializable(typeof(RebalanceResult))]
[JsonSerializable(typeof(SeedInfo))]
[JsonSerializable(typeof(IReadOnlyList<PipelinePlacementInfo>))]
[JsonSerializable(typeof(ClusterMetrics))]
public sealed partial class ClusterJsonContext : JsonSerializerContext
{
}
