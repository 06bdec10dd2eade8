using System.Net;
using System.Net.Sockets;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Management;
using Varpulis.Api.Tests.Infrastructure;
using static Varpulis.Api.Tests.Management.ManagementHttp;

namespace Varpulis.Api.Tests.Management;

/// <summary>The management endpoint of one node: every route, the key check, exact bodies.</summary>
public sealed class ManagementEndpointTests(ManagementFixture f) : IClassFixture<ManagementFixture>
{
    private const string Key = ManagementFixture.Key;

    [Fact]
    public async Task MembersListTheNodeInTheJvmShape()
    {
        var r = await CallAsync(f.Management, HttpMethod.Get, "/cluster/members", Key);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        var a = f.Self;
        Assert.Equal(Json($"{{'selfNode':'{a}','members':[{{'node':'{a}','nodeUid':'{f.SelfUid}','status':'Up','roles':['coordinator','worker']}}],'unreachable':[],'leader':'{a}','oldest':'{a}','oldestPerRole':{{'coordinator':'{a}','worker':'{a}'}}}}"), r.Body);
        Assert.Equal(r, await CallAsync(f.Management, HttpMethod.Get, "/cluster/members/", Key));
    }

    [Fact]
    public async Task EveryRouteButSeedNodeDiscoveryNeedsTheKey()
    {
        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, "/cluster/members"), (HttpMethod.Get, "/cluster/members/" + f.Self), (HttpMethod.Delete, "/cluster/members/" + f.Self),
                     (HttpMethod.Put, "/cluster/members/" + f.Self), (HttpMethod.Post, "/cluster/members"), (HttpMethod.Get, "/cluster/shards"),
                     (HttpMethod.Get, "/cluster/shards/pipeline"), (HttpMethod.Get, "/cluster/shards/pipeline/stats"), (HttpMethod.Get, "/remote/address"),
                     (HttpMethod.Get, "/no/such/route"),
                 })
        {
            var missing = await CallAsync(f.Management, method, path, key: null);
            Assert.Equal((HttpStatusCode.Unauthorized, Json("{'error':'missing API key: send it in the x-api-key header','code':'invalid_api_key'}")), missing);
            var wrong = await CallAsync(f.Management, method, path, key: "not-the-key");
            Assert.Equal((HttpStatusCode.Unauthorized, Json("{'error':'invalid API key','code':'invalid_api_key'}")), wrong);
        }
        // The node is still a member: none of those requests did anything.
        Assert.Contains("'status':'Up'".Replace('\'', '"'), (await CallAsync(f.Management, HttpMethod.Get, "/cluster/members", Key)).Body);
    }

    [Fact]
    public async Task SeedNodeDiscoveryIsOpen()
    {
        var r = await CallAsync(f.Management, HttpMethod.Get, ManagementAccessGate.SeedNodesPath, key: null);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Contains($"\"NodeUid\":{f.SelfUid}", r.Body);
    }

    [Fact]
    public async Task AkkaManagementsOwnRemoteAddressRouteIsServed()
    {
        var r = await CallAsync(f.Management, HttpMethod.Get, "/remote/address", Key);
        Assert.Equal((HttpStatusCode.OK, Json($"{{'Address':'{f.Self}'}}")), r);
    }

    [Theory]
    [InlineData("full")]
    [InlineData("url-encoded")]
    [InlineData("system@host:port")]
    [InlineData("host:port")]
    public async Task AMemberIsFoundByAnyFormOfItsAddress(string form)
    {
        var a = Akka.Cluster.Cluster.Get(f.System).SelfAddress;
        var text = form switch
        {
            "full" => a.ToString(),
            "url-encoded" => Uri.EscapeDataString(a.ToString()),
            "system@host:port" => $"{a.System}@{a.Host}:{a.Port}",
            _ => $"{a.Host}:{a.Port}",
        };
        var r = await CallAsync(f.Management, HttpMethod.Get, "/cluster/members/" + text, Key);
        Assert.Equal((HttpStatusCode.OK, Json($"{{'node':'{a}','nodeUid':'{f.SelfUid}','status':'Up','roles':['coordinator','worker']}}")), r);
    }

    [Fact]
    public async Task AnUnknownMemberIs404ForEveryVerb()
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete, HttpMethod.Put })
        {
            var r = await CallAsync(f.Management, method, "/cluster/members/127.0.0.1:1", Key, new Dictionary<string, string> { ["operation"] = "Down" });
            Assert.Equal((HttpStatusCode.NotFound, Json("{'error':'Member [127.0.0.1:1] not found','code':'member_not_found'}")), r);
        }
    }

    [Fact]
    public async Task BadOperationsAreRefusedAndChangeNothing()
    {
        var path = "/cluster/members/" + f.Self;
        Assert.Equal((HttpStatusCode.BadRequest, Json("{'error':'missing form field \\u0027operation\\u0027: Leave or Down','code':'invalid_request'}")),
            await CallAsync(f.Management, HttpMethod.Put, path, Key));
        Assert.Equal((HttpStatusCode.BadRequest, Json("{'error':'operation \\u0027Prepare\\u0027 is not supported: use Leave or Down','code':'invalid_request'}")),
            await CallAsync(f.Management, HttpMethod.Put, path, Key, new Dictionary<string, string> { ["operation"] = "Prepare" }));
        Assert.Equal((HttpStatusCode.MethodNotAllowed, Json($"{{'error':'PATCH is not allowed on {path}','code':'method_not_allowed'}}")),
            await CallAsync(f.Management, HttpMethod.Patch, path, Key));
        Assert.Equal((HttpStatusCode.BadRequest, Json("{'error':'missing form field \\u0027address\\u0027: the address of a member of the cluster to join, e.g. akka.tcp://varpulis@10.0.0.1:4053','code':'invalid_request'}")),
            await CallAsync(f.Management, HttpMethod.Post, "/cluster/members", Key));
        Assert.Equal((HttpStatusCode.BadRequest, Json("{'error':'\\u0027not an address\\u0027 is not an Akka address: expected protocol://system@host:port, e.g. akka.tcp://varpulis@10.0.0.1:4053','code':'invalid_request'}")),
            await CallAsync(f.Management, HttpMethod.Post, "/cluster/members", Key, new Dictionary<string, string> { ["address"] = "not an address" }));
        Assert.Equal((HttpStatusCode.MethodNotAllowed, Json("{'error':'DELETE is not allowed on /cluster/members','code':'method_not_allowed'}")),
            await CallAsync(f.Management, HttpMethod.Delete, "/cluster/members", Key));
        Assert.Equal((HttpStatusCode.MethodNotAllowed, Json("{'error':'POST is not allowed on /cluster/shards/pipeline','code':'method_not_allowed'}")),
            await CallAsync(f.Management, HttpMethod.Post, "/cluster/shards/pipeline", Key));
        Assert.Contains("\"status\":\"Up\"", (await CallAsync(f.Management, HttpMethod.Get, "/cluster/members", Key)).Body);
    }

    [Fact]
    public async Task JoiningAnAddressAnswersAsTheJvmDoes()
    {
        // A node that is already a member ignores the join; the reply is the JVM's message all the same.
        var r = await CallAsync(f.Management, HttpMethod.Post, "/cluster/members", Key, new Dictionary<string, string> { ["address"] = f.Self });
        Assert.Equal((HttpStatusCode.OK, Json($"{{'message':'Joining {f.Self}'}}")), r);
    }

    [Fact]
    public async Task ShardRoutesCountThePipelinesOfTheRegion()
    {
        Assert.Equal((HttpStatusCode.OK, Json("{'entityTypeKeys':['pipeline']}")), await CallAsync(f.Management, HttpMethod.Get, "/cluster/shards", Key));

        using var admin = f.Server.Client(Key);
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var deployed = await admin.PostAsync("/api/v1/pipelines", $"{{\"name\":\"p{i}\",\"source\":\"{Programs.Alert}\"}}");
            Assert.Equal(HttpStatusCode.Created, deployed.Status);
            ids.Add((string)deployed.Body["id"]!);
        }
        var extractor = new PipelineMessageExtractor();
        var shards = ids.GroupBy(id => extractor.ShardId(id)).OrderBy(g => g.Key, ShardIdOrder.Instance)
            .Select(g => $"{{'shardId':'{g.Key}','numEntities':{g.Count()}}}").ToList();
        var local = Json($"{{'regions':[{string.Join(",", shards)}],'failed':[]}}");
        Assert.Equal((HttpStatusCode.OK, local), await CallAsync(f.Management, HttpMethod.Get, "/cluster/shards/pipeline", Key));
        var all = Json($"{{'regions':{{'{f.Self}':{{'shards':[{string.Join(",", shards)}],'failed':[]}}}},'totalEntities':3,'totalShards':{shards.Count}}}");
        Assert.Equal((HttpStatusCode.OK, all), await CallAsync(f.Management, HttpMethod.Get, "/cluster/shards/pipeline/stats", Key));
    }

    [Fact]
    public async Task AnUnknownRegionIs404()
    {
        var expected = (HttpStatusCode.NotFound, Json("{'error':'Shard Region orders is not started','code':'shard_region_not_found'}"));
        Assert.Equal(expected, await CallAsync(f.Management, HttpMethod.Get, "/cluster/shards/orders", Key));
        Assert.Equal(expected, await CallAsync(f.Management, HttpMethod.Get, "/cluster/shards/orders/stats", Key));
    }

    [Fact]
    public async Task AnUnknownRouteIsTheContractsJson404()
    {
        Assert.Equal((HttpStatusCode.NotFound, Json("{'error':'no route GET /cluster/nothing','code':'not_found'}")),
            await CallAsync(f.Management, HttpMethod.Get, "/cluster/nothing", Key));
    }

    [Fact]
    public async Task BodiesThatCannotBeReadAreJsonErrorsAndChangeNothing()
    {
        var path = "/cluster/members/" + f.Self;
        var big = await CallAsync(f.Management, HttpMethod.Put, path, Key, new Dictionary<string, string> { ["operation"] = new string('x', 70_000) });
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge,
            Json("{'error':'the request body cannot be read: Request body too large. The max request body size is 65536 bytes.','code':'payload_too_large'}")), big);

        using var http = new HttpClient { BaseAddress = f.Management };
        using var req = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StringContent("operation=Down") };
        req.Headers.Add("x-api-key", Key);
        req.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        using var resp = await http.SendAsync(req);
        Assert.True(resp.StatusCode == HttpStatusCode.BadRequest, await resp.Content.ReadAsStringAsync());
        Assert.StartsWith("{\"error\":\"the form body cannot be read: ", await resp.Content.ReadAsStringAsync());
        Assert.EndsWith("\"code\":\"invalid_request\"}", await resp.Content.ReadAsStringAsync());
        Assert.Contains("\"status\":\"Up\"", (await CallAsync(f.Management, HttpMethod.Get, "/cluster/members", Key)).Body);
    }

    [Fact]
    public void WithoutAKeyOnlyLoopbackCallersAreServed()
    {
        var open = new ManagementAccess(null);
        Assert.Null(open.Refusal(null, new IPEndPoint(IPAddress.Loopback, 5000)));
        Assert.Null(open.Refusal(null, new IPEndPoint(IPAddress.IPv6Loopback, 5000)));
        Assert.Equal("this node runs without an API key, so its management routes answer only on loopback",
            open.Refusal(null, new IPEndPoint(IPAddress.Parse("10.1.2.3"), 5000)));
        var keyed = new ManagementAccess("k");
        Assert.Null(keyed.Refusal("k", new IPEndPoint(IPAddress.Parse("10.1.2.3"), 5000)));
        Assert.Equal("invalid API key", keyed.Refusal("K", new IPEndPoint(IPAddress.Loopback, 5000)));
    }
}

