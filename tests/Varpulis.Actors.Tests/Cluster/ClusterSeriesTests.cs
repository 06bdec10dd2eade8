using Akka.Actor;
using Akka.TestKit;
using Varpulis.Actors.Cluster;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Tests.Cluster;

/// <summary>
/// The coordinator's cluster series (<see cref="ClusterSeries"/>) against a cluster manager played by a probe: what the
/// leader publishes from the workers, summary and migrations, each migration counted once and only when it finished
/// after the coordinator started, series of departed workers removed, and a follower publishing only that it is not
/// the leader. The series are process-wide, so counters are compared before and after.
/// </summary>
public sealed class ClusterSeriesTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp.hostname = 127.0.0.1
    akka.remote.dot-netty.tcp.port = 0
    akka.loglevel = WARNING
    """)
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private string Self => Akka.Cluster.Cluster.Get(Sys).SelfAddress.ToString();

    [Fact]
    public void TheLeaderPublishesWorkersByStatusTheirPipelinesAndTheSummary()
    {
        var manager = CreateTestProbe();
        Sys.ActorOf(ClusterSeries.Props(manager.Ref, TimeSpan.FromHours(1), new FixedTime(Start)));
        Answer(manager, Summary(pipelines: 5, active: 1),
            [Worker("pub-w0", WorkerStatus.Ready, 3), Worker("pub-w1", WorkerStatus.Draining, 0), Worker("pub-w2", WorkerStatus.Unhealthy, 2)], []);

        AwaitAssert(() => Assert.Equal(1.0, ClusterSeries.Leader.Value));
        AwaitAssert(() => Assert.Equal(5.0, ClusterSeries.Pipelines.Value));
        Assert.Equal(2.0, ClusterSeries.Coordinators.Value);
        Assert.Equal(1.0, ClusterSeries.ActiveMigrations.Value);
        Assert.Equal(1.0, ClusterSeries.Workers.WithLabels("ready").Value);
        Assert.Equal(1.0, ClusterSeries.Workers.WithLabels("draining").Value);
        Assert.Equal(1.0, ClusterSeries.Workers.WithLabels("unhealthy").Value);
        Assert.Equal(1.0, ClusterSeries.WorkerState.WithLabels("pub-w1", "draining").Value);
        Assert.Equal(0.0, ClusterSeries.WorkerState.WithLabels("pub-w1", "ready").Value);
        Assert.Equal(0.0, ClusterSeries.WorkerState.WithLabels("pub-w1", "unhealthy").Value);
        Assert.Equal(3.0, ClusterSeries.WorkerPipelines.WithLabels("pub-w0").Value);
        Assert.Equal(2.0, ClusterSeries.WorkerPipelines.WithLabels("pub-w2").Value);
    }

    [Fact]
    public void MigrationsAreCountedOnceAndOnlyWhenTheyFinishedAfterTheCoordinatorStarted()
    {
        var completed = ClusterSeries.Migrations.WithLabels(MigrationReason.Rebalance, MigrationStatus.Completed);
        var failed = ClusterSeries.Migrations.WithLabels(MigrationReason.WorkerLost, MigrationStatus.Failed);
        var duration = ClusterSeries.MigrationDuration.WithLabels(MigrationReason.Rebalance);
        double completedBefore = completed.Value, failedBefore = failed.Value, countBefore = duration.Count, sumBefore = duration.Sum;
        MigrationInfo[] migrations =
        [
            Migration("m-old", MigrationReason.Rebalance, MigrationStatus.Completed, Start.AddMinutes(-5), 1000),
            Migration("m-new", MigrationReason.Rebalance, MigrationStatus.Completed, Start.AddSeconds(30), 2500),
            Migration("m-failed", MigrationReason.WorkerLost, MigrationStatus.Failed, Start.AddSeconds(40), null),
            Migration("m-running", MigrationReason.Rebalance, MigrationStatus.InProgress, null, null),
        ];
        var manager = CreateTestProbe();
        Sys.ActorOf(ClusterSeries.Props(manager.Ref, TimeSpan.FromMilliseconds(200), new FixedTime(Start)));

        // Two polls over the same history: the second adds nothing.
        Answer(manager, Summary(), [], migrations);
        Answer(manager, Summary(), [], migrations);
        AwaitAssert(() => Assert.Equal(completedBefore + 1, completed.Value));
        Assert.Equal(failedBefore + 1, failed.Value);
        Assert.Equal(countBefore + 1, duration.Count);
        Assert.Equal(sumBefore + 2.5, duration.Sum, 6);
    }

    [Fact]
    public void AWorkerThatLeftTheListLosesItsSeries()
    {
        var manager = CreateTestProbe();
        Sys.ActorOf(ClusterSeries.Props(manager.Ref, TimeSpan.FromMilliseconds(200), new FixedTime(Start)));
        Answer(manager, Summary(), [Worker("gone-w0", WorkerStatus.Ready, 1), Worker("gone-w1", WorkerStatus.Ready, 1)], []);
        AwaitAssert(() => Assert.Contains(["gone-w1"], ClusterSeries.WorkerPipelines.GetAllLabelValues()));
        Answer(manager, Summary(), [Worker("gone-w0", WorkerStatus.Ready, 2)], []);
        AwaitAssert(() => Assert.DoesNotContain(ClusterSeries.WorkerPipelines.GetAllLabelValues(), l => l[0] == "gone-w1"));
        Assert.DoesNotContain(ClusterSeries.WorkerState.GetAllLabelValues(), l => l[0] == "gone-w1");
        Assert.Equal(2.0, ClusterSeries.WorkerPipelines.WithLabels("gone-w0").Value);
    }

    [Fact]
    public void AFollowerPublishesOnlyThatItIsNotTheLeader()
    {
        var manager = CreateTestProbe();
        Sys.ActorOf(ClusterSeries.Props(manager.Ref, TimeSpan.FromMilliseconds(200), new FixedTime(Start)));
        Answer(manager, Summary(), [Worker("follow-w0", WorkerStatus.Ready, 1)], []);
        AwaitAssert(() => Assert.Equal(1.0, ClusterSeries.WorkerPipelines.WithLabels("follow-w0").Value));

        // The cluster manager moved to another coordinator: this one stops publishing the cluster's view.
        manager.ExpectMsg<GetClusterSummary>(TimeSpan.FromSeconds(10));
        manager.Reply(new SummaryReport(Summary().Summary with { Leader = "akka.tcp://varpulis@10.0.0.9:4053" }));
        AwaitAssert(() => Assert.Equal(0.0, ClusterSeries.Leader.Value));
        Assert.DoesNotContain(ClusterSeries.WorkerPipelines.GetAllLabelValues(), l => l[0] == "follow-w0");
        Assert.DoesNotContain(ClusterSeries.Workers.GetAllLabelValues(), l => l[0] == "ready");
        // The next polls ask for the summary only (ExpectMsg fails on any other question first).
        manager.ExpectMsg<GetClusterSummary>(TimeSpan.FromSeconds(10));
        manager.Reply(new SummaryReport(Summary().Summary with { Leader = "akka.tcp://varpulis@10.0.0.9:4053" }));
        manager.ExpectMsg<GetClusterSummary>(TimeSpan.FromSeconds(10));
    }

    /// <summary>Answers one poll: summary, workers, migrations.</summary>
    private static void Answer(TestProbe manager, SummaryReport summary, WorkerInfo[] workers, MigrationInfo[] migrations)
    {
        manager.ExpectMsg<GetClusterSummary>(TimeSpan.FromSeconds(10));
        manager.Reply(summary);
        manager.ExpectMsg<GetWorkers>(TimeSpan.FromSeconds(10));
        manager.Reply(new WorkerList(workers));
        manager.ExpectMsg<GetMigrations>(TimeSpan.FromSeconds(10));
        manager.Reply(new MigrationList(migrations));
    }

    private SummaryReport Summary(int pipelines = 0, int active = 0)
        => new(new ClusterSummary(new WorkerCounts(0, 0, 0, 0), 2, pipelines, 0, active, 0, Self));

    private static WorkerInfo Worker(string id, string status, int pipelines)
        => new(id, $"http://{id}:9000", $"akka.tcp://varpulis@{id}:4053", status, ["worker"], pipelines, 100, 2, [], 0, Start);

    private static MigrationInfo Migration(string id, string reason, string status, DateTimeOffset? completed, long? ms)
        => new(id, "p-" + id, "pipeline " + id, "w0", "w1", reason, status, (completed ?? Start).AddMilliseconds(-(ms ?? 0)), completed, ms, status == MigrationStatus.Failed ? "lost" : null);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
