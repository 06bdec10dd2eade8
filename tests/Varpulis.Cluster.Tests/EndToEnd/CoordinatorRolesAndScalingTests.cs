using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// Role keys (<c>--api-keys FILE</c>: 401/403 per role, by method and path) and scaling recommendations POSTed to a
/// real local HTTP listener (<c>--scaling-*</c>), on real coordinator processes.
/// </summary>
public sealed class CoordinatorRolesAndScalingTests
{
    private const string AdminKey = "admin-key-0001";
    private const string ViewerKey = "viewer-key-0001";
    private const string OperatorKey = "operator-key-01";
    private const string FileAdminKey = "file-admin-key1";

    [Fact]
    public async Task EachRoleMayDoWhatItsRoleAllowsAndNoMore()
    {
        var dir = ServerProcess.TempDir();
        var keys = Path.Combine(dir, "keys.json");
        await File.WriteAllTextAsync(keys, $$"""
            {"keys": [
              {"key": "{{ViewerKey}}", "role": "viewer", "name": "dashboard"},
              {"key": "{{OperatorKey}}", "role": "operator", "name": "ci"},
              {"key": "{{FileAdminKey}}", "role": "admin"}
            ]}
            """);
        int port = ServerProcess.FreePort();
        await using var coordinator = ServerProcess.Start(port,
            ["coordinator", "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--api-key", AdminKey, "--api-keys", keys], null, dir);
        await coordinator.WaitReadyAsync(TimeSpan.FromSeconds(120));
        using var http = new HttpClient { BaseAddress = coordinator.Address, Timeout = TimeSpan.FromSeconds(60) };
        var source = """{"name": "p", "source": "stream A = B .emit(x: 1)"}""";

        string[] matrix =
        [
            // method path body → viewer, operator, admin (file), admin (--api-key), no key, wrong key
            Row(http, "GET", "/api/v1/cluster/workers", null),
            Row(http, "GET", "/api/v1/cluster/scaling", null),
            Row(http, "GET", "/api/v1/cluster/raft/status", null),
            Row(http, "POST", "/api/v1/cluster/validate", """{"source": "stream A = B .emit(x: 1)"}"""),
            Row(http, "POST", "/api/v1/cluster/rebalance", null),
            Row(http, "POST", "/api/v1/pipelines", source),
            Row(http, "POST", "/api/v1/cluster/workers/nope/drain", null),
            Row(http, "DELETE", "/api/v1/cluster/workers/nope", null),
            Row(http, "DELETE", "/api/v1/cluster/pipeline-groups/nope", null),
            Row(http, "GET", "/api/v1/tenants", null),
        ];
        var results = new List<string>();
        foreach (var row in matrix) results.Add(await RunRowAsync(http, row));
        Assert.Equal(
            string.Join("\n",
            [
                "GET /api/v1/cluster/workers: 200 200 200 200 401 401",
                "GET /api/v1/cluster/scaling: 200 200 200 200 401 401",
                "GET /api/v1/cluster/raft/status: 200 200 200 200 401 401",
                "POST /api/v1/cluster/validate: 200 200 200 200 401 401",
                "POST /api/v1/cluster/rebalance: 403 200 200 200 401 401",
                "POST /api/v1/pipelines: 403 503 503 503 401 401",
                "POST /api/v1/cluster/workers/nope/drain: 403 404 404 404 401 401",
                "DELETE /api/v1/cluster/workers/nope: 403 403 404 404 401 401",
                "DELETE /api/v1/cluster/pipeline-groups/nope: 403 403 404 404 401 401",
                "GET /api/v1/tenants: 403 403 200 200 401 401",
            ]),
            string.Join("\n", results));

        // The 403 body says what was needed; the keys themselves appear in no log line.
        using var req = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/cluster/workers/nope");
        req.Headers.Add("x-api-key", OperatorKey);
        using var resp = await http.SendAsync(req);
        Assert.Equal(HttpStatusCode.Forbidden, resp.StatusCode);
        Assert.Equal("""{"error":"DELETE /api/v1/cluster/workers/nope needs the admin role; this key has the operator role","code":"forbidden"}""",
            await resp.Content.ReadAsStringAsync());
        foreach (var key in new[] { AdminKey, ViewerKey, OperatorKey, FileAdminKey }) Assert.DoesNotContain(key, coordinator.Output);
    }

