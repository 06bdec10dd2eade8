using Akka.Actor;
using Akka.Hosting;
using Ceen;
using Varpulis.Actors.Cluster;
using Varpulis.Api.Cluster;
using Varpulis.Api.Errors;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Api.Management;

/// <summary>
/// The cluster manager's answers on the management port, for <c>pbm varpulis</c>, in the coordinator API's shapes
/// (rest-api.md): <c>GET /varpulis/workers</c> (<c>[WorkerInfo]</c>), <c>POST /varpulis/workers/{id}/drain</c>
/// (<c>DrainResult</c>, once the worker runs no pipeline) and <c>GET /varpulis/pipelines</c>
/// (<c>[PipelinePlacementInfo]</c>). Every node serves them: the manager is a singleton reached through its proxy.
/// </summary>
internal sealed class VarpulisClusterRoute : ManagementRoute
{
    public const string Pattern = "[^/varpulis/.+$]";
    private const string WorkersPrefix = "/varpulis/workers/";
    private const string DrainSuffix = "/drain";

    /// <summary>Listings answer 503 before a client's default 30 s timeout when no coordinator is up.</summary>
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(20);

    protected override async Task<bool> HandleAsync(ActorSystem system, IHttpContext http)
    {
        var path = http.Request.Path.TrimEnd('/');
        var gateway = new ClusterGateway(new RequiredActor<ClusterManager>(ActorRegistry.For(system)));
        try
        {
            if (path == "/varpulis/workers")
            {
                if (http.Request.Method != "GET") return await MethodNotAllowedAsync(http);
                var list = await gateway.AskAsync<WorkerList>(GetWorkers.Instance, CancellationToken.None, ListTimeout);
                return await WriteAsync(http, 200, list.Workers, ClusterJsonContext.Default.IReadOnlyListWorkerInfo);
            }
            if (path == "/varpulis/pipelines")
            {
                if (http.Request.Method != "GET") return await MethodNotAllowedAsync(http);
                var list = await gateway.AskAsync<PlacementList>(new GetPlacements(null), CancellationToken.None, ListTimeout);
                return await WriteAsync(http, 200, list.Pipelines, ClusterJsonContext.Default.IReadOnlyListPipelinePlacementInfo);
            }
            if (path.StartsWith(WorkersPrefix, StringComparison.Ordinal) && path.EndsWith(DrainSuffix, StringComparison.Ordinal)
                && path.Length > WorkersPrefix.Length + DrainSuffix.Length)
            {
                if (http.Request.Method != "POST") return await MethodNotAllowedAsync(http);
                var id = Uri.UnescapeDataString(path[WorkersPrefix.Length..^DrainSuffix.Length]);
                var drained = await gateway.AskAsync<WorkerDrained>(new DrainWorker(id), CancellationToken.None, DrainWorker.DrainTimeout + TimeSpan.FromSeconds(30));
                return await WriteAsync(http, 200, drained.Result, ClusterJsonContext.Default.DrainResult);
            }
        }
        catch (ApiException e)
        {
            foreach (var (name, value) in e.Headers ?? new Dictionary<string, string>()) http.Response.AddHeader(name, value);
            return await ErrorAsync(http, e.Status, e.Code, e.Message);
        }
        return false;
    }
}
