using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Varpulis.Api.Tests.Infrastructure;
using Varpulis.Contracts.Pipelines;

namespace Varpulis.Api.Tests;

/// <summary>
/// The shared pipeline contract (src/Contracts/Pipelines) against the server's own replies: each reply read into its
/// record and written back is the same text, so the records hold every field the server writes, in its order.
/// </summary>
public sealed class PipelineContractsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task DeployListAndDeleteRepliesAreTheContractRecords()
    {
        using var http = f.Server.Client();
        var request = JsonSerializer.Serialize(new DeployPipelineRequest("contract", Programs.Alert), PipelinesJsonContext.Default.DeployPipelineRequest);
        var deployed = await SendAsync(http, HttpMethod.Post, "/api/v1/pipelines", request);
        Assert.Equal(HttpStatusCode.Created, deployed.Status);
        var reply = RoundTrip(deployed.Body, PipelinesJsonContext.Default.DeployedPipeline);
        Assert.Equal(("contract", "running"), (reply.Name, reply.Status));

        var list = await SendAsync(http, HttpMethod.Get, "/api/v1/pipelines?limit=1000");
        var pipelines = RoundTrip(list.Body, PipelinesJsonContext.Default.PipelineList);
        Assert.Contains(pipelines.Pipelines, p => p.Id == reply.Id && p.Source == Programs.Alert);
        Assert.Equal(new Pagination(pipelines.Total, 1000, 0, false), pipelines.Pagination);

        var deleted = await SendAsync(http, HttpMethod.Delete, "/api/v1/pipelines/" + reply.Id);
        Assert.Equal(new PipelineDeleted(true), RoundTrip(deleted.Body, PipelinesJsonContext.Default.PipelineDeleted));
    }

    [Fact]
    public async Task ErrorRepliesAreTheContractRecord()
    {
        using var http = f.Server.Client();
        var parse = await SendAsync(http, HttpMethod.Post, "/api/v1/pipelines",
            JsonSerializer.Serialize(new DeployPipelineRequest("bad", "stream X = Y .where("), PipelinesJsonContext.Default.DeployPipelineRequest));
        Assert.Equal(HttpStatusCode.BadRequest, parse.Status);
        var error = RoundTrip(parse.Body, PipelinesJsonContext.Default.ApiErrorReply);
        Assert.Equal("parse_error", error.Code);
        Assert.NotEmpty(error.Diagnostics!);

        var missing = await SendAsync(http, HttpMethod.Delete, "/api/v1/pipelines/no-such-pipeline");
        Assert.Equal(new ApiErrorReply("pipeline 'no-such-pipeline' not found", "pipeline_not_found"), RoundTrip(missing.Body, PipelinesJsonContext.Default.ApiErrorReply));
    }

    private static T RoundTrip<T>(string body, JsonTypeInfo<T> type)
    {
        var value = JsonSerializer.Deserialize(body, type)!;
        // Written as the server writes (its encoder leaves '>' and quotes as they are).
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            JsonSerializer.Serialize(writer, value, type);
        Assert.Equal(body, System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        return value;
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (json is not null) req.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var resp = await http.SendAsync(req);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }
}
