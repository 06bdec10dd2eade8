using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// Three coordinators started with the runbook's §1.3 command (ports changed, loopback, short heartbeats, one
/// <c>--raft-data-dir</c> each under one working directory) and workers (§1.2), as real processes. Killed at disposal.
/// </summary>
public sealed class HaRun : IAsyncDisposable
{
    public const string CoordinatorKey = "coordinator-key";
    public const string WorkerKey = "worker-key";

    private readonly ServerProcess?[] _coordinators = new ServerProcess?[3];
    private readonly Dictionary<string, (ServerProcess Process, int Port)> _workers = new(StringComparer.Ordinal);
    private readonly List<ServerProcess> _all = new();
    private readonly object _gate = new();

    private readonly IDictionary<string, string>? _coordinatorEnv;

    /// <param name="coordinatorEnv">The coordinators' environment (PostgreSQL settings); workers get the journal when they join.</param>
    public HaRun(IDictionary<string, string>? coordinatorEnv = null)
    {
        _coordinatorEnv = coordinatorEnv;
        Directory = ServerProcess.TempDir();
        Ports = [ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort()];
    }

    public string Directory { get; }

    /// <summary>The API ports of coordinators 1, 2 and 3 (index 0, 1, 2).</summary>
    public int[] Ports { get; }

    public string Peers => string.Join(",", Ports.Select(p => $"http://127.0.0.1:{p}"));

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public Uri Url(int nodeId) => new($"http://127.0.0.1:{Ports[nodeId - 1]}");

    public ServerProcess Coordinator(int nodeId) => _coordinators[nodeId - 1]!;

    public IEnumerable<int> Running
    {
        get
        {
            lock (_gate) return Enumerable.Range(1, 3).Where(i => _coordinators[i - 1] is { HasExited: false }).ToList();
        }
    }

