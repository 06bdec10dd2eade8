using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Varpulis.Host.Tests.Server;

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, spans for deploy and ingestion reach an OTLP collector.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task DeployAndIngestSpansAreExportedOverOtlp()
    {
        // A minimal OTLP/HTTP collector: records the protobuf bodies posted to /v1/traces.
        var received = new List<byte[]>();
        int collectorPort = ServerProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, collectorPort));
        await using var collector = builder.Build();
        collector.MapPost("/v1/traces", async (HttpContext ctx) =>
        {
            using var ms = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(ms);
            lock (received) received.Add(ms.ToArray());
            ctx.Response.ContentType = "application/x-protobuf";
            return Results.Bytes([], "application/x-protobuf");
        });
        await collector.StartAsync();

        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(port, ["server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--state-dir", ServerProcess.TempDir()],
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collectorPort}",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_SERVICE_NAME"] = "varpulis-worker-0",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            });
        await server.WaitReadyAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        using var deploy = await http.PostAsync("/api/v1/pipelines", new StringContent("""{"name": "traced", "source": "stream A = T .emit(x: 1)"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, deploy.StatusCode);
        var id = System.Text.Json.Nodes.JsonNode.Parse(await deploy.Content.ReadAsStringAsync())!["id"]!.ToString();
        using var ingest = await http.PostAsync($"/api/v1/pipelines/{id}/events", new StringContent("""{"event_type": "T", "fields": {}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string all = "";
        while (DateTime.UtcNow < deadline)
        {
            lock (received) all = string.Concat(received.Select(b => Encoding.UTF8.GetString(b)));
            if (all.Contains("pipeline.deploy") && all.Contains("pipeline.ingest")) break;
            await Task.Delay(200);
        }
        Assert.Contains("pipeline.deploy", all);
        Assert.Contains("pipeline.ingest", all);
        Assert.Contains("varpulis-worker-0", all);
        Assert.Contains(id, all);
    }
}
