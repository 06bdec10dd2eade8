using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Groups;

/// <summary>
/// Marker of every message of the pipeline group manager (the coordinator's singleton that deploys, lists and tears
/// down pipeline groups) and of its journal. Bound to <see cref="Serialization.VarpulisSerializer"/>. Reach the
/// manager with <c>IRequiredActor&lt;PipelineGroupManager&gt;</c>.
/// </summary>
public interface IPipelineGroupProtocol
{
}

/// <summary>
/// A pipeline of a group as it was asked for: deployed as <paramref name="Replicas"/> pipelines (each its own shard),
/// on the worker <paramref name="WorkerAffinity"/> when that worker can take it; with several replicas, events reach
/// the replica chosen by a stable hash of their <paramref name="PartitionKey"/> field.
/// </summary>
public sealed record GroupPipelineSpec(string Name, string Source, string? WorkerAffinity, int Replicas, string? PartitionKey);

/// <summary>A route of a group: output events of <paramref name="FromPipeline"/> (or, for <c>_external</c>, injected events) whose type matches go to <paramref name="ToPipeline"/>.</summary>
public sealed record GroupRouteSpec(string FromPipeline, string ToPipeline, IReadOnlyList<string> EventTypes);

/// <summary>One deployed pipeline of a group: replica <paramref name="Replica"/> of <paramref name="PipelineName"/>.</summary>
public sealed record GroupDeployment(string PipelineName, int Replica, string PipelineId);

/// <summary>Group statuses as kept by the manager; the API shows <c>running</c> / <c>partially_running</c> / <c>failed</c> for a deployed group from where its pipelines run.</summary>
public static class GroupPhase
{
    public const string Deploying = "deploying";
    public const string Deployed = "deployed";
    public const string Deleting = "deleting";
}

/// <summary>A pipeline group: its definition, the pipelines deployed for it, and its phase.</summary>
public sealed record PipelineGroup(
    string Id,
    string Name,
    string TenantId,
    IReadOnlyList<GroupPipelineSpec> Pipelines,
    IReadOnlyList<GroupRouteSpec> Routes,
    IReadOnlyList<GroupDeployment> Deployments,
    string Phase,
    DateTimeOffset CreatedAt) : IPipelineGroupProtocol
{
    public const string External = "_external";
}

// ---------------------------------------------------------------- commands and queries

/// <summary>
/// Deploys a validated group (the API compiled every source first): checks that a worker can take pipelines, records
/// the group, publishes the worker affinities, deploys each pipeline (and replica) through the directory, gives each
/// sending pipeline its routes, and answers <see cref="PipelineGroupDeployed"/>. If any step fails, what was deployed
/// is deleted again and the answer is a <see cref="GroupError"/> (<c>no_workers_available</c>, ...) or the refusal of
/// the directory or pipeline (<see cref="Directory.DirectoryError"/>, <see cref="PipelineError"/>).
/// </summary>
public sealed record CreatePipelineGroup(
    string Name,
    string TenantId,
    IReadOnlyList<GroupPipelineSpec> Pipelines,
    IReadOnlyList<GroupRouteSpec> Routes,
    int MaxPipelines,
    int MaxStreams) : IPipelineGroupProtocol
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
}

public sealed record PipelineGroupDeployed(PipelineGroup Group) : IPipelineGroupProtocol;

/// <summary>Every group of a tenant (null: all), oldest first. Reply: <see cref="PipelineGroupList"/>.</summary>
public sealed record GetPipelineGroups(string? TenantId) : IPipelineGroupProtocol;

public sealed record PipelineGroupList(IReadOnlyList<PipelineGroup> Groups) : IPipelineGroupProtocol;

/// <summary>One group. Reply: <see cref="PipelineGroupFound"/> or <see cref="GroupError"/> <c>group_not_found</c>.</summary>
public sealed record GetPipelineGroup(string GroupId, string TenantId) : IPipelineGroupProtocol;

public sealed record PipelineGroupFound(PipelineGroup Group) : IPipelineGroupProtocol;

/// <summary>Tears a group down: deletes its pipelines (and with them their routes' outboxes), forgets its affinities and the group. Reply: <see cref="PipelineGroupDeleted"/> or <see cref="GroupError"/>.</summary>
public sealed record DeletePipelineGroup(string GroupId, string TenantId) : IPipelineGroupProtocol;

public sealed record PipelineGroupDeleted(string GroupId, int PipelinesDeleted) : IPipelineGroupProtocol;

/// <summary>A refusal with a code of rest-api.md: <c>group_not_found</c>, <c>no_workers_available</c>, <c>unavailable</c>, <c>conflict</c>.</summary>
public sealed record GroupError(string Code, string Message) : IPipelineGroupProtocol;

// ---------------------------------------------------------------- journal

public interface IPipelineGroupEvent : IPipelineGroupProtocol
{
}

/// <summary>A group as it stands now (created, deployed).</summary>
public sealed record PipelineGroupRecorded(PipelineGroup Group) : IPipelineGroupEvent;

/// <summary>A group is gone (deleted, or its deploy failed and was undone).</summary>
public sealed record PipelineGroupRemoved(string GroupId) : IPipelineGroupEvent;

public sealed record PipelineGroupSnapshot(IReadOnlyList<PipelineGroup> Groups) : IPipelineGroupEvent;
