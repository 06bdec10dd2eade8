using Akka.Actor;
using Akka.DistributedData;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Directory;

/// <summary>
/// The cluster's persistent index of tenants and pipelines, a cluster singleton on the <c>coordinator</c> role (one
/// writer, whichever node hosts it; a single server hosts it itself): quotas on the pipeline count, listing with
/// pagination, and, after a restart or a move, a reconciliation that makes sure every indexed pipeline is deployed
/// (and drops the ones whose entity says they were deleted). Tenants are also replicated to every node through
/// Distributed Data (<see cref="TenantReplica"/>), written to all nodes before a tenant change is answered, so a key
/// works (or stops working) on every node at once.
/// </summary>
public sealed class ServerDirectory : ReceivePersistentActor
{
    private const int SnapshotEvery = 500;

    private readonly IActorRef _pipelines;
    private readonly IActorRef _manager;
    private readonly IActorRef _replicator;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly ILogger _log;
    private readonly Dictionary<string, TenantInfo> _tenants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PipelineEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _order = new();
    private readonly Dictionary<string, PipelineInfo> _lastKnown = new(StringComparer.Ordinal);
    private int _sinceSnapshot;

    public ServerDirectory(IActorRef pipelines, IActorRef manager, ILoggerFactory loggers)
    {
        _pipelines = pipelines;
        _manager = manager;
        _log = loggers.CreateLogger<ServerDirectory>();
        _replicator = DistributedData.Get(Context.System).Replicator;
        _cluster = Akka.Cluster.Cluster.Get(Context.System);

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
            PersistReplicateAndReply(new TenantAdded(c.Tenant), c.Tenant);
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
            // Its key stops working on every node, then its pipelines are deleted, then the caller hears of it.
            PersistReplicateAndReply(new TenantRemoved(c.TenantId), new TenantDeleted(c.TenantId, ids), cascade: true);
        });
        Command<DeployPipelineRequest>(c =>
        {
            var e = c.Entry;
            if (_entries.ContainsKey(e.PipelineId))
            {
                Sender.Tell(new DirectoryError("conflict", $"pipeline id '{e.PipelineId}' is taken"));
                return;
            }
            if (_entries.Values.Count(x => x.TenantId == e.TenantId) >= c.MaxPipelines)
            {
                Sender.Tell(new DirectoryError("quota_exceeded", $"tenant '{e.TenantId}' has reached its limit of {c.MaxPipelines} pipelines"));
                return;
            }
            var sender = Sender;
            Persist(new PipelineAdded(e), ev =>
            {
                Apply(ev);
                MaybeSnapshot();
                Context.ActorOf(PipelineOperations.Deploy(e, c.MaxStreams, _pipelines, _manager, sender));
            });
        });
        Command<PipelineOperations.Started>(s => _lastKnown[s.Info.Id] = s.Info);
        Command<PipelineOperations.DeployFailed>(f =>
        {
            if (_entries.ContainsKey(f.PipelineId)) Persist(new PipelineDropped(f.PipelineId), Apply);
        });
        Command<RemovePipelineRequest>(c => Context.ActorOf(PipelineOperations.Remove(c, _pipelines, Sender)));
        Command<PipelineOperations.Removed>(r =>
        {
            if (!_entries.ContainsKey(r.PipelineId))
            {
                r.ReplyTo.Tell(new PipelineDeleted(r.PipelineId));
                return;
            }
            Persist(new PipelineDropped(r.PipelineId), ev =>
            {
                Apply(ev);
                MaybeSnapshot();
                r.ReplyTo.Tell(new PipelineDeleted(r.PipelineId));
            });
        });
        Command<ReloadPipelineRequest>(c => Context.ActorOf(PipelineOperations.Reload(c, _pipelines, Sender)));
        Command<PipelineOperations.Reloaded>(r =>
        {
            if (!_entries.ContainsKey(r.PipelineId))
            {
                r.ReplyTo.Tell(r.Reply);
                return;
            }
            Persist(new PipelineSourceUpdated(r.PipelineId, r.Source), ev =>
            {
                Apply(ev);
                MaybeSnapshot();
                r.ReplyTo.Tell(r.Reply);
            });
        });
        Command<QueryPipelines>(c =>
        {
            var mine = _order.Select(id => _entries[id]).Where(e => e.TenantId == c.TenantId).ToList();
            var page = mine.Skip(c.Offset).Take(c.Limit).ToList();
            var known = page.Where(e => _lastKnown.ContainsKey(e.PipelineId)).ToDictionary(e => e.PipelineId, e => _lastKnown[e.PipelineId], StringComparer.Ordinal);
            Context.ActorOf(PipelineOperations.List(mine.Count, page, known, _manager, Sender));
        });
        Command<GetTenantUsage>(c =>
        {
            var ids = _order.Where(id => _entries[id].TenantId == c.TenantId).ToList();
            Context.ActorOf(PipelineOperations.Usage(c.TenantId, ids, _pipelines, Sender));
        });
        // Reconciliation replies from pipeline entities.
        Command<PipelineDeleted>(d =>
        {
            if (_entries.ContainsKey(d.PipelineId)) Persist(new PipelineDropped(d.PipelineId), Apply);
        });
        Command<PipelineInfo>(i => _lastKnown[i.Id] = i);
        Command<PipelineError>(e => _log.LogWarning("A pipeline could not be redeployed at startup: {Code} {Message}", e.Code, e.Message));
        Command<UpdateSuccess>(u => ReplyAfterReplication(u.Request));
        Command<UpdateTimeout>(u =>
        {
            // Journaled, and on the reachable nodes; gossip brings it to the rest.
            _log.LogWarning("Tenant change reached only part of the cluster in time");
            ReplyAfterReplication(u.Request);
        });
        Command<ModifyFailure>(f =>
        {
            _log.LogError(f.Cause, "Tenant change could not be replicated");
            ReplyAfterReplication(f.Request);
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.LogWarning(f.Cause, "Directory snapshot failed"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.LogWarning(f.Cause, "Directory journal cleanup failed"));
    }

    public override string PersistenceId => "varpulis-directory";

    public const string SingletonName = "directory";

    public static Props Props(IActorRef pipelines, IActorRef manager, ILoggerFactory loggers)
        => Akka.Actor.Props.Create(() => new ServerDirectory(pipelines, manager, loggers));

    /// <summary>A tenant change: journaled, then written to every node's replica, then answered (a deletion after its pipelines are deleted).</summary>
    private void PersistReplicateAndReply(IDirectoryEvent e, object reply, bool cascade = false)
    {
        var sender = Sender;
        Persist(e, ev =>
        {
            Apply(ev);
            MaybeSnapshot();
            var node = _cluster.SelfUniqueAddress;
            _replicator.Tell(Dsl.Update(
                TenantReplica.Key,
                LWWDictionary<string, TenantInfo>.Empty,
                new WriteAll(TenantReplica.WriteTimeout),
                new PendingReply(sender, reply, cascade),
                d => ev switch
                {
                    TenantAdded t => d.SetItem(node, t.Tenant.Id, t.Tenant),
                    TenantRemoved t => d.Remove(node, t.TenantId),
                    _ => d,
                }));
        });
    }

    private void ReplyAfterReplication(object? request)
    {
        if (request is not PendingReply p) return;
        if (p.Cascade && p.Reply is TenantDeleted deleted) Context.ActorOf(PipelineOperations.Cascade(deleted, _pipelines, p.To));
        else p.To.Tell(p.Reply);
    }

    /// <summary>After recovery: the replica holds exactly the journaled tenants.</summary>
    private void PublishTenants()
    {
        var node = _cluster.SelfUniqueAddress;
        var tenants = _tenants.Values.ToList();
        _replicator.Tell(Dsl.Update(
            TenantReplica.Key,
            LWWDictionary<string, TenantInfo>.Empty,
            new WriteMajority(TenantReplica.WriteTimeout),
            d =>
            {
                foreach (var id in d.Keys.Where(k => !_tenants.ContainsKey(k)).ToList()) d = d.Remove(node, id);
                foreach (var t in tenants)
                {
                    if (!d.TryGetValue(t.Id, out var existing) || existing != t) d = d.SetItem(node, t.Id, t);
                }
                return d;
            }));
    }

    private void MaybeSnapshot()
    {
        if (++_sinceSnapshot >= SnapshotEvery)
        {
            _sinceSnapshot = 0;
            SaveSnapshot(new DirectorySnapshot(_tenants.Values.ToList(), _order.Select(id => _entries[id]).ToList()));
        }
    }

    private sealed record PendingReply(IActorRef To, object Reply, bool Cascade);

    private void PersistAndReply(IDirectoryEvent e, object reply)
    {
        Persist(e, ev =>
        {
            Apply(ev);
            Sender.Tell(reply);
            MaybeSnapshot();
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
            case PipelineSourceUpdated u:
                if (_entries.TryGetValue(u.PipelineId, out var entry)) _entries[u.PipelineId] = entry with { Source = u.Source };
                break;
            case DirectorySnapshot s:
                ApplySnapshot(s);
                break;
        }
    }

    private void Drop(string pipelineId)
    {
        if (_entries.Remove(pipelineId)) _order.Remove(pipelineId);
        _lastKnown.Remove(pipelineId);
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
        PublishTenants();
        foreach (var id in _order)
        {
            var e = _entries[id];
            _pipelines.Tell(new EnsurePipeline(e.PipelineId, e.TenantId, e.Name, e.Source, e.CreatedAt), Self);
        }
        if (_order.Count > 0) _log.LogInformation("Directory recovered: tenants {Tenants}, pipelines {Pipelines}", _tenants.Count, _order.Count);
    }
}
