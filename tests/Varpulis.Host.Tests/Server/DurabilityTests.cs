using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Host.Tests.Server;

/// <summary>
/// The real <c>varpulis server</c> process is killed with SIGKILL in the middle of a stream of batches (with a
/// request in flight) and restarted on the same state directory: every acknowledged event's effect is there, the
/// pipeline keeps its id, windows and pattern runs resume where they were, and no window fires twice or goes missing,
/// no run completes twice or is lost.
/// </summary>
public sealed class DurabilityTests
{
    private const int Keys = 3;
    private const int PerBatch = 6;
    private const int Batches = 50;
    private const int Window = 10;

    private const string Program = "stream Sums = Reading .partition_by(k) .window(10) .aggregate(n: count(), total: sum(v)) .emit(k: k, n: n, total: total)";

    [Fact]
    public async Task KillNineMidStreamLosesAndDuplicatesNothing()
    {
        var stateDir = ServerProcess.TempDir();
        var outputs = new List<string>();
        string id;
        int killAfter = 17; // batch 18 (index 17) is in flight when the process dies; it closes no window
        Assert.NotEqual(0, (killAfter + 1) % (Window / (PerBatch / Keys)));

        await using (var first = ServerProcess.StartServer(stateDir))
        {
            await first.WaitReadyAsync();
            using var http = Client(first.Address);
            var deployed = await PostJson(http, "/api/v1/pipelines", new JsonObject { ["name"] = "durable", ["source"] = Program }.ToJsonString());
            Assert.Equal(HttpStatusCode.Created, deployed.Status);
            id = (string)deployed.Body["id"]!;
            for (int b = 0; b < killAfter; b++)
            {
                var r = await PostJson(http, $"/api/v1/pipelines/{id}/events-batch", BatchBody(b));
                Assert.Equal(HttpStatusCode.OK, r.Status);
                Assert.Equal(PerBatch, (int)r.Body["accepted"]!);
                outputs.AddRange(r.Body["output_events"]!.AsArray().Select(o => o!.ToJsonString()));
            }
            // One more batch goes out, and the process dies under it.
            // A response that made it out before the kill counts as acknowledged.
            await Kill9WithRequestInFlight(first, PostJson(http, $"/api/v1/pipelines/{id}/events-batch", BatchBody(killAfter)));
        }

        await using var second = ServerProcess.StartServer(stateDir);
        await second.WaitReadyAsync();
        using var http2 = Client(second.Address);
        var info = await GetJson(http2, $"/api/v1/pipelines/{id}");
        Assert.Equal(HttpStatusCode.OK, info.Status);
        Assert.Equal("durable", (string?)info.Body["name"]);

        // The in-flight batch was either journaled before the kill or not at all: never half.
        long processed = (long)(await GetJson(http2, $"/api/v1/pipelines/{id}/metrics")).Body["events_processed"]!;
        Assert.Contains(processed, new long[] { killAfter * PerBatch, (killAfter + 1) * PerBatch });
        int resumeAt = (int)(processed / PerBatch);
        for (int b = resumeAt; b < Batches; b++)
        {
            var r = await PostJson(http2, $"/api/v1/pipelines/{id}/events-batch", BatchBody(b));
            Assert.Equal(HttpStatusCode.OK, r.Status);
            outputs.AddRange(r.Body["output_events"]!.AsArray().Select(o => o!.ToJsonString()));
        }

        Assert.Equal(Expected(), outputs);
        Assert.Equal(Batches * PerBatch, (long)(await GetJson(http2, $"/api/v1/pipelines/{id}/metrics")).Body["events_processed"]!);
    }

