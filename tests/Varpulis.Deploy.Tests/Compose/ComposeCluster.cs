using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Varpulis.Deploy.Tests.Support;

namespace Varpulis.Deploy.Tests.Compose;

/// <summary>
/// docker-compose.cluster.yml running as local processes (<see cref="LocalCompose"/>), in its dependency order: Debian's
/// PostgreSQL with the postgres service's database and user, mosquitto with the mounted config, the coordinator (until
/// its healthcheck passes, as <c>depends_on: service_healthy</c> waits), the four workers, Prometheus with the mounted
/// prometheus/ files. VARPULIS_API_KEY is set for the compose file's interpolation, as the docs tell an operator to, and
/// OTEL_EXPORTER_OTLP_ENDPOINT to an in-test collector; every other variable takes the file's documented default. Then two pipelines are deployed and fed until the end over
/// REST through every worker: a windowed aggregate, and a pattern whose runs stay open. Grafana is not run (Debian does
/// not package it): its provisioning and dashboards are checked as files, their queries through this Prometheus.
/// </summary>
public sealed class ComposeCluster : IAsyncLifetime
{
    public static readonly string[] Workers = ["worker-0", "worker-1", "worker-2", "worker-3"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    private readonly PostgresServer _postgres = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _feeding;
    private int _batches;

    public LocalCompose Local { get; private set; } = null!;

    public OtlpCollector Collector { get; private set; } = null!;

    public PrometheusApi Prometheus { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The VARPULIS_API_KEY exported in the shell that runs <c>docker compose</c> (and the runbook's commands).</summary>
    public string OperatorKey { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    public string CoordinatorKey => Local.Environment("coordinator")["VARPULIS_API_KEY"];

    public string WorkerKey => Local.Environment("worker-0")["VARPULIS_API_KEY"];

    public Uri Coordinator => Local.Url("coordinator", 9100);

    public IReadOnlyDictionary<string, string> Pipelines { get; private set; } = new Dictionary<string, string>();

    /// <summary>Batches acknowledged by the REST feeders so far.</summary>
    public int Batches => Volatile.Read(ref _batches);

    public async Task InitializeAsync()
    {
        // Skipped tests (DebianFact) need nothing started.
        if (DebianTools.SkipReason(postgres: true, DebianTools.Compose) is not null) return;
        Collector = await OtlpCollector.StartAsync();
        var hostEnvironment = new Dictionary<string, string>
        {
            // An operator exports one key before `docker compose up` (docs/deployment.md): every node takes it.
            ["VARPULIS_API_KEY"] = OperatorKey,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        };
        var compose = ComposeFile.Load(Repo.File("docker-compose.cluster.yml"), hostEnvironment);
        Local = new LocalCompose(compose, Dockerfile.Load(Repo.File("Dockerfile")));
        try
        {
            await StartAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException("the compose cluster did not start: " + ex.Message + "\n" + Local.Logs(), ex);
        }
    }

    private async Task StartAsync()
    {
        await _postgres.InitializeAsync();
        await Local.StartPostgresAsync(_postgres);
        await Local.StartMosquittoAsync();

        Local.StartVarpulis("coordinator");
        await WaitHealthyAsync("coordinator");
        foreach (var w in Workers) Local.StartVarpulis(w);
        await Task.WhenAll(Workers.Select(WaitHealthyAsync));
        await LocalProcess.WaitForAsync("four ready workers", async () =>
            (await CoordinatorGetAsync("/api/v1/cluster/workers")).AsArray().Count(w => (string?)w!["status"] == "ready" && w["last_heartbeat"] is not null) == 4,
            StartTimeout, Local.Logs);

        // Prometheus with the mounted files; the test copy evaluates rules every second and keeps each alert pending
        // for 5 s instead of minutes (the committed files keep their production values: StaticFilesTests).
        await Local.StartPrometheusAsync((file, text) => file switch
        {
            "prometheus.yml" => text.Replace("evaluation_interval: 5s", "evaluation_interval: 1s", StringComparison.Ordinal),
            "alerts.yml" => Regex.Replace(text, @"for: \d+[smh]", "for: 5s"),
            _ => text,
        });
        Prometheus = new PrometheusApi(Local.Url("prometheus", 9090));

        Pipelines = new Dictionary<string, string>
        {
            ["sums"] = await DeployAsync("sums", "stream Sums = Reading .partition_by(sensor) .window(10) .aggregate(n: count(), total: sum(value)) .emit(sensor: sensor, n: n, total: total)"),
            ["pairs"] = await DeployAsync("pairs", "stream Pairs = Open as a -> Close where id == a.id as b .within(1h) .partition_by(id) .emit(id: a.id, opened: a.v, closed: b.v)"),
        };
        _feeding = Task.Run(() => FeedRestAsync(_stop.Token));
        await LocalProcess.WaitForAsync("acknowledged batches", () => Task.FromResult(Batches >= 10), StartTimeout, Local.Logs);
    }

    /// <summary>
    /// Runs a command of the runbook as an operator types it on the Docker host (bash, <c>pipefail</c>, with
    /// VARPULIS_API_KEY exported): <c>localhost:PORT</c> reaches what the compose file publishes on PORT.
    /// </summary>
    public Task<(int ExitCode, string Output)> RunOnDockerHostAsync(string command)
        => LocalProcess.RunAsync("/bin/bash", ["-o", "pipefail", "-c", Local.OnDockerHost(command)], new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["VARPULIS_API_KEY"] = OperatorKey,
            ["KEY"] = OperatorKey,
        }, timeout: TimeSpan.FromSeconds(60));

    /// <summary>Runs the service's healthcheck command until it passes (compose's <c>service_healthy</c>).</summary>
    public Task WaitHealthyAsync(string service) => LocalProcess.WaitForAsync($"{service} healthy", async () =>
    {
        if (Local.Processes.Single(p => p.Name == service).HasExited) throw new InvalidOperationException(service + " exited");
        return (await Local.HealthcheckAsync(service)).ExitCode == 0;
    }, StartTimeout, Local.Logs);

    public async Task<JsonNode> CoordinatorGetAsync(string path)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, new Uri(Coordinator, path));
        req.Headers.Add("x-api-key", CoordinatorKey);
        using var resp = await Http.SendAsync(req);
        var body = await resp.Content.ReadAsStringAsync();
        if (resp.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {path}: {(int)resp.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    public async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, Uri url, string key, string? json = null)
    {
        using var req = new HttpRequestMessage(method, url);
        req.Headers.Add("x-api-key", key);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var resp = await Http.SendAsync(req);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    /// <summary>Deploys through worker-0 with the workers' key (a span of varpulis-worker-0).</summary>
    private async Task<string> DeployAsync(string name, string source)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, new Uri(Local.Url("worker-0", 9000), "/api/v1/pipelines"), WorkerKey,
            new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString());
        if (status != HttpStatusCode.Created) throw new InvalidOperationException($"deploy {name}: {(int)status} {body}");
        return (string)JsonNode.Parse(body)!["id"]!;
    }

    /// <summary>A batch to each REST pipeline every half second, through the workers in turn, until the end.</summary>
    private async Task FeedRestAsync(CancellationToken stop)
    {
        for (int b = 0; !stop.IsCancellationRequested; b++)
        {
            var worker = Workers[b % Workers.Length];
            // The last reading of each batch has no number: sum() skips it and counts a type error.
            var readings = string.Join(",", Enumerable.Range(0, 20).Select(i => i < 19
                ? $$$"""{"event_type":"Reading","fields":{"sensor":"s{{{i % 4}}}","value":{{{(b * 20 + i) % 50}}}}}"""
                : """{"event_type":"Reading","fields":{"sensor":"s3","value":"n/a"}}"""));
            var opens = string.Join(",", Enumerable.Range(0, 5).Select(i => $$$"""{"event_type":"Open","fields":{"id":{{{b * 5 + i}}},"v":{{{i}}}}}"""));
            try
            {
                var url = Local.Url(worker, int.Parse(worker[^1..], CultureInfo.InvariantCulture) + 9000);
                var (s1, _) = await SendAsync(HttpMethod.Post, new Uri(url, $"/api/v1/pipelines/{Pipelines["sums"]}/events-batch"), WorkerKey, "{\"events\":[" + readings + "]}");
                var (s2, _) = await SendAsync(HttpMethod.Post, new Uri(url, $"/api/v1/pipelines/{Pipelines["pairs"]}/events-batch"), WorkerKey, "{\"events\":[" + opens + "]}");
                if (s1 == HttpStatusCode.OK && s2 == HttpStatusCode.OK) Interlocked.Increment(ref _batches);
            }
            catch (HttpRequestException)
            {
                // A worker the test killed: the next batch goes to another.
            }
            catch (TaskCanceledException)
            {
            }
            try
            {
                await Task.Delay(500, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Every /metrics this cluster serves (the workers' metrics ports, the coordinator's API port), joined.</summary>
    public async Task<string> ScrapeAllAsync()
    {
        var sb = new StringBuilder();
        foreach (var w in Workers.Where(w => !Local.Processes.Single(p => p.Name == w).HasExited))
            sb.Append(await Http.GetStringAsync(new Uri(Local.Url(w, 9090), "/metrics")));
        sb.Append(await Http.GetStringAsync(new Uri(Coordinator, "/metrics")));
        return sb.ToString();
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_feeding is not null)
        {
            try
            {
                await _feeding;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
            }
        }
        Prometheus?.Dispose();
        if (Local is not null) await Local.DisposeAsync();
        await _postgres.DisposeAsync();
        if (Collector is not null) await Collector.DisposeAsync();
        Http.Dispose();
        _stop.Dispose();
    }
}
