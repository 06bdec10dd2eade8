using Akka.Actor;
using Akka.Hosting;
using Varpulis.Actors.Cluster;
using Varpulis.Api.Errors;
using Varpulis.Api.Pipelines;

namespace Varpulis.Api.Cluster;

/// <summary>
/// The API's way to the cluster manager singleton (through its proxy): one ask per request, its
/// <see cref="ClusterError"/> replies turned into <see cref="ApiException"/>s with the contract's codes.
/// </summary>
public sealed class ClusterGateway(IRequiredActor<ClusterManager> manager)
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    public async Task<T> AskAsync<T>(IClusterManagerProtocol message, CancellationToken ct, TimeSpan? timeout = null)
    {
        object reply;
        try
        {
            reply = await (await manager.GetAsync(ct)).Ask<object>(message, timeout ?? AskTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw PipelineGateway.Unavailable("the cluster manager did not answer in time (no coordinator is up, or it is moving)");
        }
        return reply switch
        {
            T t => t,
            ClusterError e => throw ToApi(e),
            _ => throw new ApiException(500, "internal_error", $"unexpected reply {reply.GetType().Name}"),
        };
    }

    public static ApiException ToApi(ClusterError e) => e.Code switch
    {
        "worker_not_found" => new ApiException(404, e.Code, e.Message),
        "conflict" => new ApiException(409, e.Code, e.Message),
        "unavailable" or "no_workers_available" => PipelineGateway.Unavailable(e.Message, e.Code),
        _ => new ApiException(500, e.Code, e.Message),
    };
}
