using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>
/// <c>POST /api/v1/validate</c>: always 200 with <c>{valid, diagnostics}</c> for any program, the same diagnostics a
/// deploy gives, nothing deployed; a malformed request is the usual 400/401/413/415.
/// </summary>
public sealed class ValidateEndpointsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Body(string source) => new JsonObject { ["source"] = source }.ToJsonString();

    /// <summary>The body as compact JSON, quotes unescaped so expected texts read as the messages do.</summary>
    private static string Text(JsonNode body) => body.ToJsonString(Relaxed);

    /// <summary>Programs and the exact answer each gets: (behaviour, source, body).</summary>
    public static TheoryData<string, string, string> Programs => new()
    {
        {
            "a valid program is valid with no diagnostics",
            "stream Alert = Login as a -> Purchase as b .within(5m) .emit(u: a.user)",
            """{"valid":true,"diagnostics":[]}"""
        },
        {
            "a syntax error is reported at its line and column",
            "stream Alert = TempReading as t\n    .where(t.value > )\n    .emit(alert: true)\n",
            """{"valid":false,"diagnostics":[{"severity":"error","line":2,"column":22,"message":"expected an expression"}]}"""
        },
        {
            "an unknown operator carries the hint",
            "stream Alert = TempReading as t\n    .wher(t.value > 1)\n    .emit(alert: true)\n",
            """{"valid":false,"diagnostics":[{"severity":"error","line":2,"column":6,"message":"unknown operator '.wher'","hint":"did you mean 'where'?"}]}"""
        },
        {
            "an unknown field of a declared type is an error with did-you-mean",
            "event T:\n    value: int\nstream A = T as t .where(t.valeu > 1) .emit(v: t.value)\n",
            """{"valid":false,"diagnostics":[{"severity":"error","line":3,"column":28,"message":"event type 'T' (alias 't') has no field 'valeu'","hint":"did you mean 'value'?"}]}"""
        },
        {
            "every error is reported, in source order",
            "stream A = T .where(\nstream B = U .emit(x: )\n",
            """{"valid":false,"diagnostics":[{"severity":"error","line":1,"column":21,"message":"expected an expression"},{"severity":"error","line":2,"column":23,"message":"expected an expression"}]}"""
        },
        {
            "warnings leave the program valid",
            "stream A = T .aggregate(n: count()) .emit(n: n)",
            """{"valid":true,"diagnostics":[{"severity":"warning","line":1,"column":15,"message":"'.aggregate' without a '.window' aggregates each event on its own","hint":"add a window, e.g. .window(1m)"}]}"""
        },
    };

    [Theory]
    [MemberData(nameof(Programs))]
    public async Task EveryProgramGets200WithItsExactDiagnostics(string behaviour, string source, string expected)
    {
        var r = await f.Admin.PostAsync("/api/v1/validate", Body(source));
        Assert.True(r.Status == HttpStatusCode.OK, behaviour);
        Assert.Equal(expected, Text(r.Body));
    }

    [Fact]
    public async Task DiagnosticsAreTheOnesADeployReports()
    {
        const string source = "stream A = T .where(\nstream B = U .emit(x: )\n";
        var validate = await f.Admin.PostAsync("/api/v1/validate", Body(source));
        var deploy = await f.Admin.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "same", ["source"] = source }.ToJsonString());
        deploy.AssertError(HttpStatusCode.BadRequest, "parse_error");
        Assert.Equal(deploy.Body["diagnostics"]!.ToJsonString(), validate.Body["diagnostics"]!.ToJsonString());
        Assert.Equal(2, validate.Body["diagnostics"]!.AsArray().Count);
    }

    [Fact]
    public async Task ValidatingDeploysNothing()
    {
        var tenant = await f.Admin.PostAsync("/api/v1/tenants", """{"name": "validator", "quota_tier": "free"}""");
        using var http = f.Server.Client((string)tenant.Body["api_key"]!);
        for (int i = 0; i < 3; i++)
        {
            var r = await http.PostAsync("/api/v1/validate", Body("stream A = T .emit(x: 1)"));
            Assert.Equal("""{"valid":true,"diagnostics":[]}""", Text(r.Body));
        }
        var list = await http.GetJsonAsync("/api/v1/pipelines");
        Assert.Equal(0, (int)list.Body["total"]!);
        var usage = await http.GetJsonAsync("/api/v1/usage");
        Assert.Equal(0, (int)usage.Body["active_pipelines"]!);
    }

    [Fact]
    public async Task MissingKeyIs401()
    {
        using var anonymous = new HttpClient { BaseAddress = f.Server.Address };
        var r = await anonymous.PostAsync("/api/v1/validate", Body("stream A = T .emit(x: 1)"));
        r.AssertError(HttpStatusCode.Unauthorized, "invalid_api_key", "missing API key: send it in the x-api-key header");
    }

    [Fact]
    public async Task MalformedRequestsAreInvalidRequest()
    {
        (await f.Admin.PostAsync("/api/v1/validate", "{}"))
            .AssertError(HttpStatusCode.BadRequest, "invalid_request", "missing required field 'source'");
        (await f.Admin.PostAsync("/api/v1/validate", """{"source": 42}"""))
            .AssertError(HttpStatusCode.BadRequest, "invalid_request", "field 'source' must be a string");
        (await f.Admin.PostAsync("/api/v1/validate", """{"source": "stream A = T .emit(x: 1)", "name": "x"}"""))
            .AssertError(HttpStatusCode.BadRequest, "invalid_request", "unknown field 'name'; expected 'source'");
        (await f.Admin.SendAsync(HttpMethod.Post, "/api/v1/validate", """{"source": "x"}""", "text/plain"))
            .AssertError(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", "Content-Type 'text/plain' is not supported: send application/json");
        var big = new JsonObject { ["source"] = new string(' ', 1 << 20) }.ToJsonString();
        (await f.Admin.PostAsync("/api/v1/validate", big))
            .AssertError(HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "request body is larger than 1 MiB");
    }

    [Fact]
    public async Task GetIsNoRoute()
    {
        var r = await f.Admin.GetJsonAsync("/api/v1/validate");
        r.AssertError(HttpStatusCode.NotFound, "not_found", "no route GET /api/v1/validate");
    }
}
