using System.Text;
using Akka.Actor;
using Microsoft.Data.Sqlite;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Pipelines;
using Varpulis.Contracts.Cluster;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Varpulis.Cluster.Tests.InProcess;

/// <summary>
/// Several actor systems in one process form a cluster (a coordinator, workers; all over loopback remoting, one
/// embedded journal), as Akka.Cluster.Sharding's own specs do: pipelines hand off with a snapshot when a worker is
/// drained, recover from the journal when a worker dies, tenants and the directory are the same from every node, and
/// the cluster manager keeps its state when it moves to another coordinator.
/// </summary>
public sealed class InProcessClusterSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Program = "stream Sums = Reading .partition_by(k) .window(10) .aggregate(n: count(), total: sum(v)) .emit(k: k, n: n, total: total)";
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private readonly string _journal = ServerProcess.TempDir();
    private readonly List<ClusterNode> _nodes = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in Enumerable.Reverse(_nodes)) await n.DisposeAsync();
    }

    private async Task<ClusterNode> Coordinator(string? seed = null)
    {
        var node = seed is null ? await ClusterNode.StartCoordinatorAsync(_journal) : await ClusterNode.StartSecondCoordinatorAsync(_journal, seed);
        _nodes.Add(node);
        return node;
    }

    private async Task<ClusterNode> Worker(ClusterNode coordinator, string id)
    {
        var node = await ClusterNode.StartWorkerAsync(_journal, coordinator.Address, id);
        _nodes.Add(node);
        return node;
    }

    [Fact]
    public async Task DrainHandsPipelinesOffWithASnapshotAndTheyResumeWithTheirState()
    {
        var coordinator = await Coordinator();
        var w1 = await Worker(coordinator, "w1");
        var w2 = await Worker(coordinator, "w2");
        await WorkersReadyAsync(coordinator, 2);
        var id = await DeployAsync(coordinator, "sums");
        for (int i = 1; i <= 7; i++) await IngestAsync(w2, id, Reading("a", i));
        var from = await HostOfAsync(coordinator, id);
        var to = from == "w1" ? "w2" : "w1";

        var drained = await coordinator.Manager.Ask<WorkerDrained>(new DrainWorker(from), TimeSpan.FromSeconds(90));
        Assert.Equal(new DrainResult(from, 1, "drained"), drained.Result);
        Assert.Equal(to, await HostOfAsync(coordinator, id));

        // The hand-off snapshot covers all 8 journal events (the definition and 7 requests): the new owner replays nothing.
        Assert.Equal(8, SnapshotSequenceNr(id));
        var old = from == "w1" ? w1 : w2;
        Assert.Contains(old.Log.Lines, l => l.Contains($"Pipeline handed off: {id} (sums), 7 events processed, snapshot at sequence number 8", StringComparison.Ordinal));

        // The window resumes: 3 more readings close it with all 10.
        await IngestAsync(w1, id, Reading("a", 8));
        await IngestAsync(w2, id, Reading("a", 9));
        var last = await IngestAsync(coordinator, id, Reading("a", 10));
        Assert.Equal("[{\"event_type\":\"Sums\",\"timestamp\":\"2025-01-01T00:00:10Z\",\"fields\":{\"k\":\"a\",\"n\":10,\"total\":55}}]", Encoding.UTF8.GetString(last.OutputEventsJson));

        var migrations = await coordinator.Manager.Ask<MigrationList>(GetMigrations.Instance, Ask);
        var m = Assert.Single(migrations.Migrations);
        Assert.Equal((id, "sums", from, to, MigrationReason.Drain, MigrationStatus.Completed), (m.PipelineId, m.PipelineName, m.FromWorker, m.ToWorker, m.Reason, m.Status));
        var workers = await coordinator.Manager.Ask<WorkerList>(GetWorkers.Instance, Ask);
        Assert.Equal([(from, WorkerStatus.Draining, 0), (to, WorkerStatus.Ready, 1)],
            workers.Workers.OrderBy(w => w.Id == from ? 0 : 1).Select(w => (w.Id, w.Status, w.PipelinesRunning)));
    }

    [Fact]
    public async Task ALostWorkersPipelinesRecoverElsewhereFromTheJournal()
    {
        var coordinator = await Coordinator();
        var w1 = await Worker(coordinator, "w1");
        var w2 = await Worker(coordinator, "w2");
        await WorkersReadyAsync(coordinator, 2);
        var id = await DeployAsync(coordinator, "sums");
        for (int i = 1; i <= 5; i++) await IngestAsync(coordinator, id, Reading("a", i));
        var lost = await HostOfAsync(coordinator, id);
        var survivor = lost == "w1" ? w2 : w1;

        await (lost == "w1" ? w1 : w2).CrashAsync();

        await AwaitAssertAsync(async () =>
        {
            var workers = await coordinator.Manager.Ask<WorkerList>(GetWorkers.Instance, Ask);
            Assert.Equal([survivor.Plan.WorkerId], workers.Workers.Select(w => w.Id));
            Assert.Equal(survivor.Plan.WorkerId, await HostOfAsync(coordinator, id));
        }, Settle, TimeSpan.FromMilliseconds(250));
        Assert.Contains(coordinator.Log.Lines, l => l.Contains($"Worker unhealthy: {lost}", StringComparison.Ordinal));

        for (int i = 6; i <= 9; i++) await IngestAsync(survivor, id, Reading("a", i));
        var last = await IngestAsync(coordinator, id, Reading("a", 10));
        Assert.Equal("[{\"event_type\":\"Sums\",\"timestamp\":\"2025-01-01T00:00:10Z\",\"fields\":{\"k\":\"a\",\"n\":10,\"total\":55}}]", Encoding.UTF8.GetString(last.OutputEventsJson));
        var metrics = await survivor.Region.Ask<PipelineMetrics>(new GetPipelineMetrics(id, "default"), Ask);
        Assert.Equal(10, metrics.EventsProcessed);
        var m = Assert.Single((await coordinator.Manager.Ask<MigrationList>(GetMigrations.Instance, Ask)).Migrations);
        Assert.Equal((lost, survivor.Plan.WorkerId, MigrationReason.WorkerLost, MigrationStatus.Completed), (m.FromWorker, m.ToWorker, m.Reason, m.Status));
    }

    [Fact]
    public async Task TenantsAndTheDirectoryAreTheSameFromEveryNodeAtOnce()
    {
        var coordinator = await Coordinator();
        var w1 = await Worker(coordinator, "w1");
        var w2 = await Worker(coordinator, "w2");
        await WorkersReadyAsync(coordinator, 2);
        var tenant = new TenantInfo("t-1", "acme", "pro", "ab12", DateTimeOffset.UnixEpoch);

        Assert.Equal(tenant, await w1.Directory.Ask<TenantInfo>(new CreateTenant(tenant), Ask));
        // Written to every node before the reply: each node's local replica has it now.
        foreach (var n in new[] { coordinator, w1, w2 })
            Assert.Equal([tenant], await TenantReplica.ReadAsync(n.System, majority: false, CancellationToken.None));

        // A pipeline of the tenant deployed through one worker is listed through the other, with where it runs.
        var entry = new PipelineEntry("p-1", "t-1", "orders", Program, DateTimeOffset.UnixEpoch);
        var info = await w2.Directory.Ask<object>(new DeployPipelineRequest(entry, 10, 50), Ask);
        Assert.Equal("t-1", Assert.IsType<PipelineInfo>(info).TenantId);
        var listing = await w1.Directory.Ask<PipelineListing>(new QueryPipelines("t-1", 0, 50), Ask);
        var item = Assert.Single(listing.Items);
        Assert.Equal((entry, "running"), (item.Entry, item.Status));
        Assert.Contains(item.WorkerId, new[] { "w1", "w2" });

        await coordinator.Directory.Ask<TenantDeleted>(new DeleteTenant("t-1"), Ask);
        foreach (var n in new[] { coordinator, w1, w2 })
            Assert.Equal([], await TenantReplica.ReadAsync(n.System, majority: false, CancellationToken.None));
    }

    [Fact]
    public async Task TheClusterManagerMovesToTheNextCoordinatorWithItsState()
    {
        var first = await Coordinator();
        var second = await Coordinator(seed: first.Address);
        var w1 = await Worker(first, "w1");
        var w2 = await Worker(first, "w2");
        await WorkersReadyAsync(first, 2);
        var id = await DeployAsync(first, "sums");
        await IngestAsync(w1, id, Reading("a", 1));
        var from = await HostOfAsync(first, id);
        await first.Manager.Ask<WorkerDrained>(new DrainWorker(from), TimeSpan.FromSeconds(90));

        await first.LeaveAsync();

        await AwaitAssertAsync(async () =>
        {
            var health = await second.Manager.Ask<ClusterHealth>(GetClusterHealth.Instance, TimeSpan.FromSeconds(3));
            Assert.Equal(second.Address, health.LeaderAddress);
            var workers = await second.Manager.Ask<WorkerList>(GetWorkers.Instance, TimeSpan.FromSeconds(3));
            Assert.Equal([(from, WorkerStatus.Draining), (from == "w1" ? "w2" : "w1", WorkerStatus.Ready)],
                workers.Workers.OrderBy(w => w.Id == from ? 0 : 1).Select(w => (w.Id, w.Status)));
        }, Settle, TimeSpan.FromMilliseconds(250));
        var m = Assert.Single((await second.Manager.Ask<MigrationList>(GetMigrations.Instance, Ask)).Migrations);
        Assert.Equal((id, from, MigrationReason.Drain, MigrationStatus.Completed), (m.PipelineId, m.FromWorker, m.Reason, m.Status));
        // The directory moved too, with its pipelines.
        var listing = await w2.Directory.Ask<PipelineListing>(new QueryPipelines("default", 0, 50), Ask);
        Assert.Equal([id], listing.Items.Select(i => i.Entry.PipelineId));
    }

    /// <summary>
    /// Issue 10: right after a leader change the next manager's view of where pipelines run was empty until the workers
    /// reported, and a running group read <c>failed</c>. The rule now: a manager that takes over answers nothing built
    /// from placements until every worker reported (or left, or 10 s passed), so its first answer is already the
    /// group running where it runs. Asked the moment the singleton exists on the next coordinator, before the
    /// workers' reports can have reached it.
    /// </summary>
    [Fact]
    public async Task TheNextClusterManagersFirstAnswerShowsARunningGroupWhereItRuns()
    {
        var first = await Coordinator();
        var second = await Coordinator(seed: first.Address);
        await Worker(first, "w1");
        await Worker(first, "w2");
        await WorkersReadyAsync(first, 2);
        var created = await first.Groups.Ask<object>(new CreatePipelineGroup("orders", "default",
            [new GroupPipelineSpec("forward", "stream Fwd = Reading .emit(k: k, v: v)", null, 1, null), new GroupPipelineSpec("sums", Program, null, 1, null)],
            [new GroupRouteSpec("forward", "sums", ["Fwd"])], 100, 50), TimeSpan.FromSeconds(120));
        var group = Assert.IsType<PipelineGroupDeployed>(created).Group;
        var ids = group.Deployments.Select(d => d.PipelineId).ToList();
        var hosts = new[] { await HostOfAsync(first, ids[0]), await HostOfAsync(first, ids[1]) };

        // The singleton's path under its manager, as on the first coordinator.
        var current = await first.System.ActorSelection($"/user/{ClusterManager.SingletonName}/*").Ask<ActorIdentity>(new Identify(null), Ask);
        var next = FirstStartedAsync(second, current.Subject!.Path.ToStringWithoutAddress());
        await first.LeaveAsync();
        var manager = await next;
        PlacementList placed;
        try
        {
            placed = await manager.Ask<PlacementList>(new GetPlacements(ids), Ask);
        }
        catch (AskTimeoutException)
        {
            // No answer at all (seen twice in ~25 runs on a loaded machine, cause not known): the API would answer 503
            // and the client ask again. The first answer through the proxy must be just as complete.
            try
            {
                placed = await second.Manager.Ask<PlacementList>(new GetPlacements(ids), Ask);
            }
            catch (AskTimeoutException ex)
            {
                throw new TimeoutException("no answer from the cluster manager on the next coordinator\n" + second.Log.Text, ex);
            }
        }
        var found = await second.Groups.Ask<PipelineGroupFound>(new GetPipelineGroup(group.Id, "default"), Ask);

        var info = PipelineGroupPlan.Describe(found.Group, placed.Pipelines.ToDictionary(p => p.PipelineId, StringComparer.Ordinal));
        Assert.Equal(GroupStatus.Running, info.Status);
        Assert.Equal([$"forward:{hosts[0]}:running", $"sums:{hosts[1]}:running"], info.Deployments.Select(d => $"{d.PipelineName}:{d.WorkerId}:{d.Status}"));
        Assert.Contains(second.Log.Lines, l => l.Contains("waiting for the reports of 2 workers", StringComparison.Ordinal));
        Assert.Contains(second.Log.Lines, l => l.Contains("Cluster manager caught up: 2 pipelines placed on 2 workers", StringComparison.Ordinal));
    }

    /// <summary>The actor at <paramref name="path"/> on <paramref name="node"/> as soon as it is started there (polled every 5 ms).</summary>
    private static async Task<IActorRef> FirstStartedAsync(ClusterNode node, string path)
    {
        var selection = node.System.ActorSelection(path);
        var deadline = DateTime.UtcNow + Settle;
        while (true)
        {
            var identity = await selection.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(3));
            if (identity.Subject is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} did not start on {node.Address}");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task RebalanceMovesPipelinesToTheLeastLoadedWorkerWithTheirState()
    {
        var coordinator = await Coordinator();
        var w1 = await Worker(coordinator, "w1");
        await WorkersReadyAsync(coordinator, 1);
        var ids = new List<string>();
        for (int p = 0; p < 4; p++)
        {
            var id = await DeployAsync(coordinator, "sums-" + p);
            for (int i = 1; i <= 3; i++) await IngestAsync(w1, id, Reading("a", i));
            ids.Add(id);
        }
        // A new worker gets nothing on its own: pipelines move only when asked.
        var w2 = await Worker(coordinator, "w2");
        await WorkersReadyAsync(coordinator, 2);
        foreach (var id in ids) Assert.Equal("w1", await HostOfAsync(coordinator, id));

        var started = await coordinator.Manager.Ask<RebalanceStarted>(RebalanceCluster.Instance, Ask);
        Assert.Equal(("started", 2), (started.Result.Status, started.Result.PipelinesMoved));
        Assert.All(started.Result.Migrations, m => Assert.Equal(("w1", "w2", MigrationReason.Rebalance), (m.FromWorker, m.ToWorker, m.Reason)));
        await AwaitAssertAsync(async () =>
        {
            var list = await coordinator.Manager.Ask<PlacementList>(new GetPlacements(ids), TimeSpan.FromSeconds(3));
            Assert.Equal([("w1", 2), ("w2", 2)], list.Pipelines.GroupBy(p => p.WorkerId!).Select(g => (g.Key, g.Count())).OrderBy(x => x.Key));
        }, Settle, TimeSpan.FromMilliseconds(250));

        foreach (var id in ids)
        {
            for (int i = 4; i <= 9; i++) await IngestAsync(w2, id, Reading("a", i));
            var last = await IngestAsync(coordinator, id, Reading("a", 10));
            Assert.Equal("[{\"event_type\":\"Sums\",\"timestamp\":\"2025-01-01T00:00:10Z\",\"fields\":{\"k\":\"a\",\"n\":10,\"total\":55}}]", Encoding.UTF8.GetString(last.OutputEventsJson));
        }
        var migrations = await coordinator.Manager.Ask<MigrationList>(GetMigrations.Instance, Ask);
        Assert.Equal(2, migrations.Migrations.Count(m => m.Reason == MigrationReason.Rebalance && m.Status == MigrationStatus.Completed));
        // Balanced now: nothing more to move.
        var again = await coordinator.Manager.Ask<RebalanceStarted>(RebalanceCluster.Instance, Ask);
        Assert.Equal(("balanced", 0), (again.Result.Status, again.Result.PipelinesMoved));
    }

    [Fact]
    public async Task RemovingALiveWorkerHandsItsPipelinesOffAndStopsIt()
    {
        var coordinator = await Coordinator();
        var w1 = await Worker(coordinator, "w1");
        var w2 = await Worker(coordinator, "w2");
        await WorkersReadyAsync(coordinator, 2);
        var id = await DeployAsync(coordinator, "sums");
        for (int i = 1; i <= 4; i++) await IngestAsync(coordinator, id, Reading("a", i));
        var host = await HostOfAsync(coordinator, id);
        var leaving = host == "w1" ? w1 : w2;
        var staying = host == "w1" ? w2 : w1;

        var removed = await coordinator.Manager.Ask<WorkerRemoved>(new RemoveWorker(host), TimeSpan.FromSeconds(90));
        Assert.Equal(new WorkerDeleted(true, host, 1), removed.Result);
        await leaving.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains(leaving.Log.Lines, l => l.Contains($"Pipeline handed off: {id} (sums), 4 events processed, snapshot at sequence number 5", StringComparison.Ordinal));

        Assert.Equal(staying.Plan.WorkerId, await HostOfAsync(coordinator, id));
        for (int i = 5; i <= 9; i++) await IngestAsync(staying, id, Reading("a", i));
        var last = await IngestAsync(coordinator, id, Reading("a", 10));
        Assert.Equal("[{\"event_type\":\"Sums\",\"timestamp\":\"2025-01-01T00:00:10Z\",\"fields\":{\"k\":\"a\",\"n\":10,\"total\":55}}]", Encoding.UTF8.GetString(last.OutputEventsJson));
        var m = Assert.Single((await coordinator.Manager.Ask<MigrationList>(GetMigrations.Instance, Ask)).Migrations);
        Assert.Equal((host, staying.Plan.WorkerId, MigrationReason.WorkerRemoved, MigrationStatus.Completed), (m.FromWorker, m.ToWorker, m.Reason, m.Status));
    }

    [Fact]
    public async Task AWorkerThatStopsHandsItsPipelinesOffAsAWorkerRemovedNotARebalance()
    {
        // What SIGTERM does (docker stop, a swarm update): the host stops, its shard region hands off before the node
        // leaves the cluster, so the manager sees the hand-off while the member is still Up.
        var coordinator = await Coordinator();
        var w1 = await Worker(coordinator, "w1");
        var w2 = await Worker(coordinator, "w2");
        await WorkersReadyAsync(coordinator, 2);
        var id = await DeployAsync(coordinator, "sums");
        for (int i = 1; i <= 3; i++) await IngestAsync(coordinator, id, Reading("a", i));
        var host = await HostOfAsync(coordinator, id);
        var stopping = host == "w1" ? w1 : w2;
        var staying = host == "w1" ? w2 : w1;

        await stopping.LeaveAsync();
        Assert.Contains(stopping.Log.Lines, l => l.Contains($"Pipeline handed off: {id} (sums), 3 events processed, snapshot at sequence number 4", StringComparison.Ordinal));

        await AwaitAssertAsync(async () =>
        {
            var m = Assert.Single((await coordinator.Manager.Ask<MigrationList>(GetMigrations.Instance, Ask)).Migrations);
            Assert.Equal((id, host, staying.Plan.WorkerId, MigrationReason.WorkerRemoved, MigrationStatus.Completed), (m.PipelineId, m.FromWorker, m.ToWorker, m.Reason, m.Status));
        }, Settle, TimeSpan.FromMilliseconds(250));
        // The window resumes on the other worker with the 3 readings it had.
        for (int i = 4; i <= 9; i++) await IngestAsync(staying, id, Reading("a", i));
        var last = await IngestAsync(coordinator, id, Reading("a", 10));
        Assert.Equal("[{\"event_type\":\"Sums\",\"timestamp\":\"2025-01-01T00:00:10Z\",\"fields\":{\"k\":\"a\",\"n\":10,\"total\":55}}]", Encoding.UTF8.GetString(last.OutputEventsJson));
    }

    // ------------------------------------------------------------------ helpers

    private async Task WorkersReadyAsync(ClusterNode coordinator, int count)
        => await AwaitAssertAsync(async () =>
        {
            var workers = await coordinator.Manager.Ask<WorkerList>(GetWorkers.Instance, TimeSpan.FromSeconds(3));
            Assert.Equal(count, workers.Workers.Count(w => w.Status == WorkerStatus.Ready && w.LastHeartbeat is not null));
        }, Settle, TimeSpan.FromMilliseconds(250));

    private async Task<string> DeployAsync(ClusterNode via, string name)
    {
        var id = Guid.NewGuid().ToString();
        var entry = new PipelineEntry(id, "default", name, Program, DateTimeOffset.UnixEpoch);
        var info = await via.Directory.Ask<object>(new DeployPipelineRequest(entry, 100, 50), Ask);
        Assert.IsType<PipelineInfo>(info);
        await HostOfAsync(via, id);
        return id;
    }

    private static async Task<IngestResult> IngestAsync(ClusterNode via, string id, string body)
    {
        var reply = await via.Region.Ask<object>(new IngestEvents(id, "default", Encoding.UTF8.GetBytes(body), IsBatch: false), Ask);
        var result = Assert.IsType<IngestResult>(reply);
        Assert.Equal(1, result.Accepted);
        return result;
    }

    /// <summary>The worker the manager sees the pipeline on (waits until it sees it somewhere).</summary>
    private async Task<string> HostOfAsync(ClusterNode coordinator, string id)
    {
        string? worker = null;
        await AwaitAssertAsync(async () =>
        {
            var list = await coordinator.Manager.Ask<PlacementList>(new GetPlacements([id]), TimeSpan.FromSeconds(3));
            worker = Assert.Single(list.Pipelines).WorkerId;
            Assert.NotNull(worker);
        }, Settle, TimeSpan.FromMilliseconds(100));
        return worker!;
    }

    private static string Reading(string k, int v) => $"{{\"event_type\":\"Reading\",\"fields\":{{\"k\":\"{k}\",\"v\":{v}}},\"timestamp\":\"2025-01-01T00:00:{v:00}Z\"}}";

    private long SnapshotSequenceNr(string pipelineId)
    {
        using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_journal, "snapshots.db"), Mode = SqliteOpenMode.ReadOnly }.ToString());
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT MAX(sequence_number) FROM snapshot WHERE persistence_id = $id";
        cmd.Parameters.AddWithValue("$id", "pipeline-" + pipelineId);
        return cmd.ExecuteScalar() is long n ? n : -1;
    }
}
