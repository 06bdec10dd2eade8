using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Varpulis.TestSupport;

namespace Varpulis.Ui.Tests.Infrastructure;

/// <summary>
/// A real cluster for the Cluster page: a <c>varpulis coordinator</c> process and worker processes started as the
/// runbook starts them (loopback, free ports, short heartbeats, one working directory), each with its own key, and one
/// headless Chromium. Workers are started by the tests (<see cref="StartWorkerAsync"/>) so they decide where pipelines
/// land. Every process is killed at disposal.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string CoordinatorKey = "coordinator-ui-key";
    public const string WorkerKey = "worker-ui-key";

    /// <summary>The coordinator's <c>--scaling-min-workers</c>: more than the tests ever start.</summary>
    public const int ScalingMinWorkers = 3;

    private readonly Dictionary<string, ServerProcess> _workers = new(StringComparer.Ordinal);
    private readonly string _dir = ServerProcess.TempDir();

    public ServerProcess Coordinator { get; private set; } = null!;

    public Browser Browser { get; private set; } = null!;

    /// <summary>An API client of the coordinator with its key.</summary>
    public HttpClient Api { get; private set; } = null!;

    public Uri Ui => new(Coordinator.Address, "/ui/");

    public ServerProcess Worker(string id) => _workers[id];

    public async Task InitializeAsync()
    {
        int port = ServerProcess.FreePort();
        Coordinator = ServerProcess.Start(port,
        [
            "coordinator", "--bind", "127.0.0.1", "--port", Str(port), "--api-key", CoordinatorKey,
            "--heartbeat-interval", "1", "--heartbeat-timeout", "5",
            // Three workers wanted, two at most run: the scaling section has a recommendation to show.
            "--scaling-min-workers", Str(ScalingMinWorkers), "--scaling-interval", "1",
        ], null, _dir);
        await Coordinator.WaitReadyAsync(TimeSpan.FromSeconds(120));
        Api = new HttpClient { BaseAddress = Coordinator.Address, Timeout = TimeSpan.FromSeconds(120) };
        Api.DefaultRequestHeaders.Add("x-api-key", CoordinatorKey);
        Browser = Browser.Start();
    }

    public async Task DisposeAsync()
    {
        Browser?.Dispose();
        Api?.Dispose();
        foreach (var w in _workers.Values) await w.DisposeAsync();
        if (Coordinator is not null) await Coordinator.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Starts a worker that joins the coordinator and waits until the coordinator lists it ready with a heartbeat.</summary>
    public async Task StartWorkerAsync(string id)
    {
        int port = ServerProcess.FreePort();
        var p = ServerProcess.Start(port,
        [
            "server", "--bind", "127.0.0.1", "--port", Str(port), "--api-key", WorkerKey,
            "--coordinator", Coordinator.Address.ToString().TrimEnd('/'), "--worker-id", id, "--advertise-address", $"http://127.0.0.1:{port}",
        ], null, _dir);
        _workers[id] = p;
        await p.WaitReadyAsync(TimeSpan.FromSeconds(120));
        await WaitForAsync($"worker {id} registered and ready", async () =>
            (await WorkersAsync()).Any(w => (string?)w!["id"] == id && (string?)w["status"] == "ready" && w["last_heartbeat"] is not null));
    }

    public async Task<JsonArray> WorkersAsync() => (await GetAsync("/api/v1/cluster/workers")).AsArray();

    public async Task<JsonNode> GetAsync(string path)
    {
        using var r = await Api.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        if (r.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {path}: {(int)r.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>POSTs JSON to the coordinator and returns the reply, which must have <paramref name="expected"/> status.</summary>
    public async Task<JsonNode> PostAsync(string path, string json, HttpStatusCode expected)
    {
        using var r = await Api.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"POST {path}: {(int)r.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    public static async Task WaitForAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(250);
        }
        throw new TimeoutException($"timed out waiting for {what}");
    }

    /// <summary>Every process's output, for a failing test's message.</summary>
    public string Logs()
    {
        var sb = new StringBuilder();
        foreach (var p in _workers.Values.Prepend(Coordinator)) sb.Append("---- port ").Append(p.Port).Append('\n').Append(p.Output);
        return sb.ToString();
    }

    private static string Str(int i) => i.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster-ui";
}
