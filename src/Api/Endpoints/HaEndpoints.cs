using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Cluster.Raft;
using Varpulis.Actors.Cluster.Scaling;
using Varpulis.Api.Errors;
using Varpulis.Api.Http;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Security;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// The coordinator's high-availability and scaling routes: <c>GET /api/v1/cluster/raft/status</c> (alias
/// <c>/api/v1/cluster/raft</c>) from this coordinator's own view (it answers during a leader change: reads keep
/// working), and <c>GET /api/v1/cluster/scaling</c> from the scaling advisor. Like every cluster route they need a
/// coordinator key (admin key or a role key), not a tenant's.
/// </summary>
public static class HaEndpoints
{
    private static readonly TimeSpan AdvisorTimeout = TimeSpan.FromSeconds(10);

    public static void MapHa(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/cluster").AddEndpointFilter(async (ctx, next) =>
        {
            if (RolePolicy.RoleOf(ctx.HttpContext) is null)
                throw new ApiException(403, "forbidden", "cluster operations need the coordinator's admin key or a role key");
            return await next(ctx);
        });
        g.MapGet("/raft/status", Raft);
        g.MapGet("/raft", Raft);
        g.MapGet("/scaling", Scaling);
    }

    private static async Task Raft(HttpContext ctx, RaftView view, ActorRegistry registry)
    {
        var record = view.Record;
        var nodes = view.Nodes().Select(n => new RaftNode(n.Id, n.Address, n.Role, n.IsCurrent, n.Reachable)).ToList();
        int? leader = record is { NodeId: > 0 } r && nodes.Any(n => n.Id == r.NodeId && n.Role == "leader") ? r.NodeId : null;
        // The version of this coordinator's copy of the coordinator state (embedded journal only): runbook §4.2's "most recent data dir".
        string? stateVersion = null;
        if (registry.TryGet<CoordinatorStateKeeper>(out var keeper))
        {
            try
            {
                var summary = await keeper.Ask<CoordinatorStateSummary>(GetCoordinatorStateSummary.Instance, AdvisorTimeout, ctx.RequestAborted);
                stateVersion = summary.Latest.ToString();
            }
            catch (AskTimeoutException)
            {
                throw PipelineGateway.Unavailable("this coordinator's state keeper did not answer in time");
            }
        }
        var status = new RaftStatus(view.Enabled, view.ThisNodeId, leader, record?.Term ?? 0, nodes) { StateVersion = stateVersion };
        await Write(ctx, status, HaJsonContext.Default.RaftStatus);
    }

    private static async Task Scaling(HttpContext ctx, IRequiredActor<ScalingAdvisor> advisor)
    {
        object reply;
        try
        {
            reply = await (await advisor.GetAsync(ctx.RequestAborted)).Ask<object>(GetScalingRecommendation.Instance, AdvisorTimeout, ctx.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            throw PipelineGateway.Unavailable("the scaling advisor did not answer in time (the leader is moving)");
        }
        if (reply is not ScalingReport report)
            throw PipelineGateway.Unavailable("the cluster manager did not answer in time (the leader is moving)");
        await Write(ctx, report.Recommendation, HaJsonContext.Default.ScalingRecommendation);
    }

    private static Task Write<T>(HttpContext ctx, T value, JsonTypeInfo<T> type)
        => ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, value, type));
}
