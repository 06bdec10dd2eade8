using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Groups;
using Varpulis.Api.Cluster;
using Varpulis.Api.Http;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// <c>GET /api/v1/cluster/metrics</c>: per worker and per deployed pipeline, <c>events_in</c>, <c>events_out</c> and
/// <c>events_per_second</c> as each worker last reported them (every heartbeat interval), with the group and the
/// group's name of each pipeline that belongs to a pipeline group.
/// </summary>
public static class ClusterMetricsEndpoints
{
    public static void MapClusterMetrics(this RouteGroupBuilder cluster) => cluster.MapGet("/metrics", Metrics);

    private static async Task Metrics(HttpContext ctx, ClusterGateway cluster, GroupGateway groups)
    {
        var report = await cluster.AskAsync<ClusterMetricsReport>(GetClusterMetrics.Instance, ctx.RequestAborted);
        var all = await groups.AskAsync<PipelineGroupList>(new GetPipelineGroups(null), ctx.RequestAborted);
        var byId = new Dictionary<string, (string Group, string Name)>(StringComparer.Ordinal);
        foreach (var g in all.Groups)
        {
            foreach (var d in g.Deployments) byId[d.PipelineId] = (g.Name, d.PipelineName);
        }
        var pipelines = report.Pipelines
            .Select(p => byId.TryGetValue(p.PipelineId, out var at) ? p with { Group = at.Group, PipelineName = at.Name } : p)
            .ToList();
        var metrics = new ClusterMetrics(report.Workers, pipelines);
        await ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, metrics, ClusterJsonContext.Default.ClusterMetrics));
    }
}
