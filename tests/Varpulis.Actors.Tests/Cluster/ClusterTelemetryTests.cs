using System.Diagnostics;
using Varpulis.Actors.Cluster;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Tests.Cluster;

/// <summary>
/// The cluster manager's spans (<see cref="ClusterTelemetry"/>): recorded when a drain or migration ends, with its real
/// start and end, its attributes, an error status when it failed, as a root span whatever activity the caller has.
/// </summary>
public sealed class ClusterTelemetryTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly List<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public ClusterTelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ClusterTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (_spans) _spans.Add(a);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public void ADrainIsOneRootSpanFromItsRequestToItsEnd()
    {
        using var caller = new Activity("request").Start();
        ClusterTelemetry.Drain("worker-telemetry-1", Start, Start.AddSeconds(2.5), 3);

        Assert.Same(caller, Activity.Current);
        var span = Assert.Single(Recorded("cluster.drain"), s => (string?)s.GetTagItem("varpulis.worker_id") == "worker-telemetry-1");
        Assert.Null(span.Parent);
        Assert.Equal(default, span.ParentSpanId);
        Assert.Equal(Start.UtcDateTime, span.StartTimeUtc);
        Assert.Equal(TimeSpan.FromSeconds(2.5), span.Duration);
        Assert.Equal(3, span.GetTagItem("varpulis.pipelines_migrated"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public void ADrainThatTimedOutIsAnError()
    {
        ClusterTelemetry.Drain("worker-telemetry-2", Start, Start.AddMinutes(5), 4, "worker 'worker-telemetry-2' still runs 1 pipelines after 5 minutes");
        var span = Assert.Single(Recorded("cluster.drain"), s => (string?)s.GetTagItem("varpulis.worker_id") == "worker-telemetry-2");
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("worker 'worker-telemetry-2' still runs 1 pipelines after 5 minutes", span.StatusDescription);
    }

    [Fact]
    public void AMigrationSpanCarriesTheMoveAndFailsWithItsError()
    {
        ClusterTelemetry.Migration(new MigrationInfo("mig-telemetry-1", "p-1", "sums", "worker-0", "worker-2", MigrationReason.Drain, MigrationStatus.Completed,
            Start, Start.AddMilliseconds(2415), 2415, null));
        ClusterTelemetry.Migration(new MigrationInfo("mig-telemetry-2", "p-2", "pairs", "worker-1", null, MigrationReason.WorkerLost, MigrationStatus.Failed,
            Start, Start.AddSeconds(1), null, "the pipeline was deleted"));

        var done = Assert.Single(Recorded("pipeline.migration"), s => (string?)s.GetTagItem("varpulis.migration_id") == "mig-telemetry-1");
        Assert.Equal(TimeSpan.FromMilliseconds(2415), done.Duration);
        Assert.Equal(ActivityStatusCode.Unset, done.Status);
        Assert.Equal(
            [("varpulis.pipeline_id", "p-1"), ("varpulis.pipeline_name", "sums"), ("varpulis.migration_id", "mig-telemetry-1"),
             ("varpulis.from_worker", "worker-0"), ("varpulis.to_worker", "worker-2"), ("varpulis.reason", "drain")],
            done.TagObjects.Select(t => (t.Key, (string?)t.Value)));
        var lost = Assert.Single(Recorded("pipeline.migration"), s => (string?)s.GetTagItem("varpulis.migration_id") == "mig-telemetry-2");
        Assert.Equal(ActivityStatusCode.Error, lost.Status);
        Assert.Equal("the pipeline was deleted", lost.StatusDescription);
        Assert.Null(lost.GetTagItem("varpulis.to_worker"));
    }

    private List<Activity> Recorded(string name)
    {
        lock (_spans) return _spans.Where(s => s.OperationName == name).ToList();
    }

    public void Dispose() => _listener.Dispose();
}
