using System.Text.Json.Serialization;

namespace Varpulis.Contracts.Pipelines;

// The pipeline routes of rest-api.md as the `varpulis` client commands send and read them.

/// <summary><c>POST /api/v1/pipelines</c>: a VPL program to run as a pipeline.</summary>
public sealed record DeployPipelineRequest(string Name, string Source);

/// <summary>The reply of <c>POST /api/v1/pipelines</c> (201).</summary>
public sealed record DeployedPipeline(string Id, string Name, string Status);

/// <summary>One pipeline of <c>GET /api/v1/pipelines</c>; <see cref="WorkerId"/> is there in a cluster.</summary>
public sealed record PipelineSummary(string Id, string Name, string Status, string Source, long UptimeSecs, string? WorkerId = null);

/// <summary>Where a page of a list is: <c>?limit=</c> and <c>?offset=</c>, and whether more follow.</summary>
public sealed record Pagination(int Total, int Limit, int Offset, bool HasMore);

/// <summary><c>GET /api/v1/pipelines</c>: a page of pipelines.</summary>
public sealed record PipelineList(IReadOnlyList<PipelineSummary> Pipelines, int Total, Pagination Pagination);

/// <summary>The reply of <c>DELETE /api/v1/pipelines/{id}</c>.</summary>
public sealed record PipelineDeleted(bool Deleted);

/// <summary>A compiler diagnostic of a <c>parse_error</c>: 1-based line and column.</summary>
public sealed record PipelineDiagnostic(string Severity, int Line, int Column, string Message, string? Hint = null);

/// <summary>
/// An error reply read by a client: the contract's <see cref="ErrorBody"/> fields, plus the compiler's diagnostics of a
/// <c>parse_error</c>.
/// </summary>
public sealed record ApiErrorReply(string Error, string Code, IReadOnlyList<PipelineDiagnostic>? Diagnostics = null);

/// <summary>The data of an <c>event: warning</c> message of <c>GET /api/v1/pipelines/{id}/logs</c> (a client that fell behind).</summary>
public sealed record LogStreamWarning(string Warning);

/// <summary>The source-generated serializer context of the pipeline contract: snake_case, nulls left out, as <see cref="ContractsJsonContext"/>.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DeployPipelineRequest))]
[JsonSerializable(typeof(DeployedPipeline))]
[JsonSerializable(typeof(PipelineList))]
[JsonSerializable(typeof(PipelineDeleted))]
[JsonSerializable(typeof(ApiErrorReply))]
[JsonSerializable(typeof(LogStreamWarning))]
public sealed partial class PipelinesJsonContext : JsonSerializerContext
{
}
