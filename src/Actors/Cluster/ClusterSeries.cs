using Akka.Actor;
using Akka.Hosting;
using Prometheus;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// The coordinator's cluster series for Prometheus (the cluster dashboard and the alerts of docs/deployment.md): every
/// interval it asks the cluster manager what the coordinator API shows (workers, summary, migrations) and sets the
/// series below. Only the coordinator that hosts the manager (<c>ha_role</c> leader) publishes the cluster's view, so
/// that sums over several coordinators count each worker once; every coordinator publishes
/// <c>varpulis_cluster_leader</c>. Runs on coordinators (<see cref="ClusterSeriesHostingExtensions.AddClusterSeries"/>).
/// </summary>
public sealed class ClusterSeries : ReceiveActor, IWithTimers
{
    public const string Name = "cluster-series";

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);
    private static readonly string[] Statuses = [WorkerStatus.Ready, WorkerStatus.Unhealthy, WorkerStatus.Draining];
    private static readonly string[] Reasons = [MigrationReason.Drain, MigrationReason.WorkerLost, MigrationReason.WorkerRemoved, MigrationReason.Rebalance];
    private static readonly string[] Outcomes = [MigrationStatus.Completed, MigrationStatus.Failed];

    public static readonly Gauge Workers = Prometheus.Metrics.CreateGauge(
        "varpulis_cluster_workers", "Workers by status (ready, unhealthy, draining), as the coordinator lists them.",
        new GaugeConfiguration { LabelNames = ["status"] });

    public static readonly Gauge WorkerState = Prometheus.Metrics.CreateGauge(
        "varpulis_cluster_worker_status", "1 for each worker's current status (ready, unhealthy, draining), 0 for its other statuses.",
        new GaugeConfiguration { LabelNames = ["worker_id", "status"] });

    public static readonly Gauge WorkerPipelines = Prometheus.Metrics.CreateGauge(
        "varpulis_cluster_worker_pipelines", "Pipelines each worker runs.", new GaugeConfiguration { LabelNames = ["worker_id"] });

    public static readonly Gauge Pipelines = Prometheus.Metrics.CreateGauge(
        "varpulis_cluster_pipelines", "Pipelines placed on workers.");

    public static readonly Gauge Coordinators = Prometheus.Metrics.CreateGauge(
        "varpulis_cluster_coordinators", "Coordinators in the cluster.");

    public static readonly Gauge ActiveMigrations = Prometheus.Metrics.CreateGauge(
        "varpulis_cluster_migrations_active", "Pipeline migrations in progress.");

    public static readonly Counter Migrations = Prometheus.Metrics.CreateCounter(
        "varpulis_cluster_migrations_total", "Pipeline migrations finished while this coordinator hosted the cluster manager, by reason and status (completed, failed).",
        new CounterConfiguration { LabelNames = ["reason", "status"] });

    public static readonly Histogram MigrationDuration = Prometheus.Metrics.CreateHistogram(
        "varpulis_cluster_migration_duration_seconds", "Duration of completed pipeline migrations, from the hand-off to the pipeline running on its new worker, by reason.",
        new HistogramConfiguration { LabelNames = ["reason"], Buckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] });

    public static readonly Gauge Leader = Prometheus.Metrics.CreateGauge(
        "varpulis_cluster_leader", "1 on the coordinator that hosts the cluster manager (ha_role leader in /health), else 0.");

    private readonly IActorRef _manager;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _since;
    private readonly string _self;
    private readonly HashSet<string> _counted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _workers = new(StringComparer.Ordinal);

    public ClusterSeries(IActorRef manager, TimeSpan interval, TimeProvider time)
    {
        _manager = manager;
        _time = time;
        _since = time.GetUtcNow();
        _self = Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString();
        Leader.Set(0);
        ReceiveAsync<Poll>(_ => PollAsync());
        Timers.StartPeriodicTimer("poll", Poll.Instance, TimeSpan.Zero, interval);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef manager, TimeSpan interval, TimeProvider time)
        => Akka.Actor.Props.Create(() => new ClusterSeries(manager, interval, time));

    private async Task PollAsync()
    {
        SummaryReport summary;
        WorkerList workers;
        MigrationList migrations;
        try
        {
            summary = await _manager.Ask<SummaryReport>(GetClusterSummary.Instance, AskTimeout);
            if (summary.Summary.Leader != _self)
            {
                Follow();
                return;
            }
            workers = await _manager.Ask<WorkerList>(GetWorkers.Instance, AskTimeout);
            migrations = await _manager.Ask<MigrationList>(GetMigrations.Instance, AskTimeout);
        }
        catch (AskTimeoutException)
        {
            // The manager is moving or busy: the series keep their last values until the next poll.
            return;
        }
        Lead(summary.Summary, workers.Workers, migrations.Migrations);
    }

    private void Lead(ClusterSummary summary, IReadOnlyList<WorkerInfo> workers, IReadOnlyList<MigrationInfo> migrations)
    {
        Leader.Set(1);
        Pipelines.Set(summary.Pipelines);
        Coordinators.Set(summary.Coordinators);
        ActiveMigrations.Set(summary.ActiveMigrations);
        foreach (var status in Statuses) Workers.WithLabels(status).Set(workers.Count(w => w.Status == status));

        foreach (var gone in _workers.Where(id => workers.All(w => w.Id != id)).ToList()) Forget(gone);
        foreach (var w in workers)
        {
            _workers.Add(w.Id);
            foreach (var status in Statuses) WorkerState.WithLabels(w.Id, status).Set(w.Status == status ? 1 : 0);
            WorkerPipelines.WithLabels(w.Id).Set(w.PipelinesRunning);
        }

        foreach (var reason in Reasons)
        {
            MigrationDuration.WithLabels(reason);
            foreach (var outcome in Outcomes) Migrations.WithLabels(reason, outcome);
        }
        foreach (var m in migrations)
        {
            if (m.Status == MigrationStatus.InProgress || m.CompletedAt is not { } done || done < _since || !_counted.Add(m.Id)) continue;
            Migrations.WithLabels(m.Reason, m.Status).Inc();
            if (m.Status == MigrationStatus.Completed && m.DurationMs is { } ms) MigrationDuration.WithLabels(m.Reason).Observe(ms / 1000.0);
        }
        // Only the ids still listed can come back: the set stays as small as the manager's history.
        _counted.IntersectWith(migrations.Select(m => m.Id));
    }

    /// <summary>Another coordinator hosts the manager and publishes the cluster's view: this one shows only that it is not the leader.</summary>
    private void Follow()
    {
        Leader.Set(0);
        foreach (var id in _workers.ToList()) Forget(id);
        foreach (var status in Statuses) Workers.RemoveLabelled(status);
    }

    private void Forget(string workerId)
    {
        foreach (var status in Statuses) WorkerState.RemoveLabelled(workerId, status);
        WorkerPipelines.RemoveLabelled(workerId);
        _workers.Remove(workerId);
    }

    private sealed record Poll
    {
        public static readonly Poll Instance = new();
    }
}

public static class ClusterSeriesHostingExtensions
{
    /// <summary>The coordinator's <see cref="ClusterSeries"/>, polling the cluster manager every <paramref name="interval"/>.</summary>
    public static AkkaConfigurationBuilder AddClusterSeries(this AkkaConfigurationBuilder builder, TimeSpan interval)
        => builder.WithActors((system, registry, resolver) =>
            system.ActorOf(ClusterSeries.Props(registry.Get<ClusterManager>(), interval, resolver.GetService<TimeProvider>()), ClusterSeries.Name));
}
