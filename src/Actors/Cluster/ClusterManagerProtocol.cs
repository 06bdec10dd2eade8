using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// Marker of every message of the cluster manager (the coordinator's singleton): queries and commands from the API
/// and the management routes, reports from each node's <see cref="WorkerAgent"/>, and the manager's journal events.
/// Bound to <see cref="Serialization.VarpulisSerializer"/>. Replies carry the HTTP contract records of
/// <c>Varpulis.Contracts.Cluster</c> so every surface (REST, <c>pbm</c>) shows the same shapes.
/// Reach the manager with <c>IRequiredActor&lt;ClusterManager&gt;</c> (a singleton proxy on every node).
/// </summary>
public interface IClusterManagerProtocol
{
}

// ---------------------------------------------------------------- queries and commands (API, management)

/// <summary>Every worker, ordered by id. Reply: <see cref="WorkerList"/>.</summary>
public sealed record GetWorkers : IClusterManagerProtocol
{
    public static readonly GetWorkers Instance = new();
}

public sealed record WorkerList(IReadOnlyList<WorkerInfo> Workers) : IClusterManagerProtocol;

/// <summary>One worker. Reply: <see cref="WorkerInfo"/> inside <see cref="WorkerFound"/>, or <see cref="ClusterError"/> <c>worker_not_found</c>.</summary>
public sealed record GetWorker(string WorkerId) : IClusterManagerProtocol;

public sealed record WorkerFound(WorkerInfo Worker) : IClusterManagerProtocol;

/// <summary>
/// Drains a worker: no new pipelines go to it and each of its pipelines snapshots and moves to another worker.
/// The reply comes once it runs none: <see cref="WorkerDrained"/>; or <see cref="ClusterError"/>
/// (<c>worker_not_found</c>; <c>conflict</c> for the last worker that could take pipelines; <c>unavailable</c> when
/// the pipelines did not all move within <see cref="DrainTimeout"/>). Ask with a timeout longer than that.
/// </summary>
public sealed record DrainWorker(string WorkerId) : IClusterManagerProtocol
{
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(5);
}

public sealed record WorkerDrained(DrainResult Result) : IClusterManagerProtocol;

/// <summary>
/// Removes a worker from the cluster: a reachable one leaves gracefully (its pipelines hand off as in a drain), an
/// unreachable one is downed (its pipelines recover elsewhere from the journal). Reply: <see cref="WorkerRemoved"/>
/// or <see cref="ClusterError"/> <c>worker_not_found</c>.
/// </summary>
public sealed record RemoveWorker(string WorkerId) : IClusterManagerProtocol;

public sealed record WorkerRemoved(WorkerDeleted Result) : IClusterManagerProtocol;

/// <summary>Every member and every pipeline with its worker. Reply: <see cref="TopologyReport"/>.</summary>
public sealed record GetTopology : IClusterManagerProtocol
{
    public static readonly GetTopology Instance = new();
}

public sealed record TopologyReport(ClusterTopology Topology) : IClusterManagerProtocol;

/// <summary>Counts. Reply: <see cref="SummaryReport"/>.</summary>
public sealed record GetClusterSummary : IClusterManagerProtocol
{
    public static readonly GetClusterSummary Instance = new();
}

public sealed record SummaryReport(ClusterSummary Summary) : IClusterManagerProtocol;

/// <summary>The migration history, newest first (the last 1,000). Reply: <see cref="MigrationList"/>.</summary>
public sealed record GetMigrations : IClusterManagerProtocol
{
    public static readonly GetMigrations Instance = new();
}

public sealed record MigrationList(IReadOnlyList<MigrationInfo> Migrations) : IClusterManagerProtocol;

/// <summary>Moves pipelines from the most to the least loaded workers, with their state. Reply: <see cref="RebalanceStarted"/>.</summary>
public sealed record RebalanceCluster : IClusterManagerProtocol
{
    public static readonly RebalanceCluster Instance = new();
}

public sealed record RebalanceStarted(RebalanceResult Result) : IClusterManagerProtocol;

/// <summary>What the coordinator's <c>/health</c> needs. Reply: <see cref="ClusterHealth"/>.</summary>
public sealed record GetClusterHealth : IClusterManagerProtocol
{
    public static readonly GetClusterHealth Instance = new();
}

/// <summary>Worker counts, groups, migrations in progress, and the address of the node hosting the manager (the leader).</summary>
public sealed record ClusterHealth(WorkerCounts Workers, int PipelineGroups, int ActiveMigrations, string LeaderAddress) : IClusterManagerProtocol;

