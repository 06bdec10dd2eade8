using Akka.Actor;
using Akka.DistributedData;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Pipelines.Routes;

namespace Varpulis.Actors.Groups;

/// <summary>
/// The coordinator's pipeline groups: a persistent cluster singleton on the <c>coordinator</c> role. It keeps every
/// group (definition, deployed pipeline ids, phase) in the cluster's journal and runs each deploy and teardown as a
/// saga child (<see cref="GroupSagas"/>) that talks to the cluster manager, the directory, the pipeline region and
/// Distributed Data (worker affinities, read by the shard allocation strategy), so the manager itself never waits. A
/// group found half-deployed after the manager moved or restarted is torn down (its creator got no 201). Every group it
/// journals is also in a Distributed Data replica on every node (<see cref="ReplicaKey"/>), which the coordinators
/// dispatch injected events by without asking the manager: inject keeps working while the manager moves (a leader change).
/// </summary>
public sealed class PipelineGroupManager : ReceivePersistentActor
{
    public const string SingletonName = "pipeline-groups";

    /// <summary>pipeline id → worker id of every group pipeline with a <c>worker_affinity</c>, replicated to every node.</summary>
    public static readonly LWWDictionaryKey<string, string> AffinityKey = new("varpulis-group-affinity");

    /// <summary>group id → group, as journaled here; written by this manager only. A removal reaches every node before a delete is answered.</summary>
    public static readonly LWWDictionaryKey<string, PipelineGroup> ReplicaKey = new("varpulis-pipeline-groups");

    private static readonly TimeSpan ReplicaWriteTimeout = TimeSpan.FromSeconds(5);

    private const int SnapshotEvery = 100;

    private readonly IActorRef _directory;
    private readonly IActorRef _region;
    private readonly IActorRef _clusterManager;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly IActorRef _replicator;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly Dictionary<string, PipelineGroup> _groups = new(StringComparer.Ordinal);
    private readonly List<string> _order = new();
    private readonly Dictionary<string, List<IActorRef>> _deleteWaiters = new(StringComparer.Ordinal);
    private int _sinceSnapshot;

    public PipelineGroupManager(IActorRef directory, IActorRef region, IActorRef clusterManager, TimeProvider time, ILoggerFactory loggers)
    {
        _time = time;
        _directory = directory;
        _region = region;
        _clusterManager = clusterManager;
        _log = loggers.CreateLogger<PipelineGroupManager>();
        _replicator = DistributedData.Get(Context.System).Replicator;
        _cluster = Akka.Cluster.Cluster.Get(Context.System);

        Recover<SnapshotOffer>(o => Apply((PipelineGroupSnapshot)o.Snapshot));
        Recover<IPipelineGroupEvent>(Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            PublishReplica();
            foreach (var g in _groups.Values.Where(g => g.Phase != GroupPhase.Deployed).ToList())
            {
                _log.LogWarning("Pipeline group {GroupId} ({GroupName}) was left {Phase}: tearing it down", g.Id, g.Name, g.Phase);
                StartTeardown(g);
            }
        });

