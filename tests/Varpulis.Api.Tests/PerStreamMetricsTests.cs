using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>
/// Prometheus series per pipeline and stream: each stream's own latency, type errors of numeric aggregates, and series
/// that leave with their pipeline. The metrics are process-wide, so every assertion is on this test's own pipeline ids.
/// </summary>
public sealed class PerStreamMetricsTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient _http = null!;
    private HttpClient _metrics = null!;

    public async Task InitializeAsync()
    {
        var s = TestServer.DefaultSettings();
        s.Metrics.Enabled = true;
        s.Metrics.Port = TestServer.FreePort();
        s.Logging.Level = "info,varpulis_runtime::engine=debug";
        _server = await TestServer.StartAsync(s);
        _http = _server.Client();
        _metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{s.Metrics.Port}") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _metrics.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task LatencyIsEachStreamsOwnProcessingTime()
    {
        // Heavy runs a 20,000-step loop per event, Cheap one comparison: their latencies must differ by orders of
        // magnitude (spreading the request time equally over the streams would make them equal).
        const string source = """
            fn spin(n: int) -> int:
                var acc = 0
                for i in 0..n:
                    acc := acc + i
                return acc

            stream Heavy = Reading .where(spin(20000) > 0) .emit(v: value)
            stream Cheap = Reading .where(value > 0) .emit(v: value)
            """;
        var id = await DeployAsync(source);
        for (int i = 0; i < 5; i++)
        {
            var r = await _http.PostAsync($"/api/v1/pipelines/{id}/events", "{\"event_type\": \"Reading\", \"fields\": {\"value\": " + (i + 1) + "}}");
            Assert.Equal(HttpStatusCode.OK, r.Status);
        }
        var text = await _metrics.GetStringAsync("/metrics");
        var (heavySum, heavyCount) = Histogram(text, id, "Heavy");
        var (cheapSum, cheapCount) = Histogram(text, id, "Cheap");
        Assert.Equal(5, heavyCount); // one request, one event: each is the first of its request, so each is sampled
        Assert.Equal(5, cheapCount);
        Assert.True(heavySum > 50 * cheapSum, $"Heavy {heavySum} s vs Cheap {cheapSum} s over 5 events");
    }

    [Fact]
    public async Task LatencyIsSampledOneEventInSixtyFourAfterTheFirstOfARequest()
    {
        var id = await DeployAsync("stream Pass = Reading .where(value > 0) .emit(v: value)");
        var events = Enumerable.Range(0, 130).Select(i => "{\"event_type\": \"Reading\", \"fields\": {\"value\": " + i + "}}");
        var r = await _http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch(events));
        Assert.Equal(130, (int)r.Body["accepted"]!);
        var lines = (await _metrics.GetStringAsync("/metrics")).Split('\n');
        // Events 1, 65 and 129 of the request.
        Assert.Contains($"varpulis_processing_latency_seconds_count{{pipeline=\"{id}\",stream=\"Pass\"}} 3", lines);
        Assert.Contains($"varpulis_events_processed{{pipeline=\"{id}\",stream=\"Pass\"}} 130", lines);
    }

    [Fact]
    public async Task SameStreamNameInTwoPipelinesHasTwoSeries()
    {
        var a = await DeployAsync("stream Alert = Reading .where(value > 10) .emit(v: value)");
        var b = await DeployAsync("stream Alert = Reading .where(value > 10) .emit(v: value)");
        await _http.PostAsync($"/api/v1/pipelines/{a}/events-batch", Programs.Batch([Reading(50), Reading(1), Reading(60)]));
        await _http.PostAsync($"/api/v1/pipelines/{b}/events-batch", Programs.Batch([Reading(70)]));
        var lines = (await _metrics.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains($"varpulis_events_processed{{pipeline=\"{a}\",stream=\"Alert\"}} 3", lines);
        Assert.Contains($"varpulis_events_processed{{pipeline=\"{b}\",stream=\"Alert\"}} 1", lines);
        Assert.Contains($"varpulis_output_events_total{{pipeline=\"{a}\",stream=\"Alert\",event_type=\"Alert\"}} 2", lines);
        Assert.Contains($"varpulis_output_events_total{{pipeline=\"{b}\",stream=\"Alert\",event_type=\"Alert\"}} 1", lines);
    }

    [Fact]
    public async Task DeletedPipelineLeavesTheScrape()
    {
        var id = await DeployAsync("stream Alert = Reading .where(value > 10) .emit(v: value)\nstream Runs = Reading as a -> Reading as b .within(1m) .emit(x: b.value)");
        await _http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Reading(50)]));
        var before = await _metrics.GetStringAsync("/metrics");
        Assert.Contains($"varpulis_active_runs{{pipeline=\"{id}\",stream=\"Runs\"}} 1", before.Split('\n'));
        Assert.Contains($"varpulis_stream_queue_size{{pipeline=\"{id}\",stream=\"Alert\"}} 0", before.Split('\n'));
        Assert.Contains($"varpulis_events_processed{{pipeline=\"{id}\",stream=\"Alert\"}} 1", before.Split('\n'));

        var deleted = await _http.SendAsync(HttpMethod.Delete, $"/api/v1/pipelines/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        var after = await _metrics.GetStringAsync("/metrics");
        Assert.DoesNotContain($"pipeline=\"{id}\"", after);
    }

    [Fact]
    public async Task ReloadRemovesTheSeriesOfStreamsThatAreGone()
    {
        var id = await DeployAsync("stream Old = Reading .emit(v: value)\nstream Kept = Reading .emit(v: value)");
        await _http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Reading(1)]));
        Assert.Contains($"pipeline=\"{id}\",stream=\"Old\"", await _metrics.GetStringAsync("/metrics"));
        var r = await _http.PostAsync($"/api/v1/pipelines/{id}/reload", new JsonObject { ["source"] = "stream Kept = Reading .emit(v: value)" }.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, r.Status);
        var after = await _metrics.GetStringAsync("/metrics");
        Assert.DoesNotContain($"pipeline=\"{id}\",stream=\"Old\"", after);
        Assert.Contains($"varpulis_events_processed{{pipeline=\"{id}\",stream=\"Kept\"}} 1", after.Split('\n'));
    }

    [Fact]
    public async Task NumericAggregateSkipsNonNumbersCountsThemAndLogsOncePerStream()
    {
        var id = await DeployAsync("stream Total = Reading .window(2) .aggregate(total: sum(value), mean: avg(value), n: count()) .emit(total: total, mean: mean, n: n)");
        var r = await _http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([
            Reading(1), """{"event_type": "Reading", "fields": {"value": "abc"}}""",
            Reading(3), """{"event_type": "Reading", "fields": {"value": true}}""",
            """{"event_type": "Reading", "fields": {"value": null}}""", Reading(5)]));
        Assert.Equal(HttpStatusCode.OK, r.Status);
        // Each window sums and averages its numbers only; count() counts every row.
        Assert.Equal(
            """[{"event_type":"Total","timestamp":"X","total":1,"mean":1.0,"n":2},{"event_type":"Total","timestamp":"X","total":3,"mean":3.0,"n":2},{"event_type":"Total","timestamp":"X","total":5,"mean":5.0,"n":2}]""",
            System.Text.RegularExpressions.Regex.Replace(r.Body["output_events"]!.ToJsonString(), "\"timestamp\":\"[^\"]+\"", "\"timestamp\":\"X\""));
        // "abc" and true, each skipped by sum and by avg; the null is no type error.
        var lines = (await _metrics.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains($"varpulis_type_errors_total{{pipeline=\"{id}\",stream=\"Total\"}} 4", lines);

        await _http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([
            """{"event_type": "Reading", "fields": {"value": "x"}}""", Reading(2)]));
        Assert.Contains($"varpulis_type_errors_total{{pipeline=\"{id}\",stream=\"Total\"}} 6", (await _metrics.GetStringAsync("/metrics")).Split('\n'));
        var logged = _server.Log.Split('\n').Where(l => l.Contains($"Pipeline {id} stream Total: ", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(logged);
        Assert.Contains("DEBUG", line);
        Assert.EndsWith(
            $"Pipeline {id} stream Total: sum() skipped \"abc\" (a string), which is not a number; such values are skipped and counted in varpulis_type_errors_total, this is logged once",
            line.TrimEnd());
    }

    private async Task<string> DeployAsync(string source)
    {
        var r = await _http.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "m", ["source"] = source }.ToJsonString());
        Assert.True(r.Status == HttpStatusCode.Created, r.Body.ToJsonString());
        return (string)r.Body["id"]!;
    }

    private static string Reading(double value) => "{\"event_type\": \"Reading\", \"fields\": {\"value\": " + value.ToString(CultureInfo.InvariantCulture) + "}}";

    private static (double Sum, long Count) Histogram(string text, string pipeline, string stream)
    {
        string labels = $"{{pipeline=\"{pipeline}\",stream=\"{stream}\"}}";
        double sum = double.NaN;
        long count = -1;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("varpulis_processing_latency_seconds_sum" + labels + " ", StringComparison.Ordinal))
                sum = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            if (line.StartsWith("varpulis_processing_latency_seconds_count" + labels + " ", StringComparison.Ordinal))
                count = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return (sum, count);
    }
}
