using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// The operations runbook on a real cluster: a coordinator and three workers started with the §1.2 commands (ports
/// changed, loopback, short heartbeats), a window pipeline and a pattern pipeline fed by clients that keep sending
/// batches through every node while the operator works: §1.4 drain (checked with the runbook's jq filter) then stop,
/// §1.5 a rolling restart of every worker, §2.2 <c>kill -9</c> of a worker then <c>DELETE</c>, §4.3 migration by
/// drain. Afterwards every acknowledged batch's outputs equal a single-node run of the same input (window state and
/// pattern runs survived every move; nothing lost, nothing counted twice), and the SSE stream opened on the
/// coordinator at the start still delivers. Once on the embedded journal, once on PostgreSQL.
/// </summary>
public sealed class ClusterOperationsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string SumsProgram = "stream Sums = Reading .partition_by(k) .window(10) .aggregate(n: count(), total: sum(v)) .emit(k: k, n: n, total: total)";
    private const string PairsProgram = "stream Pairs = Open as a -> Close where id == a.id as b .within(1h) .partition_by(id) .emit(id: a.id, opened: a.v, closed: b.v)";
    private static readonly DateTime Base = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public Task RunbookOperationsOnTheEmbeddedJournalLoseAndDuplicateNothing() => RunbookAsync(null);

    [PostgresFact]
    // The PostgreSQL settings go to the coordinator only: the workers' command has no database flag, they get it when they join.
    public Task RunbookOperationsOnPostgreSqlLoseAndDuplicateNothing() => PostgresServer.WithJournalAsync(RunbookAsync);

    private async Task RunbookAsync(IDictionary<string, string>? coordinatorEnv)
    {
        await using var run = new ClusterRun(coordinatorEnv);
        try
        {
            await ScenarioAsync(run, coordinatorEnv is not null, output);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + run.Logs());
        }
    }

    private static async Task ScenarioAsync(ClusterRun run, bool postgres, Xunit.Abstractions.ITestOutputHelper output)
    {
        // §1.2, and §5.1's "Heartbeat failed": a worker started before its coordinator retries until it can join.
        var early = run.LaunchWorker("worker-0");
        await ClusterRun.WaitForAsync("Heartbeat failed from a worker without coordinator", () => Task.FromResult(early.Output.Contains("ERROR Varpulis.Host.Cluster.WorkerBootstrap: Heartbeat failed: coordinator", StringComparison.Ordinal)));
        await run.StartCoordinatorAsync();
        await early.WaitReadyAsync(TimeSpan.FromSeconds(120));
        await Task.WhenAll(run.StartWorkerAsync("worker-1"), run.StartWorkerAsync("worker-2"));
        await ClusterRun.WaitForAsync("three ready workers", async () => (await run.WorkersAsync()).Count(w => (string?)w!["status"] == "ready") == 3);
        foreach (var id in new[] { "worker-0", "worker-1", "worker-2" })
            Assert.Contains($"Worker registered: {id} at http://127.0.0.1:", run.Coordinator!.Output);
        if (postgres) Assert.Contains("journal: PostgreSQL", run.Worker("worker-1").Output);
        else Assert.Contains("journal: embedded SQLite in " + Path.Combine(run.Directory, "varpulis-state"), run.Worker("worker-1").Output);

        // Pipelines deployed on worker-0 with the workers' key; clients use every node with its own key.
        var sums = await DeployAsync(run, "sums", SumsProgram);
        var pairs = await DeployAsync(run, "pairs", PairsProgram);
        var sumsClient = new BatchClient(run, sums, SumsBatch);
        var pairsClient = new BatchClient(run, pairs, PairsBatch);
        using var stop = new CancellationTokenSource();
        var clients = Task.WhenAll(Task.Run(() => sumsClient.RunAsync(stop.Token)), Task.Run(() => pairsClient.RunAsync(stop.Token)));
        using var sse = new SseReader(run.CoordinatorUrl, ClusterRun.CoordinatorKey, sums);
        await ProgressAsync(clients, sumsClient, pairsClient);

        // §1.4: drain the worker running "sums", verify with the runbook's filter, stop it.
        var worker = await HostOfAsync(run, "sums");
        await DrainAsync(run, worker);
        await ProgressAsync(clients, sumsClient, pairsClient);
        // A pipeline's metric series leave with it: the drained worker has none left, its new worker has them.
        var series = $"pipeline=\"{sums}\"";
        Assert.DoesNotContain(series, await run.MetricsAsync(worker));
        var receiver = await HostOfAsync(run, "sums");
        await ClusterRun.WaitForAsync("sums' series on its new worker", async () => (await run.MetricsAsync(receiver)).Contains(series, StringComparison.Ordinal));
        await run.StopWorkerAsync(worker);
        await ClusterRun.WaitForAsync($"{worker} gone from the list", async () => (await run.WorkersAsync()).All(w => (string?)w!["id"] != worker));
        await run.StartWorkerAsync(worker);

        // §1.5: every worker, one at a time: drain, wait for 0 pipelines, stop, start again, see it registered.
        foreach (var id in new[] { "worker-0", "worker-1", "worker-2" })
        {
            await DrainAsync(run, id);
            await run.StopWorkerAsync(id);
            await ClusterRun.WaitForAsync($"{id} gone from the list", async () => (await run.WorkersAsync()).All(w => (string?)w!["id"] != id));
            await run.StartWorkerAsync(id);
            await ProgressAsync(clients, sumsClient, pairsClient);
        }

        // §2.2: kill -9 of the worker running "pairs", then remove it; its pipelines recover from the journal.
        var lost = await HostOfAsync(run, "pairs");
        run.KillWorker(lost);
        var (status, body) = await run.SendAsync(HttpMethod.Delete, $"/api/v1/cluster/workers/{lost}");
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal(true, (bool?)JsonNode.Parse(body)!["deleted"]);
        await ClusterRun.WaitForAsync("pairs running again", async () => await HostOfAsync(run, "pairs") != lost);
        await ProgressAsync(clients, sumsClient, pairsClient);
        await run.StartWorkerAsync(lost);

        // §4.3: migrate a worker's pipelines away by draining it; the new placement shows them on the others.
        var old = await HostOfAsync(run, "sums");
        await DrainAsync(run, old);
        var placement = await ClusterRun.JqAsync((await run.GetAsync("/api/v1/cluster/workers")).ToJsonString(), ".[] | {id, pipelines: .assigned_pipelines}");
        Assert.DoesNotContain($"{{\"id\":\"{old}\",\"pipelines\":[\"", placement);
        Assert.Contains("\"sums\"", placement);
        await ProgressAsync(clients, sumsClient, pairsClient);
        await ProgressAsync(clients, sumsClient, pairsClient);
        stop.Cancel();
        await clients;
        foreach (var (name, c) in new[] { ("sums", sumsClient), ("pairs", pairsClient) })
            output.WriteLine($"{name}: {c.Acknowledged} batches acknowledged, {c.Retries} retries, longest wait for one batch {c.LongestWait.TotalSeconds:0.0} s");

        // Every acknowledged batch's outputs, in order, are the single-node answer: nothing lost, nothing twice.
        Assert.Equal(BatchClient.Reference(SumsProgram, SumsBatch, sumsClient.Acknowledged), sumsClient.Outputs);
        Assert.Equal(BatchClient.Reference(PairsProgram, PairsBatch, pairsClient.Acknowledged), pairsClient.Outputs);
        var processed = await run.GetAsync($"/api/v1/pipelines/{sums}/metrics");
        Assert.Equal(6L * sumsClient.Acknowledged, (long)processed["events_processed"]!);
        var pairsProcessed = await run.GetAsync($"/api/v1/pipelines/{pairs}/metrics");
        Assert.Equal(2L * pairsClient.Acknowledged - 2, (long)pairsProcessed["events_processed"]!);

        // The SSE stream opened on the coordinator before any move still delivers the last outputs.
        var lastOutput = sumsClient.Outputs.Last(o => o != "[]");
        var lastTotal = (long)JsonNode.Parse(lastOutput)!.AsArray()[^1]!["total"]!;
        await ClusterRun.WaitForAsync("the last sums output on the SSE stream", () => Task.FromResult(sse.Lines.Any(l => l.Contains($"\"total\":{lastTotal}}}", StringComparison.Ordinal))), TimeSpan.FromSeconds(30));

        var log = run.Coordinator!.Output;
        Assert.Contains("Migration started: pipeline", log);
        Assert.Contains("Migration completed: pipeline", log);
        var migrations = (await run.GetAsync("/api/v1/cluster/migrations"))["migrations"]!.AsArray();
        Assert.Contains(migrations, m => (string?)m!["reason"] == "drain" && (string?)m["status"] == "completed");
        Assert.Contains(migrations, m => (string?)m!["reason"] == "worker_removed" && (string?)m["status"] == "completed" && (string?)m["from_worker"] == lost);
    }

    /// <summary>§1.4: drain, then the runbook's <c>jq '.[] | select(.id=="ID")'</c> shows it draining with no pipeline.</summary>
    private static async Task DrainAsync(ClusterRun run, string id)
    {
        var (status, body) = await run.SendAsync(HttpMethod.Post, $"/api/v1/cluster/workers/{id}/drain");
        Assert.True(status == HttpStatusCode.OK, $"drain {id}: {(int)status} {body}");
        var reply = JsonNode.Parse(body)!;
        Assert.Equal((id, "drained"), ((string?)reply["worker_id"], (string?)reply["status"]));
        var workers = (await run.GetAsync("/api/v1/cluster/workers")).ToJsonString();
        var selected = JsonNode.Parse(await ClusterRun.JqAsync(workers, $".[] | select(.id==\"{id}\")"))!;
        Assert.Equal(("draining", 0), ((string?)selected["status"], (int)selected["pipelines_running"]!));
    }

    private static async Task<string> DeployAsync(ClusterRun run, string name, string source)
    {
        var (status, body) = await run.SendAsync(HttpMethod.Post, "/api/v1/pipelines",
            new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString(),
            new Uri($"http://127.0.0.1:{run.Worker("worker-0").Port}"), ClusterRun.WorkerKey);
        Assert.True(status == HttpStatusCode.Created, body);
        return (string)JsonNode.Parse(body)!["id"]!;
    }

    private static async Task<string> HostOfAsync(ClusterRun run, string pipelineName)
    {
        string? host = null;
        await ClusterRun.WaitForAsync($"{pipelineName} placed", async () =>
        {
            host = (await run.WorkersAsync())
                .Where(w => w!["assigned_pipelines"]!.AsArray().Any(p => (string?)p == pipelineName))
                .Select(w => (string?)w!["id"])
                .FirstOrDefault();
            return host is not null;
        });
        return host!;
    }

    /// <summary>Waits until both clients had a few more batches acknowledged (the cluster keeps taking events).</summary>
    private static async Task ProgressAsync(Task clients, params BatchClient[] all)
    {
        var start = all.Select(c => c.Acknowledged).ToArray();
        await ClusterRun.WaitForAsync("the clients' progress", () =>
        {
            if (clients.IsFaulted) throw clients.Exception!;
            return Task.FromResult(all.Select((c, i) => c.Acknowledged - start[i]).All(d => d >= 5));
        }, TimeSpan.FromSeconds(180));
    }

    private static string SumsBatch(int b)
    {
        var events = Enumerable.Range(0, 6).Select(i =>
        {
            int n = b * 6 + i;
            return $"{{\"event_type\":\"Reading\",\"fields\":{{\"k\":\"k{n % 3}\",\"v\":{n}}},\"timestamp\":\"{Ts(n)}\"}}";
        });
        return "{\"events\":[" + string.Join(",", events) + "]}";
    }

    /// <summary>Batch b opens run b and closes run b-2: every run spans two batches (and the moves in between).</summary>
    private static string PairsBatch(int b)
    {
        var events = new List<string> { $"{{\"event_type\":\"Open\",\"fields\":{{\"id\":{b},\"v\":{b}}},\"timestamp\":\"{Ts(2 * b)}\"}}" };
        if (b >= 2) events.Add($"{{\"event_type\":\"Close\",\"fields\":{{\"id\":{b - 2},\"v\":{b * 10}}},\"timestamp\":\"{Ts(2 * b + 1)}\"}}");
        return "{\"events\":[" + string.Join(",", events) + "]}";
    }

    private static string Ts(int seconds) => Base.AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads an SSE stream in the background, keeping its <c>data:</c> lines.</summary>
    private sealed class SseReader : IDisposable
    {
        private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
        private readonly CancellationTokenSource _cts = new();
        private readonly List<string> _lines = new();

        public SseReader(Uri baseUrl, string key, string pipelineId)
        {
            _http.DefaultRequestHeaders.Add("x-api-key", key);
            _ = Task.Run(async () =>
            {
                using var resp = await _http.GetAsync(new Uri(baseUrl, $"/api/v1/pipelines/{pipelineId}/logs"), HttpCompletionOption.ResponseHeadersRead, _cts.Token);
                using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(_cts.Token), Encoding.UTF8);
                while (await reader.ReadLineAsync(_cts.Token) is { } line)
                {
                    if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        lock (_lines) _lines.Add(line);
                    }
                }
            });
        }

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines) return _lines.ToList();
            }
        }

        public void Dispose()
        {
            _cts.Cancel();
            _http.Dispose();
            _cts.Dispose();
        }
    }
}