    [Fact]
    public async Task ABadKeysFileStopsTheCoordinatorWithoutShowingAKey()
    {
        var dir = ServerProcess.TempDir();
        var keys = Path.Combine(dir, "keys.json");
        await File.WriteAllTextAsync(keys, """{"keys": [{"key": "secret-key-zzz", "role": "root", "name": "ops"}]}""");
        int port = ServerProcess.FreePort();
        await using var coordinator = ServerProcess.Start(port, ["coordinator", "--port", port.ToString(CultureInfo.InvariantCulture), "--api-keys", keys], null, dir);
        Assert.Equal(2, await coordinator.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"--api-keys file '{keys}', keys[0] (ops): unknown role 'root' (viewer, operator or admin)", coordinator.Output);
        Assert.DoesNotContain("secret-key-zzz", coordinator.Output);
    }

    private static string[] RowKeys => [ViewerKey, OperatorKey, FileAdminKey, AdminKey, "", "wrong-key-000"];

    private static string Row(HttpClient _, string method, string path, string? body) => $"{method} {path} {body}";

    private static async Task<string> RunRowAsync(HttpClient http, string row)
    {
        var parts = row.Split(' ', 3);
        var (method, path, body) = (parts[0], parts[1], parts[2].Length == 0 ? null : parts[2]);
        var codes = new List<string>();
        foreach (var key in RowKeys)
        {
            using var req = new HttpRequestMessage(new HttpMethod(method), path);
            if (key.Length > 0) req.Headers.Add("x-api-key", key);
            if (body is not null) req.Content = new StringContent(body, Encoding.UTF8, "application/json");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var resp = await http.SendAsync(req);
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) codes.Add($"(slow {clock.Elapsed.TotalSeconds:0} s)");
            codes.Add(((int)resp.StatusCode).ToString(CultureInfo.InvariantCulture));
            if (resp.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
            {
                var code = (string?)JsonNode.Parse(await resp.Content.ReadAsStringAsync())!["code"];
                Assert.Equal(resp.StatusCode == HttpStatusCode.Forbidden ? "forbidden" : "invalid_api_key", code);
            }
        }
        return $"{method} {path}: {string.Join(' ', codes)}";
    }

