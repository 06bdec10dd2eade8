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
        var (idleWorker, drainBody) = await DrainIdleWorkerAsync(run, leader, followers[0]);
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

    /// <summary>
    /// Embedded journal: each coordinator keeps the coordinator state in its own <c>--raft-data-dir</c> (no shared
    /// coordinator files). A write acknowledged to the client is on disk in a majority of the data directories at once;
    /// <c>kill -9</c> of the leader, a full stop and start, and runbook §4.2 (two data directories lost: bootstrap a
    /// single-node cluster from the most recent one, then add the nodes one at a time) each bring back every group,
    /// route, pipeline, drain and migration record.
    /// </summary>
    [Fact]
    public async Task TheCoordinatorStateIsInAMajorityOfTheDataDirectoriesAndSurvivesLosingTwoOfThem()
    {
        await using var run = new HaRun();
        try
        {
            await ReplicatedStateScenarioAsync(run);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + run.Logs());
        }
    }

    private async Task ReplicatedStateScenarioAsync(HaRun run)
    {
        foreach (int id in new[] { 1, 2, 3 }) run.LaunchCoordinator(id);
        foreach (int id in new[] { 1, 2, 3 }) await run.Coordinator(id).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var (leader, term) = await run.AgreedLeaderAsync([1, 2, 3]);
        foreach (int id in new[] { 1, 2, 3 })
        {
            Assert.Contains("Raft: coordinator state in " + Path.Combine(run.DataDir(id), "coordinator-state") + ": 0 records, version 0.0 (written to a majority of 2 coordinators)", run.Coordinator(id).Output);
        }
        var followers = new[] { 1, 2, 3 }.Where(i => i != leader).ToArray();
        await Task.WhenAll(run.StartWorkerAsync("worker-0", followers[0]), run.StartWorkerAsync("worker-1", followers[1]));
        await ClusterRun.WaitForAsync("two ready workers", async () =>
            (await run.GetAsync(leader, "/api/v1/cluster/workers")).AsArray().Count(w => (string?)w!["status"] == "ready") == 2);

        // Each acknowledged write is on disk in a majority of the data directories when the client gets its answer.
        var (created, groupBody, _) = await run.SendAsync(followers[0], HttpMethod.Post, "/api/v1/cluster/pipeline-groups", Api.PipelineGroupApiTests.GroupJson("orders"));
        Assert.True(created == HttpStatusCode.Created, groupBody);
        var groupId = (string)JsonNode.Parse(groupBody)!["id"]!;
        AssertInAMajority(run, "varpulis-pipeline-groups", groupId);
        var (deployed, idleBody, _) = await run.SendAsync(followers[1], HttpMethod.Post, "/api/v1/pipelines", $$"""{"name": "idle", "source": "{{SumsProgram}}"}""");
        Assert.True(deployed == HttpStatusCode.Created, idleBody);
        var idleId = (string)JsonNode.Parse(idleBody)!["id"]!;
        AssertInAMajority(run, "varpulis-directory", idleId);
        var (idleWorker, _) = await DrainIdleWorkerAsync(run, leader, followers[0]);
        AssertInAMajority(run, "varpulis-cluster-manager", idleWorker);
        var expected = await StateAsync(run, leader);
        Assert.Equal("""orders[filter,totals][{"from_pipeline":"_external","to_pipeline":"filter","event_types":["Order"]},{"from_pipeline":"filter","to_pipeline":"totals","event_types":["Big*"]}]""", expected.Groups);
        Assert.Equal("filter,idle,totals", expected.Pipelines);
        Assert.Contains($"idle:{idleWorker}:drain:completed", expected.Migrations);
        // No coordinator files are shared: every data directory has its own copy of every record.
        await ClusterRun.WaitForAsync("every data directory up to date", () => Task.FromResult(
            new[] { 1, 2, 3 }.All(id => DirectoriesHolding(run, "varpulis-pipeline-groups", groupId, [id]) == 1
                && DirectoriesHolding(run, "varpulis-cluster-manager", idleWorker, [id]) == 1)));

        // kill -9 of the leader: the next one has everything.
        run.KillCoordinator(leader);
        var (next, nextTerm) = await run.AgreedLeaderAsync(followers, (l, t) => l != leader && t > term);
        await AssertStateAsync(run, next, expected);
        Assert.Equal("draining", (string?)(await run.GetAsync(next, $"/api/v1/cluster/workers/{idleWorker}"))["status"]);
        run.LaunchCoordinator(leader);
        await run.Coordinator(leader).WaitReadyAsync(TimeSpan.FromSeconds(180));
        Assert.Equal((next, nextTerm), await run.AgreedLeaderAsync([1, 2, 3]));

        // Full stop and start of every coordinator: everything back.
        await Task.WhenAll(new[] { 1, 2, 3 }.Select(id => run.Coordinator(id).StopAsync(TimeSpan.FromSeconds(90))));
        foreach (int id in new[] { 2, 3, 1 }) run.LaunchCoordinator(id);
        foreach (int id in new[] { 1, 2, 3 }) await run.Coordinator(id).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var (restarted, restartTerm) = await run.AgreedLeaderAsync([1, 2, 3], (_, t) => t > nextTerm);
        await AssertStateAsync(run, restarted, expected);
        output.WriteLine($"after a full restart coordinator {restarted} leads with term {restartTerm}");

        // A follower stops; a pipeline deployed after that is only in the other two data directories.
        int stale = new[] { 1, 2, 3 }.First(i => i != restarted);
        await ClusterRun.WaitForAsync("a worker back after the restart", async () =>
            (await run.GetAsync(restarted, "/api/v1/cluster/workers")).AsArray().Any(w => (string?)w!["status"] == "ready"), TimeSpan.FromSeconds(240));
        await run.Coordinator(stale).StopAsync(TimeSpan.FromSeconds(90));
        var (lateDeployed, lateBody, _) = await run.SendAsync(restarted, HttpMethod.Post, "/api/v1/pipelines", $$"""{"name": "late", "source": "{{SumsProgram}}"}""");
        Assert.True(lateDeployed == HttpStatusCode.Created, lateBody);
        expected = expected with { Pipelines = "filter,idle,late,totals" };
        await AssertStateAsync(run, restarted, expected);
        var running = new[] { 1, 2, 3 }.Where(i => i != stale).ToArray();

        // Runbook §4.2. (1) Stop every process. (2) The most recent data directory: the newest record version, from
        // the files' header lines (what the state_version of /api/v1/cluster/raft/status showed while it ran).
        var shown = new Dictionary<int, string>();
        foreach (int id in running) shown[id] = (string)(await run.GetAsync(id, "/api/v1/cluster/raft/status"))["state_version"]!;
        await run.StopWorkersAsync();
        await Task.WhenAll(running.Select(id => run.Coordinator(id).StopAsync(TimeSpan.FromSeconds(90))));
        var versions = new[] { 1, 2, 3 }.ToDictionary(id => id, id => DirectoryVersion(run.DataDir(id)));
        output.WriteLine($"data directory versions {string.Join(", ", versions.Select(kv => $"{kv.Key}: {kv.Value}"))}; the follower stopped first: {stale}");
        foreach (int id in running) Assert.True(VersionOf(shown[id]).CompareTo(versions[id]) <= 0, $"{id}: shown {shown[id]}, on disk {versions[id]}");
        int survivor = versions.OrderByDescending(kv => kv.Value).First().Key;
        Assert.NotEqual(stale, survivor);
        Assert.True(versions[stale].CompareTo(versions[survivor]) < 0, $"the stopped follower's directory {versions[stale]} is older than {versions[survivor]}");
        var lost = new[] { 1, 2, 3 }.Where(i => i != survivor).ToArray();
        foreach (int id in lost) Directory.Delete(run.DataDir(id), recursive: true);
        output.WriteLine($"bootstrapping from {survivor}");

        // (3) A single-node cluster from that directory: node 1 whose peers are itself alone.
        run.LaunchCoordinator(survivor, 1, [survivor], run.DataDir(survivor));
        await run.Coordinator(survivor).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var (alone, aloneTerm) = await run.AgreedLeaderAsync([survivor], (_, t) => t > restartTerm);
        Assert.Equal(1, alone);
        await AssertStateAsync(run, survivor, expected);

        // (4) Add the nodes one at a time (new, empty data directories), then restart the first ones with every peer.
        int[] order = [survivor, lost[0], lost[1]];
        run.LaunchCoordinator(lost[0], 2, order[..2], run.DataDir(lost[0]));
        await run.Coordinator(lost[0]).WaitReadyAsync(TimeSpan.FromSeconds(180));
        await ClusterRun.WaitForAsync("node 2 reachable", async () =>
            (await run.GetAsync(lost[0], "/api/v1/cluster/raft/status"))["nodes"]!.AsArray().Count(n => (bool)n!["reachable"]!) == 2);
        run.LaunchCoordinator(lost[1], 3, order, run.DataDir(lost[1]));
        await run.Coordinator(lost[1]).WaitReadyAsync(TimeSpan.FromSeconds(180));
        foreach (int slot in new[] { lost[0], survivor })
        {
            await run.Coordinator(slot).StopAsync(TimeSpan.FromSeconds(90));
            run.LaunchCoordinator(slot, Array.IndexOf(order, slot) + 1, order, run.DataDir(slot));
            await run.Coordinator(slot).WaitReadyAsync(TimeSpan.FromSeconds(180));
        }
        var (rebuilt, rebuiltTerm) = await run.AgreedLeaderAsync(order, (_, t) => t > aloneTerm);
        int rebuiltSlot = order[rebuilt - 1];
        Assert.NotEqual(survivor, rebuiltSlot);
        output.WriteLine($"rebuilt: coordinator {rebuilt} (port of {rebuiltSlot}) leads with term {rebuiltTerm}");
        await AssertStateAsync(run, rebuiltSlot, expected);
        foreach (int slot in order)
        {
            await ClusterRun.WaitForAsync($"data directory {slot} up to date", () => Task.FromResult(
                DirectoriesHolding(run, "varpulis-pipeline-groups", groupId, [slot]) == 1 && DirectoriesHolding(run, "varpulis-cluster-manager", idleWorker, [slot]) == 1));
        }
    }

    /// <summary>The coordinator state: groups with their pipelines and routes, the pipeline names, and the migration history (newest first).</summary>
    private sealed record CoordinatorState(string Groups, string Pipelines, List<string> Migrations)
    {
        /// <summary>The same groups and pipelines, and <paramref name="earlier"/>'s history at the end of this one (moves since, e.g. workers rejoining after a full restart, are newer: listed first).</summary>
        public bool Keeps(CoordinatorState earlier)
            => Groups == earlier.Groups && Pipelines == earlier.Pipelines
                && Migrations.Count >= earlier.Migrations.Count && Migrations.Skip(Migrations.Count - earlier.Migrations.Count).SequenceEqual(earlier.Migrations);

        public override string ToString() => $"groups={Groups} pipelines={Pipelines} migrations={string.Join(",", Migrations)}";
    }

    private static async Task<CoordinatorState> StateAsync(HaRun run, int slot)
    {
        var groups = (await run.GetAsync(slot, "/api/v1/cluster/pipeline-groups")).AsArray()
            .Select(g => $"{g!["name"]}[{string.Join(",", g["pipelines"]!.AsArray().Select(p => (string?)p!["name"]))}]{g["routes"]!.ToJsonString()}");
        var pipelines = (await run.GetAsync(slot, "/api/v1/pipelines"))["pipelines"]!.AsArray().Select(p => (string?)p!["name"]).Order(StringComparer.Ordinal);
        return new CoordinatorState(string.Join(";", groups), string.Join(",", pipelines), MigrationsOf(await run.GetAsync(slot, "/api/v1/cluster/migrations")));
    }

    /// <summary>Waits until coordinator <paramref name="slot"/> answers with <paramref name="expected"/>'s state (the leader recovers its singletons after /ready).</summary>
    private static async Task AssertStateAsync(HaRun run, int slot, CoordinatorState expected)
    {
        CoordinatorState? last = null;
        try
        {
            await ClusterRun.WaitForAsync($"the coordinator state on {slot}", async () => (last = await StateAsync(run, slot)).Keeps(expected), TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"coordinator {slot} answers\n  {last}\ninstead of\n  {expected}");
        }
    }

    /// <summary>In how many of the data directories (of <paramref name="slots"/>, default all three) a record of <paramref name="persistenceId"/> (journal or snapshot) contains <paramref name="text"/>.</summary>
    private static int DirectoriesHolding(HaRun run, string persistenceId, string text, int[]? slots = null)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return (slots ?? [1, 2, 3]).Count(slot => new[] { "journal/", "snapshot/" }.Any(kind =>
        {
            var path = Path.Combine(run.DataDir(slot), "coordinator-state", Uri.EscapeDataString(kind + persistenceId) + ".state");
            return File.Exists(path) && File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0;
        }));
    }

    /// <summary>A data directory's version: the newest (generation, sequence) in the header lines of its record files.</summary>
    private static (long Generation, long Sequence) DirectoryVersion(string dataDir)
        => Directory.EnumerateFiles(Path.Combine(dataDir, "coordinator-state"), "*.state")
            .Select(f => File.ReadLines(f).First().Split(' '))
            .Select(h => (long.Parse(h[2], CultureInfo.InvariantCulture), long.Parse(h[3], CultureInfo.InvariantCulture)))
            .DefaultIfEmpty((0L, 0L))
            .Max();

    private static void AssertInAMajority(HaRun run, string persistenceId, string text)
    {
        if (DirectoriesHolding(run, persistenceId, text) < 2) Assert.Fail($"'{text}' of {persistenceId} is in fewer than 2 data directories:\n{StateFiles(run)}");
    }

    private static (long Generation, long Sequence) VersionOf(string shown)
    {
        var parts = shown.Split('.');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static string StateFiles(HaRun run)
        => string.Join("\n", new[] { 1, 2, 3 }.SelectMany(slot => Directory.Exists(Path.Combine(run.DataDir(slot), "coordinator-state"))
            ? Directory.EnumerateFiles(Path.Combine(run.DataDir(slot), "coordinator-state"), "*.state").Select(f => f + ": " + File.ReadLines(f).FirstOrDefault())
            : [$"{slot}: no coordinator-state directory"]));

    /// <summary>Drains the worker of pipeline <c>idle</c> once it is placed (asked of <paramref name="via"/>): its id and the drain's answer.</summary>
    private static async Task<(string Worker, string Body)> DrainIdleWorkerAsync(HaRun run, int leader, int via)
    {
        string idleWorker = "";
        await ClusterRun.WaitForAsync("idle placed", async () =>
        {
            var p = (await run.GetAsync(leader, "/api/v1/pipelines"))["pipelines"]!.AsArray().Single(x => (string?)x!["name"] == "idle")!;
            idleWorker = (string?)p["worker_id"] ?? "";
            return idleWorker.Length > 0;
        });
        var (drained, drainBody, _) = await run.SendAsync(via, HttpMethod.Post, $"/api/v1/cluster/workers/{idleWorker}/drain");
        Assert.True(drained == HttpStatusCode.OK, drainBody);
        return (idleWorker, drainBody);
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
