using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Varpulis.Pbm.Tests;

/// <summary>
/// A real three-node cluster on loopback: <c>varpulis coordinator</c> and two workers (<c>varpulis server --coordinator</c>,
/// the runbook's §1.2 commands with ports changed), each with its own key, management port and remoting port chosen
/// here (so every address pbm prints is known), sharing one working directory (the embedded journal of the
/// coordinator). Processes are killed at disposal.
/// </summary>
public sealed class PbmCluster : IAsyncLifetime
{
    public const string CoordinatorKey = "coordinator-key";
    public const string WorkerKey = "worker-key";
    public static readonly IReadOnlyList<string> WorkerIds = ["worker-0", "worker-1"];

    private readonly List<ServerProcess> _processes = new();

    public string Directory { get; } = ServerProcess.TempDir();

    public Node Coordinator { get; private set; } = null!;

    public IReadOnlyList<Node> Workers { get; private set; } = [];

    /// <summary>A node: its process, its API and management ports, its Akka address and its key.</summary>
    public sealed record Node(ServerProcess Process, int ApiPort, int ManagementPort, string Address, string Key, string? WorkerId)
    {
        /// <summary><c>127.0.0.1:PORT</c> of the management endpoint, as pbm takes it.</summary>
        public string Target => "127.0.0.1:" + Str(ManagementPort);

        public Uri Api => new($"http://127.0.0.1:{Str(ApiPort)}");

        /// <summary>Runs <c>pbm TARGET --api-key KEY ARGS</c> against this node.</summary>
        public Task<PbmRun> PbmAsync(params string[] args) => PbmNode.RunAsync([Target, "--api-key", Key, .. args]);
    }

    public async Task InitializeAsync()
    {
        Coordinator = Launch("coordinator", null,
        [
            "--heartbeat-interval", "1", "--heartbeat-timeout", "15",
        ]);
        await Coordinator.Process.WaitReadyAsync(TimeSpan.FromSeconds(120));
        var workers = WorkerIds.Select(id => Launch("server", id, [])).ToList();
        foreach (var w in workers) await w.Process.WaitReadyAsync(TimeSpan.FromSeconds(120));
        Workers = workers;
        // Registered: the coordinator lists both as ready, each with a heartbeat.
        await EventuallyAsync("both workers registered and ready", async () =>
        {
            var list = JsonNode.Parse(await GetAsync(Coordinator, "/api/v1/cluster/workers"))!.AsArray();
            return list.Count == 2 && list.All(w => (string?)w!["status"] == "ready" && w["last_heartbeat"] is not null);
        });
    }

    private Node Launch(string command, string? workerId, string[] extra)
    {
        int api = ServerProcess.FreePort();
        int management = ServerProcess.FreePort();
        int remoting = ServerProcess.FreePort();
        var key = workerId is null ? CoordinatorKey : WorkerKey;
        var config = Path.Combine(Directory, (workerId ?? "coordinator") + ".yaml");
        File.WriteAllText(config, $"cluster:\n  port: {Str(remoting)}\n");
        List<string> args =
        [
            command, "--bind", "127.0.0.1", "--port", Str(api), "--api-key", key, "--management-port", Str(management), "--config", config,
        ];
        if (workerId is not null)
        {
            args.AddRange(["--coordinator", $"http://127.0.0.1:{Str(Coordinator.ApiPort)}", "--worker-id", workerId, "--advertise-address", $"http://127.0.0.1:{Str(api)}"]);
        }
        args.AddRange(extra);
        var p = ServerProcess.Start(api, args, null, Directory);
        _processes.Add(p);
        return new Node(p, api, management, $"akka.tcp://varpulis@127.0.0.1:{Str(remoting)}", key, workerId);
    }

    /// <summary>Deploys a pipeline through the coordinator's REST API; returns its id.</summary>
    public async Task<string> DeployAsync(string name)
    {
        using var http = Client(Coordinator);
        using var r = await http.PostAsJsonAsync("/api/v1/pipelines", new Dictionary<string, string>
        {
            ["name"] = name,
            ["source"] = "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)",
        });
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"deploy failed: {(int)r.StatusCode} {body}");
        return (string)JsonNode.Parse(body)!["id"]!;
    }

    /// <summary>Where the coordinator's REST API says each pipeline runs: id to worker id.</summary>
    public async Task<IReadOnlyDictionary<string, string?>> PlacementsAsync()
    {
        var list = JsonNode.Parse(await GetAsync(Coordinator, "/api/v1/pipelines"))!["pipelines"]!.AsArray();
        return list.ToDictionary(p => (string)p!["id"]!, p => (string?)p!["worker_id"]);
    }

    public static async Task<string> GetAsync(Node node, string path)
    {
        using var http = Client(node);
        using var r = await http.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"GET {path}: {(int)r.StatusCode} {body}");
        return body;
    }

    private static HttpClient Client(Node node)
    {
        var http = new HttpClient { BaseAddress = node.Api, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Add("x-api-key", node.Key);
        return http;
    }

    /// <summary>Waits until <paramref name="condition"/> holds (a loaded machine may take a while), or fails with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(string what, Func<Task<bool>> condition, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for " + what);
            await Task.Delay(250);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _processes) await p.DisposeAsync();
    }

    private static string Str(int n) => n.ToString(CultureInfo.InvariantCulture);
}
