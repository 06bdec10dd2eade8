using System.Text.Json.Serialization;

namespace Varpulis.Contracts.Cluster;

/// <summary>Statuses of a pipeline group in <see cref="GroupInfo.Status"/> (rest-api.md).</summary>
public static class GroupStatus
{
    public const string Running = "running";
    public const string PartiallyRunning = "partially_running";
    public const string Failed = "failed";
    public const string Deploying = "deploying";
}

/// <summary>
/// One deployed pipeline of a group: its name in the group, the worker running it now (null while it is not placed:
/// moving, recovering), its pipeline id (the <c>/api/v1/pipelines/{id}</c> of every node), <c>running</c> or
/// <c>starting</c>, and which replica it is (0 when not replicated).
/// </summary>
public sealed record GroupDeploymentInfo(string PipelineName, string? WorkerId, string PipelineId, string Status, int Replica);

/// <summary>A route of a group as it was defined.</summary>
public sealed record GroupRouteInfo(string FromPipeline, string ToPipeline, IReadOnlyList<string> EventTypes);

/// <summary>A pipeline of a group as it was defined (without its source, which is in <see cref="GroupInfo.Sources"/>).</summary>
public sealed record GroupPipelineInfo(string Name, string? WorkerAffinity, int Replicas, string? PartitionKey);

/// <summary>
/// A pipeline group (<c>/api/v1/cluster/pipeline-groups</c>): <see cref="PipelineCount"/> is the number of pipelines of
/// the definition; <see cref="Deployments"/> lists every deployed pipeline (one per replica) where it runs now;
/// <see cref="Sources"/> maps each pipeline's name to its VPL source.
/// </summary>
public sealed record GroupInfo(
    string Id,
    string Name,
    string Status,
    int PipelineCount,
    IReadOnlyList<GroupDeploymentInfo> Deployments,
    IReadOnlyList<GroupRouteInfo> Routes,
    IReadOnlyDictionary<string, string> Sources,
    IReadOnlyList<GroupPipelineInfo> Pipelines,
    [property: JsonConverter(typeof(Rfc3339Converter))] DateTimeOffset CreatedAt);

/// <summary>The reply of <c>DELETE /api/v1/cluster/pipeline-groups/{id}</c>.</summary>
public sealed record GroupTornDown(bool TornDown, string GroupId, int PipelinesDeleted);

/// <summary>The source-generated serializer context of the pipeline group contract (snake_case, nulls written).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GroupInfo))]
[JsonSerializable(typeof(IReadOnlyList<GroupInfo>))]
[JsonSerializable(typeof(GroupTornDown))]
public sealed partial class PipelineGroupJsonContext : JsonSerializerContext
{
}
