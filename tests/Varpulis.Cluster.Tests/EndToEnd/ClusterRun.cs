using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// A cluster of real <c>varpulis</c> processes on loopback, started with the runbook's §1.2 commands (ports changed,
/// bound to 127.0.0.1, short heartbeats): a coordinator and workers sharing one working directory (so the default
/// state directories are the runbook's), each with its own key. Processes are killed at disposal.
/// </summary>
public sealed class ClusterRun : IAsyncDisposable
{
    public const string CoordinatorKey = "coordinator-key";
    public const string WorkerKey = "worker-key";

    private readonly Dictionary<string, ServerProcess> _workers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Api, int Metrics)> _ports = new(StringComparer.Ordinal);
    private readonly IDictionary<string, string>? _coordinatorEnv;
    private readonly List<ServerProcess> _all = new();
    private readonly object _gate = new();

    public ClusterRun(IDictionary<string, string>? coordinatorEnv = null)
    {
        _coordinatorEnv = coordinatorEnv;
        Directory = ServerProcess.TempDir();
        CoordinatorPort = ServerProcess.FreePort();
    }

    /// <summary>The working directory of every process.</summary>
    public string Directory { get; }

    public int CoordinatorPort { get; }

    public Uri CoordinatorUrl => new($"http://127.0.0.1:{CoordinatorPort}");

    public ServerProcess? Coordinator { get; private set; }

    public HttpClient Admin { get; } = new() { Timeout = TimeSpan.FromSeconds(120) };

    public IReadOnlyCollection<string> RunningWorkers
    {
        get
        {
            lock (_gate) return _workers.Keys.ToList();
        }
    }

    public ServerProcess Worker(string id)
    {
        lock (_gate) return _workers[id];
    }

    /// <summary>Where a client may send a request now, with that node's own key: the coordinator and every running worker.</summary>
    public IReadOnlyList<(Uri Url, string Key)> Endpoints()
    {
        lock (_gate)
        {
            var list = _workers.Keys.Select(id => (new Uri($"http://127.0.0.1:{_ports[id].Api}"), WorkerKey)).ToList();
            if (Coordinator is not null) list.Add((CoordinatorUrl, CoordinatorKey));
            return list;
        }
    }

    /// <summary>§1.2 step 1, ports changed.</summary>
    public async Task StartCoordinatorAsync()
    {
        var p = ServerProcess.Start(CoordinatorPort,
        [
            "coordinator", "--bind", "127.0.0.1", "--port", Str(CoordinatorPort), "--api-key", CoordinatorKey,
            "--heartbeat-interval", "1", "--heartbeat-timeout", "5",
        ], _coordinatorEnv, Directory);
        lock (_gate)
        {
            Coordinator = p;
            _all.Add(p);
        }
        await p.WaitReadyAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>§1.2 step 2 for one worker (its ports stay the same across restarts), without waiting for it.</summary>
    public ServerProcess LaunchWorker(string id)
    {
        (int api, int metrics) ports;
        lock (_gate)
        {
            if (!_ports.TryGetValue(id, out ports)) _ports[id] = ports = (ServerProcess.FreePort(), ServerProcess.FreePort());
        }
        var p = ServerProcess.Start(ports.api,
        [
            "server", "--bind", "127.0.0.1", "--port", Str(ports.api), "--api-key", WorkerKey, "--metrics", "--metrics-port", Str(ports.metrics),
            "--coordinator", CoordinatorUrl.ToString().TrimEnd('/'), "--worker-id", id, "--advertise-address", $"http://127.0.0.1:{ports.api}",
        ], null, Directory);
        lock (_gate)
        {
            _workers[id] = p;
            _all.Add(p);
        }
        return p;
    }

    public async Task StartWorkerAsync(string id)
    {
        var p = LaunchWorker(id);
        await p.WaitReadyAsync(TimeSpan.FromSeconds(120));
        await WaitForAsync($"worker {id} registered and ready", async () =>
            (await WorkersAsync()).Any(w => (string?)w!["id"] == id && (string?)w["status"] == "ready" && w["last_heartbeat"] is not null));
    }

    /// <summary>SIGTERM (as <c>docker stop</c>), waiting for the process to end.</summary>
    public async Task StopWorkerAsync(string id)
    {
        ServerProcess p;
        lock (_gate)
        {
            p = _workers[id];
            _workers.Remove(id);
        }
        await p.StopAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary><c>kill -9</c>.</summary>
    public void KillWorker(string id)
    {
        ServerProcess p;
        lock (_gate)
        {
            p = _workers[id];
            _workers.Remove(id);
        }
        p.Kill9();
    }

    /// <summary>A worker's Prometheus text (its <c>--metrics-port</c>).</summary>
    public async Task<string> MetricsAsync(string workerId)
    {
        int port;
        lock (_gate) port = _ports[workerId].Metrics;
        return await Admin.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
    }

    public Task<JsonArray> WorkersAsync() => GetAsync("/api/v1/cluster/workers").ContinueWith(t => t.Result.AsArray(), TaskScheduler.Default);

    public async Task<JsonNode> GetAsync(string path)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, path);
        if (status != HttpStatusCode.OK) throw new InvalidOperationException($"GET {path}: {(int)status} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>A request to the coordinator with its key: status and body text.</summary>
    public async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string? json = null, Uri? baseUrl = null, string? key = null)
    {
        using var req = new HttpRequestMessage(method, new Uri(baseUrl ?? CoordinatorUrl, path));
        req.Headers.Add("x-api-key", key ?? CoordinatorKey);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var resp = await Admin.SendAsync(req);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    /// <summary>Runs Debian's <c>jq</c> with the runbook's filter over a JSON document.</summary>
    public static async Task<string> JqAsync(string json, string filter)
    {
        var psi = new ProcessStartInfo("jq", ["-c", filter]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        await p.StandardInput.WriteAsync(json);
        p.StandardInput.Close();
        var output = await p.StandardOutput.ReadToEndAsync();
        var error = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"jq '{filter}' failed ({p.ExitCode}): {error}");
        return output.Trim();
    }

    public static async Task WaitForAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                last = ex;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"timed out waiting for {what}" + (last is null ? "" : ": " + last.Message));
    }

    /// <summary>Every process's output, for a failing test's message.</summary>
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
        Admin.Dispose();
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
