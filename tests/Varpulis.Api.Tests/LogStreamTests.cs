using System.Diagnostics;
using System.Net;
using System.Text;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>The SSE log stream: events as they happen, keep-alives, and slow clients that never stall the pipeline.</summary>
public sealed class LogStreamTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task StreamsOutputEventsInDataShapeAndKeepAlives()
    {
        var id = await f.DeployAsync(Programs.Alert);
        using var http = f.Server.Client();
        using var resp = await http.GetAsync($"/api/v1/pipelines/{id}/logs", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("text/event-stream", resp.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());

        await WaitForSubscriber(id);
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "TempReading", "fields": {"value": 150}, "timestamp": "2025-01-01T00:00:01Z"}""");
        var data = await ReadUntil(reader, l => l.StartsWith("data:"));
        Assert.Equal("""data: {"event_type":"Alert","timestamp":"2025-01-01T00:00:01Z","data":{"alert":true}}""", data);
        // Idle for more than the keep-alive interval (1 s in this fixture).
        Assert.Equal(": keep-alive", await ReadUntil(reader, l => l.StartsWith(':')));
    }

    [Fact]
    public async Task UnknownPipelineIs404Json()
    {
        var r = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{Guid.NewGuid()}/logs");
        r.AssertError(HttpStatusCode.NotFound, "pipeline_not_found");
    }

    [Fact]
    public async Task SlowClientGetsWarningAndNeverBlocksThePipeline()
    {
        var id = await f.DeployAsync(Programs.Alert);
        using var http = f.Server.Client();
        using var resp = await http.GetAsync($"/api/v1/pipelines/{id}/logs", HttpCompletionOption.ResponseHeadersRead);
        var stream = await resp.Content.ReadAsStreamAsync();
        await WaitForSubscriber(id);

        // The client reads nothing while 100 batches of 500 outputs (each ~1 KB on the wire) are produced:
        // far more than the socket buffers and the 16-event backlog of this fixture hold.
        var pad = new string('x', 1000);
        var sw = Stopwatch.StartNew();
        for (int b = 0; b < 100; b++)
        {
            var batch = Programs.Batch(Enumerable.Range(0, 500).Select(i =>
                "{\"event_type\": \"TempReading\", \"fields\": {\"value\": " + (200 + i) + ", \"pad\": \"" + pad + "\"}}"));
            var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", batch);
            Assert.Equal(HttpStatusCode.OK, r.Status);
        }
        sw.Stop();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"ingestion took {sw.Elapsed}");
        var metrics = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(50_000, (long)metrics.Body["events_processed"]!);

        // Now the client reads: somewhere in its stream it is told how many events it missed.
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var warning = await ReadUntil(reader, l => l.StartsWith("event: warning"), TimeSpan.FromSeconds(30));
        Assert.Equal("event: warning", warning);
        var data = await reader.ReadLineAsync();
        Assert.Matches("""^data: \{"warning":"skipped [1-9][0-9]* events"\}$""", data);
    }

    private async Task WaitForSubscriber(string id)
    {
        var hubs = (Varpulis.Actors.Outputs.OutputHubs)f.Server.Services.GetService(typeof(Varpulis.Actors.Outputs.OutputHubs))!;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (hubs.Find(id) is not { HasSubscribers: true, IsConnected: true })
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no subscriber attached");
            await Task.Delay(20);
        }
    }

    private static async Task<string> ReadUntil(StreamReader reader, Func<string, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var line = await reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException();
            if (match(line)) return line;
        }
    }
}