        Command<CreatePipelineGroup>(Create);
        Command<GetPipelineGroups>(q => Sender.Tell(new PipelineGroupList(_order.Select(id => _groups[id]).Where(g => q.TenantId is null || g.TenantId == q.TenantId).ToList())));
        Command<GetPipelineGroup>(q => Sender.Tell(Find(q.GroupId, q.TenantId) is { } g ? new PipelineGroupFound(g) : NotFound(q.GroupId)));
        Command<DeletePipelineGroup>(Delete);
        Command<GroupSagas.Deployed>(d => Persist(new PipelineGroupRecorded(d.Group with { Phase = GroupPhase.Deployed }), e =>
        {
            AfterPersist(e);
            _log.LogInformation("Pipeline group deployed: {GroupId} ({GroupName}), {Count} pipelines, {Routes} routes", d.Group.Id, d.Group.Name, d.Group.Deployments.Count, d.Group.Routes.Count);
            d.ReplyTo.Tell(new PipelineGroupDeployed(_groups[d.Group.Id]));
        }));
        Command<GroupSagas.DeployFailed>(f =>
        {
            // Undone: forgotten. Not undone (a pipeline did not answer its delete): kept as deleting, so that a delete
            // of the group, or the manager's next start, finishes the job.
            IPipelineGroupEvent outcome = f.Undone || !_groups.TryGetValue(f.GroupId, out var g)
                ? new PipelineGroupRemoved(f.GroupId)
                : new PipelineGroupRecorded(g with { Phase = GroupPhase.Deleting });
            Persist(outcome, e =>
            {
                AfterPersist(e);
                _log.LogWarning("Pipeline group {GroupId} not deployed: {Reason}", f.GroupId, f.Reason);
                f.ReplyTo.Tell(f.Reply);
            });
        });
        Command<GroupSagas.TornDown>(t => Persist(new PipelineGroupRemoved(t.GroupId), e =>
        {
            AfterPersist(e, new PipelineGroupDeleted(t.GroupId, t.PipelinesDeleted));
            _log.LogInformation("Pipeline group deleted: {GroupId}, {Count} pipelines", t.GroupId, t.PipelinesDeleted);
        }));
        // A delete is answered once the group left every node's replica (or the reachable ones, in time).
        Command<UpdateSuccess>(u => AnswerDelete(u.Request));
        Command<UpdateTimeout>(u =>
        {
            _log.LogWarning("Pipeline group change reached only part of the cluster in time");
            AnswerDelete(u.Request);
        });
        Command<ModifyFailure>(f =>
        {
            _log.LogError(f.Cause, "Pipeline group change could not be replicated");
            AnswerDelete(f.Request);
        });
        Command<GroupSagas.TeardownFailed>(t =>
        {
            if (_deleteWaiters.Remove(t.GroupId, out var waiters))
            {
                foreach (var w in waiters) w.Tell(new GroupError("unavailable", t.Reason));
            }
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.LogWarning(f.Cause, "Pipeline group manager snapshot failed"));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.LogWarning(f.Cause, "Pipeline group manager journal cleanup failed"));
    }

    public override string PersistenceId => "varpulis-pipeline-groups";

    public static Props Props(IActorRef directory, IActorRef region, IActorRef clusterManager, TimeProvider time, ILoggerFactory loggers)
        => Akka.Actor.Props.Create(() => new PipelineGroupManager(directory, region, clusterManager, time, loggers));

    private void Create(CreatePipelineGroup c)
    {
        var group = new PipelineGroup(Guid.NewGuid().ToString(), c.Name, c.TenantId, c.Pipelines, c.Routes,
            PipelineGroupPlan.Deployments(c.Pipelines), GroupPhase.Deploying, _time.GetUtcNow());
        var replyTo = Sender;
        Persist(new PipelineGroupRecorded(group), e =>
        {
            AfterPersist(e);
            Context.ActorOf(GroupSagas.Deploy(group, c.MaxPipelines, c.MaxStreams, _directory, _region, _clusterManager, replyTo), "deploy-" + group.Id);
        });
    }

    private void Delete(DeletePipelineGroup c)
    {
        if (Find(c.GroupId, c.TenantId) is not { } g)
        {
            Sender.Tell(NotFound(c.GroupId));
            return;
        }
        if (g.Phase == GroupPhase.Deploying)
        {
            Sender.Tell(new GroupError("conflict", $"pipeline group '{g.Id}' is still deploying; delete it once its deploy is answered"));
            return;
        }
        if (!_deleteWaiters.TryGetValue(g.Id, out var waiters)) _deleteWaiters[g.Id] = waiters = new List<IActorRef>();
        waiters.Add(Sender);
        if (waiters.Count > 1) return;
        if (g.Phase == GroupPhase.Deleting)
        {
            StartTeardown(g);
            return;
        }
        Persist(new PipelineGroupRecorded(g with { Phase = GroupPhase.Deleting }), e =>
        {
            AfterPersist(e);
            StartTeardown(_groups[g.Id]);
        });
    }

    private void StartTeardown(PipelineGroup g)
    {
        var name = "teardown-" + g.Id;
        if (!Context.Child(name).IsNobody()) return;
        Context.ActorOf(GroupSagas.Teardown(g, _directory), name);
    }

    private void AnswerDelete(object? request)
    {
        if (request is not PipelineGroupDeleted deleted || !_deleteWaiters.Remove(deleted.GroupId, out var waiters)) return;
        foreach (var w in waiters) w.Tell(deleted);
    }

    /// <summary>After recovery: the replica holds exactly the journaled groups.</summary>
    private void PublishReplica()
    {
        var node = _cluster.SelfUniqueAddress;
        var groups = _groups.Values.ToList();
        _replicator.Tell(Dsl.Update(ReplicaKey, LWWDictionary<string, PipelineGroup>.Empty, new WriteMajority(ReplicaWriteTimeout), d =>
        {
            foreach (var id in d.Keys.Where(k => !_groups.ContainsKey(k)).ToList()) d = d.Remove(node, id);
            foreach (var g in groups) d = d.SetItem(node, g.Id, g);
            return d;
        }));
    }

    private PipelineGroup? Find(string id, string tenantId)
        => _groups.TryGetValue(id, out var g) && g.TenantId == tenantId ? g : null;

    private static GroupError NotFound(string id) => new("group_not_found", $"pipeline group '{id}' not found");

    private void Apply(IPipelineGroupEvent e)
    {
        switch (e)
        {
            case PipelineGroupRecorded r:
                if (!_groups.ContainsKey(r.Group.Id)) _order.Add(r.Group.Id);
                _groups[r.Group.Id] = r.Group;
                break;
            case PipelineGroupRemoved r:
                if (_groups.Remove(r.GroupId)) _order.Remove(r.GroupId);
                break;
            case PipelineGroupSnapshot s:
                _groups.Clear();
                _order.Clear();
                foreach (var g in s.Groups)
                {
                    _groups[g.Id] = g;
                    _order.Add(g.Id);
                }
                break;
        }
    }

    /// <summary>Applies a journaled event and writes it to the replica (a removal to every node, answering <paramref name="deleted"/> then).</summary>
    private void AfterPersist(IPipelineGroupEvent e, PipelineGroupDeleted? deleted = null)
    {
        Apply(e);
        var node = _cluster.SelfUniqueAddress;
        switch (e)
        {
            case PipelineGroupRecorded r:
                _replicator.Tell(Dsl.Update(ReplicaKey, LWWDictionary<string, PipelineGroup>.Empty, new WriteMajority(ReplicaWriteTimeout), d => d.SetItem(node, r.Group.Id, r.Group)));
                break;
            case PipelineGroupRemoved r:
                _replicator.Tell(Dsl.Update(ReplicaKey, LWWDictionary<string, PipelineGroup>.Empty, new WriteAll(ReplicaWriteTimeout), deleted, d => d.Remove(node, r.GroupId)));
                break;
        }
        if (++_sinceSnapshot < SnapshotEvery) return;
        _sinceSnapshot = 0;
        SaveSnapshot(new PipelineGroupSnapshot(_order.Select(id => _groups[id]).ToList()));
    }
}

