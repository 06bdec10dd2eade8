using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Varpulis.Actors.Configuration;
using Varpulis.Api.Management;
using Varpulis.Api.Tests.Infrastructure;
using static Varpulis.Api.Tests.Management.ManagementHttp;

namespace Varpulis.Api.Tests.Management;

/// <summary>
/// Three actor systems in this process forming one cluster (a <c>coordinator</c> and two <c>worker</c>s, a shard region
/// on each), each with its management endpoint: what every node says about the cluster, and membership operations made
/// through one node's endpoint acting on another.
/// </summary>
public sealed class ClusterManagementSpecs
{
    private const string Key = "cluster-key";

    [Fact]
    public async Task EveryNodeDescribesTheSameClusterAsTheJvmRoutesDo()
    {
        await using var cluster = await SpecCluster.StartAsync();
        var (n1, n2, n3) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);
        // Members in address order (host, then port), as Akka.Cluster keeps them; the leader is the first of them, the
        // oldest the first started.
        var byAddress = new[] { (Node: n1, Role: "coordinator"), (Node: n2, Role: "worker"), (Node: n3, Role: "worker") }
            .OrderBy(x => Akka.Cluster.Cluster.Get(x.Node.System).SelfAddress, Akka.Cluster.Member.AddressOrdering).ToList();
        var members = "[" + string.Join(",", byAddress.Select(x => Member(x.Node, x.Role))) + "]";
        var leader = byAddress[0].Node.Address;
        foreach (var node in cluster.Nodes)
        {
            var r = await CallAsync(node.Management, HttpMethod.Get, "/cluster/members", Key);
            Assert.Equal(HttpStatusCode.OK, r.Status);
            Assert.Equal(Json(
                $"{{'selfNode':'{node.Address}','members':{members},'unreachable':[],'leader':'{leader}','oldest':'{n1.Address}'," +
                $"'oldestPerRole':{{'coordinator':'{n1.Address}','worker':'{n2.Address}'}}}}"), r.Body);
            // Any node answers for any member.
            Assert.Equal((HttpStatusCode.OK, Json(Member(n3, "worker"))), await CallAsync(node.Management, HttpMethod.Get, "/cluster/members/" + n3.Address, Key));
        }
    }

    [Fact]
    public async Task ShardStatsOfEveryNodeAddUpToTheRegionAcrossTheCluster()
    {
        await using var cluster = await SpecCluster.StartAsync();
        // Every node's region registered with the shard coordinator first, so the shards spread over all three.
        await EventuallyAsync(async () => JsonNode.Parse((await CallAsync(cluster.Nodes[0].Management, HttpMethod.Get, $"/cluster/shards/{SpecCluster.Region}/stats", Key)).Body)!
            ["regions"]!.AsObject().Count == 3, "the three regions to register");
        var region = ClusterSharding.Get(cluster.Nodes[0].System).ShardRegion(SpecCluster.Region);
        var ids = Enumerable.Range(0, 12).Select(i => "entity-" + i).ToList();
        foreach (var id in ids) Assert.Equal(id, await region.Ask<string>(id, TimeSpan.FromSeconds(30)));
        var shardIds = ids.Select(id => SpecCluster.Extractor.ShardId(id)).Distinct().Count();

        var stats = JsonNode.Parse((await CallAsync(cluster.Nodes[1].Management, HttpMethod.Get, $"/cluster/shards/{SpecCluster.Region}/stats", Key)).Body)!;
        Assert.Equal(12, (int)stats["totalEntities"]!);
        Assert.Equal(shardIds, (int)stats["totalShards"]!);
        Assert.Equal(cluster.Nodes.Select(n => n.Address).Order(StringComparer.Ordinal), stats["regions"]!.AsObject().Select(kv => kv.Key));
        foreach (var node in cluster.Nodes)
        {
            // Each node's own view (GET /cluster/shards/{region}) is its entry of the cluster-wide one.
            var local = JsonNode.Parse((await CallAsync(node.Management, HttpMethod.Get, "/cluster/shards/" + SpecCluster.Region, Key)).Body)!;
            Assert.Equal(stats["regions"]![node.Address]!["shards"]!.ToJsonString(), local["regions"]!.ToJsonString());
            Assert.Equal(Json("{'entityTypeKeys':['pipeline']}"), (await CallAsync(node.Management, HttpMethod.Get, "/cluster/shards", Key)).Body);
        }
    }

    [Fact]
    public async Task AnUnreachableMemberIsListedWithItsObserversThenDownedAndAnotherMadeToLeave()
    {
        await using var cluster = await SpecCluster.StartAsync();
        var (n1, n2, n3) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);

        await n3.CrashAsync();
        // Both remaining members observe it unreachable (each reports its own observation; gossip merges them).
        var observers = string.Join(",", new[] { n1, n2 }.OrderBy(n => Akka.Cluster.Cluster.Get(n.System).SelfAddress, Akka.Cluster.Member.AddressOrdering).Select(n => $"'{n.Address}'"));
        var unreachable = Json($"[{{'node':'{n3.Address}','observedBy':[{observers}]}}]");
        await EventuallyAsync(async () => JsonNode.Parse((await CallAsync(n1.Management, HttpMethod.Get, "/cluster/members", Key)).Body)!["unreachable"]!.ToJsonString() == unreachable,
            "worker 3 to be seen unreachable by the coordinator and worker 2");
        Assert.Equal(unreachable, JsonNode.Parse((await CallAsync(n2.Management, HttpMethod.Get, "/cluster/members", Key)).Body)!["unreachable"]!.ToJsonString());

        // Downed through worker 2's endpoint: the cluster removes it.
        Assert.Equal((HttpStatusCode.OK, Json($"{{'message':'Downing {n3.Address}'}}")),
            await CallAsync(n2.Management, HttpMethod.Put, "/cluster/members/" + Uri.EscapeDataString(n3.Address), Key, new Dictionary<string, string> { ["operation"] = "down" }));
        await EventuallyAsync(async () => JsonNode.Parse((await CallAsync(n1.Management, HttpMethod.Get, "/cluster/members", Key)).Body)!["members"]!.AsArray().Count == 2,
            "worker 3 to be removed");

        // DELETE is the JVM's leave: worker 2 leaves gracefully and its actor system stops.
        Assert.Equal((HttpStatusCode.OK, Json($"{{'message':'Leaving {n2.Address}'}}")),
            await CallAsync(n1.Management, HttpMethod.Delete, "/cluster/members/" + n2.Address, Key));
        await n2.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60));
        await EventuallyAsync(async () => (await CallAsync(n1.Management, HttpMethod.Get, "/cluster/members", Key)).Body ==
                Json($"{{'selfNode':'{n1.Address}','members':[{Member(n1, "coordinator")}],'unreachable':[],'leader':'{n1.Address}','oldest':'{n1.Address}','oldestPerRole':{{'coordinator':'{n1.Address}'}}}}"),
            "worker 2 to be removed");
    }

    private static string Member(SpecNode n, string role) => $"{{'node':'{n.Address}','nodeUid':'{n.Uid}','status':'Up','roles':['{role}']}}";
}

