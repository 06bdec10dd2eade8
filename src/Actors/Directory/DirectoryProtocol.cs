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

/// <summary>The tenant is gone; its pipelines (to delete) are listed.</summary>
public sealed record TenantDeleted(string TenantId, IReadOnlyList<string> PipelineIds) : IDirectoryProtocol;

/// <summary>Adds a pipeline to the index if the tenant has fewer than <paramref name="MaxPipelines"/>.</summary>
public sealed record RegisterPipeline(PipelineEntry Entry, int MaxPipelines) : IDirectoryProtocol;

public sealed record PipelineRegistered(string PipelineId) : IDirectoryProtocol;

public sealed record UnregisterPipeline(string PipelineId) : IDirectoryProtocol;

public sealed record PipelineUnregistered(string PipelineId) : IDirectoryProtocol;

/// <summary>A page of a tenant's pipelines, oldest first.</summary>
public sealed record ListPipelines(string TenantId, int Offset, int Limit) : IDirectoryProtocol;

public sealed record PipelinePage(int Total, IReadOnlyList<PipelineEntry> Entries) : IDirectoryProtocol;

public sealed record DirectoryError(string Code, string Message) : IDirectoryProtocol;

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

public sealed record DirectorySnapshot(IReadOnlyList<TenantInfo> Tenants, IReadOnlyList<PipelineEntry> Pipelines) : IDirectoryEvent;
