using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.LoadGen;

public sealed record LoadOptions(Uri Server, string? ApiKey, string Workload, int BatchSize, int Connections, int Passes, int DurationSecs, int Rate, int ServerPid, string? PipelineId = null);

/// <summary>
/// One load run: deploys the workload's program, then either posts its events to <c>events-batch</c> in batches over
/// keep-alive connections (throughput, output count checked against <c>expected.json</c>), or posts single events at
/// a fixed rate, open loop, and reports latency percentiles measured from each request's scheduled time. With
/// <c>--pipeline ID</c> it drives an existing pipeline instead (a cluster benchmark deploys it where it wants it).
/// </summary>
public sealed class LoadRun(LoadOptions o, TextWriter log)
{
    public async Task<int> BatchAsync(CancellationToken ct)
    {
        var (events, expected) = LoadWorkload();
        var bodies = Chunk(events, o.BatchSize).Select(BatchBody).ToArray();
        log.WriteLine($"workload {Path.GetFileName(o.Workload.TrimEnd('/'))}: {events.Count:N0} events, {bodies.Length} batches of {o.BatchSize}, expected outputs per pass {expected:N0}");
        using var http = Client(o.Connections);
        var id = await Deploy(http, ct);

        long accepted = 0, outputs = 0, requests = 0, failures = 0;
        long next = -1;
        long totalBatches = o.DurationSecs > 0 ? long.MaxValue : (long)bodies.Length * o.Passes;
        var deadline = o.DurationSecs > 0 ? DateTime.UtcNow.AddSeconds(o.DurationSecs) : DateTime.MaxValue;
        var sw = Stopwatch.StartNew();
        var progress = Task.Run(async () =>
        {
            long last = 0;
            while (!ct.IsCancellationRequested && sw.IsRunning)
            {
                await Task.Delay(10_000, ct).ContinueWith(_ => { }, TaskScheduler.Default);
                if (!sw.IsRunning) break;
                long now = Interlocked.Read(ref accepted);
                log.WriteLine($"  {sw.Elapsed.TotalSeconds,6:F0} s  {now:N0} events  {(now - last) / 10.0:N0} ev/s  rss {Rss()}");
                last = now;
            }
        }, ct);
        var workers = Enumerable.Range(0, o.Connections).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                long n = Interlocked.Increment(ref next);
                if (n >= totalBatches || DateTime.UtcNow >= deadline || ct.IsCancellationRequested) return;
                if (o.Rate > 0)
                {
                    // Paced: batch n is due at n * batch / rate seconds.
                    var due = TimeSpan.FromSeconds((double)n * o.BatchSize / o.Rate) - sw.Elapsed;
                    if (due > TimeSpan.Zero) await Task.Delay(due, ct);
                }
                var body = bodies[n % bodies.Length];
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new("application/json");
                using var resp = await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", content, ct);
                var bytes = await resp.Content.ReadAsByteArrayAsync(ct);
                Interlocked.Increment(ref requests);
                if (resp.StatusCode != HttpStatusCode.OK)
                {
                    if (Interlocked.Increment(ref failures) <= 5) log.WriteLine($"  HTTP {(int)resp.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
                    continue;
                }
                var (acc, outs) = Counts(bytes);
                Interlocked.Add(ref accepted, acc);
                Interlocked.Add(ref outputs, outs);
            }
        }, ct)).ToArray();
        await Task.WhenAll(workers);
        sw.Stop();
        await progress;

        double secs = sw.Elapsed.TotalSeconds;
        log.WriteLine($"requests            {requests:N0} ({failures} failed)");
        log.WriteLine($"events accepted     {accepted:N0}");
        log.WriteLine($"output events       {outputs:N0}");
        log.WriteLine($"duration            {secs:F2} s");
        log.WriteLine($"throughput          {accepted / secs:N0} events/s (durable: every batch journaled before its 200)");
        log.WriteLine($"server rss          {Rss()}");
        long fullPasses = accepted / events.Count;
        bool outputsOk = o.DurationSecs > 0 || outputs == expected * fullPasses;
        log.WriteLine($"output check        {(outputsOk ? "ok" : "MISMATCH")} ({outputs:N0} for {fullPasses} pass(es), expected {expected * fullPasses:N0})");
        return failures == 0 && outputsOk ? 0 : 1;
    }

    public async Task<int> SingleAsync(CancellationToken ct)
    {
        var (events, _) = LoadWorkload();
        int rate = o.Rate > 0 ? o.Rate : 1000;
        int secs = o.DurationSecs > 0 ? o.DurationSecs : 30;
        var bodies = events.Take(Math.Min(events.Count, rate * secs)).Select(SingleBody).ToArray();
        using var http = Client(64);
        var id = await Deploy(http, ct);
        // Warm-up: a second at the target rate is not measured.
        await Drive(http, id, bodies, rate, rate, ct);
        var (latencies, lags) = await Drive(http, id, bodies, rate, rate * secs, ct);
        Array.Sort(latencies);
        Array.Sort(lags);
        double P(double q) => latencies[Math.Clamp((int)Math.Ceiling(q * latencies.Length) - 1, 0, latencies.Length - 1)];
        double L(double q) => lags[Math.Clamp((int)Math.Ceiling(q * lags.Length) - 1, 0, lags.Length - 1)];
        log.WriteLine($"single-event POSTs  {latencies.Length:N0} at {rate}/s for {secs} s (open loop, latency from each request's start)");
        log.WriteLine($"send lag p50/p99    {L(0.50):F3} / {L(0.99):F3} ms (generator timer, not server)");
        log.WriteLine($"latency p50         {P(0.50):F3} ms");
        log.WriteLine($"latency p99         {P(0.99):F3} ms");
        log.WriteLine($"latency p99.9       {P(0.999):F3} ms");
        log.WriteLine($"latency max         {latencies[^1]:F3} ms");
        log.WriteLine($"server rss          {Rss()}");
        return 0;
    }

    /// <summary>
    /// Open loop: requests are started on schedule whatever the server's answers, so a server stall delays every
    /// request sent during it (no coordinated omission). Latency is measured from the moment the request is
    /// started; how late that moment was against the schedule (the generator's own timer, ~1 ms granularity
    /// on a shared 2-core machine) is reported separately as the send lag.
    /// </summary>
    private static async Task<(double[] Latencies, double[] Lags)> Drive(HttpClient http, string id, byte[][] bodies, int rate, int count, CancellationToken ct)
    {
        var latencies = new double[count];
        var lags = new double[count];
        var tasks = new List<Task>(count);
        long start = Stopwatch.GetTimestamp();
        int i = 0;
        while (i < count)
        {
            // Send everything that is due, then sleep about a millisecond: no busy wait stealing a core from the server.
            long now = Stopwatch.GetTimestamp();
            while (i < count)
            {
                long due = start + (long)(i * (double)Stopwatch.Frequency / rate);
                if (due > now) break;
                lags[i] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
                tasks.Add(Send(http, id, bodies[i % bodies.Length], latencies, i, ct));
                i++;
            }
            await Task.Delay(1, ct);
        }
        await Task.WhenAll(tasks);
        return (latencies, lags);
    }

    private static async Task Send(HttpClient http, string id, byte[] body, double[] latencies, int k, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var resp = await http.PostAsync($"/api/v1/pipelines/{id}/events", content, ct);
        await resp.Content.ReadAsByteArrayAsync(ct);
        if (resp.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"HTTP {(int)resp.StatusCode}");
        latencies[k] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private (List<Event> Events, long Expected) LoadWorkload()
    {
        var types = new TypeRegistry();
        var list = new List<Event>();
        using (var stream = File.OpenRead(Path.Combine(o.Workload, "events.evt")))
        using (var reader = new EvtReader(stream, types, new EvtReaderOptions { Path = "events.evt" }))
        {
            while (reader.TryRead(out var e, out _)) list.Add(e!);
        }
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(o.Workload, "expected.json")))!;
        long perFile = (long)expected["output_events"]!;
        return (list, perFile);
    }

    /// <summary>An input event is the REST "fields" shape of the event: <c>{"event_type", "timestamp", "fields"}</c>.</summary>
    private static byte[] BatchBody(IReadOnlyList<Event> events)
    {
        var buffer = new ArrayBufferWriter<byte>(events.Count * 96);
        using (var w = new Utf8JsonWriter(buffer, VplJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WritePropertyName("events");
            w.WriteStartArray();
            foreach (var e in events) EventJson.WriteOutput(w, e, OutputShape.Fields);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] SingleBody(Event e) => EventJson.ToJsonLineUtf8(e, OutputShape.Fields);

    private static IEnumerable<List<Event>> Chunk(List<Event> events, int size)
    {
        for (int i = 0; i < events.Count; i += size) yield return events.GetRange(i, Math.Min(size, events.Count - i));
    }

    private static (long Accepted, long Outputs) Counts(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        long accepted = 0, outputs = 0;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("accepted"))
            {
                reader.Read();
                accepted = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("output_events"))
            {
                reader.Read();
                int depth = reader.CurrentDepth;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
                {
                    if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == depth + 1)
                    {
                        outputs++;
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return (accepted, outputs);
    }

    private HttpClient Client(int connections)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var http = new HttpClient(handler) { BaseAddress = o.Server, Timeout = TimeSpan.FromSeconds(120) };
        if (!string.IsNullOrEmpty(o.ApiKey)) http.DefaultRequestHeaders.Add("x-api-key", o.ApiKey);
        return http;
    }

    /// <summary>The workload's program as a new pipeline, or the existing pipeline of <c>--pipeline</c> (deployed elsewhere, e.g. through another cluster node).</summary>
    private async Task<string> Deploy(HttpClient http, CancellationToken ct)
    {
        if (o.PipelineId is not null) return o.PipelineId;
        var source = await File.ReadAllTextAsync(Path.Combine(o.Workload, "program.vpl"), ct);
        var body = new JsonObject { ["name"] = "loadgen-" + Path.GetFileName(o.Workload.TrimEnd('/')), ["source"] = source }.ToJsonString();
        using var resp = await http.PostAsync("/api/v1/pipelines", new StringContent(body, Encoding.UTF8, "application/json"), ct);
        var text = await resp.Content.ReadAsStringAsync(ct);
        if (resp.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"deploy failed: HTTP {(int)resp.StatusCode} {text}");
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    private string Rss()
    {
        if (o.ServerPid <= 0) return "n/a (give --server-pid)";
        try
        {
            foreach (var line in File.ReadLines($"/proc/{o.ServerPid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return (long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).ToString("F0", CultureInfo.InvariantCulture) + " MB";
            }
        }
        catch (IOException)
        {
        }
        return "n/a";
    }
}
