using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Http;
using Varpulis.Contracts.Validation;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// <c>POST /api/v1/validate</c>: compiles a VPL program without deploying it and answers 200
/// <c>{valid, diagnostics}</c> whatever the program's state; only a malformed request is an error (400, 413, 415).
/// The web UI's editor calls it as the user types. <see cref="Validate"/> is also the handler of the coordinator's
/// <c>POST /api/v1/cluster/validate</c>.
/// </summary>
public static class ValidateEndpoints
{
    public static void MapValidate(this RouteGroupBuilder api) => api.MapPost("/validate", Validate);

    /// <summary>The handler: reads <c>{source}</c>, compiles it as a deploy would, writes <see cref="ValidateResponse"/>.</summary>
    public static async Task Validate(HttpContext ctx)
    {
        var body = await ApiJson.ReadBodyAsync(ctx, ApiJson.DefaultBodyLimit);
        string source;
        using (var doc = ApiJson.Parse(body))
        {
            var root = ApiJson.RequireObject(doc, "source");
            source = ApiJson.RequireString(root, "source", PipelineCompiler.MaxSourceLength);
        }
        var response = Check(source);
        await ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, response, ValidationJsonContext.Default.ValidateResponse));
    }

    /// <summary>Compiles <paramref name="source"/> exactly as a deploy does (same compiler, same options).</summary>
    public static ValidateResponse Check(string source)
    {
        var program = PipelineCompiler.Compile(source, out var diagnostics);
        return new ValidateResponse(
            program is not null,
            diagnostics.Select(d => new VplDiagnostic(d.Severity, d.Line, d.Column, d.Message, d.Hint)).ToList());
    }
}
