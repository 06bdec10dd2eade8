using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Host.Tests.Server;

/// <summary>
/// The real <c>varpulis server</c> process is killed with SIGKILL in the middle of a stream of batches (with a
/// request in flight) and restarted on the same state directory: every acknowledged event's effect is there, the
/// pipeline keeps its id, windows resume where they were, and no window fires twice or goes missing.
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
            var inFlight = PostJson(http, $"/api/v1/pipelines/{id}/events-batch", BatchBody(killAfter));
            first.Kill9();
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                var r = await inFlight;
                // A response that made it out before the kill counts as acknowledged.
                if (r.Status == HttpStatusCode.OK) throw new InvalidOperationException("acknowledged");
            });
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
