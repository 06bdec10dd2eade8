using Akka.Actor;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Directory;

/// <summary>
/// The multi-step pipeline operations of the directory, each a short-lived child actor (a saga): it talks to the
/// pipeline region and the cluster manager, tells the directory what to record, answers the caller and stops. The
/// directory itself never waits on an entity.
/// </summary>
internal static class PipelineOperations
{
    public static readonly TimeSpan EntityTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ManagerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A pipeline is running (deploy, reconciliation): where and since when, for listings.</summary>
    public sealed record Started(PipelineInfo Info);

    /// <summary>A deploy failed: drop the index entry made for it.</summary>
    public sealed record DeployFailed(string PipelineId);

    /// <summary>A pipeline was deleted: drop its entry, then answer.</summary>
    public sealed record Removed(string PipelineId, IActorRef ReplyTo);

    /// <summary>A pipeline was reloaded: keep the new source, then answer.</summary>
    public sealed record Reloaded(string PipelineId, string Source, PipelineReloaded Reply, IActorRef ReplyTo);

    public static Props Deploy(PipelineEntry entry, int maxStreams, IActorRef region, IActorRef manager, IActorRef replyTo)
        => Props.Create(() => new DeploySaga(entry, maxStreams, region, manager, replyTo));

    public static Props Remove(RemovePipelineRequest request, IActorRef region, IActorRef replyTo)
    {
        Func<object, object?> record = reply => reply is PipelineDeleted ? new Removed(request.PipelineId, replyTo) : null;
        return Props.Create(() => new EntityStepSaga(new DeletePipeline(request.PipelineId, request.TenantId), record, region, replyTo));
    }

    public static Props Reload(ReloadPipelineRequest request, IActorRef region, IActorRef replyTo)
    {
        Func<object, object?> record = reply => reply is PipelineReloaded reloaded ? new Reloaded(request.PipelineId, request.Source, reloaded, replyTo) : null;
        return Props.Create(() => new EntityStepSaga(
            new ReloadPipeline(request.PipelineId, request.TenantId, request.Source, request.MaxStreams), record, region, replyTo));
    }

    public static Props List(int total, IReadOnlyList<PipelineEntry> page, IReadOnlyDictionary<string, PipelineInfo> lastKnown, IActorRef manager, IActorRef replyTo)
        => Props.Create(() => new ListingSaga(total, page, lastKnown, manager, replyTo));

    public static Props Usage(string tenantId, IReadOnlyList<string> pipelineIds, IActorRef region, IActorRef replyTo)
        => Props.Create(() => new UsageSaga(tenantId, pipelineIds, region, replyTo));

    public static Props Cascade(TenantDeleted deleted, IActorRef region, IActorRef replyTo)
        => Props.Create(() => new CascadeSaga(deleted, region, replyTo));

    /// <summary>Checks that a worker can take the pipeline, has its entity compile and start it; the entry goes away if it fails.</summary>
    private sealed class DeploySaga : ReceiveActor
    {
        public DeploySaga(PipelineEntry entry, int maxStreams, IActorRef region, IActorRef manager, IActorRef replyTo)
        {
            var directory = Context.Parent;
            var self = Self;
            ReceiveAsync<Start>(async _ =>
            {
                try
                {
                    var capacity = await manager.Ask<PlacementCapacity>(CheckPlacementCapacity.Instance, ManagerTimeout);
                    if (capacity.AvailableWorkers == 0)
                    {
                        directory.Tell(new DeployFailed(entry.PipelineId));
                        replyTo.Tell(new DirectoryError("no_workers_available", "no worker can take the pipeline: start a worker (or end a drain) and deploy again"));
                        return;
                    }
                    var reply = await region.Ask<object>(new DeployPipeline(entry.PipelineId, entry.TenantId, entry.Name, entry.Source, entry.CreatedAt, maxStreams), EntityTimeout);
                    if (reply is PipelineInfo info) directory.Tell(new Started(info));
                    else directory.Tell(new DeployFailed(entry.PipelineId));
                    replyTo.Tell(reply);
                }
                catch (AskTimeoutException)
                {
                    // The entity may still start: the entry stays, and the directory's reconciliation finishes the deploy.
                    replyTo.Tell(PipelineError.Unavailable(entry.PipelineId, "not started yet (no worker answered in time)"));
                }
                finally
                {
                    self.Tell(PoisonPill.Instance);
                }
            });
            Self.Tell(Start.Instance);
        }
    }

