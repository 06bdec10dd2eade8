using Varpulis.Actors.Pipelines;

namespace Varpulis.Pbm.Tests;

/// <summary><c>pbm ... cluster-sharding ...</c> against a running server hosting pipelines: exact tables.</summary>
public sealed class ClusterShardingCommandTests(PbmNodeFixture f) : IClassFixture<PbmNodeFixture>
{
    private PbmNode Node => f.Node;

    [Fact]
    public async Task RegionsListsThePipelineRegion()
    {
        Assert.Equal(new PbmRun(0, "pipeline\n", ""), await Node.PbmAsync("cluster-sharding", "regions"));
        Assert.Equal(new PbmRun(0, "{\n  \"entityTypeKeys\": [\n    \"pipeline\"\n  ]\n}\n", ""), await Node.PbmAsync("cluster-sharding", "regions", "--json"));
    }

    [Fact]
    public async Task ShardAndRegionStatsCountTheDeployedPipelines()
    {
        var ids = new List<string>();
        for (int i = 0; i < 4; i++) ids.Add(await Node.DeployAsync("p" + i));
        var extractor = new PipelineMessageExtractor();
        var shards = ids.GroupBy(id => extractor.ShardId(id)).OrderBy(g => g.Key, Varpulis.Api.Management.ShardIdOrder.Instance).ToList();

        var shardStats = await Node.PbmAsync("cluster-sharding", "shard-stats", "pipeline");
        int idWidth = Math.Max("SHARD".Length, shards.Max(g => g.Key.Length));
        var expected = $"{"SHARD".PadRight(idWidth)}  ENTITIES\n" + string.Concat(shards.Select(g => $"{g.Key.PadRight(idWidth)}  {g.Count()}\n")) +
            $"Total: {Shards(shards.Count)}, 4 entities on this node\n";
        Assert.Equal(new PbmRun(0, expected, ""), shardStats);

        var a = Node.Address;
        Assert.Equal(new PbmRun(0,
            $"{"NODE".PadRight(a.Length)}  SHARDS  ENTITIES  FAILED\n" +
            $"{a}  {shards.Count.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(6)}  4         -\n" +
            $"Total: {Shards(shards.Count)}, 4 entities on 1 node\n", ""), await Node.PbmAsync("cluster-sharding", "region-stats", "pipeline"));
    }

    private static string Shards(int n) => n == 1 ? "1 shard" : $"{n} shards";

    [Fact]
    public async Task AnUnknownRegionIsRefused()
    {
        var expected = new PbmRun(1, "", "pbm: Shard Region orders is not started (404 shard_region_not_found)\n");
        Assert.Equal(expected, await Node.PbmAsync("cluster-sharding", "shard-stats", "orders"));
        Assert.Equal(expected, await Node.PbmAsync("cluster-sharding", "region-stats", "orders"));
    }
}
