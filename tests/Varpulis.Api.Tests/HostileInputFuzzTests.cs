using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>
/// Bad bytes never give a 500: thousands of mutated valid bodies (bit flips, truncation, bad escapes and bytes, deep
/// nesting, huge numbers, cut and doubled spans, swapped values) against every route of a real server on loopback.
/// Every answer is below 500 and, when it is an error, a JSON body with a contract code; no pipeline restarts; and a
/// reference pipeline fed valid events in between gives exactly the results of a control pipeline fed the same
/// events after the storm. The seed is fixed, so a failure replays.
/// </summary>
public sealed class HostileInputFuzzTests
{
    private const int Seed = 20_261_207;
    private const int Requests = 3_000;

    /// <summary>The codes of rest-api.md ("Conventions"), plus stream_not_found (the runs route: operations.md §3.3).</summary>
    private static readonly HashSet<string> ContractCodes =
    [
        "invalid_request", "parse_error", "invalid_api_key", "forbidden", "pipeline_not_found", "worker_not_found", "group_not_found",
        "tenant_not_found", "not_found", "payload_too_large", "unsupported_media_type", "quota_exceeded", "rate_limited", "engine_error",
        "no_workers_available", "leader_unavailable", "invalid_limit", "unavailable", "stream_not_found",
    ];

    private const string Program =
        "stream Alert = TempReading as t .where(t.value > 100) .emit(sensor: t.sensor, value: t.value)\n" +
        "stream Avg = TempReading .partition_by(sensor) .window(3) .aggregate(n: count(), total: sum(value)) .emit(sensor: sensor, n: n, total: total)\n" +
        "stream Pair = TempReading as a -> TempReading as b .within(1m) .emit(first: a.value, second: b.value)";

