using System.Text.Json;

namespace Varpulis.Api.Errors;

/// <summary>
/// The one error type of the HTTP surface: a status, a stable snake_case code and a human message, plus optional
/// extra members written beside them (<c>diagnostics</c>, <c>retry_after_seconds</c>). Thrown anywhere in the API;
/// <see cref="ErrorContractMiddleware"/> turns it into <c>{"error", "code", ...}</c>.
/// </summary>
public sealed class ApiException(int status, string code, string message, Action<Utf8JsonWriter>? extra = null) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public Action<Utf8JsonWriter>? Extra { get; } = extra;

    /// <summary>Extra response headers (Retry-After).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public static ApiException BadRequest(string message) => new(400, "invalid_request", message);

    public static ApiException PipelineNotFound(string id) => new(404, "pipeline_not_found", $"pipeline '{id}' not found");
}