    /// <summary>
    /// One command to the pipeline's entity; the expected reply goes to the directory (which records it and answers
    /// the caller), any other reply to the caller as it is.
    /// </summary>
    private sealed class EntityStepSaga : ReceiveActor
    {
        public EntityStepSaga(IPipelineCommand command, Func<object, object?> toDirectory, IActorRef region, IActorRef replyTo)
        {
            var directory = Context.Parent;
            var self = Self;
            ReceiveAsync<Start>(async _ =>
            {
                try
                {
                    var reply = await region.Ask<object>(command, EntityTimeout);
                    if (toDirectory(reply) is { } record) directory.Tell(record);
                    else replyTo.Tell(reply);
                }
                catch (AskTimeoutException)
                {
                    replyTo.Tell(PipelineError.Unavailable(command.PipelineId, "not answering (moving or recovering)"));
                }
                finally
                {
                    self.Tell(PoisonPill.Instance);
                }
            });
            Self.Tell(Start.Instance);
        }
    }

    /// <summary>One ask to the cluster manager for where the page's pipelines run; what it does not know comes from the last deploy or reconciliation.</summary>
    private sealed class ListingSaga : ReceiveActor
    {
        public ListingSaga(int total, IReadOnlyList<PipelineEntry> page, IReadOnlyDictionary<string, PipelineInfo> lastKnown, IActorRef manager, IActorRef replyTo)
        {
            var self = Self;
            ReceiveAsync<Start>(async _ =>
            {
                IReadOnlyList<Contracts.Cluster.PipelinePlacementInfo> placed = [];
                try
                {
                    placed = (await manager.Ask<PlacementList>(new GetPlacements(page.Select(e => e.PipelineId).ToList()), ManagerTimeout)).Pipelines;
                }
                catch (AskTimeoutException)
                {
                    // No cluster manager right now (it is moving): list what the directory knows.
                }
                var byId = placed.ToDictionary(p => p.PipelineId, StringComparer.Ordinal);
                var items = page.Select(e =>
                {
                    lastKnown.TryGetValue(e.PipelineId, out var info);
                    if (byId.TryGetValue(e.PipelineId, out var p)) return new PipelineListItem(e, p.Status, p.WorkerId, info?.StartedAt);
                    return info is null
                        ? new PipelineListItem(e, "starting", null, null)
                        : new PipelineListItem(e, "running", info.WorkerId, info.StartedAt);
                }).ToList();
                replyTo.Tell(new PipelineListing(total, items));
                self.Tell(PoisonPill.Instance);
            });
            Self.Tell(Start.Instance);
        }
    }

    /// <summary>The tenant's totals: every pipeline asked at once, the ones that answer in time counted.</summary>
    private sealed class UsageSaga : ReceiveActor
    {
        public UsageSaga(string tenantId, IReadOnlyList<string> pipelineIds, IActorRef region, IActorRef replyTo)
        {
            var self = Self;
            ReceiveAsync<Start>(async _ =>
            {
                var replies = await Task.WhenAll(pipelineIds.Select(async id =>
                {
                    try
                    {
                        return await region.Ask<object>(new GetPipelineMetrics(id, tenantId), ManagerTimeout) as PipelineMetrics;
                    }
                    catch (AskTimeoutException)
                    {
                        return null;
                    }
                }));
                var live = replies.OfType<PipelineMetrics>().ToList();
                replyTo.Tell(new TenantUsage(tenantId, live.Sum(m => m.EventsProcessed), live.Sum(m => m.OutputEventsEmitted), live.Count));
                self.Tell(PoisonPill.Instance);
            });
            Self.Tell(Start.Instance);
        }
    }

    /// <summary>A deleted tenant's pipelines are deleted before the deletion is answered.</summary>
    private sealed class CascadeSaga : ReceiveActor
    {
        public CascadeSaga(TenantDeleted deleted, IActorRef region, IActorRef replyTo)
        {
            var self = Self;
            ReceiveAsync<Start>(async _ =>
            {
                await Task.WhenAll(deleted.PipelineIds.Select(async id =>
                {
                    try
                    {
                        await region.Ask<object>(new DeletePipeline(id, deleted.TenantId), EntityTimeout);
                    }
                    catch (AskTimeoutException)
                    {
                        // Its index entry is gone already: the directory's next reconciliation does not bring it back,
                        // and the entity's tombstone is written the next time it is asked.
                    }
                }));
                replyTo.Tell(deleted);
                self.Tell(PoisonPill.Instance);
            });
            Self.Tell(Start.Instance);
        }
    }

    private sealed class Start
    {
        public static readonly Start Instance = new();
    }
}