    [Fact]
    public async Task MutatedBodiesOnEveryRouteNeverGive5xxNorRestartAPipeline()
    {
        var settings = TestServer.DefaultSettings();
        settings.Server.ApiKey = "fuzz-admin";
        settings.Metrics.Enabled = true;
        settings.Metrics.Port = TestServer.FreePort();
        await using var server = await TestServer.StartAsync(settings);
        using var http = server.Client();
        var reference = await DeployAsync(http, "reference");
        var victim = await DeployAsync(http, "victim");

        var referenceChunks = ReferenceChunks();
        var referenceOutputs = new List<JsonNode>();
        async Task FeedReference(int chunk)
        {
            var r = await http.PostAsync($"/api/v1/pipelines/{reference}/events-batch", referenceChunks[chunk]);
            Assert.True(r.Status == HttpStatusCode.OK, r.Body.ToJsonString());
            referenceOutputs.Add(r.Body["output_events"]!.DeepClone());
        }
        await FeedReference(0);
        await http.PostAsync($"/api/v1/pipelines/{victim}/events-batch", referenceChunks[0]);
        using var cp = await http.PostAsync($"/api/v1/pipelines/{victim}/checkpoint", (HttpContent?)null);
        var checkpoint = Encoding.UTF8.GetBytes(await cp.Content.ReadAsStringAsync());

        var routes = new (HttpMethod Method, string Path, byte[] Seed)[]
        {
            (HttpMethod.Post, $"/api/v1/pipelines/{victim}/events", Utf8("""{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 101.5, "tags": ["a", "b"], "meta": {"k": "v\n\u00e9"}}, "timestamp": "2025-01-01T00:00:05Z"}""")),
            (HttpMethod.Post, $"/api/v1/pipelines/{victim}/events-batch", Utf8("""{"events": [{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 99}, "timestamp": 1735689600000}, {"event_type": "TempReading", "fields": {"sensor": "S2", "value": 120.25}}, {"event_type": "TempReading", "data": {"sensor": "S1", "value": -3}}]}""")),
            (HttpMethod.Post, "/api/v1/pipelines", Utf8("""{"name": "fz", "source": "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)"}""")),
            (HttpMethod.Post, $"/api/v1/pipelines/{victim}/reload", Utf8(JsonSerializer.Serialize(new { source = Program }))),
            (HttpMethod.Post, $"/api/v1/pipelines/{victim}/restore", checkpoint),
            (HttpMethod.Post, "/api/v1/tenants", Utf8("""{"name": "acme", "quota_tier": "free"}""")),
        };
        var getPaths = new[] { $"/api/v1/pipelines/{victim}", $"/api/v1/pipelines/{victim}/runs?stream=Pair&limit=5", $"/api/v1/pipelines/{victim}/metrics", "/api/v1/pipelines?limit=10&offset=0", "/api/v1/tenants?limit=3" };

        var rng = new Random(Seed);
        var statuses = new Dictionary<int, int>();
        for (int i = 0; i < Requests; i++)
        {
            if (i % 250 == 0 && i / 250 + 1 < referenceChunks.Length) await FeedReference(i / 250 + 1);
            HttpRequestMessage request;
            string what;
            if (rng.Next(10) == 0)
            {
                // A mutated path or query on a GET route (HttpClient escapes what it must; the server decodes it).
                var path = Encoding.UTF8.GetString(Mutate(Utf8(getPaths[rng.Next(getPaths.Length)]), rng, bodies: false));
                if (!Uri.TryCreate(server.Address, path, out var uri) || uri.Host != server.Address.Host || uri.Port != server.Address.Port) continue;
                request = new HttpRequestMessage(HttpMethod.Get, uri);
                what = "GET " + path;
            }
            else
            {
                var (method, path, seed) = routes[rng.Next(routes.Length)];
                var body = Mutate(seed, rng, bodies: true);
                request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
                what = $"{method} {path} {Convert.ToBase64String(body)}";
            }
            using (request)
            {
                using var response = await http.SendAsync(request);
                int status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(status < 500, $"request {i} ({what}) answered {status}: {text}");
                // A mutated path can land on the web UI's open static files (`/` redirects to `/ui/`): those are pages.
                if (response.RequestMessage?.RequestUri?.AbsolutePath.StartsWith("/ui/", StringComparison.Ordinal) == true && status == 200) continue;
                Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString() ?? "");
                using var doc = JsonDocument.Parse(text);
                if (status >= 400)
                {
                    var code = doc.RootElement.GetProperty("code").GetString()!;
                    Assert.True(ContractCodes.Contains(code), $"request {i} ({what}): code '{code}' is not in the contract: {text}");
                    Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("error").GetString()));
                    Assert.DoesNotContain("LineNumber:", text);
                    Assert.DoesNotContain("BytePositionInLine", text);
                }
            }
        }
        for (int chunk = referenceOutputs.Count; chunk < referenceChunks.Length; chunk++) await FeedReference(chunk);

        // The storm reached both answers: plenty of rejections, and mutations that were still valid requests.
        Assert.True(statuses.Where(kv => kv.Key >= 400).Sum(kv => kv.Value) > Requests / 2, Describe(statuses));
        Assert.True(statuses.GetValueOrDefault(200) + statuses.GetValueOrDefault(201) > 50, Describe(statuses));

        // No pipeline restarted from its journal, and the victim still answers.
        using (var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings.Metrics.Port}") })
        {
            var text = await metrics.GetStringAsync("/metrics");
            Assert.DoesNotContain("varpulis_pipeline_restarts_total{", text);
        }
        Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync($"/api/v1/pipelines/{victim}")).Status);

        // The reference pipeline computed exactly what a pipeline that never saw the storm computes.
        var control = await DeployAsync(http, "control");
        for (int chunk = 0; chunk < referenceChunks.Length; chunk++)
        {
            var r = await http.PostAsync($"/api/v1/pipelines/{control}/events-batch", referenceChunks[chunk]);
            Assert.Equal(r.Body["output_events"]!.ToJsonString(), referenceOutputs[chunk].ToJsonString());
        }
        Assert.NotEqual("[]", string.Concat(referenceOutputs.Select(o => o.ToJsonString())).Replace("][", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NulAndControlBytesInThePathGetAJsonErrorBody()
    {
        await using var server = await TestServer.StartAsync(TestServer.DefaultSettings());
        // Kestrel rejects these itself, before any middleware.
        foreach (var target in new[] { "/api/v1/pipelines/a\0b", "/api/v1/pipelines/%00", "/api/v1/pipelines/\u00ff" })
        {
            var (head, body) = await RawGetAsync(server.Address.Port, target);
            Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", head);
            Assert.Contains("\r\nContent-Type: application/json; charset=utf-8\r\n", head);
            Assert.Equal(
                """{"error":"malformed HTTP request: the request line or a header is invalid (a path may not hold NUL or bytes that are not UTF-8)","code":"invalid_request"}""",
                body);
        }
        // Other control characters reach routing: no such route, in JSON too.
        var (head1, body1) = await RawGetAsync(server.Address.Port, "/api/v1/pipe\u0001lines");
        Assert.StartsWith("HTTP/1.1 404 Not Found\r\n", head1);
        Assert.Equal("""{"error":"no route GET /api/v1/pipe%01lines","code":"not_found"}""", body1);
        // A well-formed request on the same server is unaffected.
        using var http = server.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync("/api/v1/pipelines")).Status);
    }

    [Theory]
    [InlineData("events", "{\"event_type\": \"TempReading\", \"fields\": {\"sensor\": \"S1%FF\"}}",
        "request body is not valid UTF-8: byte 0xFF at offset 54 (line 1, column 55)")]
    [InlineData("events", "{\"event_type\": \"TempReading\", \"fields\": {\"sensor\": \"\\ud800\"}}",
        "request body has an unpaired surrogate escape '\\ud800' at offset 52 (line 1, column 53): JSON strings must be valid Unicode")]
    [InlineData("events-batch", "{\"events\": [{\"event_type\": \"T\", \"fields\": {\"s\": \"\\udc00\\ud800\"}}]}",
        "request body has an unpaired surrogate escape '\\udc00' at offset 49 (line 1, column 50): JSON strings must be valid Unicode")]
    [InlineData("reload", "{\"source\": \"stream A = T\\n .emit(x: \\\"\\ud83d\\\")\"}",
        "request body has an unpaired surrogate escape '\\ud83d' at offset 38 (line 1, column 39): JSON strings must be valid Unicode")]
    [InlineData("restore", "{\"checkpoint\":\n {\"streams\": {\"%C0%80\": {}}}}",
        "request body is not valid UTF-8: byte 0xC0 at offset 30 (line 2, column 16)")]
    [InlineData("events", "{\"event_type\": \"TempReading\",",
        "invalid JSON: line 1, column 30: the text ends before the JSON value is complete (is the body cut short?)")]
    [InlineData("events", "{\"event_type\": \"TempReading\",\n  \"fields\": {\"value\": tru}}",
        "invalid JSON: line 2, column 23: unknown word 'tru': expected true, false, null, a number, a string, an array or an object")]
    [InlineData("events", "{\"event_type\": \"T\", \"fields\": {\"v\": \"a\\qb\"}}",
        "invalid JSON: line 1, column 39: invalid escape in a string: after '\\' comes one of \" \\ / b f n r t or u and 4 hex digits")]
    public async Task BadBytesAndBadJsonAreInvalidRequestSayingWhere(string route, string body, string expected)
    {
        await using var server = await TestServer.StartAsync(TestServer.DefaultSettings());
        using var http = server.Client();
        var id = await DeployAsync(http, "bytes");
        // %XX in the test data is one raw byte.
        var bytes = Regex.Replace(body, "%([0-9A-F]{2})", m => ((char)Convert.ToByte(m.Groups[1].Value, 16)).ToString());
        using var content = new ByteArrayContent(Encoding.Latin1.GetBytes(bytes));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        using var resp = await http.PostAsync($"/api/v1/pipelines/{id}/{route}", content);
        var text = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == HttpStatusCode.BadRequest, text);
        var doc = JsonNode.Parse(text)!;
        Assert.Equal("invalid_request", (string?)doc["code"]);
        Assert.Equal(expected, (string?)doc["error"]);
        // Nothing reached the engine.
        var m = await http.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(0, (long)m.Body["events_processed"]!);
    }

    private static async Task<string> DeployAsync(HttpClient http, string name)
    {
        var r = await http.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = name, ["source"] = Program }.ToJsonString());
        Assert.True(r.Status == HttpStatusCode.Created, r.Body.ToJsonString());
        return (string)r.Body["id"]!;
    }

    /// <summary>Valid events with explicit timestamps, in batches: the reference workload.</summary>
    private static string[] ReferenceChunks()
    {
        var rng = new Random(Seed + 1);
        var chunks = new string[14];
        long t = 1_735_689_600_000;
        for (int c = 0; c < chunks.Length; c++)
        {
            var events = new List<string>();
            for (int k = 0; k < 20; k++)
            {
                t += rng.Next(1, 5_000);
                events.Add($$"""{"event_type": "TempReading", "fields": {"sensor": "S{{rng.Next(4)}}", "value": {{rng.Next(60, 140)}}}, "timestamp": {{t}}}""");
            }
            chunks[c] = Programs.Batch(events);
        }
        return chunks;
    }

    private static readonly string[] BadPieces =
    [
        "\\q", "\\u12", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\u0000", "\\", "\"", "\u0001", "\u0000",
    ];

    private static readonly byte[][] BadBytes = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xE2, 0x82]];

    private static readonly string[] HugeNumbers =
    [
        "1e999999", "99999999999999999999999999", "-9223372036854775809", "1e-400", "-0", "123456789012345678901234567890.5",
        "9223372036854775807", "-1e308", "0.0000000000000000000000001",
    ];

    private static readonly string[] OtherValues = ["null", "true", "[]", "{}", "\"x\"", "-1", "[1, [2, [3]]]", "{\"a\": {}}"];

    private static readonly Regex Number = new(@"-?\d+(\.\d+)?([eE][-+]?\d+)?", RegexOptions.Compiled);

    /// <summary>One to three mutations of a valid request (for a path: only those that keep it text).</summary>
    private static byte[] Mutate(byte[] seed, Random rng, bool bodies)
    {
        var b = seed.ToList();
        int count = 1 + rng.Next(3);
        for (int m = 0; m < count && b.Count > 0; m++)
        {
            switch (rng.Next(bodies ? 9 : 4))
            {
                case 0: // truncate
                    {
                        int keep = rng.Next(b.Count);
                        b.RemoveRange(keep, b.Count - keep);
                        break;
                    }
                case 1: // insert a bad escape or a control character
                    b.InsertRange(rng.Next(b.Count + 1), Encoding.UTF8.GetBytes(BadPieces[rng.Next(BadPieces.Length)]));
                    break;
                case 2: // delete a span
                    {
                        int at = rng.Next(b.Count);
                        b.RemoveRange(at, Math.Min(b.Count - at, 1 + rng.Next(8)));
                        break;
                    }
                case 3: // double a span
                    {
                        int at = rng.Next(b.Count);
                        var span = b.GetRange(at, Math.Min(b.Count - at, 1 + rng.Next(16)));
                        b.InsertRange(at, span);
                        break;
                    }
                case 4: // flip bits
                    for (int k = 1 + rng.Next(3); k > 0; k--)
                    {
                        int at = rng.Next(b.Count);
                        b[at] ^= (byte)(1 << rng.Next(8));
                    }
                    break;
                case 5: // bytes that are not UTF-8
                    b.InsertRange(rng.Next(b.Count + 1), BadBytes[rng.Next(BadBytes.Length)]);
                    break;
                case 6: // deep nesting, as a field or around the whole body
                    {
                        int depth = rng.Next(4) switch { 0 => 60 + rng.Next(20), 1 => 200, 2 => 2_000, _ => 20_000 };
                        var nested = new string('[', depth) + "1" + new string(']', depth);
                        var text = Encoding.UTF8.GetString(b.ToArray());
                        int at = text.IndexOf("\"fields\": {", StringComparison.Ordinal);
                        text = at >= 0 && rng.Next(2) == 0
                            ? text.Insert(at + 11, "\"deep\": " + nested + ", ")
                            : new string('[', depth) + text + new string(']', depth);
                        b = Encoding.UTF8.GetBytes(text).ToList();
                        break;
                    }
                case 7: // a huge or odd number in place of one
                    {
                        var text = Encoding.UTF8.GetString(b.ToArray());
                        var numbers = Number.Matches(text);
                        if (numbers.Count == 0) break;
                        var n = numbers[rng.Next(numbers.Count)];
                        text = text[..n.Index] + HugeNumbers[rng.Next(HugeNumbers.Length)] + text[(n.Index + n.Length)..];
                        b = Encoding.UTF8.GetBytes(text).ToList();
                        break;
                    }
                default: // a value of another type in place of one
                    {
                        var text = Encoding.UTF8.GetString(b.ToArray());
                        int colon = text.IndexOf(": ", rng.Next(Math.Max(1, text.Length)), StringComparison.Ordinal);
                        if (colon < 0) break;
                        int end = colon + 2;
                        while (end < text.Length && text[end] is not ',' and not '}' and not ']') end++;
                        text = text[..(colon + 2)] + OtherValues[rng.Next(OtherValues.Length)] + text[end..];
                        b = Encoding.UTF8.GetBytes(text).ToList();
                        break;
                    }
            }
        }
        return b.ToArray();
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static string Describe(Dictionary<int, int> statuses) => string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"));

    /// <summary>A GET with the request target sent as raw bytes (Latin-1), and the response's head and body.</summary>
    private static async Task<(string Head, string Body)> RawGetAsync(int port, string target)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = client.GetStream();
        var request = Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request);
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms);
        var text = Encoding.UTF8.GetString(ms.ToArray());
        int split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (text[..(split + 2)], text[(split + 4)..]);
    }
}
