using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

public sealed class TenantsEndpointsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task CreateReturnsKeyAndQuotaOnce()
    {
        var r = await f.Admin.PostAsync("/api/v1/tenants", """{"name": "acme", "quota_tier": "free"}""");
        Assert.Equal(HttpStatusCode.Created, r.Status);
        Assert.Equal("acme", (string?)r.Body["name"]);
        Assert.StartsWith("vpk_", (string?)r.Body["api_key"]);
        Assert.Equal("""{"tier":"free","max_pipelines":2,"max_events_per_second":100,"max_streams_per_pipeline":5}""", r.Body["quota"]!.ToJsonString());

        var id = (string)r.Body["id"]!;
        var get = await f.Admin.GetJsonAsync($"/api/v1/tenants/{id}");
        Assert.Equal(HttpStatusCode.OK, get.Status);
        Assert.Null(get.Body["api_key"]);
        Assert.Equal("""{"events_processed":0,"output_events_emitted":0,"active_pipelines":0}""", get.Body["usage"]!.ToJsonString());

        var list = await f.Admin.GetJsonAsync("/api/v1/tenants");
        Assert.Contains(list.Body["tenants"]!.AsArray(), t => (string?)t!["id"] == id);
        Assert.All(list.Body["tenants"]!.AsArray(), t => Assert.Null(t!["api_key"]));
    }

    [Fact]
    public async Task AdminKeyHeaderAlsoAuthorizesAdministration()
    {
        using var http = new HttpClient { BaseAddress = f.Server.Address };
        http.DefaultRequestHeaders.Add("x-admin-key", ServerFixture.AdminKey);
        var r = await http.GetJsonAsync("/api/v1/tenants");
        Assert.Equal(HttpStatusCode.OK, r.Status);
    }

    [Fact]
    public async Task TenantKeyCannotAdministerTenants()
    {
        using var tenant = await NewTenant("t-forbidden", "default");
        var r = await tenant.PostAsync("/api/v1/tenants", """{"name": "other"}""");
        r.AssertError(HttpStatusCode.Forbidden, "forbidden", "tenant administration needs the server's admin key");
    }

    [Fact]
    public async Task UnknownTenantIs404()
    {
        var r = await f.Admin.GetJsonAsync("/api/v1/tenants/nope");
        r.AssertError(HttpStatusCode.NotFound, "tenant_not_found", "tenant 'nope' not found");
        var d = await f.Admin.SendAsync(HttpMethod.Delete, "/api/v1/tenants/nope");
        d.AssertError(HttpStatusCode.NotFound, "tenant_not_found", "tenant 'nope' not found");
    }

    [Fact]
    public async Task UnknownTierIsInvalidRequest()
    {
        var r = await f.Admin.PostAsync("/api/v1/tenants", """{"name": "x", "quota_tier": "gold"}""");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request", "unknown quota_tier 'gold'; expected free, default, pro or enterprise");
    }

    [Fact]
    public async Task TenantsSeeOnlyTheirOwnPipelines()
    {
        using var a = await NewTenant("iso-a", "default");
        using var b = await NewTenant("iso-b", "default");
        var id = await f.DeployAsync(Programs.Alert, "mine", a);
        Assert.Equal(HttpStatusCode.OK, (await a.GetJsonAsync($"/api/v1/pipelines/{id}")).Status);
        (await b.GetJsonAsync($"/api/v1/pipelines/{id}")).AssertError(HttpStatusCode.NotFound, "pipeline_not_found");
        (await b.PostAsync($"/api/v1/pipelines/{id}/events", Programs.Reading("S", 1))).AssertError(HttpStatusCode.NotFound, "pipeline_not_found");
        (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}")).AssertError(HttpStatusCode.NotFound, "pipeline_not_found");
        var listB = await b.GetJsonAsync("/api/v1/pipelines");
        Assert.Equal(0, (int)listB.Body["total"]!);
    }

    [Fact]
    public async Task PipelineQuotaIs429()
    {
        using var free = await NewTenant("quota-free", "free");
        await f.DeployAsync(Programs.Alert, "one", free);
        await f.DeployAsync(Programs.Alert, "two", free);
        var r = await free.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "three", ["source"] = Programs.Alert }.ToJsonString());
        r.AssertError((HttpStatusCode)429, "quota_exceeded");
        Assert.Contains("limit of 2 pipelines", (string?)r.Body["error"]);
    }

    [Fact]
    public async Task StreamQuotaIs429()
    {
        using var free = await NewTenant("quota-streams", "free");
        var source = string.Join("\n", Enumerable.Range(0, 6).Select(i => $"stream S{i} = A .emit(x: {i})"));
        var r = await free.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "wide", ["source"] = source }.ToJsonString());
        r.AssertError((HttpStatusCode)429, "quota_exceeded");
        Assert.Contains("at most 5 per pipeline", (string?)r.Body["error"]);
    }

    [Fact]
    public async Task EventRateQuotaIs429()
    {
        using var free = await NewTenant("quota-events", "free");
        var id = await f.DeployAsync(Programs.Alert, "rate", free);
        var batch = Programs.Batch(Enumerable.Range(0, 150).Select(i => Programs.Reading("S", i)));
        var first = await free.PostAsync($"/api/v1/pipelines/{id}/events-batch", batch);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var second = await free.PostAsync($"/api/v1/pipelines/{id}/events-batch", batch);
        second.AssertError((HttpStatusCode)429, "quota_exceeded", $"tenant '{free.DefaultRequestHeaders.GetValues("x-tenant-id").Single()}' exceeded its quota of 100 events per second");
    }

    [Fact]
    public async Task UsageReportsTheCallersTenant()
    {
        using var t = await NewTenant("usage", "pro");
        var id = await f.DeployAsync(Programs.Alert, "u", t);
        await t.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S", 150), Programs.Reading("S", 1)]));
        var r = await t.GetJsonAsync("/api/v1/usage");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(t.DefaultRequestHeaders.GetValues("x-tenant-id").Single(), (string?)r.Body["tenant_id"]);
        Assert.Equal(2, (long)r.Body["events_processed"]!);
        Assert.Equal(1, (long)r.Body["output_events_emitted"]!);
        Assert.Equal(1, (int)r.Body["active_pipelines"]!);
        Assert.Equal("pro", (string?)r.Body["quota"]!["tier"]);
    }

    [Fact]
    public async Task DeletingATenantDeletesItsPipelines()
    {
        var created = await f.Admin.PostAsync("/api/v1/tenants", """{"name": "doomed"}""");
        var tenantId = (string)created.Body["id"]!;
        using var t = f.Server.Client((string)created.Body["api_key"]!);
        var pid = await f.DeployAsync(Programs.Alert, "gone", t);
        var r = await f.Admin.SendAsync(HttpMethod.Delete, $"/api/v1/tenants/{tenantId}");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"deleted":true,"pipelines_deleted":1}""", r.Body.ToJsonString());
        (await t.GetJsonAsync($"/api/v1/pipelines/{pid}")).AssertError(HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    private async Task<HttpClient> NewTenant(string name, string tier)
    {
        var r = await f.Admin.PostAsync("/api/v1/tenants", new JsonObject { ["name"] = name, ["quota_tier"] = tier }.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, r.Status);
        var http = f.Server.Client((string)r.Body["api_key"]!);
        http.DefaultRequestHeaders.Add("x-tenant-id", (string)r.Body["id"]!);
        return http;
    }
}
