using System.Text;
using Akka.Actor;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Pipelines.Routes;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Cluster.Tests.InProcess;

/// <summary>
/// The delivery guarantee of pipeline group routes on an in-process cluster (a coordinator, two workers, one embedded
/// journal): a receiver applies each source's batches once and in sequence, and remembers it across a move and a crash;
/// a route keeps its exactly-once effect while both of its pipelines are drained to the other worker mid-stream.
/// </summary>
public sealed class RouteDeliverySpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Program = "stream Sums = Reading .partition_by(k) .window(1000) .aggregate(n: count(), total: sum(v)) .emit(k: k, n: n, total: total)";
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private readonly string _journal = ServerProcess.TempDir();
    private readonly List<ClusterNode> _nodes = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in Enumerable.Reverse(_nodes)) await n.DisposeAsync();
    }

    [Fact]
    public async Task AReceiverAppliesEachRoutedBatchOnceInSequenceAcrossAMoveAndACrash()
    {
        var (coordinator, w1, w2) = await ClusterAsync();
        var group = await CreateAsync(coordinator, new PipelineGroup("", "g", "default",
            [new GroupPipelineSpec("sums", Program, "w1", 1, null)], [], [], "", default));
        var id = group.Deployments[0].PipelineId;
        Assert.Equal("w1", await HostOfAsync(coordinator, id));

        Assert.Equal(new RouteAck("src", id, 1, 1), await DeliverAsync(w2, id, 1, 1, 2));
        Assert.Equal(new RouteAck("src", id, 1, 1), await DeliverAsync(w2, id, 1, 1, 2));    // a repeat: nothing applied
        Assert.Equal(new RouteAck("src", id, 1, 3), await DeliverAsync(w2, id, 3, 5, 6));    // after a gap: refused, says where it stands
        Assert.Equal(new RouteAck("src", id, 2, 2), await DeliverAsync(w2, id, 2, 3, 4));
        Assert.Equal(4, await ProcessedAsync(coordinator, id));

        // Moved with a snapshot: what it applied moved with it.
        await coordinator.Manager.Ask<WorkerDrained>(new DrainWorker("w1"), TimeSpan.FromSeconds(90));
        Assert.Equal("w2", await HostOfAsync(coordinator, id));
        Assert.Equal(new RouteAck("src", id, 2, 2), await DeliverAsync(coordinator, id, 2, 3, 4));
        Assert.Equal(new RouteAck("src", id, 3, 3), await DeliverAsync(coordinator, id, 3, 5, 6));
        Assert.Equal(6, await ProcessedAsync(coordinator, id));

        // Crashed: recovered from the snapshot and the journal after it, the routed batch's origin with it.
        var w3 = await WorkerAsync(coordinator, "w3");
        await w2.CrashAsync();
        Assert.Equal("w3", await HostOfAsync(coordinator, id, notOn: "w2"));
        Assert.Equal(new RouteAck("src", id, 3, 3), await DeliverAsync(w3, id, 3, 5, 6));
        Assert.Equal(new RouteAck("src", id, 3, 2), await DeliverAsync(w3, id, 2, 3, 4));
        Assert.Equal(new RouteAck("src", id, 4, 4), await DeliverAsync(w3, id, 4, 7, 8));
        Assert.Equal(8, await ProcessedAsync(coordinator, id));
        // Another source has its own sequence.
        Assert.Equal(new RouteAck("other", id, 1, 1), await DeliverAsync(w3, id, 1, 9, 10, source: "other"));
        Assert.Equal(10, await ProcessedAsync(coordinator, id));
    }

    [Fact]
    public async Task ARouteKeepsItsEffectWhileBothEndsAreDrainedMidStream()
    {
        var (coordinator, w1, w2) = await ClusterAsync();
        // forward (on w1) sends every reading on to sums (on w2).
        var group = await CreateAsync(coordinator, new PipelineGroup("", "g", "default",
            [new GroupPipelineSpec("forward", "stream Fwd = Reading .emit(k: k, v: v)", "w1", 1, null), new GroupPipelineSpec("sums", Program.Replace("Reading", "Fwd", StringComparison.Ordinal), "w2", 1, null)],
            [new GroupRouteSpec("_external", "forward", ["Reading"]), new GroupRouteSpec("forward", "sums", ["Fwd"])], [], "", default));
        string forward = group.Deployments[0].PipelineId, sums = group.Deployments[1].PipelineId;
        Assert.Equal(("w1", "w2"), (await HostOfAsync(coordinator, forward), await HostOfAsync(coordinator, sums)));

        var w3 = await WorkerAsync(coordinator, "w3");
        var send = Task.Run(async () =>
        {
            for (int b = 0; b < 60; b++)
            {
                var body = "{\"events\":[" + string.Join(",", Enumerable.Range(b * 5, 5).Select(i => Reading("k" + (i % 3), i))) + "]}";
                while (true)
                {
                    var reply = await coordinator.Region.Ask<object>(new IngestEvents(forward, "default", Encoding.UTF8.GetBytes(body), true, "b-" + b), Ask);
                    if (reply is IngestResult) break;
                    Assert.Equal("unavailable", Assert.IsType<PipelineError>(reply).Code);
                    await Task.Delay(100);
                }
            }
        });
        await AwaitConditionAsync(async () => await ProcessedAsync(coordinator, sums) >= 50, Settle);
        await coordinator.Manager.Ask<WorkerDrained>(new DrainWorker("w1"), TimeSpan.FromSeconds(90));
        await AwaitConditionAsync(async () => await ProcessedAsync(coordinator, sums) >= 150, Settle);
        await coordinator.Manager.Ask<WorkerDrained>(new DrainWorker("w2"), TimeSpan.FromSeconds(90));
        await send;
        Assert.Equal("w3", await HostOfAsync(coordinator, forward));
        Assert.Equal("w3", await HostOfAsync(coordinator, sums));

        await AwaitConditionAsync(async () => await ProcessedAsync(coordinator, sums) >= 300, Settle);
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(300, await ProcessedAsync(coordinator, sums));
        var metrics = await coordinator.Region.Ask<PipelineMetrics>(new GetPipelineMetrics(forward, "default"), Ask);
        Assert.Equal((300, 300), (metrics.EventsProcessed, metrics.OutputEventsEmitted));
    }

    private async Task<(ClusterNode, ClusterNode, ClusterNode)> ClusterAsync()
    {
        var coordinator = await ClusterNode.StartCoordinatorAsync(_journal);
        _nodes.Add(coordinator);
        var w1 = await WorkerAsync(coordinator, "w1");
        var w2 = await WorkerAsync(coordinator, "w2");
        await AwaitAssertAsync(async () =>
        {
            var workers = await coordinator.Manager.Ask<WorkerList>(GetWorkers.Instance, TimeSpan.FromSeconds(3));
            Assert.Equal(2, workers.Workers.Count(w => w.Status == WorkerStatus.Ready && w.LastHeartbeat is not null));
        }, Settle, TimeSpan.FromMilliseconds(250));
        return (coordinator, w1, w2);
    }

    private async Task<ClusterNode> WorkerAsync(ClusterNode coordinator, string id)
    {
        var node = await ClusterNode.StartWorkerAsync(_journal, coordinator.Address, id);
        _nodes.Add(node);
        return node;
    }

    private static async Task<PipelineGroup> CreateAsync(ClusterNode via, PipelineGroup g)
    {
        var reply = await via.Groups.Ask<object>(new CreatePipelineGroup(g.Name, g.TenantId, g.Pipelines, g.Routes, 100, 50), TimeSpan.FromSeconds(120));
        return Assert.IsType<PipelineGroupDeployed>(reply).Group;
    }

    /// <summary>Delivers readings <paramref name="from"/> .. <paramref name="to"/> as routed batch <paramref name="seq"/>.</summary>
    private static async Task<RouteAck> DeliverAsync(ClusterNode via, string id, long seq, int from, int to, string source = "src")
    {
        var body = "{\"events\":[" + string.Join(",", Enumerable.Range(from, to - from + 1).Select(i => Reading("a", i))) + "]}";
        var reply = await via.Region.Ask<object>(new DeliverRoutedEvents(id, "default", source, seq, Encoding.UTF8.GetBytes(body)), Ask);
        return Assert.IsType<RouteAck>(reply);
    }

    private static async Task<long> ProcessedAsync(ClusterNode via, string id)
    {
        for (int attempt = 0; ; attempt++)
        {
            var reply = await via.Region.Ask<object>(new GetPipelineMetrics(id, "default"), Ask);
            if (reply is PipelineMetrics m) return m.EventsProcessed;
            if (attempt > 100) throw new InvalidOperationException($"no metrics: {reply}");
            await Task.Delay(200);
        }
    }

    private async Task<string> HostOfAsync(ClusterNode coordinator, string id, string? notOn = null)
    {
        string? worker = null;
        await AwaitAssertAsync(async () =>
        {
            var list = await coordinator.Manager.Ask<PlacementList>(new GetPlacements([id]), TimeSpan.FromSeconds(3));
            worker = Assert.Single(list.Pipelines).WorkerId;
            Assert.NotNull(worker);
            Assert.NotEqual(notOn, worker);
        }, Settle, TimeSpan.FromMilliseconds(100));
        return worker!;
    }

    private static async Task AwaitConditionAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(200);
        }
    }

    private static string Reading(string k, int v) => $"{{\"event_type\":\"Reading\",\"fields\":{{\"k\":\"{k}\",\"v\":{v}}},\"timestamp\":\"2025-01-01T00:00:00Z\"}}";
}
