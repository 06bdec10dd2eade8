using System.Text.Json;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Pipelines.Routes;

namespace Varpulis.Actors.Tests.Groups;

/// <summary>The decisions about a pipeline group: its deployments, each sender's routes, affinities and inject dispatch.</summary>
public sealed class PipelineGroupPlanTests
{
    private static readonly PipelineGroup Group = new(
        "g1",
        "orders",
        "default",
        [new GroupPipelineSpec("in", "stream A = Order .emit(k: k)", "worker-1", 1, null), new GroupPipelineSpec("sums", "stream S = A .emit(k: k)", null, 3, "k"), new GroupPipelineSpec("audit", "stream Z = A .emit(k: k)", null, 1, null)],
        [
            new GroupRouteSpec("_external", "in", ["Order*"]),
            new GroupRouteSpec("_external", "audit", ["*"]),
            new GroupRouteSpec("in", "sums", ["A"]),
            new GroupRouteSpec("in", "sums", ["A*"]),
            new GroupRouteSpec("in", "audit", ["*"]),
        ],
        [new GroupDeployment("in", 0, "p-in"), new GroupDeployment("sums", 0, "p-s0"), new GroupDeployment("sums", 1, "p-s1"), new GroupDeployment("sums", 2, "p-s2"), new GroupDeployment("audit", 0, "p-a")],
        GroupPhase.Deployed,
        DateTimeOffset.UnixEpoch);

    [Fact]
    public void EachReplicaIsItsOwnPipeline()
    {
        var deployments = PipelineGroupPlan.Deployments(Group.Pipelines);
        Assert.Equal(["in:0", "sums:0", "sums:1", "sums:2", "audit:0"], deployments.Select(d => $"{d.PipelineName}:{d.Replica}"));
        Assert.Equal(5, deployments.Select(d => d.PipelineId).Distinct().Count());
        Assert.Equal(["in", "sums#0", "sums#1", "sums#2", "audit"], Group.Deployments.Select(d => PipelineGroupPlan.DirectoryName(Group, d)));
    }

    [Fact]
    public void ASenderKeepsOneRoutePerTargetWithThePatternsOfEveryRouteToIt()
    {
        var routes = PipelineGroupPlan.RoutesOf(Group, "in");
        Assert.Equal(2, routes.Count);
        Assert.Equal(("sums", "p-s0,p-s1,p-s2", "k", "A,A*"), (routes[0].TargetName, string.Join(",", routes[0].TargetIds), routes[0].PartitionKey, string.Join(",", routes[0].EventTypes)));
        Assert.Equal(("audit", "p-a", (string?)null, "*"), (routes[1].TargetName, string.Join(",", routes[1].TargetIds), routes[1].PartitionKey, string.Join(",", routes[1].EventTypes)));
        Assert.Empty(PipelineGroupPlan.RoutesOf(Group, "sums"));
        Assert.Equal([new KeyValuePair<string, string>("p-in", "worker-1")], PipelineGroupPlan.Affinities(Group));
    }

    [Fact]
    public void AnInjectedEventTakesTheFirstExternalRouteThatMatches()
    {
        using var fields = JsonDocument.Parse("""{"k": "x"}""");
        Assert.Equal("p-in", PipelineGroupPlan.Dispatch(Group, "OrderPlaced", fields.RootElement)!.PipelineId);
        Assert.Equal("p-a", PipelineGroupPlan.Dispatch(Group, "Refund", fields.RootElement)!.PipelineId);
        var noAudit = Group with { Routes = [Group.Routes[0]] };
        Assert.Null(PipelineGroupPlan.Dispatch(noAudit, "Refund", fields.RootElement));
    }

    [Fact]
    public void AnInjectedEventForReplicasGoesWhereItsKeyHashes()
    {
        var direct = Group with { Routes = [new GroupRouteSpec("_external", "sums", ["*"])] };
        foreach (var key in new[] { "a", "b", "c", "d", "e", "f" })
        {
            using var fields = JsonDocument.Parse($$"""{"k": "{{key}}"}""");
            Assert.Equal($"p-s{RouteLedger.ReplicaOf(key, 3)}", PipelineGroupPlan.Dispatch(direct, "A", fields.RootElement)!.PipelineId);
        }
        Assert.Equal("p-s0", PipelineGroupPlan.Dispatch(direct, "A", default)!.PipelineId);
    }

    [Fact]
    public void AValidGroupPassesAndSourcesAreCompiled()
    {
        Assert.Null(PipelineGroupPlan.Validate(Group.Name, Group.Pipelines, Group.Routes));
        var broken = PipelineGroupPlan.Validate("g", [new GroupPipelineSpec("ok", "stream A = X", null, 1, null), new GroupPipelineSpec("bad", "stream", null, 1, null)], []);
        Assert.Equal("parse_error", broken!.Code);
        Assert.StartsWith("pipeline 'bad': ", broken.Message);
        Assert.NotEmpty(broken.Diagnostics!);
        Assert.Equal("'_external' is reserved for routes of injected events; it cannot name a pipeline",
            PipelineGroupPlan.Validate("g", [new GroupPipelineSpec("_external", "stream A = X", null, 1, null)], [])!.Message);
        Assert.Equal("route from 'x': no pipeline of the group has that name (or use '_external')",
            PipelineGroupPlan.Validate("g", [new GroupPipelineSpec("a", "stream A = X", null, 1, null)], [new GroupRouteSpec("x", "a", ["*"])])!.Message);
    }

    [Fact]
    public void AGroupReadsRunningPartiallyRunningOrFailedByWhereItsPipelinesRunAndItsPhaseUntilDeployed()
    {
        static Dictionary<string, Varpulis.Contracts.Cluster.PipelinePlacementInfo> On(params (string Id, string Worker)[] placed)
            => placed.ToDictionary(p => p.Id, p => new Varpulis.Contracts.Cluster.PipelinePlacementInfo(p.Id, p.Id, "default", p.Worker, "running"), StringComparer.Ordinal);
        var all = On(("p-in", "worker-1"), ("p-s0", "worker-2"), ("p-s1", "worker-1"), ("p-s2", "worker-2"), ("p-a", "worker-2"));
        var running = PipelineGroupPlan.Describe(Group, all);
        Assert.Equal(("g1", "orders", "running", 3), (running.Id, running.Name, running.Status, running.PipelineCount));
        Assert.Equal(["in:0:worker-1:running", "sums:0:worker-2:running", "sums:1:worker-1:running", "sums:2:worker-2:running", "audit:0:worker-2:running"],
            running.Deployments.Select(d => $"{d.PipelineName}:{d.Replica}:{d.WorkerId}:{d.Status}"));
        Assert.Equal(["_external>in:Order*", "_external>audit:*", "in>sums:A", "in>sums:A*", "in>audit:*"], running.Routes.Select(r => $"{r.FromPipeline}>{r.ToPipeline}:{string.Join(",", r.EventTypes)}"));
        Assert.Equal("stream S = A .emit(k: k)", running.Sources["sums"]);

        var partial = PipelineGroupPlan.Describe(Group, On(("p-in", "worker-1")));
        Assert.Equal("partially_running", partial.Status);
        Assert.Equal(["worker-1:running", ":starting", ":starting", ":starting", ":starting"], partial.Deployments.Select(d => $"{d.WorkerId}:{d.Status}"));
        Assert.Equal("failed", PipelineGroupPlan.Describe(Group, On()).Status);
        Assert.Equal("deploying", PipelineGroupPlan.Describe(Group with { Phase = GroupPhase.Deploying }, all).Status);
    }
}