/// <summary>The deploy and teardown of a group, each a short-lived child actor of the <see cref="PipelineGroupManager"/>.</summary>
internal static class GroupSagas
{
    private static readonly TimeSpan ManagerTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DirectoryTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan AffinityTimeout = TimeSpan.FromSeconds(3);

    public sealed record Deployed(PipelineGroup Group, IActorRef ReplyTo);

    public sealed record DeployFailed(string GroupId, string Reason, object Reply, IActorRef ReplyTo, bool Undone);

    public sealed record TornDown(string GroupId, int PipelinesDeleted);

    public sealed record TeardownFailed(string GroupId, string Reason);

    public static Props Deploy(PipelineGroup g, int maxPipelines, int maxStreams, IActorRef directory, IActorRef region, IActorRef manager, IActorRef replyTo)
        => Props.Create(() => new DeploySaga(g, maxPipelines, maxStreams, directory, region, manager, replyTo));

    public static Props Teardown(PipelineGroup g, IActorRef directory)
        => Props.Create(() => new TeardownSaga(g, directory));

    /// <summary>Writes (or, with a null worker, removes) affinities on every node before a deploy places anything.</summary>
    public static async Task WriteAffinitiesAsync(ActorSystem system, IEnumerable<KeyValuePair<string, string?>> changes)
    {
        var list = changes.ToList();
        if (list.Count == 0) return;
        var cluster = Akka.Cluster.Cluster.Get(system);
        var replicator = DistributedData.Get(system).Replicator;
        var update = Dsl.Update(PipelineGroupManager.AffinityKey, LWWDictionary<string, string>.Empty, new WriteAll(AffinityTimeout), d =>
        {
            foreach (var (pipeline, worker) in list) d = worker is null ? d.Remove(cluster, pipeline) : d.SetItem(cluster, pipeline, worker);
            return d;
        });
        // A node that does not answer in time gets it by gossip; placement on the others already sees it.
        await replicator.Ask<IUpdateResponse>(update, AffinityTimeout + TimeSpan.FromSeconds(2));
    }

