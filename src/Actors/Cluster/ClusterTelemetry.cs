using System.Diagnostics;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// The cluster manager's spans (exported when OpenTelemetry is configured, runbook §5.4): <c>cluster.drain</c> from the
/// drain request to the worker running no pipeline, and <c>pipeline.migration</c> from a pipeline's hand-off (or its
/// worker's loss) to the pipeline running on its new worker. Both are recorded when they end, with their real start
/// time, on the coordinator that hosts the manager: a drain or migration spans many messages, so no span is kept open
/// across them.
/// </summary>
public static class ClusterTelemetry
{
    public const string SourceName = "Varpulis.Cluster";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A drain that ended (<paramref name="error"/> when it did not finish in time).</summary>
    public static void Drain(string workerId, DateTimeOffset started, DateTimeOffset ended, int pipelines, string? error = null)
        => Record("cluster.drain", started, ended, error,
        [
            new("varpulis.worker_id", workerId),
            new("varpulis.pipelines_migrated", pipelines),
        ]);

    /// <summary>A migration that completed or failed.</summary>
    public static void Migration(MigrationInfo m)
        => Record("pipeline.migration", m.StartedAt, m.CompletedAt ?? m.StartedAt, m.Status == MigrationStatus.Failed ? m.Error ?? "failed" : null,
        [
            new("varpulis.pipeline_id", m.PipelineId),
            new("varpulis.pipeline_name", m.PipelineName),
            new("varpulis.migration_id", m.Id),
            new("varpulis.from_worker", m.FromWorker),
            new("varpulis.to_worker", m.ToWorker),
            new("varpulis.reason", m.Reason),
        ]);

    private static void Record(string name, DateTimeOffset started, DateTimeOffset ended, string? error, KeyValuePair<string, object?>[] tags)
    {
        if (!Source.HasListeners()) return;
        // A root span: whatever activity the calling thread has is not its parent, and stays current afterwards.
        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            using var activity = Source.StartActivity(name, ActivityKind.Internal, default(ActivityContext), tags, null, started);
            if (activity is null) return;
            if (error is not null) activity.SetStatus(ActivityStatusCode.Error, error);
            activity.SetEndTime(ended.UtcDateTime);
        }
        finally
        {
            Activity.Current = current;
        }
    }
}
