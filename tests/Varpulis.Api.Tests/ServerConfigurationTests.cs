using System.Net;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>Behaviour that depends on how the server was started: rate limit, no key on loopback, Prometheus.</summary>
public sealed class ServerConfigurationTests
{
    [Fact]
    public async Task RateLimitAnswers429WithRetryAfter()
    {
        var s = TestServer.DefaultSettings();
        s.Server.RateLimit = 1;
        await using var server = await TestServer.StartAsync(s);
        using var http = server.Client();
        // Burst 2: two pass, the third within the same second is limited.
        Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync("/api/v1/pipelines")).Status);
        Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync("/api/v1/pipelines")).Status);
        using var resp = await http.GetAsync("/api/v1/pipelines");
        Assert.Equal((HttpStatusCode)429, resp.StatusCode);
        Assert.Equal("1", resp.Headers.GetValues("Retry-After").Single());
        Assert.Equal("""{"error":"rate limit of 1 requests per second exceeded; retry in 1 s","code":"rate_limited","retry_after_seconds":1}""", await resp.Content.ReadAsStringAsync());
        // Open endpoints are not limited.
        Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync("/health")).Status);
    }

    [Fact]
    public async Task WithoutKeyOnLoopbackEveryCallerIsTheDefaultTenant()
    {
        await using var server = await TestServer.StartAsync(TestServer.DefaultSettings());
        using var http = server.Client();
        var r = await http.GetJsonAsync("/api/v1/usage");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("default", (string?)r.Body["tenant_id"]);
        Assert.Equal("enterprise", (string?)r.Body["quota"]!["tier"]);
    }

    [Fact]
    public async Task PrometheusServesTheRunbookMetrics()
    {
        var s = TestServer.DefaultSettings();
        s.Metrics.Enabled = true;
        s.Metrics.Port = TestServer.FreePort();
        await using var server = await TestServer.StartAsync(s);
        using var http = server.Client();
        var deploy = await http.PostAsync("/api/v1/pipelines", $$"""{"name": "m", "source": "{{Programs.AlertAndWindow.Replace("\n", "\\n")}}"}""");
        var id = (string)deploy.Body["id"]!;
        await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 150), Programs.Reading("S1", 1), Programs.Reading("S1", 2)]));

        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{s.Metrics.Port}") };
        using var resp = await metrics.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.StartsWith("text/plain", resp.Content.Headers.ContentType!.ToString());
        var text = await resp.Content.ReadAsStringAsync();
        foreach (var expected in new[]
        {
            "varpulis_events_total{event_type=\"TempReading\"}",
            $"varpulis_events_processed{{pipeline=\"{id}\",stream=\"Avg\"}}",
            $"varpulis_output_events_total{{pipeline=\"{id}\",stream=\"Alert\",event_type=\"Alert\"}}",
            $"varpulis_processing_latency_seconds_bucket{{pipeline=\"{id}\",stream=\"Avg\",le=\"0.0001\"}}",
            $"varpulis_processing_latency_seconds_bucket{{pipeline=\"{id}\",stream=\"Avg\",le=\"0.0005\"}}",
            $"varpulis_processing_latency_seconds_bucket{{pipeline=\"{id}\",stream=\"Avg\",le=\"1\"}}",
            $"varpulis_stream_queue_size{{pipeline=\"{id}\",stream=\"Avg\"}}",
            "varpulis_active_streams ",
            $"varpulis_active_runs{{pipeline=\"{id}\",stream=\"Alert\"}}",
            "varpulis_late_events_total ",
            "varpulis_pipelines ",
            "process_cpu_seconds_total",
            "dotnet_collection_count_total",
        })
        {
            Assert.Contains(expected, text);
        }
        // Exact counts, on names no other test uses (the metrics are process-wide): 5 probes in two requests,
        // 3 over the threshold; the output counter is incremented once per type and request, by the count.
        var probe = await http.PostAsync("/api/v1/pipelines",
            """{"name": "probe", "source": "stream MetricsProbe = ProbeReading as p .where(p.value > 100) .emit(v: p.value)"}""");
        var probeId = (string)probe.Body["id"]!;
        await http.PostAsync($"/api/v1/pipelines/{probeId}/events-batch",
            """{"events": [{"event_type": "ProbeReading", "fields": {"value": 150}}, {"event_type": "ProbeReading", "fields": {"value": 1}}, {"event_type": "ProbeReading", "fields": {"value": 101}}]}""");
        await http.PostAsync($"/api/v1/pipelines/{probeId}/events-batch",
            """{"events": [{"event_type": "ProbeReading", "fields": {"value": 300}}, {"event_type": "ProbeReading", "fields": {"value": 2}}]}""");
        var lines = (await metrics.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains("varpulis_events_total{event_type=\"ProbeReading\"} 5", lines);
        Assert.Contains($"varpulis_events_processed{{pipeline=\"{probeId}\",stream=\"MetricsProbe\"}} 5", lines);
        Assert.Contains($"varpulis_output_events_total{{pipeline=\"{probeId}\",stream=\"MetricsProbe\",event_type=\"MetricsProbe\"}} 3", lines);
        // Latency is sampled: the first event of each request (and every 64th after it) is timed, so 2 samples here.
        Assert.Contains($"varpulis_processing_latency_seconds_count{{pipeline=\"{probeId}\",stream=\"MetricsProbe\"}} 2", lines);

        // The API port does not serve metrics, the metrics port serves nothing else.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.GetAsync("/api/v1/pipelines")).StatusCode);
    }
}
