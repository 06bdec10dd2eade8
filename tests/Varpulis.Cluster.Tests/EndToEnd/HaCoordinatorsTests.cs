using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// Coordinator high availability (runbook §1.3, §2.1) on real processes: three coordinators started with
/// <c>--raft*</c> and two workers; a window pipeline fed through the workers while the leader is killed with
/// <c>kill -9</c>. Every coordinator left names the same new leader with a higher term, writes during the change get
/// 503 <c>leader_unavailable</c> with <c>Retry-After</c>, reads keep answering, the pipeline directory is there on the
/// new leader with the drain state and migration record made before, and the pipeline's outputs equal a single-node
/// run (nothing lost, nothing twice). The killed coordinator then rejoins as a follower; a full stop and start of every
/// coordinator brings the same state back under a later term. A coordinator alone (a minority) is not ready and
/// refuses writes.
/// </summary>
public sealed class HaCoordinatorsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string SumsProgram = "stream Sums = Reading .partition_by(k) .window(10) .aggregate(n: count(), total: sum(v)) .emit(k: k, n: n, total: total)";
    private static readonly DateTime Base = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public Task KillingTheLeaderElectsAnotherAndLosesNothing() => RunAsync(null);

    [PostgresFact]
    public async Task KillingTheLeaderElectsAnotherAndLosesNothingOnPostgreSql()
    {
        var pg = new PostgresServer();
        await pg.InitializeAsync();
        try
        {
            var connection = await pg.CreateDatabaseAsync();
            await RunAsync(new Dictionary<string, string>
            {
                ["VARPULIS_PERSISTENCE_PROVIDER"] = "postgresql",
                ["VARPULIS_PERSISTENCE_CONNECTION"] = connection,
            });
        }
        finally
        {
            await pg.DisposeAsync();
        }
    }

    private async Task RunAsync(IDictionary<string, string>? coordinatorEnv)
    {
        await using var run = new HaRun(coordinatorEnv);
        try
        {
            await ScenarioAsync(run);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + run.Logs());
        }
    }

    private async Task ScenarioAsync(HaRun run)
    {
        // A coordinator alone is a minority of its peers: not ready, and it refuses writes.
        run.LaunchCoordinator(1);
        string? notReady = null;
        await ClusterRun.WaitForAsync("coordinator 1 answering /ready", async () =>
        {
            var (status, text, _) = await run.SendAsync(1, HttpMethod.Get, "/ready", timeout: TimeSpan.FromSeconds(5));
            notReady = text;
            return status == HttpStatusCode.ServiceUnavailable && text.Contains("raft peers", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(180));
        Assert.Equal("""{"status":"not_ready","reason":"only 1 of 3 raft peers are reachable; a majority (2) is needed"}""", notReady);
        var (alone, aloneBody, aloneRetry) = await run.SendAsync(1, HttpMethod.Post, "/api/v1/pipelines", $$"""{"name": "x", "source": "{{SumsProgram}}"}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, alone);
        Assert.Equal("leader_unavailable", (string?)JsonNode.Parse(aloneBody)!["code"]);
        Assert.Equal("2", aloneRetry);

        run.LaunchCoordinator(2);
        run.LaunchCoordinator(3);
        foreach (int id in new[] { 1, 2, 3 }) await run.Coordinator(id).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var (leader, term) = await run.AgreedLeaderAsync([1, 2, 3]);
        Assert.True(term >= 1, $"term {term}");
        foreach (int id in new[] { 1, 2, 3 })
        {
            var health = await run.GetAsync(id, "/health");
            Assert.Equal(id == leader ? "leader" : "follower", (string?)health["ha_role"]);
            var status = await run.GetAsync(id, "/api/v1/cluster/raft");
            Assert.Equal(true, (bool?)status["enabled"]);
            Assert.Equal(id, (int?)status["this_node_id"]);
            Assert.Equal(
                string.Join(",", Enumerable.Range(1, 3).Select(n => $"{n}:http://127.0.0.1:{run.Ports[n - 1]}:{(n == leader ? "leader" : "follower")}:{(n == id ? "true" : "false")}:true")),
                string.Join(",", status["nodes"]!.AsArray().Select(n => $"{n!["id"]}:{n["address"]}:{n["role"]}:{n["is_current"]}:{n["reachable"]}")));
        }
        Assert.Contains($"Raft leadership changed: coordinator {leader} (", run.Coordinator(leader).Output);

        // Workers ask two different followers for the cluster.
        var followers = new[] { 1, 2, 3 }.Where(i => i != leader).ToArray();
        await Task.WhenAll(run.StartWorkerAsync("worker-0", followers[0]), run.StartWorkerAsync("worker-1", followers[1]));
        await ClusterRun.WaitForAsync("two ready workers", async () =>
            (await run.GetAsync(leader, "/api/v1/cluster/workers")).AsArray().Count(w => (string?)w!["status"] == "ready") == 2);

        var (deployed, body, _) = await run.SendAsync(followers[0], HttpMethod.Post, "/api/v1/pipelines", $$"""{"name": "sums", "source": "{{SumsProgram}}"}""");
        Assert.True(deployed == HttpStatusCode.Created, body);
        var pipelineId = (string)JsonNode.Parse(body)!["id"]!;

        var (idleDeployed, idleBody, _) = await run.SendAsync(followers[1], HttpMethod.Post, "/api/v1/pipelines", $$"""{"name": "idle", "source": "{{SumsProgram}}"}""");
        Assert.True(idleDeployed == HttpStatusCode.Created, idleBody);

        var client = new BatchClient(run.WorkerEndpoints, pipelineId, Batch);
        using var stop = new CancellationTokenSource();
        var producing = Task.Run(() => client.RunAsync(stop.Token));
        await ProgressAsync(producing, client, 5);

        // A drain before the failover: its state and its migration record must be there on the next leader.
        string idleWorker = "";
        await ClusterRun.WaitForAsync("idle placed", async () =>
        {
            var p = (await run.GetAsync(leader, "/api/v1/pipelines"))["pipelines"]!.AsArray().Single(x => (string?)x!["name"] == "idle")!;
            idleWorker = (string?)p["worker_id"] ?? "";
            return idleWorker.Length > 0;
        });
        var (drained, drainBody, _) = await run.SendAsync(followers[0], HttpMethod.Post, $"/api/v1/cluster/workers/{idleWorker}/drain");
        Assert.True(drained == HttpStatusCode.OK, drainBody);
        Assert.Equal("drained", (string?)JsonNode.Parse(drainBody)!["status"]);
        var migrationsBefore = MigrationsOf(await run.GetAsync(leader, "/api/v1/cluster/migrations"));
        Assert.Contains($"idle:{idleWorker}:drain:completed", migrationsBefore);
        await ProgressAsync(producing, client, 3);

        // kill -9 of the leader, mid-stream.
        run.KillCoordinator(leader);
        var clock = Stopwatch.StartNew();
        string? refused = null;
        string? retryAfter = null;
        int newLeader = 0;
        long newTerm = 0;
        while (newLeader == 0)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException("no new leader within 120 s");
            try
            {
                var (status, text, retry) = await run.SendAsync(followers[0], HttpMethod.Post, "/api/v1/cluster/rebalance", timeout: TimeSpan.FromSeconds(3));
                if (status == HttpStatusCode.ServiceUnavailable && text.Contains("\"code\":\"leader_unavailable\"", StringComparison.Ordinal))
                {
                    refused = text;
                    retryAfter = retry;
                }
            }
            catch (TaskCanceledException)
            {
                // Sent before the loss was detected: it waits for the old leader.
            }
            // Reads keep answering during the change.
            var view = await run.GetAsync(followers[1], "/api/v1/cluster/raft/status");
            if ((int?)view["leader_id"] is { } l && l != leader && (long)view["term"]! > term)
                (newLeader, newTerm) = await run.AgreedLeaderAsync(followers, (l2, t2) => l2 != leader && t2 > term);
            else
                await Task.Delay(200);
        }
        var failover = clock.Elapsed;
        output.WriteLine($"leader {leader} (term {term}) killed; coordinator {newLeader} leads with term {newTerm} after {failover.TotalSeconds:0.0} s (as seen by the client)");
        Assert.Contains(newLeader, followers);
        Assert.Equal(term + 1, newTerm);
        Assert.NotNull(refused);
        Assert.Equal("2", retryAfter);
        Assert.Equal(2, (int)JsonNode.Parse(refused!)!["retry_after_seconds"]!);
        Assert.Contains($"Raft leadership changed: coordinator {newLeader} (", run.Coordinator(newLeader).Output);
        Assert.Contains($"term {newTerm} (was coordinator {leader}, term {term})", run.Coordinator(newLeader).Output);
        Assert.Equal("leader", (string?)(await run.GetAsync(newLeader, "/health"))["ha_role"]);

        // The directory and the cluster manager moved with the leader: pipelines, drain state and migration history.
        var listed = await run.GetAsync(newLeader, "/api/v1/pipelines");
        Assert.Equal("idle,sums", string.Join(",", listed["pipelines"]!.AsArray().Select(p => (string?)p!["name"]).Order(StringComparer.Ordinal)));
        Assert.Equal(migrationsBefore, MigrationsOf(await run.GetAsync(newLeader, "/api/v1/cluster/migrations")));
        Assert.Equal("draining", (string?)(await run.GetAsync(newLeader, $"/api/v1/cluster/workers/{idleWorker}"))["status"]);
        var (rebalanced, rebalanceBody, _) = await run.SendAsync(followers[0], HttpMethod.Post, "/api/v1/cluster/rebalance");
        Assert.True(rebalanced == HttpStatusCode.OK, rebalanceBody);
        await ProgressAsync(producing, client, 5);

        // The killed coordinator comes back as a follower of the same leader and term.
        run.LaunchCoordinator(leader);
        await run.Coordinator(leader).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var (after, afterTerm) = await run.AgreedLeaderAsync([1, 2, 3]);
        Assert.Equal((newLeader, newTerm), (after, afterTerm));
        Assert.Equal("follower", (string?)(await run.GetAsync(leader, "/health"))["ha_role"]);
        await ProgressAsync(producing, client, 3);

        // Full stop of every coordinator, then start again: the same state, a later term; the workers join again.
        await Task.WhenAll(new[] { 1, 2, 3 }.Select(id => run.Coordinator(id).StopAsync(TimeSpan.FromSeconds(90))));
        foreach (int id in new[] { 3, 1, 2 }) run.LaunchCoordinator(id);
        foreach (int id in new[] { 1, 2, 3 }) await run.Coordinator(id).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var (restarted, restartTerm) = await run.AgreedLeaderAsync([1, 2, 3], (_, t) => t > newTerm);
        output.WriteLine($"after a full restart coordinator {restarted} leads with term {restartTerm}");
        var relisted = await run.GetAsync(restarted, "/api/v1/pipelines");
        Assert.Equal("idle,sums", string.Join(",", relisted["pipelines"]!.AsArray().Select(p => (string?)p!["name"]).Order(StringComparer.Ordinal)));
        // The history is all there (the workers' rejoining may have added moves since: they are newer, listed first).
        var history = MigrationsOf(await run.GetAsync(restarted, "/api/v1/cluster/migrations"));
        Assert.Equal(migrationsBefore, history.Skip(history.Count - migrationsBefore.Count));
        await ProgressAsync(producing, client, 5);

        stop.Cancel();
        await producing;
        output.WriteLine($"{client.Acknowledged} batches acknowledged, {client.Retries} retries, longest wait {client.LongestWait.TotalSeconds:0.0} s");
        Assert.Equal(BatchClient.Reference(SumsProgram, Batch, client.Acknowledged), client.Outputs);
        var metrics = await run.GetAsync(newLeader, $"/api/v1/pipelines/{pipelineId}/metrics");
        Assert.Equal(client.Acknowledged * 20L, (long)metrics["events_processed"]!);
    }

    /// <summary>The migration history as <c>pipeline:from:reason:status</c>, newest first.</summary>
    private static List<string> MigrationsOf(JsonNode page)
        => page["migrations"]!.AsArray().Select(m => $"{m!["pipeline_name"]}:{m["from_worker"]}:{m["reason"]}:{m["status"]}").ToList();

    private static async Task ProgressAsync(Task producing, BatchClient client, int batches)
    {
        int target = client.Acknowledged + batches;
        await ClusterRun.WaitForAsync($"{batches} more batches", () =>
        {
            if (producing.IsFaulted) throw producing.Exception!;
            return Task.FromResult(client.Acknowledged >= target);
        }, TimeSpan.FromSeconds(180));
    }

    /// <summary>Batch b: 20 readings over 4 keys, timestamps one second apart.</summary>
    private static string Batch(int b)
    {
        var sb = new StringBuilder("{\"events\":[");
        for (int i = 0; i < 20; i++)
        {
            int n = b * 20 + i;
            if (i > 0) sb.Append(',');
            sb.Append(CultureInfo.InvariantCulture, $"{{\"event_type\":\"Reading\",\"fields\":{{\"k\":\"k{n % 4}\",\"v\":{n % 97}}},\"timestamp\":\"{Base.AddSeconds(n):yyyy-MM-ddTHH:mm:ssZ}\"}}");
        }
        return sb.Append("]}").ToString();
    }
}
