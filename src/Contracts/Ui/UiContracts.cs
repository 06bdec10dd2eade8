using System.Text.Json.Serialization;

namespace Varpulis.Contracts.Ui;

/// <summary>
/// <c>GET /ui/config.json</c> (open, like the UI's files): what the web UI needs before its first API call — the kind of
/// node (<c>server</c> or <c>coordinator</c>), whether <c>/api/v1</c> wants an <c>x-api-key</c>, the version, and the
/// optional route groups this node serves (<c>connectors</c>, <c>dlq</c>, <c>cluster</c>), so the UI shows only panels
/// that work.
/// </summary>
public sealed record UiConfig(string Node, bool AuthRequired, string Version, IReadOnlyList<string> Features);

/// <summary>The source-generated serializer context of the UI contract (snake_case).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(UiConfig))]
public sealed partial class UiJsonContext : JsonSerializerContext
{
}
