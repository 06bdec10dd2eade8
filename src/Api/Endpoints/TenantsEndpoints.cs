using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Errors;
using Varpulis.Api.Http;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Security;

namespace Varpulis.Api.Endpoints;

/// <summary>Tenant administration (admin key only) and <c>GET /api/v1/usage</c> (any tenant, about itself).</summary>
public static class TenantsEndpoints
{
    public static void MapTenants(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/tenants");
        g.MapPost("", Create);
        g.MapGet("", List);
        g.MapGet("/{id}", Get);
        g.MapDelete("/{id}", Delete);
        api.MapGet("/usage", Usage);
    }

    private static async Task Create(HttpContext ctx, PipelineGateway gw, TenantRegistry tenants, TimeProvider time)
    {
        ApiAccessMiddleware.RequireAdmin(ctx, tenants);
        var body = await ApiJson.ReadBodyAsync(ctx, ApiJson.DefaultBodyLimit);
        string name;
        QuotaTier tier;
        using (var doc = ApiJson.Parse(body))
        {
            var root = ApiJson.RequireObject(doc, "name", "quota_tier");
            name = ApiJson.RequireString(root, "name", 256);
            if (name.Trim().Length == 0) throw ApiException.BadRequest("field 'name' must not be empty");
            var tierName = ApiJson.OptionalString(root, "quota_tier", 32) ?? "default";
            tier = QuotaTier.Find(tierName)
                ?? throw ApiException.BadRequest($"unknown quota_tier '{tierName}'; expected free, default, pro or enterprise");
        }
        var key = "vpk_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var info = new TenantInfo(Guid.NewGuid().ToString(), name, tier.Name, TenantRegistry.HashHex(key), time.GetUtcNow());
        await gw.AskDirectoryAsync<TenantInfo>(new CreateTenant(info), CancellationToken.None);
        tenants.Add(info);
        await ApiJson.WriteAsync(ctx, 201, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", info.Id);
            w.WriteString("name", info.Name);
            w.WriteString("api_key", key);
            WriteQuota(w, tier);
            w.WriteString("created_at", PipelinesEndpoints.Rfc3339(info.CreatedAt));
            w.WriteEndObject();
        });
    }

    private static async Task List(HttpContext ctx, PipelineGateway gw, TenantRegistry tenants)
    {
        ApiAccessMiddleware.RequireAdmin(ctx, tenants);
        var paging = Paging.From(ctx.Request);
        var list = await gw.AskDirectoryAsync<TenantList>(GetTenants.Instance, ctx.RequestAborted);
        var page = list.Tenants.Skip(paging.Offset).Take(paging.Limit).ToList();
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("tenants");
            w.WriteStartArray();
            foreach (var t in page)
            {
                w.WriteStartObject();
                w.WriteString("id", t.Id);
                w.WriteString("name", t.Name);
                WriteQuota(w, QuotaTier.Find(t.Tier) ?? QuotaTier.Default);
                w.WriteString("created_at", PipelinesEndpoints.Rfc3339(t.CreatedAt));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            paging.Write(w, list.Tenants.Count, page.Count);
            w.WriteEndObject();
        });
    }

    private static async Task Get(HttpContext ctx, string id, PipelineGateway gw, TenantRegistry tenants)
    {
        ApiAccessMiddleware.RequireAdmin(ctx, tenants);
        var list = await gw.AskDirectoryAsync<TenantList>(GetTenants.Instance, ctx.RequestAborted);
        var t = list.Tenants.FirstOrDefault(x => x.Id == id) ?? throw new ApiException(404, "tenant_not_found", $"tenant '{id}' not found");
        var usage = await UsageOf(gw, t.Id, ctx.RequestAborted);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", t.Id);
            w.WriteString("name", t.Name);
            WriteQuota(w, QuotaTier.Find(t.Tier) ?? QuotaTier.Default);
            w.WriteString("created_at", PipelinesEndpoints.Rfc3339(t.CreatedAt));
            w.WritePropertyName("usage");
            w.WriteStartObject();
            WriteUsage(w, usage);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static async Task Delete(HttpContext ctx, string id, PipelineGateway gw, TenantRegistry tenants)
    {
        ApiAccessMiddleware.RequireAdmin(ctx, tenants);
        if (id == TenantRegistry.DefaultTenantId) throw new ApiException(400, "invalid_request", "the default tenant cannot be deleted");
        // The directory revokes the key on every node and deletes the tenant's pipelines before it answers.
        var deleted = await gw.AskDirectoryAsync<TenantDeleted>(new DeleteTenant(id), CancellationToken.None);
        tenants.Remove(id);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("deleted", true);
            w.WriteNumber("pipelines_deleted", deleted.PipelineIds.Count);
            w.WriteEndObject();
        });
    }

    private static async Task Usage(HttpContext ctx, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var usage = await UsageOf(gw, caller.TenantId, ctx.RequestAborted);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("tenant_id", caller.TenantId);
            WriteUsage(w, usage);
            WriteQuota(w, caller.Quota);
            w.WriteEndObject();
        });
    }

    private static Task<TenantUsage> UsageOf(PipelineGateway gw, string tenantId, CancellationToken ct)
        => gw.AskDirectoryAsync<TenantUsage>(new GetTenantUsage(tenantId), ct);

    private static void WriteUsage(Utf8JsonWriter w, TenantUsage u)
    {
        w.WriteNumber("events_processed", u.EventsProcessed);
        w.WriteNumber("output_events_emitted", u.OutputEventsEmitted);
        w.WriteNumber("active_pipelines", u.ActivePipelines);
    }

    private static void WriteQuota(Utf8JsonWriter w, QuotaTier q)
    {
        w.WritePropertyName("quota");
        w.WriteStartObject();
        w.WriteString("tier", q.Name);
        w.WriteNumber("max_pipelines", q.MaxPipelines);
        w.WriteNumber("max_events_per_second", q.MaxEventsPerSecond);
        w.WriteNumber("max_streams_per_pipeline", q.MaxStreamsPerPipeline);
        w.WriteEndObject();
    }
}