    private sealed class DeploySaga : ReceiveActor
    {
        public DeploySaga(PipelineGroup g, int maxPipelines, int maxStreams, IActorRef directory, IActorRef region, IActorRef manager, IActorRef replyTo)
        {
            var parent = Context.Parent;
            var self = Self;
            var system = Context.System;
            ReceiveAsync<Start>(async _ =>
            {
                var deployed = new List<GroupDeployment>();
                object? failure = null;
                string reason = "";
                try
                {
                    var capacity = await manager.Ask<PlacementCapacity>(CheckPlacementCapacity.Instance, ManagerTimeout);
                    if (capacity.AvailableWorkers == 0)
                    {
                        reason = "no worker can take pipelines";
                        failure = new GroupError("no_workers_available", $"no worker can take the pipelines of group '{g.Name}': start a worker (or end a drain) and deploy again");
                        return;
                    }
                    await WriteAffinitiesAsync(system, PipelineGroupPlan.Affinities(g).Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)));
                    foreach (var d in g.Deployments)
                    {
                        var spec = g.Pipelines.First(p => p.Name == d.PipelineName);
                        var entry = new PipelineEntry(d.PipelineId, g.TenantId, PipelineGroupPlan.DirectoryName(g, d), spec.Source, g.CreatedAt);
                        var reply = await directory.Ask<object>(new DeployPipelineRequest(entry, maxPipelines, maxStreams), DirectoryTimeout);
                        if (reply is not PipelineInfo)
                        {
                            reason = $"pipeline '{d.PipelineName}' was refused: {reply}";
                            failure = Name(reply, d.PipelineName);
                            return;
                        }
                        deployed.Add(d);
                    }
                    foreach (var d in g.Deployments)
                    {
                        var routes = PipelineGroupPlan.RoutesOf(g, d.PipelineName);
                        if (routes.Count == 0) continue;
                        var reply = await region.Ask<object>(new SetPipelineRoutes(d.PipelineId, g.TenantId, routes), DirectoryTimeout);
                        if (reply is not PipelineRoutesSet)
                        {
                            reason = $"the routes of pipeline '{d.PipelineName}' were refused: {reply}";
                            failure = Name(reply, d.PipelineName);
                            return;
                        }
                    }
                }
                catch (Exception ex)
                {
                    reason = "a step failed: " + ex.Message;
                    failure = new GroupError("unavailable", $"the deploy of group '{g.Name}' did not complete in time; nothing of it is kept");
                }
                finally
                {
                    if (failure is null)
                    {
                        parent.Tell(new Deployed(g, replyTo));
                    }
                    else
                    {
                        // Undo: nothing of a group that was not deployed whole stays.
                        bool undone = true;
                        try
                        {
                            await RemoveAsync(system, g, deployed, directory);
                        }
                        catch (Exception ex)
                        {
                            undone = false;
                            reason += "; undoing it failed too: " + ex.Message;
                        }
                        parent.Tell(new DeployFailed(g.Id, reason, failure, replyTo, undone));
                    }
                    self.Tell(PoisonPill.Instance);
                }
            });
            Self.Tell(Start.Instance);
        }

        /// <summary>A pipeline's refusal, with the pipeline's name in front of its message.</summary>
        private static object Name(object reply, string pipeline) => reply switch
        {
            PipelineError e => e with { Message = $"pipeline '{pipeline}': {e.Message}" },
            DirectoryError e => e with { Message = $"pipeline '{pipeline}': {e.Message}" },
            _ => reply,
        };
    }

    private sealed class TeardownSaga : ReceiveActor
    {
        public TeardownSaga(PipelineGroup g, IActorRef directory)
        {
            var parent = Context.Parent;
            var self = Self;
            var system = Context.System;
            ReceiveAsync<Start>(async _ =>
            {
                try
                {
                    int n = await RemoveAsync(system, g, g.Deployments, directory);
                    parent.Tell(new TornDown(g.Id, n));
                }
                catch (Exception)
                {
                    parent.Tell(new TeardownFailed(g.Id, $"the teardown of group '{g.Id}' did not complete in time (a pipeline did not answer); delete it again"));
                }
                finally
                {
                    self.Tell(PoisonPill.Instance);
                }
            });
            Self.Tell(Start.Instance);
        }
    }

    /// <summary>Deletes the pipelines (a pipeline already gone counts as deleted) and their affinities; returns how many existed.</summary>
    private static async Task<int> RemoveAsync(ActorSystem system, PipelineGroup g, IReadOnlyList<GroupDeployment> deployments, IActorRef directory)
    {
        int n = 0;
        foreach (var d in deployments)
        {
            var reply = await directory.Ask<object>(new RemovePipelineRequest(d.PipelineId, g.TenantId), DirectoryTimeout);
            if (reply is PipelineDeleted) n++;
            else if (reply is not PipelineError { Code: "pipeline_not_found" }) throw new AskTimeoutException($"pipeline {d.PipelineId} answered {reply}");
        }
        await WriteAffinitiesAsync(system, PipelineGroupPlan.Affinities(g).Select(kv => new KeyValuePair<string, string?>(kv.Key, null)));
        return n;
    }

    private sealed class Start
    {
        public static readonly Start Instance = new();
    }
}
