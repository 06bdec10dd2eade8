using System.Text.Json.Serialization;

namespace Varpulis.Contracts;

/// <summary>The body of every error response (rest-api.md, Conventions): a human message and a stable snake_case code.</summary>
public sealed record ErrorBody(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("code")] string Code);

/// <summary>
/// The source-generated serializer context of the shared records: snake_case names, nulls left out. Each area of the
/// contract (cluster, management, ...) adds its types to its own context class in its own folder, with these options.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorBody))]
public sealed partial class ContractsJsonContext : JsonSerializerContext
{
}
