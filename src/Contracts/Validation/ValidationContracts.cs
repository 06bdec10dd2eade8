using System.Text.Json.Serialization;

namespace Varpulis.Contracts.Validation;

/// <summary>The body of <c>POST /api/v1/validate</c> and <c>POST /api/v1/cluster/validate</c>: a VPL program.</summary>
public sealed record ValidateRequest(string Source);

/// <summary>One compiler diagnostic: where (1-based line and column of its start), how bad, what, and how to fix it.</summary>
public sealed record VplDiagnostic(string Severity, int Line, int Column, string Message, string? Hint = null);

/// <summary>The answer of the validate endpoints (always 200): whether the program compiles, and every diagnostic.</summary>
public sealed record ValidateResponse(bool Valid, IReadOnlyList<VplDiagnostic> Diagnostics);

/// <summary>The source-generated serializer context of the validation contract (snake_case, nulls left out).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ValidateRequest))]
[JsonSerializable(typeof(ValidateResponse))]
public sealed partial class ValidationJsonContext : JsonSerializerContext
{
}