    [Fact]
    public async Task TooFewWorkersAreReportedToTheWebhookAsScaleUpToTheMinimum()
    {
        await using var hook = new WebhookListener(failFirst: 1);
        var dir = ServerProcess.TempDir();
        int port = ServerProcess.FreePort();
        await using var coordinator = ServerProcess.Start(port,
        [
            "coordinator", "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--scaling-min-workers", "2", "--scaling-max-workers", "10", "--scaling-up-threshold", "5.0", "--scaling-down-threshold", "1.0",
            "--scaling-webhook-url", hook.Url + "scale", "--scaling-webhook-interval", "2", "--scaling-interval", "0.5",
        ], null, dir);
        await coordinator.WaitReadyAsync(TimeSpan.FromSeconds(120));
        await ClusterRun.WaitForAsync("two webhook deliveries", () => Task.FromResult(hook.Received.Count(r => r.Status == 200) >= 2), TimeSpan.FromSeconds(120));

        var received = hook.Received.ToList();
        // The first POST failed (500) and was retried after 1 s; the failure was logged.
        Assert.Equal(500, received[0].Status);
        Assert.Equal(received[0].Body, received[1].Body);
        Assert.Contains($"Scaling webhook {hook.Url}scale failed (HTTP 500); retrying in 1 s", coordinator.Output);
        var body = JsonNode.Parse(received[1].Body)!.AsObject();
        Assert.Equal(["action", "current_workers", "target_workers", "reason", "avg_pipelines_per_worker", "total_pipelines", "timestamp"], body.Select(kv => kv.Key));
        Assert.Equal(("scale_up", 0, 2, "0 healthy workers, below the minimum of 2", 0.0, 0),
            ((string)body["action"]!, (int)body["current_workers"]!, (int)body["target_workers"]!, (string)body["reason"]!, (double)body["avg_pipelines_per_worker"]!, (int)body["total_pipelines"]!));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)body["timestamp"]!);
        Assert.Equal("application/json; charset=utf-8", received[1].ContentType);

        // At most once per interval (2 s here): the next delivery's recommendation is at least 2 s younger.
        var delivered = received.Where(r => r.Status == 200).Select(r => DateTimeOffset.Parse((string)JsonNode.Parse(r.Body)!["timestamp"]!, CultureInfo.InvariantCulture)).ToList();
        Assert.True(delivered[1] - delivered[0] >= TimeSpan.FromSeconds(1.9), $"{delivered[0]:O} then {delivered[1]:O}");

        // GET /api/v1/cluster/scaling answers the same recommendation.
        using var http = new HttpClient { BaseAddress = coordinator.Address };
        var now = JsonNode.Parse(await http.GetStringAsync("/api/v1/cluster/scaling"))!;
        Assert.Equal(("scale_up", 0, 2), ((string)now["action"]!, (int)now["current_workers"]!, (int)now["target_workers"]!));
    }

    [Fact]
    public async Task MorePipelinesPerWorkerThanTheUpThresholdAreReportedAsScaleUpByLoad()
    {
        await using var hook = new WebhookListener(failFirst: 0);
        var dir = ServerProcess.TempDir();
        int port = ServerProcess.FreePort();
        int workerPort = ServerProcess.FreePort();
        await using var coordinator = ServerProcess.Start(port,
        [
            "coordinator", "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--heartbeat-interval", "1", "--heartbeat-timeout", "5",
            "--scaling-min-workers", "1", "--scaling-max-workers", "10", "--scaling-up-threshold", "1.0", "--scaling-down-threshold", "0.5",
            "--scaling-webhook-url", hook.Url + "scale", "--scaling-webhook-interval", "1", "--scaling-interval", "0.5",
        ], null, dir);
        await coordinator.WaitReadyAsync(TimeSpan.FromSeconds(120));
        await using var worker = ServerProcess.Start(workerPort,
        [
            "server", "--bind", "127.0.0.1", "--port", workerPort.ToString(CultureInfo.InvariantCulture), "--coordinator", $"http://127.0.0.1:{port}",
            "--worker-id", "worker-0", "--advertise-address", $"http://127.0.0.1:{workerPort}",
        ], null, dir);
        await worker.WaitReadyAsync(TimeSpan.FromSeconds(120));
        using var http = new HttpClient { BaseAddress = coordinator.Address, Timeout = TimeSpan.FromSeconds(60) };
        await ClusterRun.WaitForAsync("one healthy worker, stable", async () =>
            (string?)JsonNode.Parse(await http.GetStringAsync("/api/v1/cluster/scaling"))!["action"] == "stable");
        int before = hook.Received.Count;
        foreach (var name in new[] { "a", "b", "c" })
        {
            using var resp = await http.PostAsync("/api/v1/pipelines", new StringContent($$"""{"name": "{{name}}", "source": "stream A = B .emit(x: 1)"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, resp.StatusCode);
        }
        await ClusterRun.WaitForAsync("scale_up to 3 at the webhook", () => Task.FromResult(hook.Received.Skip(before).Any(r => r.Body.Contains("\"target_workers\":3", StringComparison.Ordinal))), TimeSpan.FromSeconds(120));
        var body = JsonNode.Parse(hook.Received.Skip(before).First(r => r.Body.Contains("\"target_workers\":3", StringComparison.Ordinal)).Body)!;
        Assert.Equal(("scale_up", 1, 3, "3 pipelines per worker, above the up-threshold of 1", 3.0, 3),
            ((string)body["action"]!, (int)body["current_workers"]!, (int)body["target_workers"]!, (string)body["reason"]!, (double)body["avg_pipelines_per_worker"]!, (int)body["total_pipelines"]!));
    }

    /// <summary>A real HTTP listener on loopback that records each POST (and answers 500 to the first <c>failFirst</c>).</summary>
    private sealed class WebhookListener : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private int _failLeft;

        public WebhookListener(int failFirst)
        {
            _failLeft = failFirst;
            int port = ServerProcess.FreePort();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Url { get; }

        public ConcurrentQueue<(int Status, string Body, string? ContentType)> Received { get; } = new();

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                int status = Interlocked.Decrement(ref _failLeft) >= 0 ? 500 : 200;
                Received.Enqueue((status, body, ctx.Request.ContentType));
                ctx.Response.StatusCode = status;
                ctx.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
