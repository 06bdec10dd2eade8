using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.Util;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Groups;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Tests.Cluster;

/// <summary>
/// The cluster manager's view after it takes over (a coordinator leader change): where pipelines run is not journaled,
/// so the view is incomplete until every worker reported; the manager holds back answers built from placements until
/// <see cref="ClusterManagerState.CaughtUp"/>. A group read from the incomplete view would be wrong (issue 10: a
/// running group read <c>failed</c> on the new leader); read from the caught-up view it is <c>running</c>.
/// </summary>
public sealed class ClusterManagerStateTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

    private static readonly PipelineGroup Group = new(
        "g1",
        "orders",
        "default",
        [new GroupPipelineSpec("filter", "stream A = Order .emit(k: k)", "worker-0", 1, null), new GroupPipelineSpec("totals", "stream T = A .emit(k: k)", "worker-1", 1, null)],
        [new GroupRouteSpec("filter", "totals", ["A"])],
        [new GroupDeployment("filter", 0, "p-filter"), new GroupDeployment("totals", 0, "p-totals")],
        GroupPhase.Deployed,
        DateTimeOffset.UnixEpoch);

    /// <summary>A member as gossip shows it (through Akka.NET's internal factory: no public way builds one).</summary>
    private static Member Node(int port, MemberStatus status, params string[] roles)
    {
        var create = typeof(Member).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public,
            [typeof(UniqueAddress), typeof(int), typeof(MemberStatus), typeof(ImmutableHashSet<string>), typeof(AppVersion)])!;
        return (Member)create.Invoke(null, [new UniqueAddress(new Address("akka.tcp", "varpulis", "127.0.0.1", port), port), port, status, roles.ToImmutableHashSet(), AppVersion.Zero])!;
    }

    private static Member Worker(int port, string id, MemberStatus status = MemberStatus.Up)
        => Node(port, status, [.. MemberRoles.ForWorker(id, "http://127.0.0.1/" + id)]);

    private static string At(int port) => $"akka.tcp://varpulis@127.0.0.1:{port}";

    private static WorkerHeartbeat Report(int port, string id, params string[] pipelines)
        => new(At(port), id, 2, 100, pipelines.Select(p => new HostedPipeline(p, "default", p, 0, 0, Now)).ToList(), Now);

    /// <summary>A manager that just took over, knowing the members: two workers up, a third one still joining, two coordinators.</summary>
    private static (ClusterManagerState State, IReadOnlyList<string> Awaited) TakenOver()
    {
        var state = new ClusterManagerState();
        state.MemberChanged(Node(2551, MemberStatus.Up, MemberRoles.Coordinator));
        state.MemberChanged(Node(2552, MemberStatus.Up, MemberRoles.Coordinator));
        state.MemberChanged(Worker(2600, "worker-0"));
        state.MemberChanged(Worker(2601, "worker-1"), reachable: false);
        state.MemberChanged(Worker(2602, "worker-2", MemberStatus.Joining));
        return (state, state.TakeOver());
    }

    private static Dictionary<string, PipelinePlacementInfo> Placed(ClusterManagerState state)
        => state.Placements(Group.Deployments.Select(d => d.PipelineId).ToList()).ToDictionary(p => p.PipelineId, StringComparer.Ordinal);

    [Fact]
    public void AManagerThatTookOverIsCaughtUpOnlyOnceEveryWorkerThatMayHostPipelinesReported()
    {
        var (state, awaited) = TakenOver();
        // Up workers, reachable or not; not the joining one (it hosts nothing yet), not the coordinators.
        Assert.Equal([At(2600), At(2601)], awaited);
        Assert.False(state.CaughtUp);
        // Nothing reported yet: this view would read the running group as failed.
        Assert.Equal(GroupStatus.Failed, PipelineGroupPlan.Describe(Group, Placed(state)).Status);

        state.Heartbeat(Report(2600, "worker-0", "p-filter"), Now);
        Assert.False(state.CaughtUp);
        Assert.Equal([At(2601)], state.Unreported);
        Assert.Equal(GroupStatus.PartiallyRunning, PipelineGroupPlan.Describe(Group, Placed(state)).Status);

        state.Heartbeat(Report(2601, "worker-1", "p-totals"), Now);
        Assert.True(state.CaughtUp);
        var info = PipelineGroupPlan.Describe(Group, Placed(state));
        Assert.Equal(GroupStatus.Running, info.Status);
        Assert.Equal(["filter:worker-0:running", "totals:worker-1:running"], info.Deployments.Select(d => $"{d.PipelineName}:{d.WorkerId}:{d.Status}"));
    }

    [Fact]
    public void AWorkerThatLeavesBeforeItReportsIsNotWaitedFor()
    {
        var (state, _) = TakenOver();
        state.Heartbeat(Report(2600, "worker-0", "p-filter"), Now);
        Assert.Empty(state.MemberRemoved(At(2601)));
        Assert.True(state.CaughtUp);
        // Caught up without worker-1: totals really runs nowhere now.
        var info = PipelineGroupPlan.Describe(Group, Placed(state));
        Assert.Equal(GroupStatus.PartiallyRunning, info.Status);
        Assert.Equal(["filter:worker-0:running", "totals::starting"], info.Deployments.Select(d => $"{d.PipelineName}:{d.WorkerId}:{d.Status}"));
    }

    [Fact]
    public void GivingUpOnSilentWorkersNamesThemAndEndsTheCatchUp()
    {
        var (state, _) = TakenOver();
        state.Heartbeat(Report(2601, "worker-1", "p-totals"), Now);
        Assert.Equal([At(2600)], state.GiveUpWaiting());
        Assert.True(state.CaughtUp);
        Assert.Empty(state.GiveUpWaiting());
        // A worker that joins after the take-over is not waited for.
        state.MemberChanged(Worker(2603, "worker-3"));
        Assert.True(state.CaughtUp);
    }

    [Fact]
    public void AManagerWithoutWorkersIsCaughtUpAtOnce()
    {
        var state = new ClusterManagerState();
        state.MemberChanged(Node(2551, MemberStatus.Up, MemberRoles.Coordinator));
        Assert.Empty(state.TakeOver());
        Assert.True(state.CaughtUp);
    }
}
