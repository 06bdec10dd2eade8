using Akka.Hosting;
using Varpulis.Actors.Cluster;
using Varpulis.Api.Errors;
using Varpulis.Api.Pipelines;

namespace Varpulis.Api.Cluster;

/// <summary>
/// The API's way to the cluster manager singleton (through its proxy): one ask per request, its
/// <see cref="ClusterError"/> replies turned into <see cref="ApiException"/>s with the contract's codes.
/// </summary>
public sealed class ClusterGateway(IRequiredActor<ClusterManager> manager) : SingletonGateway(manager.GetAsync, "the cluster manager")
{
    public Task<T> AskAsync<T>(IClusterManagerProtocol message, CancellationToken ct, TimeSpan? timeout = null) => AskSingletonAsync<T>(message, ct, timeout);

    protected override ApiException? Refusal(object reply) => reply is ClusterError e ? ToApi(e) : null;

    public static ApiException ToApi(ClusterError e) => e.Code switch
    {
        "worker_not_found" => new ApiException(404, e.Code, e.Message),
        "conflict" => new ApiException(409, e.Code, e.Message),
        "unavailable" or "no_workers_available" => PipelineGateway.Unavailable(e.Message, e.Code),
        _ => new ApiException(500, e.Code, e.Message),
    };
}
