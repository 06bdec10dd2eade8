namespace Varpulis.Actors.Directory;

/// <summary>Marker of every message of the server directory (tenants and the pipeline index).</summary>
public interface IDirectoryProtocol
{
}

/// <summary>A tenant. <see cref="KeyHash"/> is the SHA-256 of its API key (hex): keys themselves are never stored.</summary>
public sealed record TenantInfo(string Id, string Name, string Tier, string KeyHash, DateTimeOffset CreatedAt) : IDirectoryProtocol;

/// <summary>A pipeline as the directory indexes it (the entity holds everything else).</summary>
public sealed record PipelineEntry(string PipelineId, string TenantId, string Name, string Source, DateTimeOffset CreatedAt) : IDirectoryProtocol;

public sealed record CreateTenant(TenantInfo Tenant) : IDirectoryProtocol;

public sealed record GetTenants : IDirectoryProtocol
{
    public static readonly GetTenants Instance = new();
}

public sealed record TenantList(IReadOnlyList<TenantInfo> Tenants) : IDirectoryProtocol;

public sealed record DeleteTenant(string TenantId) : IDirectoryProtocol;

/// <summary>The tenant is gone, and so are its pipelines (listed).</summary>
public sealed record TenantDeleted(string TenantId, IReadOnlyList<string> PipelineIds) : IDirectoryProtocol;

public sealed record DirectoryError(string Code, string Message) : IDirectoryProtocol;

// ---------------------------------------------------------------- pipeline operations (each a saga in an actor)

/// <summary>
/// Deploys a pipeline: the directory indexes it within the tenant's pipeline quota, a worker's entity compiles and
/// starts it (within the stream quota), and the index entry is dropped again if that fails. Reply:
/// <see cref="Pipelines.PipelineInfo"/>, or <see cref="DirectoryError"/> (<c>quota_exceeded</c>,
/// <c>no_workers_available</c>), or the entity's <see cref="Pipelines.PipelineError"/>.
/// </summary>
public sealed record DeployPipelineRequest(PipelineEntry Entry, int MaxPipelines, int MaxStreams) : IDirectoryProtocol;

/// <summary>Reloads a pipeline's program; the index keeps the new source. Reply: <see cref="Pipelines.PipelineReloaded"/> or <see cref="Pipelines.PipelineError"/>.</summary>
public sealed record ReloadPipelineRequest(string PipelineId, string TenantId, string Source, int MaxStreams) : IDirectoryProtocol;

/// <summary>Deletes a pipeline and its index entry. Reply: <see cref="Pipelines.PipelineDeleted"/> or <see cref="Pipelines.PipelineError"/>.</summary>
public sealed record RemovePipelineRequest(string PipelineId, string TenantId) : IDirectoryProtocol;

/// <summary>A page of a tenant's pipelines with where and since when each runs: one ask for the whole listing. Reply: <see cref="PipelineListing"/>.</summary>
public sealed record QueryPipelines(string TenantId, int Offset, int Limit) : IDirectoryProtocol;

/// <summary>A listed pipeline: its index entry (with the current source), <c>running</c> or <c>starting</c>, its worker and start time when known.</summary>
public sealed record PipelineListItem(PipelineEntry Entry, string Status, string? WorkerId, DateTimeOffset? StartedAt) : IDirectoryProtocol;

public sealed record PipelineListing(int Total, IReadOnlyList<PipelineListItem> Items) : IDirectoryProtocol;

/// <summary>A tenant's totals over its pipelines. Reply: <see cref="TenantUsage"/>.</summary>
public sealed record GetTenantUsage(string TenantId) : IDirectoryProtocol;

public sealed record TenantUsage(string TenantId, long EventsProcessed, long OutputEventsEmitted, int ActivePipelines) : IDirectoryProtocol;

/// <summary>Answers once the directory recovered from the journal (readiness).</summary>
public sealed record DirectoryPing : IDirectoryProtocol
{
    public static readonly DirectoryPing Instance = new();
}

public sealed record DirectoryPong(int Tenants, int Pipelines) : IDirectoryProtocol;

// ---------------------------------------------------------------- journal

/// <summary>Marker of the directory's journal events and snapshots.</summary>
public interface IDirectoryEvent : IDirectoryProtocol
{
}

public sealed record TenantAdded(TenantInfo Tenant) : IDirectoryEvent;

public sealed record TenantRemoved(string TenantId) : IDirectoryEvent;

public sealed record PipelineAdded(PipelineEntry Entry) : IDirectoryEvent;

public sealed record PipelineDropped(string PipelineId) : IDirectoryEvent;

/// <summary>A pipeline's program was reloaded: the index keeps the source it runs.</summary>
public sealed record PipelineSourceUpdated(string PipelineId, string Source) : IDirectoryEvent;

public sealed record DirectorySnapshot(IReadOnlyList<TenantInfo> Tenants, IReadOnlyList<PipelineEntry> Pipelines) : IDirectoryEvent;
