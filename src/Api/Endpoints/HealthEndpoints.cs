using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Health;
using Varpulis.Actors.Node;
using Varpulis.Api.Http;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// <c>/health</c> (the process answers; on a coordinator, the cluster's state) and <c>/ready</c> (actor system, cluster
/// membership, journal): open endpoints.
/// </summary>
public static class HealthEndpoints
{
    private static readonly TimeSpan ManagerTimeout = TimeSpan.FromSeconds(3);

    public static void MapHealth(this IEndpointRouteBuilder app, DateTimeOffset startedAt)
    {
        app.MapGet("/health", async (HttpContext ctx, TimeProvider time, NodeRole role, IServiceProvider services) =>
        {
            long uptime = Math.Max(0, (long)(time.GetUtcNow() - startedAt).TotalSeconds);
            if (role.IsCoordinator)
            {
                var health = await CoordinatorHealthAsync(services, uptime, ctx.RequestAborted);
                await ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, health, ClusterJsonContext.Default.CoordinatorHealth));
                return;
            }
            await ApiJson.WriteAsync(ctx, 200, w =>
            {
                w.WriteStartObject();
                w.WriteString("status", "healthy");
                w.WriteNumber("uptime_seconds", uptime);
                w.WriteString("version", VarpulisVersion.Current);
                w.WriteEndObject();
            });
        });
        app.MapGet("/ready", async (HttpContext ctx, NodeReadiness readiness, IServiceProvider services) =>
        {
            // A raft coordinator without a majority of its peers is not ready (it refuses writes too).
            var reason = services.GetService(typeof(Varpulis.Actors.Cluster.Raft.RaftView)) is Varpulis.Actors.Cluster.Raft.RaftView { Enabled: true } raft && !raft.HasQuorum
                ? $"only {raft.ReachablePeers} of {raft.Plan!.Peers.Count} raft peers are reachable; a majority ({raft.Plan.Majority}) is needed"
                : await readiness.CheckAsync(ctx.RequestAborted);
            await ApiJson.WriteAsync(ctx, reason is null ? 200 : 503, w =>
            {
                w.WriteStartObject();
                if (reason is null)
                {
                    w.WriteString("status", "ready");
                    w.WriteString("cluster_member", "up");
                    w.WriteString("journal", "ok");
                }
                else
                {
                    w.WriteString("status", "not_ready");
                    w.WriteString("reason", reason);
                }
                w.WriteEndObject();
            });
        });
    }

    /// <summary>The coordinator's <c>/health</c> status for its workers (see <see cref="CoordinatorHealthAsync"/>).</summary>
    internal static string StatusOf(WorkerCounts w)
        => w.Total == 0 ? "no_workers" : w.Healthy == 0 ? "critical" : w.Unhealthy > 0 ? "degraded" : "healthy";

    /// <summary>
    /// A coordinator's health: <c>no_workers</c> when no worker is a member, <c>critical</c> when none is ready (or the
    /// cluster manager does not answer), <c>degraded</c> when some are unhealthy, else <c>healthy</c> (a draining worker
    /// is an operator's choice, not a fault). <c>ha_role</c> is <c>leader</c> on the coordinator hosting the manager.
    /// </summary>
    private static async Task<CoordinatorHealth> CoordinatorHealthAsync(IServiceProvider services, long uptime, CancellationToken ct)
    {
        var system = (ActorSystem)services.GetService(typeof(ActorSystem))!;
        var manager = (IRequiredActor<ClusterManager>)services.GetService(typeof(IRequiredActor<ClusterManager>))!;
        ClusterHealth? h = null;
        try
        {
            h = await (await manager.GetAsync(ct)).Ask<ClusterHealth>(GetClusterHealth.Instance, ManagerTimeout, ct);
        }
        catch (AskTimeoutException)
        {
        }
        if (h is null)
        {
            bool isLeader = services.GetService(typeof(Varpulis.Actors.Cluster.Raft.RaftView)) is Varpulis.Actors.Cluster.Raft.RaftView v && v.IsLeader;
            return new CoordinatorHealth("critical", "coordinator", VarpulisVersion.Current, isLeader ? "leader" : "follower", new WorkerCounts(0, 0, 0, 0), 0, 0, uptime);
        }
        var w = h.Workers;
        string status = StatusOf(w);
        bool leader = services.GetService(typeof(Varpulis.Actors.Cluster.Raft.RaftView)) is Varpulis.Actors.Cluster.Raft.RaftView view
            ? view.IsLeader
            : h.LeaderAddress == Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
        string haRole = leader ? "leader" : "follower";
        return new CoordinatorHealth(status, "coordinator", VarpulisVersion.Current, haRole, w, await PipelineGroupCountAsync(services, ct), h.ActiveMigrations, uptime);
    }

    /// <summary>How many pipeline groups the group manager keeps (0 when it does not answer in time: health never waits long).</summary>
    private static async Task<int> PipelineGroupCountAsync(IServiceProvider services, CancellationToken ct)
    {
        var groups = (IRequiredActor<Varpulis.Actors.Groups.PipelineGroupManager>)services.GetService(typeof(IRequiredActor<Varpulis.Actors.Groups.PipelineGroupManager>))!;
        try
        {
            var list = await (await groups.GetAsync(ct)).Ask<Varpulis.Actors.Groups.PipelineGroupList>(new Varpulis.Actors.Groups.GetPipelineGroups(null), ManagerTimeout, ct);
            return list.Groups.Count;
        }
        catch (AskTimeoutException)
        {
            return 0;
        }
    }
}
