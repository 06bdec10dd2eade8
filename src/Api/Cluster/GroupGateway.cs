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
    : SingletonGateway(manager.GetAsync, "the pipeline group manager")
{
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

    public Task<T> AskAsync<T>(IPipelineGroupProtocol message, CancellationToken ct, TimeSpan? timeout = null) => AskSingletonAsync<T>(message, ct, timeout);

    protected override ApiException? Refusal(object reply) => reply switch
    {
        GroupError e => ToApi(e),
        PipelineError e => PipelineGateway.ToApi(e),
        DirectoryError { Code: "no_workers_available" } e => PipelineGateway.Unavailable(e.Message, e.Code),
        DirectoryError { Code: "quota_exceeded" } e => new ApiException(429, e.Code, e.Message),
        DirectoryError e => new ApiException(500, e.Code, e.Message),
        _ => null,
    };

    public static ApiException ToApi(GroupError e) => e.Code switch
    {
        "group_not_found" => new ApiException(404, e.Code, e.Message),
        "conflict" => new ApiException(409, e.Code, e.Message),
        "unavailable" or "no_workers_available" => PipelineGateway.Unavailable(e.Message, e.Code),
        _ => new ApiException(500, e.Code, e.Message),
    };
}
