using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Varpulis.Actors.Pipelines;
using Varpulis.Cluster.Tests.Api;
using Varpulis.Vpl.Json;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// A pipeline group across a coordinator failover (issue 10, Tests): three coordinators with <c>--raft*</c> and two
/// workers as real processes on loopback; a group of two pipelines on different workers with a route A → B (a
/// <c>Big*</c> pattern); batches injected through the coordinators while the raft leader is killed with
/// <c>kill -9</c>. Another coordinator leads with the next term, the group is there on it with its deployments and
/// routes, injects keep being answered through the change (events are not coordinator writes), and B's results equal a
/// single-node run of the same events through the same two programs: nothing lost or doubled across the route.
/// </summary>
public sealed class HaGroupFailoverTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Filter = "stream BigOrder = Order .where(amount > 10) .emit(customer: customer, amount: amount)";

    /// <summary>One window over the whole run per customer (closed by an event in 2030): count, sum, min and max of what was routed.</summary>
    private const string Totals = "stream Totals = BigOrder .partition_by(customer) .window(3650d) "
        + ".aggregate(n: count(), total: sum(amount), low: min(amount), high: max(amount)) .emit(customer: customer, n: n, total: total, low: low, high: high)";

    private const string Closing = """{"event_type": "BigOrder", "timestamp": "2030-01-01T00:00:00Z", "fields": {"customer": "zz", "amount": 0}}""";

    [Fact]
    public Task KillingTheRaftLeaderMidStreamKeepsTheGroupAndItsRouteExact() => HaRun.RunAsync(null, ScenarioAsync);

    [PostgresFact]
    public Task KillingTheRaftLeaderMidStreamKeepsTheGroupAndItsRouteExactOnPostgreSql() => PostgresServer.WithJournalAsync(env => HaRun.RunAsync(env, ScenarioAsync));

    private async Task ScenarioAsync(HaRun run)
    {
        var (leader, term) = await run.StartCoordinatorsAsync();
        var followers = new[] { 1, 2, 3 }.Where(i => i != leader).ToArray();
        await Task.WhenAll(run.StartWorkerAsync("worker-0", followers[0]), run.StartWorkerAsync("worker-1", followers[1]));
        await ClusterRun.WaitForAsync("two ready workers", async () =>
            (await run.GetAsync(leader, "/api/v1/cluster/workers")).AsArray().Count(w => (string?)w!["status"] == "ready") == 2);

        // The group, deployed through a follower: A on worker-0, B on worker-1, so the route crosses processes.
        var (created, createdBody, _) = await run.SendAsync(followers[0], HttpMethod.Post, "/api/v1/cluster/pipeline-groups", $$"""
            {"name": "orders",
             "pipelines": [{"name": "filter", "source": "{{Filter}}", "worker_affinity": "worker-0"},
                           {"name": "totals", "source": "{{Totals}}", "worker_affinity": "worker-1"}],
             "routes": [{"from_pipeline": "_external", "to_pipeline": "filter", "event_types": ["Order"]},
                        {"from_pipeline": "filter", "to_pipeline": "totals", "event_types": ["Big*"]}]}
            """);
        Assert.True(created == HttpStatusCode.Created, createdBody);
        var group = JsonNode.Parse(createdBody)!;
        string groupId = (string)group["id"]!;
        Assert.Equal("filter:worker-0:running,totals:worker-1:running", Deployments(group));
        string totalsId = (string)group["deployments"]![1]!["pipeline_id"]!;
        const string Routes = """[{"from_pipeline":"_external","to_pipeline":"filter","event_types":["Order"]},{"from_pipeline":"filter","to_pipeline":"totals","event_types":["Big*"]}]""";
        Assert.Equal(Routes, group["routes"]!.ToJsonString());

        // inject-batch through whichever coordinator is up, each batch with its Idempotency-Key until acknowledged.
        var client = new BatchClient(
            () => run.Running.Select(n => (run.Url(n), HaRun.CoordinatorKey)).ToList(), groupId, PipelineGroupApiTests.OrderBatch, $"/api/v1/cluster/pipeline-groups/{groupId}/inject-batch");
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(() => client.RunAsync(stop.Token));
        await client.ProgressAsync(sending, 5);

        // kill -9 of the raft leader while batches flow.
        run.KillCoordinator(leader);
        int atKill = client.Acknowledged;
        var (newLeader, newTerm) = await run.AgreedLeaderAsync(followers, (l, t) => l != leader && t > term);
        int atNewLeader = client.Acknowledged;
        output.WriteLine($"leader {leader} (term {term}) killed after {atKill} batches; coordinator {newLeader} leads with term {newTerm}; {atNewLeader - atKill} batches acknowledged meanwhile");
        Assert.Contains(newLeader, followers);
        Assert.Equal(term + 1, newTerm);

        // The group on the new leader, its first successful answers right after the change (no waiting for a status):
        // running, the same deployments where they run, the routes. Rule (docs/cluster.md, Leader failover): the new
        // leader's cluster manager answers where pipelines run only once every worker reported to it, so a group never
        // reads failed (or partially_running) merely because the new leader has not heard from its workers yet.
        var after = await run.FirstAnswerAsync(newLeader, $"/api/v1/cluster/pipeline-groups/{groupId}");
        var listed = await run.FirstAnswerAsync(newLeader, "/api/v1/cluster/pipeline-groups");
        Assert.Equal(("orders", "running"), ((string?)after["name"], (string?)after["status"]));
        Assert.Equal("filter:worker-0:running,totals:worker-1:running", Deployments(after));
        Assert.Equal(group["deployments"]!.ToJsonString(), after["deployments"]!.ToJsonString());
        Assert.Equal(Routes, after["routes"]!.ToJsonString());
        var only = Assert.Single(listed.AsArray())!;
        Assert.Equal((groupId, "running", "filter:worker-0:running,totals:worker-1:running"), ((string?)only["id"], (string?)only["status"], Deployments(only)));
        await client.ProgressAsync(sending, 5);

        stop.Cancel();
        await sending;
        int batches = client.Acknowledged;
        output.WriteLine($"{batches} batches acknowledged, {client.Retries} retries ({string.Join(", ", client.Refusals)}), longest wait {client.LongestWait.TotalSeconds:0.0} s");
        // Events are not coordinator writes: no inject was refused for want of a leader.
        Assert.DoesNotContain(client.Refusals, r => r.StartsWith("503", StringComparison.Ordinal));

        // A's outputs (the inject replies) are the single-node run's, batch by batch.
        Assert.Equal(BatchClient.Reference(Filter, PipelineGroupApiTests.OrderBatch, batches), client.Outputs);

        // B: the same two programs on one node, A's outputs fed to B as the route does, then the closing event.
        var (routed, expected) = SingleNode(batches);
        Assert.True(routed > 0);
        await ClusterRun.WaitForAsync("every routed order applied", async () =>
            (long)(await run.GetAsync(newLeader, $"/api/v1/pipelines/{totalsId}/metrics"))["events_processed"]! >= routed, TimeSpan.FromSeconds(90));
        // Nothing arrives late or twice: the count stays exact.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(routed, (long)(await run.GetAsync(newLeader, $"/api/v1/pipelines/{totalsId}/metrics"))["events_processed"]!);
        var (closed, closedBody, _) = await run.SendAsync(newLeader, HttpMethod.Post, $"/api/v1/pipelines/{totalsId}/events", Closing);
        Assert.True(closed == HttpStatusCode.OK, closedBody);
        var outputs = JsonNode.Parse(closedBody)!["output_events"]!;
        Assert.Equal(5, outputs.AsArray().Count);
        Assert.Equal(expected, outputs.ToJsonString());
    }

    /// <summary>
    /// A single node's answer: Filter over every batch, each batch's outputs fed to Totals as one routed batch; the number
    /// of events routed and Totals' outputs for the closing event (the REST single-event shape).
    /// </summary>
    private static (long Routed, string ClosingOutputs) SingleNode(int batches)
    {
        var filter = BatchClient.Runtime(Filter);
        var totals = BatchClient.Runtime(Totals);
        long routed = 0;
        for (int b = 0; b < batches; b++)
        {
            var outputs = filter.Ingest(Encoding.UTF8.GetBytes(PipelineGroupApiTests.OrderBatch(b)), isBatch: true, ingestTimeNanos: 0).Outputs;
            routed += outputs.Count;
            var body = "{\"events\":" + Encoding.UTF8.GetString(PipelineRuntime.RenderArray(outputs, OutputShape.Fields)) + "}";
            Assert.Empty(totals.Ingest(Encoding.UTF8.GetBytes(body), isBatch: true, ingestTimeNanos: 0).Outputs);
        }
        var close = totals.Ingest(Encoding.UTF8.GetBytes(Closing), isBatch: false, ingestTimeNanos: 0).Outputs;
        return (routed, JsonNode.Parse(PipelineRuntime.RenderArray(close, OutputShape.Fields))!.ToJsonString());
    }

    private static string Deployments(JsonNode group)
        => string.Join(",", group["deployments"]!.AsArray().Select(d => $"{d!["pipeline_name"]}:{d["worker_id"]}:{d["status"]}"));
}
