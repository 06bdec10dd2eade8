using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Health;
using Varpulis.Actors.Node;
using Varpulis.Api.Http;

namespace Varpulis.Api.Endpoints;

/// <summary><c>/health</c> (the process answers) and <c>/ready</c> (actor system, cluster membership, journal): open endpoints.</summary>
public static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app, DateTimeOffset startedAt)
    {
        app.MapGet("/health", (HttpContext ctx, TimeProvider time) => ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "healthy");
            w.WriteNumber("uptime_seconds", Math.Max(0, (long)(time.GetUtcNow() - startedAt).TotalSeconds));
            w.WriteString("version", VarpulisVersion.Current);
            w.WriteEndObject();
        }));
        app.MapGet("/ready", async (HttpContext ctx, NodeReadiness readiness) =>
        {
            var reason = await readiness.CheckAsync(ctx.RequestAborted);
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
}
