using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Host.Tests.Server;

/// <summary>
/// The Prometheus endpoint of a fresh server process (its metrics are its own): node gauges exist at 0 from the first
/// scrape and follow pipelines as they come and go.
/// </summary>
public sealed class MetricsScrapeTests
{
    [Fact]
    public async Task NodeGaugesStartAtZeroAndFollowPipelines()
    {
        int metricsPort = ServerProcess.FreePort();
        await using var server = ServerProcess.StartServer(Path.Combine(ServerProcess.TempDir(), "state"),
            extra: ["--metrics", "--metrics-port", metricsPort.ToString(CultureInfo.InvariantCulture)]);
        await server.WaitReadyAsync();
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        using var http = new HttpClient { BaseAddress = server.Address };

        var first = await ScrapeAsync(metrics);
        foreach (var line in new[] { "varpulis_pipelines 0", "varpulis_active_streams 0", "varpulis_late_events_total 0", "varpulis_events_rejected_total 0" })
            Assert.Contains(line, first);

        var a = await DeployAsync(http, "stream Alert = T .where(v > 1) .emit(v: v)\nstream Count = T .window(2) .aggregate(n: count()) .emit(n: n)");
        var b = await DeployAsync(http, "stream Alert = T .where(v > 1) .emit(v: v)");
        await PostAsync(http, $"/api/v1/pipelines/{a}/events", """{"event_type": "T", "fields": {"v": 5}}""");
        var two = await ScrapeAsync(metrics);
        Assert.Contains("varpulis_pipelines 2", two);
        Assert.Contains("varpulis_active_streams 3", two);
        Assert.Contains($"varpulis_events_processed{{pipeline=\"{a}\",stream=\"Alert\"}} 1", two);

        Assert.Equal(HttpStatusCode.OK, (await http.DeleteAsync($"/api/v1/pipelines/{a}")).StatusCode);
        var one = await ScrapeAsync(metrics);
        Assert.Contains("varpulis_pipelines 1", one);
        Assert.Contains("varpulis_active_streams 1", one);
        Assert.DoesNotContain(one, l => l.Contains($"pipeline=\"{a}\"", StringComparison.Ordinal));
        Assert.Contains($"varpulis_active_runs{{pipeline=\"{b}\",stream=\"Alert\"}} 0", one);

        Assert.Equal(HttpStatusCode.OK, (await http.DeleteAsync($"/api/v1/pipelines/{b}")).StatusCode);
        var none = await ScrapeAsync(metrics);
        Assert.Contains("varpulis_pipelines 0", none);
        Assert.Contains("varpulis_active_streams 0", none);
        Assert.DoesNotContain(none, l => l.Contains("pipeline=\"", StringComparison.Ordinal));
    }

    private static async Task<string[]> ScrapeAsync(HttpClient metrics) => (await metrics.GetStringAsync("/metrics")).Split('\n');

    private static async Task<string> DeployAsync(HttpClient http, string source)
    {
        var body = new JsonObject { ["name"] = "m", ["source"] = source }.ToJsonString();
        using var resp = await http.PostAsync("/api/v1/pipelines", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == HttpStatusCode.Created, text);
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        using var resp = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
    }
}
