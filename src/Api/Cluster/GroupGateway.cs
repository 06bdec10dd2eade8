using Akka.Actor;
using Akka.DistributedData;
using Akka.Hosting;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Errors;
using Varpulis.Api.Pipelines;

namespace Varpulis.Api.Cluster;

/// <summary>
/// The API's way to the pipeline group manager singleton (through its proxy): one ask per request; its
/// <see cref="GroupError"/> replies, and the directory's and pipelines' refusals it passes on, turned into
/// <see cref="ApiException"/>s with the contract's codes. Injected events find their group in this node's replica of
/// the groups (<see cref="PipelineGroupManager.ReplicaKey"/>), so they do not wait for the manager.
/// </summary>
public sealed class GroupGateway(IRequiredActor<PipelineGroupManager> manager, ActorSystem system)
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ReplicaReadTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The group events are injected into: a deployed group of the tenant from this node's replica (events are not
    /// coordinator writes: they keep flowing while the manager moves to another coordinator); otherwise the manager's
    /// answer (a group this node has not received yet, one being deployed or deleted, or none: 404). A deleted group has
    /// left the replica of every reachable node before its delete was answered.
    /// </summary>
    public async Task<PipelineGroup> ForEventsAsync(string id, string tenantId, CancellationToken ct)
    {
        var key = PipelineGroupManager.ReplicaKey;
        var local = await DistributedData.Get(system).Replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), ReplicaReadTimeout, ct);
        if (local is GetSuccess s && s.Get(key).TryGetValue(id, out var g) && g.TenantId == tenantId && g.Phase == GroupPhase.Deployed) return g;
        return (await AskAsync<PipelineGroupFound>(new GetPipelineGroup(id, tenantId), ct)).Group;
    }

    public async Task<T> AskAsync<T>(IPipelineGroupProtocol message, CancellationToken ct, TimeSpan? timeout = null)
    {
        object reply;
        try
        {
            reply = await (await manager.GetAsync(ct)).Ask<object>(message, timeout ?? AskTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw PipelineGateway.Unavailable("the pipeline group manager did not answer in time (no coordinator is up, or it is moving)");
        }
        return reply switch
        {
            T t => t,
            GroupError e => throw ToApi(e),
            PipelineError e => throw PipelineGateway.ToApi(e),
            DirectoryError { Code: "no_workers_available" } e => throw PipelineGateway.Unavailable(e.Message, e.Code),
            DirectoryError { Code: "quota_exceeded" } e => throw new ApiException(429, e.Code, e.Message),
            DirectoryError e => throw new ApiException(500, e.Code, e.Message),
            _ => throw new ApiException(500, "internal_error", $"unexpected reply {reply.GetType().Name}"),
        };
    }

    public static ApiException ToApi(GroupError e) => e.Code switch
    {
        "group_not_found" => new ApiException(404, e.Code, e.Message),
        "conflict" => new ApiException(409, e.Code, e.Message),
        "unavailable" or "no_workers_available" => PipelineGateway.Unavailable(e.Message, e.Code),
        _ => new ApiException(500, e.Code, e.Message),
    };
}
