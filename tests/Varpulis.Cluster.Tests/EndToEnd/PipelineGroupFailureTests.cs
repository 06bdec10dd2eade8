using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Cluster.Tests.Api;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// Pipeline groups on a real cluster (a coordinator and three workers, the runbook's §1.2 commands on loopback): a route
/// keeps its exactly-once effect while the worker of the sending and then of the receiving pipeline is killed with
/// <c>kill -9</c> as events flow, and three replicas with a partition key give the single-node answer per key.
/// </summary>
public sealed class PipelineGroupFailureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>The totals of the API test over one window that holds every order of the run (closed by an event in 2030).</summary>
    private static readonly string LongTotals = PipelineGroupApiTests.Totals.Replace(".window(1h)", ".window(3650d)", StringComparison.Ordinal);

    private const string Sums = "stream Sums = Reading .partition_by(k) .window(10) .aggregate(n: count(), total: sum(v)) .emit(k: k, n: n, total: total)";

    [Fact]
    public async Task ARouteLosesAndDoublesNothingWhenTheWorkersOfBothEndsAreKilled()
    {
        await using var run = new ClusterRun();
        try
        {
            await StartAsync(run);
            var group = await CreateAsync(run, """
                {"name": "orders",
                 "pipelines": [{"name": "filter", "source": "FILTER", "worker_affinity": "worker-1"},
                               {"name": "totals", "source": "TOTALS", "worker_affinity": "worker-2"}],
                 "routes": [{"from_pipeline": "_external", "to_pipeline": "filter", "event_types": ["Order"]},
                            {"from_pipeline": "filter", "to_pipeline": "totals", "event_types": ["BigOrder"]}]}
                """.Replace("FILTER", PipelineGroupApiTests.Filter).Replace("TOTALS", LongTotals));
            string id = (string)group["id"]!;
            var deployments = group["deployments"]!.AsArray();
            Assert.Equal(("worker-1", "worker-2"), ((string?)deployments[0]!["worker_id"], (string?)deployments[1]!["worker_id"]));
            string totalsId = (string)deployments[1]!["pipeline_id"]!;

            // Batch b: orders 50b .. 50b+49, injected through the coordinator, each batch retried with its key until acknowledged.
            var client = new BatchClient(run, id, PipelineGroupApiTests.OrderBatch, $"/api/v1/cluster/pipeline-groups/{id}/inject-batch");
            using var stop = new CancellationTokenSource();
            var sending = Task.Run(() => client.RunAsync(stop.Token));
            await client.ProgressAsync(sending, 5);

            // kill -9 the sender's worker while events flow; it recovers elsewhere with what it still owes.
            run.KillWorker("worker-1");
            await WaitPlacedAsync(run, id, "filter", w => w is not null && w != "worker-1");
            await client.ProgressAsync(sending, 5);

            // kill -9 the receiver's worker; it recovers from its journal, its applied sequence numbers with it.
            run.KillWorker("worker-2");
            await WaitPlacedAsync(run, id, "totals", w => w is not null && w != "worker-2");
            await client.ProgressAsync(sending, 5);
            stop.Cancel();
            await sending;
            output.WriteLine($"{client.Acknowledged} batches acknowledged, {client.Retries} retries, longest wait {client.LongestWait.TotalSeconds:0.0} s");

            int orders = client.Acknowledged * 50;
            var expected = PipelineGroupApiTests.Expected(orders);
            long routed = expected.Values.Sum(v => v.N);
            await ClusterRun.WaitForAsync("every routed order applied once", async () =>
                (long)(await run.GetAsync($"/api/v1/pipelines/{totalsId}/metrics"))["events_processed"]! >= routed, TimeSpan.FromSeconds(60));
            // Nothing more arrives late: the count stays exact.
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Equal(routed, (long)(await run.GetAsync($"/api/v1/pipelines/{totalsId}/metrics"))["events_processed"]!);

            var (status, body) = await run.SendAsync(HttpMethod.Post, $"/api/v1/pipelines/{totalsId}/events",
                """{"event_type": "BigOrder", "timestamp": "2030-01-01T00:00:00Z", "fields": {"customer": "zz", "amount": 0}}""");
            Assert.True(status == HttpStatusCode.OK, body);
            var hours = JsonNode.Parse(body)!["output_events"]!.AsArray()
                .GroupBy(o => (string)o!["fields"]!["customer"]!)
                .ToDictionary(g => g.Key, g => (g.Sum(o => (long)o!["fields"]!["n"]!), g.Sum(o => (long)o!["fields"]!["total"]!)));
            Assert.Equal(expected.Select(kv => $"{kv.Key}:{kv.Value.N}:{kv.Value.Total}"), hours.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{kv.Value.Item1}:{kv.Value.Item2}"));

            var migrations = (await run.GetAsync("/api/v1/cluster/migrations"))["migrations"]!.AsArray();
            Assert.Contains(migrations, m => (string?)m!["reason"] == "worker_lost" && (string?)m["from_worker"] == "worker-1" && (string?)m["status"] == "completed");
            Assert.Contains(migrations, m => (string?)m!["reason"] == "worker_lost" && (string?)m["from_worker"] == "worker-2" && (string?)m["status"] == "completed");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + run.Logs());
        }
    }

    [Fact]
    public async Task ThreeReplicasWithAPartitionKeyGiveTheSingleNodeAnswerPerKey()
    {
        await using var run = new ClusterRun();
        try
        {
            await StartAsync(run);
            var group = await CreateAsync(run, $$"""
                {"name": "sums",
                 "pipelines": [{"name": "sums", "source": "{{Sums}}", "replicas": 3, "partition_key": "k"}],
                 "routes": [{"from_pipeline": "_external", "to_pipeline": "sums", "event_types": ["*"]}]}
                """);
            string id = (string)group["id"]!;
            var deployments = group["deployments"]!.AsArray();
            Assert.Equal([0, 1, 2], deployments.Select(d => (int)d!["replica"]!));
            // Least-loaded placement spreads the replicas over the three workers.
            Assert.Equal(["worker-0", "worker-1", "worker-2"], deployments.Select(d => (string)d!["worker_id"]!).Order(StringComparer.Ordinal));

            var client = new BatchClient(run, id, ReadingBatch, $"/api/v1/cluster/pipeline-groups/{id}/inject-batch");
            using var stop = new CancellationTokenSource();
            var sending = Task.Run(() => client.RunAsync(stop.Token));
            await ClusterRun.WaitForAsync("40 batches", () => Task.FromResult(client.Acknowledged >= 40 || sending.IsFaulted), TimeSpan.FromSeconds(120));
            stop.Cancel();
            await sending;

            // Per key, the outputs (each key's count windows) are the single-node run's, in order.
            var reference = BatchClient.Reference(Sums, ReadingBatch, client.Acknowledged);
            Assert.Equal(PerKey(reference), PerKey(client.Outputs));
            Assert.Equal(7, PerKey(client.Outputs).Count);
            // Every key went to one replica only: each replica processed exactly its keys' events.
            long total = 0;
            foreach (var d in deployments)
                total += (long)(await run.GetAsync($"/api/v1/pipelines/{(string)d!["pipeline_id"]!}/metrics"))["events_processed"]!;
            Assert.Equal(client.Acknowledged * 14L, total);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + run.Logs());
        }
    }

    private static async Task StartAsync(ClusterRun run)
    {
        await run.StartCoordinatorAsync();
        await Task.WhenAll(run.StartWorkerAsync("worker-0"), run.StartWorkerAsync("worker-1"), run.StartWorkerAsync("worker-2"));
        await ClusterRun.WaitForAsync("three ready workers", async () => (await run.WorkersAsync()).Count(w => (string?)w!["status"] == "ready") == 3);
    }

    private static async Task<JsonNode> CreateAsync(ClusterRun run, string json)
    {
        var (status, body) = await run.SendAsync(HttpMethod.Post, "/api/v1/cluster/pipeline-groups", json);
        Assert.True(status == HttpStatusCode.Created, body);
        return JsonNode.Parse(body)!;
    }

    private static async Task WaitPlacedAsync(ClusterRun run, string groupId, string pipeline, Func<string?, bool> where)
        => await ClusterRun.WaitForAsync($"{pipeline} placed again", async () =>
        {
            var g = await run.GetAsync($"/api/v1/cluster/pipeline-groups/{groupId}");
            return where((string?)g["deployments"]!.AsArray().First(d => (string?)d!["pipeline_name"] == pipeline)!["worker_id"]);
        }, TimeSpan.FromSeconds(90));

    /// <summary>14 readings over 7 keys; key kj gets value n for the n-th reading overall.</summary>
    private static string ReadingBatch(int b)
        => "{\"events\": [" + string.Join(",", Enumerable.Range(b * 14, 14).Select(n =>
            $"{{\"event_type\":\"Reading\",\"fields\":{{\"k\":\"k{n * 3 % 7}\",\"v\":{n}}},\"timestamp\":\"{PipelineGroupApiTests.Base.AddSeconds(n).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\"}}")) + "]}";

    /// <summary>Output events grouped by key, in order within each key.</summary>
    private static SortedDictionary<string, string> PerKey(IEnumerable<string> batches)
    {
        var byKey = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var batch in batches)
        {
            foreach (var o in JsonNode.Parse(batch)!.AsArray())
            {
                var k = (string)o!["k"]!;
                if (!byKey.TryGetValue(k, out var list)) byKey[k] = list = new List<string>();
                list.Add(o.ToJsonString());
            }
        }
        return new SortedDictionary<string, string>(byKey.ToDictionary(kv => kv.Key, kv => string.Join("\n", kv.Value)), StringComparer.Ordinal);
    }
}
