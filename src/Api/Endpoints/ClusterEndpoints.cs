using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Node;
using Varpulis.Api.Cluster;
using Varpulis.Api.Errors;
using Varpulis.Api.Http;
using Varpulis.Api.Security;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// The coordinator's <c>/api/v1/cluster</c> routes (rest-api.md, Coordinator): workers, drain, removal, topology,
/// summary, migrations, rebalance, validation, and the open seed endpoint workers join through. Every route but the
/// seed needs the admin key. Each handler validates, asks the cluster manager once and writes its reply.
/// </summary>
public static class ClusterEndpoints
{
    /// <summary>The path of the open seed endpoint (no key: a worker has its own key, not the coordinator's).</summary>
    public const string SeedPath = "/api/v1/cluster/seed";

    public static void MapCluster(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/cluster");
        g.MapGet("/seed", Seed);
        var admin = g.MapGroup("").AddEndpointFilter(async (ctx, next) =>
        {
            RequireAdmin(ctx.HttpContext);
            return await next(ctx);
        });
        admin.MapGet("/workers", Workers);
        admin.MapGet("/workers/{id}", Worker);
        admin.MapPost("/workers/{id}/drain", Drain);
        admin.MapDelete("/workers/{id}", Remove);
        admin.MapGet("/topology", Topology);
        admin.MapGet("/summary", Summary);
        admin.MapGet("/migrations", Migrations);
        admin.MapPost("/rebalance", Rebalance);
        admin.MapPost("/validate", ValidateEndpoints.Validate);
        admin.MapPipelineGroups();
        admin.MapClusterMetrics();
    }

    /// <summary>Cluster operations: the coordinator's own key (in <c>x-api-key</c> or <c>x-admin-key</c>), never a tenant's.</summary>
    private static void RequireAdmin(HttpContext ctx)
    {
        var tenants = (TenantRegistry)ctx.RequestServices.GetService(typeof(TenantRegistry))!;
        var admin = ctx.Request.Headers["x-admin-key"].FirstOrDefault();
        if (admin is not null)
        {
            if (!tenants.IsAdminKey(admin)) throw new ApiException(401, "invalid_api_key", "invalid admin key");
            return;
        }
        // The admin key or a role key (whose role the role policy has checked); never a tenant's key.
        if (RolePolicy.RoleOf(ctx) is null) throw new ApiException(403, "forbidden", "cluster operations need the coordinator's admin key or a role key");
    }

    private static Task Seed(HttpContext ctx, ActorSystem system, NodePlanHolder plan, JournalInfo journal)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        // The coordinators that are up, this one first: a worker joins through whichever answers.
        var seeds = cluster.SelfMember.Status == MemberStatus.Up
            ? cluster.State.Members
                .Where(m => m.Status == MemberStatus.Up && m.HasRole(MemberRoles.Coordinator))
                .OrderBy(m => m.Address == cluster.SelfAddress ? 0 : 1)
                .Select(m => m.Address.ToString())
                .ToList()
            : [];
        var p = plan.Plan;
        var info = new SeedInfo(NodePlan.SystemName, seeds, p.HeartbeatInterval.TotalSeconds, p.HeartbeatTimeout.TotalSeconds, journal)
        {
            RaftNodeId = p.Raft?.NodeId,
            SelfAddress = cluster.SelfAddress.ToString(),
            RaftPeersAnswering = p.Raft is null || seeds.Count > 0 ? null : plan.RaftPeersAnswering,
        };
        return Write(ctx, 200, info, ClusterJsonContext.Default.SeedInfo);
    }

    private static async Task Workers(HttpContext ctx, ClusterGateway gw)
    {
        var list = await gw.AskAsync<WorkerList>(GetWorkers.Instance, ctx.RequestAborted);
        await Write(ctx, 200, list.Workers, ClusterJsonContext.Default.IReadOnlyListWorkerInfo);
    }

    private static async Task Worker(HttpContext ctx, string id, ClusterGateway gw)
    {
        var found = await gw.AskAsync<WorkerFound>(new GetWorker(id), ctx.RequestAborted);
        await Write(ctx, 200, found.Worker, ClusterJsonContext.Default.WorkerInfo);
    }

    private static async Task Drain(HttpContext ctx, string id, ClusterGateway gw)
    {
        var drained = await gw.AskAsync<WorkerDrained>(new DrainWorker(id), ctx.RequestAborted, DrainWorker.DrainTimeout + TimeSpan.FromSeconds(30));
        await Write(ctx, 200, drained.Result, ClusterJsonContext.Default.DrainResult);
    }

    private static async Task Remove(HttpContext ctx, string id, ClusterGateway gw)
    {
        var removed = await gw.AskAsync<WorkerRemoved>(new RemoveWorker(id), ctx.RequestAborted, TimeSpan.FromSeconds(90));
        await Write(ctx, 200, removed.Result, ClusterJsonContext.Default.WorkerDeleted);
    }

    private static async Task Topology(HttpContext ctx, ClusterGateway gw)
    {
        var t = await gw.AskAsync<TopologyReport>(GetTopology.Instance, ctx.RequestAborted);
        await Write(ctx, 200, t.Topology, ClusterJsonContext.Default.ClusterTopology);
    }

    private static async Task Summary(HttpContext ctx, ClusterGateway gw, GroupGateway groups)
    {
        var s = await gw.AskAsync<SummaryReport>(GetClusterSummary.Instance, ctx.RequestAborted);
        var all = await groups.AskAsync<Varpulis.Actors.Groups.PipelineGroupList>(new Varpulis.Actors.Groups.GetPipelineGroups(null), ctx.RequestAborted);
        await Write(ctx, 200, s.Summary with { PipelineGroups = all.Groups.Count }, ClusterJsonContext.Default.ClusterSummary);
    }

    private static async Task Migrations(HttpContext ctx, ClusterGateway gw)
    {
        var paging = Paging.From(ctx.Request);
        var list = await gw.AskAsync<MigrationList>(GetMigrations.Instance, ctx.RequestAborted);
        var page = list.Migrations.Skip(paging.Offset).Take(paging.Limit).ToList();
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("migrations");
            JsonSerializer.Serialize(w, page, ClusterJsonContext.Default.IReadOnlyListMigrationInfo);
            paging.Write(w, list.Migrations.Count, page.Count);
            w.WriteEndObject();
        });
    }

    private static async Task Rebalance(HttpContext ctx, ClusterGateway gw)
    {
        var r = await gw.AskAsync<RebalanceStarted>(RebalanceCluster.Instance, ctx.RequestAborted);
        await Write(ctx, 200, r.Result, ClusterJsonContext.Default.RebalanceResult);
    }

    private static Task Write<T>(HttpContext ctx, int status, T value, JsonTypeInfo<T> type)
        => ApiJson.WriteAsync(ctx, status, w => JsonSerializer.Serialize(w, value, type));
}