/// <summary>Where pipelines run: the given ids, or every known pipeline when null. Reply: <see cref="PlacementList"/>.</summary>
public sealed record GetPlacements(IReadOnlyList<string>? PipelineIds) : IClusterManagerProtocol;

public sealed record PlacementList(IReadOnlyList<PipelinePlacementInfo> Pipelines) : IClusterManagerProtocol;

/// <summary>The counters each worker reported last, per worker and per pipeline (<c>GET /api/v1/cluster/metrics</c>). Reply: <see cref="ClusterMetricsReport"/>.</summary>
public sealed record GetClusterMetrics : IClusterManagerProtocol
{
    public static readonly GetClusterMetrics Instance = new();
}

public sealed record ClusterMetricsReport(IReadOnlyList<WorkerMetricsInfo> Workers, IReadOnlyList<PipelineMetricsInfo> Pipelines) : IClusterManagerProtocol;

/// <summary>Whether a new pipeline can be placed now (a reachable worker that is not draining). Reply: <see cref="PlacementCapacity"/>.</summary>
public sealed record CheckPlacementCapacity : IClusterManagerProtocol
{
    public static readonly CheckPlacementCapacity Instance = new();
}

public sealed record PlacementCapacity(int AvailableWorkers) : IClusterManagerProtocol;

/// <summary>A refusal: a stable code of rest-api.md (<c>worker_not_found</c>, <c>conflict</c>, <c>no_workers_available</c>, <c>unavailable</c>) and a message.</summary>
public sealed record ClusterError(string Code, string Message) : IClusterManagerProtocol;

// ---------------------------------------------------------------- reports from the nodes

/// <summary>A pipeline running on a node, with its counters and its input rate over the last report interval.</summary>
public sealed record HostedPipeline(string PipelineId, string TenantId, string Name, long EventsIn, long EventsOut, DateTimeOffset StartedAt, double EventsPerSecond = 0);

/// <summary>
/// A node's periodic report (every heartbeat interval) and its answer to <see cref="ReportNow"/>: the pipelines it
/// runs and its capacity. Stands in for the runbook's worker heartbeats; reachability itself is Akka.NET's failure
/// detector's.
/// </summary>
public sealed record WorkerHeartbeat(
    string AkkaAddress,
    string? WorkerId,
    int CpuCores,
    int MaxPipelines,
    IReadOnlyList<HostedPipeline> Pipelines,
    DateTimeOffset At) : IClusterManagerProtocol;

/// <summary>A pipeline started on a node (deploy, recovery, or arrival after a move): sent at once, not at the next heartbeat.</summary>
public sealed record PipelineHosted(string AkkaAddress, string? WorkerId, HostedPipeline Pipeline) : IClusterManagerProtocol;

/// <summary>
/// A pipeline stopped on a node: <c>handoff</c> (it moves), <c>leaving</c> (it moves because its node is shutting down
/// or leaving the cluster), <c>deleted</c>, or <c>stopped</c>.
/// </summary>
public sealed record PipelineReleased(string AkkaAddress, string PipelineId, string Reason) : IClusterManagerProtocol;

/// <summary>Asks every node's agent for a heartbeat now (the manager after it moved).</summary>
public sealed record ReportNow : IClusterManagerProtocol
{
    public static readonly ReportNow Instance = new();
}

// ---------------------------------------------------------------- journal

/// <summary>Marker of the manager's journal events and snapshot.</summary>
public interface IClusterManagerEvent : IClusterManagerProtocol
{
}

/// <summary>A drain began for the member at <paramref name="AkkaAddress"/>; it ends when that member leaves the cluster.</summary>
public sealed record DrainBegun(string WorkerId, string AkkaAddress, DateTimeOffset At) : IClusterManagerEvent;

/// <summary>The drained member is gone (or the drain was given up).</summary>
public sealed record DrainEnded(string WorkerId, string AkkaAddress, DateTimeOffset At) : IClusterManagerEvent;

/// <summary>A migration record was opened or updated (the whole record, as it stands).</summary>
public sealed record MigrationRecorded(MigrationInfo Migration) : IClusterManagerEvent;

/// <summary>The manager's state in a snapshot.</summary>
public sealed record ClusterManagerSnapshot(IReadOnlyList<DrainBegun> Drains, IReadOnlyList<MigrationInfo> Migrations) : IClusterManagerEvent;