    /// <summary>Runs <paramref name="scenario"/> on a new run; a failure carries every process's output.</summary>
    public static async Task RunAsync(IDictionary<string, string>? coordinatorEnv, Func<HaRun, Task> scenario)
    {
        await using var run = new HaRun(coordinatorEnv);
        try
        {
            await scenario(run);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + run.Logs());
        }
    }

    /// <summary>
    /// Starts the three coordinators at the same instant, as runbook §1.3's three commands are run, and waits until they
    /// agree on a leader and exactly one of them started the cluster (launched at once, two used to see different
    /// majorities for a moment and each start a cluster: RaftStartRuleTests).
    /// </summary>
    public async Task<(int Leader, long Term)> StartCoordinatorsAsync()
    {
        LaunchCoordinator(1);
        LaunchCoordinator(2);
        LaunchCoordinator(3);
        foreach (int id in new[] { 1, 2, 3 }) await Coordinator(id).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var agreed = await AgreedLeaderAsync([1, 2, 3]);
        Assert.Equal(1, new[] { 1, 2, 3 }.Sum(id => Coordinator(id).Output.Split('\n').Count(l => l.Contains("has the lowest id of the", StringComparison.Ordinal))));
        return agreed;
    }

    /// <summary>§1.3 for coordinator <paramref name="nodeId"/>, without waiting.</summary>
    public ServerProcess LaunchCoordinator(int nodeId) => LaunchCoordinator(nodeId, nodeId, [1, 2, 3], DataDir(nodeId));

    /// <summary>The <c>--raft-data-dir</c> of coordinator <paramref name="slot"/> (as <see cref="LaunchCoordinator(int)"/> gives it).</summary>
    public string DataDir(int slot) => Path.Combine(Directory, $"raft-{slot}");

    /// <summary>
    /// §1.3 on the port of <paramref name="slot"/> (1–3: the requests of this class address coordinators by slot), with
    /// <c>--raft-node-id <paramref name="nodeId"/></c>, the peers of <paramref name="peerSlots"/> in that order and
    /// <paramref name="dataDir"/>: runbook §4.2's single-node bootstrap and the nodes added after it.
    /// </summary>
    public ServerProcess LaunchCoordinator(int slot, int nodeId, IReadOnlyList<int> peerSlots, string dataDir)
    {
        var peers = string.Join(",", peerSlots.Select(s => $"http://127.0.0.1:{Ports[s - 1]}"));
        var p = ServerProcess.Start(Ports[slot - 1],
        [
            "coordinator", "--bind", "127.0.0.1", "--port", Str(Ports[slot - 1]), "--api-key", CoordinatorKey,
            "--heartbeat-interval", "1", "--heartbeat-timeout", "5",
            "--raft", "--raft-node-id", Str(nodeId), "--raft-peers", peers, "--raft-data-dir", dataDir,
        ], _coordinatorEnv, Directory);
        lock (_gate)
        {
            _coordinators[slot - 1] = p;
            _all.Add(p);
        }
        return p;
    }

    /// <summary>Stops (SIGTERM) every worker and waits for each to exit.</summary>
    public async Task StopWorkersAsync()
    {
        List<ServerProcess> workers;
        lock (_gate) workers = _workers.Values.Select(w => w.Process).ToList();
        await Task.WhenAll(workers.Select(w => w.StopAsync(TimeSpan.FromSeconds(90))));
    }

    public void KillCoordinator(int nodeId) => Coordinator(nodeId).Kill9();

    /// <summary>§1.2 step 2 for a worker that asks coordinator <paramref name="via"/> for its cluster.</summary>
    public async Task StartWorkerAsync(string id, int via)
    {
        int port = ServerProcess.FreePort();
        var p = ServerProcess.Start(port,
        [
            "server", "--bind", "127.0.0.1", "--port", Str(port), "--api-key", WorkerKey, "--metrics", "--metrics-port", Str(ServerProcess.FreePort()),
            "--coordinator", $"http://127.0.0.1:{Ports[via - 1]}", "--worker-id", id, "--advertise-address", $"http://127.0.0.1:{port}",
        ], null, Directory);
        lock (_gate)
        {
            _workers[id] = (p, port);
            _all.Add(p);
        }
        await p.WaitReadyAsync(TimeSpan.FromSeconds(180));
    }

    /// <summary>The workers' API endpoints with their key (where the producers send events).</summary>
    public IReadOnlyList<(Uri Url, string Key)> WorkerEndpoints()
    {
        lock (_gate) return _workers.Values.Select(w => (new Uri($"http://127.0.0.1:{w.Port}"), WorkerKey)).ToList();
    }

    /// <summary>A request with the coordinator key: status, body and the Retry-After header.</summary>
    public async Task<(HttpStatusCode Status, string Body, string? RetryAfter)> SendAsync(int nodeId, HttpMethod method, string path, string? json = null, TimeSpan? timeout = null)
    {
        using var req = new HttpRequestMessage(method, new Uri(Url(nodeId), path));
        req.Headers.Add("x-api-key", CoordinatorKey);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        using var resp = await Http.SendAsync(req, cts.Token);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync(cts.Token), resp.Headers.TryGetValues("Retry-After", out var v) ? v.First() : null);
    }

    public async Task<JsonNode> GetAsync(int nodeId, string path)
    {
        var (status, body, _) = await SendAsync(nodeId, HttpMethod.Get, path, timeout: TimeSpan.FromSeconds(10));
        if (status != HttpStatusCode.OK) throw new InvalidOperationException($"GET {path} on coordinator {nodeId}: {(int)status} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>
    /// The first successful answer to a GET on coordinator <paramref name="nodeId"/>: retried only while it answers 503
    /// (a singleton still moving to it), never for what it answers with 200.
    /// </summary>
    public async Task<JsonNode> FirstAnswerAsync(int nodeId, string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var (status, body, _) = await SendAsync(nodeId, HttpMethod.Get, path);
            if (status == HttpStatusCode.OK) return JsonNode.Parse(body)!;
            if (status != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"GET {path} on coordinator {nodeId}: {(int)status} {body}");
            await Task.Delay(200);
        }
    }

    /// <summary>(leader_id, term) as each of <paramref name="nodes"/> reports it, once they all agree on one leader.</summary>
    public async Task<(int Leader, long Term)> AgreedLeaderAsync(IEnumerable<int> nodes, Func<int, long, bool>? accept = null, TimeSpan? timeout = null)
    {
        (int, long) agreed = default;
        var list = nodes.ToList();
        await ClusterRun.WaitForAsync($"coordinators {string.Join(",", list)} agreeing on a leader", async () =>
        {
            var views = new List<(int?, long)>();
            foreach (var n in list)
            {
                var s = await GetAsync(n, "/api/v1/cluster/raft/status");
                views.Add(((int?)s["leader_id"], (long)s["term"]!));
            }
            if (views.Distinct().Count() != 1 || views[0].Item1 is not { } leader) return false;
            if (accept is not null && !accept(leader, views[0].Item2)) return false;
            agreed = (leader, views[0].Item2);
            return true;
        }, timeout ?? TimeSpan.FromSeconds(180));
        return agreed;
    }

    public string Logs()
    {
        lock (_gate)
        {
            var sb = new StringBuilder();
            foreach (var p in _all) sb.Append("---- pid ").Append(p.Pid).Append(" port ").Append(p.Port).Append('\n').Append(p.Output);
            return sb.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ServerProcess> all;
        lock (_gate) all = _all.ToList();
        foreach (var p in all) await p.DisposeAsync();
        Http.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Str(int i) => i.ToString(CultureInfo.InvariantCulture);
}