/// <summary>One node of <see cref="SpecCluster"/>: a generic host with its actor system and management endpoint.</summary>
internal sealed class SpecNode(IHost host)
{
    public ActorSystem System => host.Services.GetRequiredService<ActorSystem>();

    public string Address => Akka.Cluster.Cluster.Get(System).SelfAddress.ToString();

    public string Uid => Akka.Cluster.Cluster.Get(System).SelfUniqueAddress.Uid.ToString(CultureInfo.InvariantCulture);

    public Uri Management => ManagementEndpoint.Get(System).Address!;

    /// <summary>Stops the node as a crash would: no leaving, no hand-off (its management endpoint goes with it).</summary>
    public async Task CrashAsync()
    {
        await ManagementEndpoint.Get(System).Server!.DisposeAsync();
        await System.Terminate();
    }

    public async Task StopAsync()
    {
        if (!System.WhenTerminated.IsCompleted)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(cts.Token);
        }
        host.Dispose();
    }
}

/// <summary>A coordinator and two workers, each node started once the previous one is Up (so their ages are known).</summary>
internal sealed class SpecCluster : IAsyncDisposable
{
    public const string Region = "pipeline";

    public static readonly IMessageExtractor Extractor = new EchoExtractor();

    public List<SpecNode> Nodes { get; } = [];

    public static async Task<SpecCluster> StartAsync()
    {
        var cluster = new SpecCluster();
        try
        {
            foreach (var role in new[] { "coordinator", "worker", "worker" })
            {
                var seed = cluster.Nodes.Count == 0 ? null : Akka.Cluster.Cluster.Get(cluster.Nodes[0].System).SelfAddress;
                var node = await StartNodeAsync(role, seed);
                cluster.Nodes.Add(node);
                await EventuallyAsync(() => Task.FromResult(cluster.Nodes.All(n =>
                        Akka.Cluster.Cluster.Get(n.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == cluster.Nodes.Count)),
                    $"{cluster.Nodes.Count} members Up on every node");
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static async Task<SpecNode> StartNodeAsync(string role, Address? seed)
    {
        var settings = new VarpulisSettings();
        settings.Server.ApiKey = "cluster-key";
        settings.Management.Port = 0;
        var host = new HostBuilder().ConfigureServices(services => services.AddAkka("mgmt-spec", (akka, _) =>
        {
            akka.AddHocon(
                    """
                    akka.cluster.downing-provider-class = ""
                    akka.cluster.failure-detector.heartbeat-interval = 500ms
                    akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
                    akka.cluster.sharding.distributed-data.durable.keys = []
                    akka.cluster.distributed-data.durable.keys = []
                    akka.coordinated-shutdown.run-by-actor-system-terminate = off
                    akka.cluster.log-info = off
                    """, HoconAddMode.Prepend)
                .WithRemoting("127.0.0.1", 0)
                .WithClustering(new ClusterOptions { Roles = [role] })
                .WithShardRegion<SpecCluster>(Region, _ => Props.Create<EchoEntity>(), Extractor, new ShardOptions())
                .WithVarpulisManagement(settings)
                .AddStartup((system, _) =>
                {
                    var c = Akka.Cluster.Cluster.Get(system);
                    c.Join(seed ?? c.SelfAddress);
                });
        }).AddVarpulisManagementEndpoint(settings)).Build();
        await host.StartAsync();
        return new SpecNode(host);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Enumerable.Reverse(Nodes)) await node.StopAsync();
    }

    /// <summary>Entity id = the message (a string), 10 shards.</summary>
    private sealed class EchoExtractor() : HashCodeMessageExtractor(10)
    {
        public override string EntityId(object message) => (string)message;
    }

    private sealed class EchoEntity : ReceiveActor
    {
        public EchoEntity() => Receive<string>(s => Sender.Tell(s));
    }
}
