using Akka.Actor;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Directory;

/// <summary>
/// The node's persistent index of tenants and pipelines: quotas on the pipeline count, listing with pagination,
/// and, after a restart, a reconciliation that makes sure every indexed pipeline is deployed (and drops the ones
/// whose entity says they were deleted).
/// </summary>
public sealed class ServerDirectory : ReceivePersistentActor
{
    private const int SnapshotEvery = 500;

    private readonly IActorRef _pipelines;
    private readonly ILogger _log;
    private readonly Dictionary<string, TenantInfo> _tenants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PipelineEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _order = new();
    private int _sinceSnapshot;

    public ServerDirectory(IActorRef pipelines, ILoggerFactory loggers)
    {
        _pipelines = pipelines;
        _log = loggers.CreateLogger<ServerDirectory>();

        Recover<SnapshotOffer>(o => ApplySnapshot((DirectorySnapshot)o.Snapshot));
        Recover<IDirectoryEvent>(Apply);
        Recover<RecoveryCompleted>(_ => Reconcile());

        Command<DirectoryPing>(_ => Sender.Tell(new DirectoryPong(_tenants.Count, _entries.Count)));
        Command<CreateTenant>(c =>
        {
            if (_tenants.ContainsKey(c.Tenant.Id))
            {
                Sender.Tell(new DirectoryError("conflict", $"tenant '{c.Tenant.Id}' exists"));
                return;
            }
            PersistAndReply(new TenantAdded(c.Tenant), c.Tenant);
        });
        Command<GetTenants>(_ => Sender.Tell(new TenantList(_tenants.Values.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal).ToList())));
        Command<DeleteTenant>(c =>
        {
            if (!_tenants.ContainsKey(c.TenantId))
            {
                Sender.Tell(new DirectoryError("tenant_not_found", $"tenant '{c.TenantId}' not found"));
                return;
            }
            var ids = _order.Where(id => _entries[id].TenantId == c.TenantId).ToList();
            PersistAndReply(new TenantRemoved(c.TenantId), new TenantDeleted(c.TenantId, ids));
        });
        Command<RegisterPipeline>(c =>
        {
            if (_entries.ContainsKey(c.Entry.PipelineId))
            {
                Sender.Tell(new PipelineRegistered(c.Entry.PipelineId));
                return;
            }
            int count = _entries.Values.Count(e => e.TenantId == c.Entry.TenantId);
            if (count >= c.MaxPipelines)
            {
                Sender.Tell(new DirectoryError("quota_exceeded", $"tenant '{c.Entry.TenantId}' has reached its limit of {c.MaxPipelines} pipelines"));
                return;
            }
            PersistAndReply(new PipelineAdded(c.Entry), new PipelineRegistered(c.Entry.PipelineId));
        });
        Command<UnregisterPipeline>(c =>
        {
            if (!_entries.ContainsKey(c.PipelineId))
            {
                Sender.Tell(new PipelineUnregistered(c.PipelineId));
                return;
            }
            PersistAndReply(new PipelineDropped(c.PipelineId), new PipelineUnregistered(c.PipelineId));
        });
        Command<ListPipelines>(c =>
        {
            var mine = _order.Select(id => _entries[id]).Where(e => e.TenantId == c.TenantId).ToList();
            Sender.Tell(new PipelinePage(mine.Count, mine.Skip(c.Offset).Take(c.Limit).ToList()));
        });

        // Reconciliation replies from pipeline entities.
        Command<PipelineDeleted>(d =>
        {
            if (_entries.ContainsKey(d.PipelineId)) Persist(new PipelineDropped(d.PipelineId), Apply);
        });
        Command<PipelineInfo>(_ => { });
        Command<PipelineError>(e => _log.LogWarning("A pipeline could not be redeployed at startup: {Code} {Message}", e.Code, e.Message));
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.LogWarning(f.Cause, "Directory snapshot failed"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.LogWarning(f.Cause, "Directory journal cleanup failed"));
    }

    public override string PersistenceId => "varpulis-directory";

    public static Props Props(IActorRef pipelines, ILoggerFactory loggers)
        => Akka.Actor.Props.Create(() => new ServerDirectory(pipelines, loggers));

    private void PersistAndReply(IDirectoryEvent e, object reply)
    {
        Persist(e, ev =>
        {
            Apply(ev);
            Sender.Tell(reply);
            if (++_sinceSnapshot >= SnapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(new DirectorySnapshot(_tenants.Values.ToList(), _order.Select(id => _entries[id]).ToList()));
            }
        });
    }

    private void Apply(IDirectoryEvent e)
    {
        switch (e)
        {
            case TenantAdded t:
                _tenants[t.Tenant.Id] = t.Tenant;
                break;
            case TenantRemoved t:
                _tenants.Remove(t.TenantId);
                foreach (var id in _order.Where(id => _entries[id].TenantId == t.TenantId).ToList()) Drop(id);
                break;
            case PipelineAdded p:
                if (_entries.TryAdd(p.Entry.PipelineId, p.Entry)) _order.Add(p.Entry.PipelineId);
                break;
            case PipelineDropped p:
                Drop(p.PipelineId);
                break;
            case DirectorySnapshot s:
                ApplySnapshot(s);
                break;
        }
    }

    private void Drop(string pipelineId)
    {
        if (_entries.Remove(pipelineId)) _order.Remove(pipelineId);
    }

    private void ApplySnapshot(DirectorySnapshot s)
    {
        _tenants.Clear();
        _entries.Clear();
        _order.Clear();
        foreach (var t in s.Tenants) _tenants[t.Id] = t;
        foreach (var p in s.Pipelines)
        {
            _entries[p.PipelineId] = p;
            _order.Add(p.PipelineId);
        }
    }

    /// <summary>After a restart: every indexed pipeline is (re)deployed; entities that were deleted say so.</summary>
    private void Reconcile()
    {
        foreach (var id in _order)
        {
            var e = _entries[id];
            _pipelines.Tell(new EnsurePipeline(e.PipelineId, e.TenantId, e.Name, e.Source, e.CreatedAt), Self);
        }
        if (_order.Count > 0) _log.LogInformation("Directory recovered: tenants {Tenants}, pipelines {Pipelines}", _tenants.Count, _order.Count);
    }
}
