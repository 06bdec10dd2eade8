using System.Globalization;
using Akka.Actor;
using Microsoft.AspNetCore.Http;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Directory;
using Varpulis.Api.Errors;

namespace Varpulis.Api.Security;

/// <summary>
/// Cross-cutting checks of every <c>/api/v1</c> request: the per-IP rate limit (429 <c>rate_limited</c> with
/// <c>Retry-After</c>), then authentication by <c>x-api-key</c> (401 <c>invalid_api_key</c>). The caller is left in
/// <see cref="HttpContext.Items"/> for the endpoints. A key this node does not know yet is looked up in the tenant
/// replica (locally, then on a majority of nodes: a node that just joined may not have it by gossip yet).
/// </summary>
public sealed class ApiAccessMiddleware(RequestDelegate next, TenantRegistry tenants, TokenBuckets buckets, VarpulisSettings settings, ActorSystem system, ApiKeyRoles roles, Varpulis.Actors.Node.NodeRole node)
{
    private const string CallerKey = "varpulis.caller";

    public async Task InvokeAsync(HttpContext ctx)
    {
        if (!ctx.Request.Path.StartsWithSegments("/api/v1"))
        {
            await next(ctx);
            return;
        }
        // Workers join with their own keys: the seed endpoint (addresses, no secret) is open.
        if (HttpMethods.IsGet(ctx.Request.Method) && ctx.Request.Path.Equals(Endpoints.ClusterEndpoints.SeedPath))
        {
            await next(ctx);
            return;
        }

        int limit = settings.Server.RateLimit;
        if (limit > 0)
        {
            var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (!buckets.TryTake("ip:" + ip, limit, 2.0 * limit, 1, out var wait))
            {
                int secs = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                throw new ApiException(429, "rate_limited", $"rate limit of {limit} requests per second exceeded; retry in {secs} s",
                    w => w.WriteNumber("retry_after_seconds", secs))
                {
                    Headers = new Dictionary<string, string> { ["Retry-After"] = secs.ToString(CultureInfo.InvariantCulture) },
                };
            }
        }

        var key = ctx.Request.Headers["x-api-key"].FirstOrDefault();
        if (node.IsCoordinator && roles.Find(key) is { } roleKey)
        {
            // A role key acts for the cluster's default tenant; what it may do is the role policy's.
            ctx.Items[CallerKey] = roleKey.Role == ApiRole.Admin ? TenantRegistry.DefaultAdmin : TenantRegistry.DefaultAdmin with { IsAdmin = false };
            RolePolicy.SetRole(ctx, roleKey.Role);
            RolePolicy.Enforce(ctx);
            await next(ctx);
            return;
        }
        var caller = tenants.Authenticate(key);
        if (caller is null && !string.IsNullOrEmpty(key)) caller = await LookUpAsync(key, ctx.RequestAborted);
        if (caller is null && string.IsNullOrEmpty(key) && tenants.IsAdminKey(ctx.Request.Headers["x-admin-key"].FirstOrDefault()))
            caller = TenantRegistry.DefaultAdmin;
        if (caller is null)
        {
            throw new ApiException(401, "invalid_api_key",
                string.IsNullOrEmpty(key) ? "missing API key: send it in the x-api-key header" : "invalid API key");
        }
        ctx.Items[CallerKey] = caller;
        if (node.IsCoordinator && caller.IsAdmin)
        {
            RolePolicy.SetRole(ctx, ApiRole.Admin);
        }
        await next(ctx);
    }

    private async Task<Caller?> LookUpAsync(string key, CancellationToken ct)
    {
        foreach (bool majority in new[] { false, true })
        {
            if (majority && Akka.Cluster.Cluster.Get(system).State.Members.Count < 2) break;
            try
            {
                if (await TenantReplica.ReadAsync(system, majority, ct) is { } all) tenants.Replace(all);
            }
            catch (AskTimeoutException)
            {
                return null;
            }
            if (tenants.Authenticate(key) is { } caller) return caller;
        }
        return null;
    }

    public static Caller CallerOf(HttpContext ctx) => (Caller)ctx.Items[CallerKey]!;

    /// <summary>Tenant administration: the server key in <c>x-admin-key</c> or <c>x-api-key</c> (or no key configured).</summary>
    public static void RequireAdmin(HttpContext ctx, TenantRegistry tenants)
    {
        var admin = ctx.Request.Headers["x-admin-key"].FirstOrDefault();
        if (admin is not null)
        {
            if (!tenants.IsAdminKey(admin)) throw new ApiException(401, "invalid_api_key", "invalid admin key");
            return;
        }
        if (!CallerOf(ctx).IsAdmin) throw new ApiException(403, "forbidden", "tenant administration needs the server's admin key");
    }
}
