using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Ceen;
using Varpulis.Contracts.Management;

namespace Varpulis.Api.Management;

/// <summary><c>GET /cluster/shards</c>: the shard regions (entity types) started on this node.</summary>
internal sealed class ClusterShardTypesRoute : ManagementRoute
{
    public const string Pattern = "[^/cluster/shards/?$]";

    protected override async Task<bool> HandleAsync(ActorSystem system, IHttpContext http)
    {
        if (http.Request.Method != "GET") return await MethodNotAllowedAsync(http);
        var names = ClusterSharding.Get(system).ShardTypeNames.OrderBy(n => n, StringComparer.Ordinal).ToList();
        return await WriteAsync(http, 200, new ShardEntityTypeKeys(names), ClusterHttpJsonContext.Default.ShardEntityTypeKeys);
    }
}

/// <summary>
/// <c>GET /cluster/shards/{region}</c> (this node's shards of the region and their entity counts) and
/// <c>GET /cluster/shards/{region}/stats</c> (the region on every node), as the JVM's routes.
/// </summary>
internal sealed class ClusterShardsRoute : ManagementRoute
{
    public const string Pattern = "[^/cluster/shards/[^/]+(/stats)?/?$]";
    private const string Prefix = "/cluster/shards/";
    private static readonly TimeSpan LocalTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ClusterTimeout = TimeSpan.FromSeconds(10);

    protected override async Task<bool> HandleAsync(ActorSystem system, IHttpContext http)
    {
        if (http.Request.Method != "GET") return await MethodNotAllowedAsync(http);
        var rest = http.Request.Path[Prefix.Length..].TrimEnd('/');
        bool clusterWide = rest.EndsWith("/stats", StringComparison.Ordinal);
        var name = Uri.UnescapeDataString(clusterWide ? rest[..^"/stats".Length] : rest);

        IActorRef region;
        try
        {
            region = ClusterSharding.Get(system).ShardRegion(name);
        }
        catch (ArgumentException)
        {
            return await ErrorAsync(http, 404, "shard_region_not_found", $"Shard Region {name} is not started");
        }

        try
        {
            if (!clusterWide)
            {
                var stats = await region.Ask<ShardRegionStats>(GetShardRegionStats.Instance, LocalTimeout);
                return await WriteAsync(http, 200, new ShardDetails(Shards(stats), Sorted(stats.Failed)), ClusterHttpJsonContext.Default.ShardDetails);
            }
            // The region gathers every node's stats within the given time, then answers; the ask waits a little longer.
            var all = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(ClusterTimeout), ClusterTimeout + TimeSpan.FromSeconds(2));
            var regions = new SortedDictionary<string, ClusterShardingNodeStats>(StringComparer.Ordinal);
            foreach (var (address, s) in all.Regions) regions[address.ToString()] = new ClusterShardingNodeStats(Shards(s), Sorted(s.Failed));
            int entities = all.Regions.Values.Sum(s => s.Stats.Values.Sum());
            int shards = all.Regions.Values.Sum(s => s.Stats.Count);
            return await WriteAsync(http, 200, new ClusterShardingStatsResponse(regions, entities, shards), ClusterHttpJsonContext.Default.ClusterShardingStatsResponse);
        }
        catch (AskTimeoutException)
        {
            return await ErrorAsync(http, 503, "unavailable", clusterWide
                ? $"Cluster-wide stats for {name} timed out"
                : $"Shard Region {name} not responding, may have been terminated");
        }
    }

    private static List<ShardRegionInfo> Shards(ShardRegionStats stats)
        => stats.Stats.OrderBy(kv => kv.Key, ShardIdOrder.Instance).Select(kv => new ShardRegionInfo(kv.Key, kv.Value)).ToList();

    private static List<string> Sorted(IImmutableSet<string>? ids) => (ids ?? ImmutableHashSet<string>.Empty).OrderBy(i => i, ShardIdOrder.Instance).ToList();
}

/// <summary>Shard ids in numeric order when they are numbers, ordinal otherwise (the pipeline region has one shard per pipeline, named by its id).</summary>
public sealed class ShardIdOrder : IComparer<string>
{
    public static readonly ShardIdOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (long.TryParse(x, out long a) && long.TryParse(y, out long b)) return a.CompareTo(b);
        return string.CompareOrdinal(x, y);
    }
}