/// <summary>Which port the endpoint takes, and what happens when it is taken.</summary>
public sealed class ManagementPortTests
{
    [Fact]
    public async Task ANodeWithoutAKeyServesLoopbackCallers()
    {
        var s = TestServer.DefaultSettings();
        s.Management.Port = 0;
        await using var server = await TestServer.StartAsync(s);
        var endpoint = ManagementEndpoint.Get(ServerSystem(server)).Address!;
        Assert.NotEqual(0, endpoint.Port);
        var r = await CallAsync(endpoint, HttpMethod.Get, "/cluster/shards", key: null);
        Assert.Equal((HttpStatusCode.OK, Json("{'entityTypeKeys':['pipeline']}")), r);
    }

    [Fact]
    public async Task AConfiguredPortThatIsTakenStopsTheStartWithHowToFix()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        var s = TestServer.DefaultSettings();
        s.Management.Port = taken;
        var ex = await Assert.ThrowsAsync<ManagementEndpointException>(() => TestServer.StartAsync(s));
        Assert.StartsWith($"cannot serve Akka.Management HTTP on 127.0.0.1:{taken}: Failed to bind to address http://127.0.0.1:{taken}: address already in use.", ex.Message);
        Assert.EndsWith("Choose another port with --management-port (0 picks a free one).", ex.Message);
    }

    [Fact]
    public async Task TheDefaultPortTakenLeavesTheNodeRunningWithAWarning()
    {
        // This test holds 8558 for the node's whole start. Other nodes of this test run may hold it for a while (they
        // take it best effort too): wait for it to be free, then keep it.
        using var holder = new TcpListener(IPAddress.Loopback, Varpulis.Actors.Configuration.ManagementSettings.DefaultPort);
        await EventuallyAsync(() =>
        {
            try
            {
                holder.Start();
                return Task.FromResult(true);
            }
            catch (SocketException)
            {
                return Task.FromResult(false);
            }
        }, "port 8558 to be free for this test", seconds: 180);
        var s = TestServer.DefaultSettings();
        await using var server = await TestServer.StartAsync(s);
        // Tried once the host has started.
        await EventuallyAsync(() => Task.FromResult(server.Log.Contains("Akka.Management HTTP not started: the default port 127.0.0.1:8558 is not available", StringComparison.Ordinal)),
            "the warning");
        Assert.Null(ManagementEndpoint.Get(ServerSystem(server)).Address);
        Assert.Contains("Set --management-port to serve it (pbm, /cluster routes).", server.Log);
    }

    private static Akka.Actor.ActorSystem ServerSystem(TestServer server)
        => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Akka.Actor.ActorSystem>(server.Services);
}
