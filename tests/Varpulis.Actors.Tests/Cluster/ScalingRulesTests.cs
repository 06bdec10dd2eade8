using Varpulis.Actors.Cluster.Scaling;
using Varpulis.Actors.Configuration;

namespace Varpulis.Actors.Tests.Cluster;

/// <summary>The scaling rules of rest-api.md (ScalingRecommendation), with the runbook's §1.4 settings.</summary>
public sealed class ScalingRulesTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static ScalingSettings Runbook() => new() { MinWorkers = 2, MaxWorkers = 10, UpThreshold = 5.0, DownThreshold = 1.0 };

    [Fact]
    public void FewerHealthyWorkersThanTheMinimumScaleUpToTheMinimum()
    {
        var r = ScalingRules.Recommend(1, 3, Runbook(), Now);
        Assert.Equal(("scale_up", 1, 2, 3, 3.0), (r.Action, r.CurrentWorkers, r.TargetWorkers, r.TotalPipelines, r.AvgPipelinesPerWorker));
        Assert.Equal("1 healthy worker, below the minimum of 2", r.Reason);
        Assert.Equal(Now, r.Timestamp);
    }

    [Fact]
    public void NoWorkerAtAllScalesUpToTheMinimum()
    {
        var r = ScalingRules.Recommend(0, 0, Runbook(), Now);
        Assert.Equal(("scale_up", 0, 2), (r.Action, r.CurrentWorkers, r.TargetWorkers));
    }

    [Fact]
    public void MorePipelinesPerWorkerThanTheUpThresholdScaleUpByLoad()
    {
        // 23 pipelines on 2 workers: 11.5 per worker > 5 → ceil(23 / 5) = 5 workers.
        var r = ScalingRules.Recommend(2, 23, Runbook(), Now);
        Assert.Equal(("scale_up", 2, 5, 11.5), (r.Action, r.CurrentWorkers, r.TargetWorkers, r.AvgPipelinesPerWorker));
        Assert.Equal("11.5 pipelines per worker, above the up-threshold of 5", r.Reason);
    }

    [Fact]
    public void ScaleUpByLoadStopsAtTheMaximum()
    {
        var r = ScalingRules.Recommend(4, 200, Runbook(), Now);
        Assert.Equal(("scale_up", 10), (r.Action, r.TargetWorkers));
    }

    [Fact]
    public void AtTheMaximumThereIsNoScaleUp()
    {
        var r = ScalingRules.Recommend(10, 200, Runbook(), Now);
        Assert.Equal(("stable", 10), (r.Action, r.TargetWorkers));
    }

    [Fact]
    public void FewPipelinesPerWorkerScaleDownButNotBelowTheMinimum()
    {
        // 3 pipelines on 6 workers: 0.5 < 1 → max(ceil(3 / 5), 2) = 2.
        var r = ScalingRules.Recommend(6, 3, Runbook(), Now);
        Assert.Equal(("scale_down", 6, 2, 0.5), (r.Action, r.CurrentWorkers, r.TargetWorkers, r.AvgPipelinesPerWorker));
        Assert.Equal("0.5 pipelines per worker, below the down-threshold of 1", r.Reason);
    }

    [Fact]
    public void WithinTheThresholdsItIsStable()
    {
        var r = ScalingRules.Recommend(3, 9, Runbook(), Now);
        Assert.Equal(("stable", 3, 3, 3.0), (r.Action, r.CurrentWorkers, r.TargetWorkers, r.AvgPipelinesPerWorker));
        Assert.Equal("3 pipelines per worker on 3 healthy workers, within the thresholds", r.Reason);
    }

    [Fact]
    public void AScaleDownToTheSameCountIsStable()
    {
        // 1 pipeline on 2 workers: 0.5 < 0.55, but ceil(1 / 0.6) = 2 workers are what the load needs.
        var r = ScalingRules.Recommend(2, 1, new ScalingSettings { MinWorkers = 0, UpThreshold = 0.6, DownThreshold = 0.55 }, Now);
        Assert.Equal(("stable", 2, 2), (r.Action, r.CurrentWorkers, r.TargetWorkers));
    }

    [Fact]
    public void WithoutAMinimumAnIdleClusterScalesDownToZero()
    {
        var r = ScalingRules.Recommend(1, 0, new ScalingSettings { UpThreshold = 5, DownThreshold = 1 }, Now);
        Assert.Equal(("scale_down", 1, 0), (r.Action, r.CurrentWorkers, r.TargetWorkers));
    }

    [Fact]
    public void OneWorkerAndOnePipelinePerWorkerReadInTheSingular()
    {
        var stable = ScalingRules.Recommend(1, 1, new ScalingSettings { UpThreshold = 5, DownThreshold = 0.5 }, Now);
        Assert.Equal(("stable", "1 pipeline per worker on 1 healthy worker, within the thresholds"), (stable.Action, stable.Reason));
        var up = ScalingRules.Recommend(2, 2, new ScalingSettings { UpThreshold = 0.5, DownThreshold = 0.1 }, Now);
        Assert.Equal(("scale_up", "1 pipeline per worker, above the up-threshold of 0.5"), (up.Action, up.Reason));
        var down = ScalingRules.Recommend(4, 4, new ScalingSettings { UpThreshold = 2, DownThreshold = 1.5 }, Now);
        Assert.Equal(("scale_down", "1 pipeline per worker, below the down-threshold of 1.5"), (down.Action, down.Reason));
        // An average that is not exactly 1 stays plural, however it rounds: 1.5, 0.5.
        Assert.Equal("1.5 pipelines per worker on 2 healthy workers, within the thresholds", ScalingRules.Recommend(2, 3, Runbook(), Now).Reason);
    }
}
