using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Api.Tests.Infrastructure;
using static Varpulis.Api.Tests.Management.ManagementHttp;

namespace Varpulis.Api.Tests.Management;

/// <summary>
/// The <c>/varpulis/...</c> management routes behind <c>pbm varpulis</c> on a single server (its own node: these tests
/// deploy pipelines): the cluster manager's view in the coordinator API's shapes, errors in the contract's.
/// </summary>
public sealed class VarpulisManagementRoutesTests(ManagementFixture f) : IClassFixture<ManagementFixture>
{
    private const string Key = ManagementFixture.Key;

    [Fact]
    public async Task VarpulisRoutesAnswerWithTheClusterManagersViewBehindTheKey()
    {
        Assert.Equal((HttpStatusCode.Unauthorized, Json("{'error':'missing API key: send it in the x-api-key header','code':'invalid_api_key'}")),
            await CallAsync(f.Management, HttpMethod.Get, "/varpulis/workers", null));
        var workers = await CallAsync(f.Management, HttpMethod.Get, "/varpulis/workers", Key);
        Assert.Equal(HttpStatusCode.OK, workers.Status);
        // A single server is the one worker, listed under its Akka address (it has no --worker-id), with both roles; its
        // pipelines have no worker id (as in GET /api/v1/pipelines).
        var only = Assert.Single(JsonNode.Parse(workers.Body)!.AsArray())!;
        Assert.Equal(
            (f.Self, "", f.Self, "ready", "[\"coordinator\",\"worker\"]", 1000),
            ((string)only["id"]!, (string)only["address"]!, (string)only["akka_address"]!, (string)only["status"]!, only["roles"]!.ToJsonString(), (int)only["max_pipelines"]!));

        using var admin = f.Server.Client(Key);
        var deployed = await admin.PostAsync("/api/v1/pipelines", $"{{\"name\":\"placed\",\"source\":\"{Programs.Alert}\"}}");
        Assert.Equal(HttpStatusCode.Created, deployed.Status);
        var entry = Json($"{{'pipeline_id':'{(string)deployed.Body["id"]!}','name':'placed','tenant_id':'default','worker_id':null,'status':'running'}}");
        (HttpStatusCode, string) placed = default;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((placed = await CallAsync(f.Management, HttpMethod.Get, "/varpulis/pipelines", Key)).Item2 != $"[{entry}]" && DateTime.UtcNow < deadline)
            await Task.Delay(250);
        Assert.Equal($"[{entry}]", placed.Item2);
        Assert.Equal(HttpStatusCode.OK, placed.Item1);
        Assert.Equal((HttpStatusCode.MethodNotAllowed, Json("{'error':'POST is not allowed on /varpulis/workers','code':'method_not_allowed'}")),
            await CallAsync(f.Management, HttpMethod.Post, "/varpulis/workers", Key));
        Assert.Equal((HttpStatusCode.MethodNotAllowed, Json("{'error':'GET is not allowed on /varpulis/workers/w/drain','code':'method_not_allowed'}")),
            await CallAsync(f.Management, HttpMethod.Get, "/varpulis/workers/w/drain", Key));
        // Errors are the contract's body (System.Text.Json escapes an apostrophe as \u0027).
        Assert.Equal((HttpStatusCode.NotFound, "{\"error\":\"worker \\u0027nope\\u0027 not found\",\"code\":\"worker_not_found\"}"),
            await CallAsync(f.Management, HttpMethod.Post, "/varpulis/workers/nope/drain", Key));
        Assert.Equal((HttpStatusCode.NotFound, Json("{'error':'no route GET /varpulis/tenants','code':'not_found'}")),
            await CallAsync(f.Management, HttpMethod.Get, "/varpulis/tenants", Key));
    }
}