    /// <summary>
    /// Idempotency keys after a kill -9 (no hand-off snapshot: the journal alone): a repeated key gets its first reply
    /// again, rejected events, outputs and the ingestion time that stamped an event without a timestamp included, and
    /// nothing is processed twice; the key with another body is refused.
    /// </summary>
    [Fact]
    public async Task KillNineKeepsEachKeysReplyFromTheJournal()
    {
        var stateDir = ServerProcess.TempDir();
        const string batch = """{"events":[{"event_type":"Reading","fields":{"k":"a","v":1}},{"event_type":"Reading","fields":[1]},""" +
            """{"event_type":"Reading","fields":{"k":"a","v":2},"timestamp":5000}]}""";
        const string single = """{"event_type":"Reading","fields":{"k":"b","v":3},"timestamp":6000}""";
        const string program = "stream Echo = Reading .emit(k: k, v: v)";
        string id, batchReply, singleReply;
        await using (var first = ServerProcess.StartServer(stateDir))
        {
            await first.WaitReadyAsync();
            using var http = Client(first.Address);
            var deployed = await PostJson(http, "/api/v1/pipelines", new JsonObject { ["name"] = "keys", ["source"] = program }.ToJsonString());
            id = (string)deployed.Body["id"]!;
            var b = await PostKeyed(http, $"/api/v1/pipelines/{id}/events-batch", batch, "batch-key");
            Assert.Equal(HttpStatusCode.OK, b.Status);
            Assert.Equal("""[{"index":1,"error":"'fields' must be an object"}]""", b.Body["errors"]!.ToJsonString(Relaxed));
            batchReply = WithoutTime(b.Body);
            var s = await PostKeyed(http, $"/api/v1/pipelines/{id}/events", single, "single-key");
            Assert.Equal(HttpStatusCode.OK, s.Status);
            singleReply = WithoutTime(s.Body);
            Assert.Equal("""{"accepted":true,"output_events":[{"event_type":"Echo","timestamp":"1970-01-01T00:00:06Z","fields":{"k":"b","v":3}}]}""", singleReply);
            first.Kill9();
        }

        await using var second = ServerProcess.StartServer(stateDir);
        await second.WaitReadyAsync();
        using var http2 = Client(second.Address);
        Assert.Equal(3, (long)(await GetJson(http2, $"/api/v1/pipelines/{id}/metrics")).Body["events_processed"]!);
        Assert.Equal(batchReply, WithoutTime((await PostKeyed(http2, $"/api/v1/pipelines/{id}/events-batch", batch, "batch-key")).Body));
        Assert.Equal(singleReply, WithoutTime((await PostKeyed(http2, $"/api/v1/pipelines/{id}/events", single, "single-key")).Body));
        var reused = await PostKeyed(http2, $"/api/v1/pipelines/{id}/events", single, "batch-key");
        Assert.Equal((HttpStatusCode)422, reused.Status);
        Assert.Equal("idempotency_key_reused", (string?)reused.Body["code"]);
        Assert.Equal(3, (long)(await GetJson(http2, $"/api/v1/pipelines/{id}/metrics")).Body["events_processed"]!);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string WithoutTime(JsonNode reply)
    {
        var copy = reply.DeepClone().AsObject();
        copy.Remove("processing_time_us");
        return copy.ToJsonString(Relaxed);
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> PostKeyed(HttpClient http, string path, string json, string key)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        req.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var resp = await http.SendAsync(req);
        return (resp.StatusCode, JsonNode.Parse(await resp.Content.ReadAsStringAsync())!);
    }

    private const string PatternProgram =
        "stream Pairs = Open as a -> Close where id == a.id as b .within(1h) .partition_by(id) .emit(id: a.id, opened: a.v, closed: b.v)";

    private const long PatternBase = 1_735_689_600_000; // 2025-01-01T00:00:00Z, in ms

    private const int KillAfterPatterns = 10;

    /// <summary>
    /// The same kill -9 with live pattern runs: runs started before the kill (with a batch of Opens in flight) are
    /// listed after the restart exactly as they were, and the Closes sent after the restart complete each of them
    /// exactly once (event replies and the SSE stream alike); runs completed before the kill stay completed.
    /// </summary>
    [Fact]
    public async Task KillNineWithLivePatternRunsCompletesEachRunOnce()
    {
        const int killAfter = KillAfterPatterns; // batches of 4 before the kill; batch 10 (4 Opens) is in flight
        var stateDir = ServerProcess.TempDir();
        var outputs = new List<string>();
        string id;

        await using (var first = ServerProcess.StartServer(stateDir))
        {
            await first.WaitReadyAsync();
            using var http = Client(first.Address);
            var deployed = await PostJson(http, "/api/v1/pipelines", new JsonObject { ["name"] = "pairs", ["source"] = PatternProgram }.ToJsonString());
            Assert.Equal(HttpStatusCode.Created, deployed.Status);
            id = (string)deployed.Body["id"]!;
            for (int b = 0; b < killAfter; b++)
            {
                var r = await PostJson(http, $"/api/v1/pipelines/{id}/events-batch", PairsBatch(b));
                Assert.Equal(HttpStatusCode.OK, r.Status);
                Assert.Equal(4, (int)r.Body["accepted"]!);
                outputs.AddRange(r.Body["output_events"]!.AsArray().Select(o => o!.ToJsonString()));
            }
            Assert.Equal(PairsModel(killAfter).Outputs, outputs);
            // Opens only: an acknowledged in-flight batch has no output to lose.
            await Kill9WithRequestInFlight(first, PostJson(http, $"/api/v1/pipelines/{id}/events-batch", PairsBatch(killAfter)));
        }

        await using var second = ServerProcess.StartServer(stateDir);
        await second.WaitReadyAsync();
        using var http2 = Client(second.Address);
        long processed = (long)(await GetJson(http2, $"/api/v1/pipelines/{id}/metrics")).Body["events_processed"]!;
        Assert.Contains(processed, new long[] { killAfter * 4, (killAfter + 1) * 4 });
        int resumeAt = (int)(processed / 4);

        // The runs endpoint lists exactly the runs that were live when the process died.
        var live = PairsModel(resumeAt).Live;
        var runs = await GetJson(http2, $"/api/v1/pipelines/{id}/runs?stream=Pairs&limit=1000");
        Assert.Equal(HttpStatusCode.OK, runs.Status);
        Assert.Equal("[" + string.Join(",", live.Select(PairsRun)) + "]", runs.Body["runs"]!.ToJsonString());
        Assert.Equal(live.Count, (int)runs.Body["total"]!);
        Assert.Equal(live.Count, (long)(await GetJson(http2, $"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);

        // The in-flight batch again if it was lost; then a Close for every Open ever sent, through events and SSE.
        if (resumeAt == killAfter)
        {
            var r = await PostJson(http2, $"/api/v1/pipelines/{id}/events-batch", PairsBatch(killAfter));
            Assert.Equal("[]", r.Body["output_events"]!.ToJsonString());
        }
        using var sse = new HttpClient { BaseAddress = second.Address, Timeout = Timeout.InfiniteTimeSpan };
        using var logs = await sse.GetAsync($"/api/v1/pipelines/{id}/logs", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, logs.StatusCode);
        var reader = new SseLines(await logs.Content.ReadAsStreamAsync());
        await WaitForSseAsync(http2, reader, id);

        int opened = (killAfter + 1) * 3 + 1;
        var closes = new List<string>();
        for (int i = 0; i < opened; i++) closes.Add(PairsEvent("Close", "o" + i, 100_000 + i, 100_000L + i));
        var afterRestart = new List<string>();
        foreach (var chunk in closes.Chunk(5))
        {
            var r = await PostJson(http2, $"/api/v1/pipelines/{id}/events-batch", "{\"events\":[" + string.Join(",", chunk) + "]}");
            Assert.Equal(HttpStatusCode.OK, r.Status);
            afterRestart.AddRange(r.Body["output_events"]!.AsArray().Select(o => o!.ToJsonString()));
        }
        var expectedAfter = PairsModel(killAfter + 1).Live.Select(i => PairsMatch(i, closed: 100_000 + i, offsetMs: 100_000L + i)).ToList();
        Assert.Equal(expectedAfter, afterRestart);
        outputs.AddRange(afterRestart);

        // Every Open's run completed exactly once, over the kill.
        Assert.Equal(Enumerable.Range(0, opened).Select(i => "o" + i), outputs.Select(o => (string)JsonNode.Parse(o)!["id"]!).OrderBy(s => int.Parse(s[1..], CultureInfo.InvariantCulture)));
        Assert.Equal(0, (long)(await GetJson(http2, $"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);

        // SSE delivered the same matches, once each, in the same order.
        var sseData = new List<string>();
        while (sseData.Count < expectedAfter.Count) sseData.Add(await ReadDataAsync(reader));
        Assert.Equal(expectedAfter.Select(ToSse), sseData);
        var end = await PostJson(http2, $"/api/v1/pipelines/{id}/events-batch",
            "{\"events\":[" + PairsEvent("Open", "end", 0, 200_000) + "," + PairsEvent("Close", "end", 1, 200_001) + "]}");
        // Nothing else came in between: the next SSE message is the sentinel's match.
        Assert.Equal("""[{"event_type":"Pairs","timestamp":"2025-01-01T00:03:20.001Z","id":"end","opened":0,"closed":1}]""", end.Body["output_events"]!.ToJsonString());
        Assert.Equal("""data: {"event_type":"Pairs","timestamp":"2025-01-01T00:03:20.001Z","data":{"id":"end","opened":0,"closed":1}}""", await ReadDataAsync(reader));
    }

    /// <summary>
    /// Batch b: Opens o(3b), o(3b+1), o(3b+2) (v = index, ts = base + index s) and a Close of o(3b-3) (v = 1000 + that
    /// index, ts = base + (3b+2.5) s; for b = 0 a Close of "x", which has no run); the in-flight batch is 4 Opens.
    /// </summary>
    private static string PairsBatch(int b)
    {
        var events = new List<string>();
        for (int i = 3 * b; i < 3 * b + (b == KillAfterPatterns ? 4 : 3); i++) events.Add(PairsEvent("Open", "o" + i, i, i * 1000L));
        if (b != KillAfterPatterns) events.Add(b == 0 ? PairsEvent("Close", "x", 0, 0) : PairsEvent("Close", "o" + (3 * b - 3), 1000 + 3 * b - 3, CloseOffset(b)));
        return "{\"events\":[" + string.Join(",", events) + "]}";
    }

    private static string PairsEvent(string type, string key, int v, long offsetMs)
        => new JsonObject { ["event_type"] = type, ["fields"] = new JsonObject { ["id"] = key, ["v"] = v }, ["timestamp"] = PatternBase + offsetMs }.ToJsonString();

    /// <summary>What an uninterrupted run of the first <paramref name="batches"/> batches emits, and its live runs (indices, oldest first).</summary>
    private static (List<string> Outputs, List<int> Live) PairsModel(int batches)
    {
        var outputs = new List<string>();
        var live = new List<int>();
        for (int b = 0; b < batches; b++)
        {
            for (int i = 3 * b; i < 3 * b + (b == KillAfterPatterns ? 4 : 3); i++) live.Add(i);
            if (b > 0 && b != KillAfterPatterns && live.Remove(3 * b - 3)) outputs.Add(PairsMatch(3 * b - 3, 1000 + 3 * b - 3, CloseOffset(b)));
        }
        return (outputs, live);
    }

    private static long CloseOffset(int b) => (3 * b + 2) * 1000L + 500;

    private static string PairsMatch(int i, int closed, long offsetMs)
        => new JsonObject { ["event_type"] = "Pairs", ["timestamp"] = Rfc3339(PatternBase + offsetMs), ["id"] = "o" + i, ["opened"] = i, ["closed"] = closed }.ToJsonString();

    private static string PairsRun(int i)
    {
        string started = Rfc3339(PatternBase + i * 1000L);
        return new JsonObject
        {
            ["stream"] = "Pairs",
            ["partition"] = "o" + i,
            ["step_reached"] = 1,
            ["next_step"] = "Close as b",
            ["captures"] = new JsonObject { ["a"] = new JsonObject { ["event_type"] = "Open", ["timestamp"] = started, ["data"] = new JsonObject { ["id"] = "o" + i, ["v"] = i } } },
            ["started_at"] = started,
            ["deadline"] = Rfc3339(PatternBase + i * 1000L + 3_600_000),
        }.ToJsonString();
    }

    /// <summary>A flat output event as its SSE line: <c>data: {"event_type", "timestamp", "data": {fields}}</c>.</summary>
    private static string ToSse(string flat)
    {
        var o = JsonNode.Parse(flat)!.AsObject();
        var data = new JsonObject();
        foreach (var (k, v) in o)
        {
            if (k is not "event_type" and not "timestamp") data[k] = v?.DeepClone();
        }
        return "data: " + new JsonObject { ["event_type"] = (string?)o["event_type"], ["timestamp"] = (string?)o["timestamp"], ["data"] = data }.ToJsonString();
    }

    /// <summary>Sends probe pairs until one of their matches comes through the SSE stream: from then on it sees every output.</summary>
    private static async Task WaitForSseAsync(HttpClient http, SseLines reader, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (int n = 0; DateTime.UtcNow < deadline; n++)
        {
            var probe = "probe" + n;
            var r = await PostJson(http, $"/api/v1/pipelines/{id}/events-batch",
                "{\"events\":[" + PairsEvent("Open", probe, 0, 0) + "," + PairsEvent("Close", probe, 0, 0) + "]}");
            Assert.Single(r.Body["output_events"]!.AsArray());
            while (await reader.ReadDataAsync(TimeSpan.FromMilliseconds(500)) is { } line)
            {
                if (line.Contains("\"id\":\"" + probe + "\"", StringComparison.Ordinal)) return;
            }
        }
        throw new TimeoutException("the SSE stream delivered no probe");
    }

    private static async Task<string> ReadDataAsync(SseLines reader)
        => await reader.ReadDataAsync(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("no SSE message within 10 s");

    /// <summary>
    /// The <c>data:</c> lines of an SSE response, read by one background loop (cancelling a read of an HTTP response
    /// stream would abort the connection, so waits time out on the queue instead).
    /// </summary>
    private sealed class SseLines
    {
        private readonly System.Threading.Channels.Channel<string> _lines = System.Threading.Channels.Channel.CreateUnbounded<string>();

        public SseLines(Stream stream)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    using var reader = new StreamReader(stream);
                    while (await reader.ReadLineAsync() is { } line)
                    {
                        if (line.StartsWith("data: ", StringComparison.Ordinal)) _lines.Writer.TryWrite(line);
                    }
                    _lines.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    _lines.Writer.TryComplete(ex);
                }
            });
        }

        /// <summary>The next <c>data:</c> line, or null when none came within <paramref name="timeout"/>.</summary>
        public async Task<string?> ReadDataAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                return await _lines.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }

    private static string Rfc3339(long ms)
    {
        var t = DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;
        return t.ToString(ms % 1000 == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>Event i: key k(i mod 3), value i, timestamp 1000 + i ms.</summary>
    private static string BatchBody(int b)
    {
        var sb = new StringBuilder("{\"events\":[");
        for (int j = 0; j < PerBatch; j++)
        {
            int i = b * PerBatch + j;
            if (j > 0) sb.Append(',');
            sb.Append(CultureInfo.InvariantCulture, $"{{\"event_type\":\"Reading\",\"fields\":{{\"k\":\"k{i % Keys}\",\"v\":{i}}},\"timestamp\":{1000 + i}}}");
        }
        return sb.Append("]}").ToString();
    }

    /// <summary>The windows an uninterrupted run emits, in order.</summary>
    private static List<string> Expected()
    {
        var result = new List<string>();
        var buffers = Enumerable.Range(0, Keys).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < Batches * PerBatch; i++)
        {
            var buf = buffers[i % Keys];
            buf.Add(i);
            if (buf.Count == Window)
            {
                var ts = DateTimeOffset.FromUnixTimeMilliseconds(1000 + i).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                result.Add(new JsonObject { ["event_type"] = "Sums", ["timestamp"] = ts, ["k"] = "k" + (i % Keys), ["n"] = Window, ["total"] = buf.Sum() }.ToJsonString());
                buf.Clear();
            }
        }
        return result;
    }

    private static HttpClient Client(Uri address) => new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Kills the server under a request: the request must fail, or have been answered 200 before the kill.</summary>
    private static async Task Kill9WithRequestInFlight(ServerProcess server, Task<(HttpStatusCode Status, JsonNode Body)> inFlight)
    {
        server.Kill9();
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var r = await inFlight;
            if (r.Status == HttpStatusCode.OK) throw new InvalidOperationException("acknowledged");
        });
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> PostJson(HttpClient http, string path, string json)
    {
        using var resp = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return (resp.StatusCode, JsonNode.Parse(await resp.Content.ReadAsStringAsync())!);
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> GetJson(HttpClient http, string path)
    {
        using var resp = await http.GetAsync(path);
        return (resp.StatusCode, JsonNode.Parse(await resp.Content.ReadAsStringAsync())!);
    }
}
