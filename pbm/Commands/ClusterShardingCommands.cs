using System.CommandLine;
using Varpulis.Contracts.Management;
using Varpulis.Pbm.Output;

namespace Varpulis.Pbm.Commands;

/// <summary><c>pbm HOST:PORT cluster-sharding regions | region-stats REGION | shard-stats REGION</c>.</summary>
public static class ClusterShardingCommands
{
    public static Command Create(PbmGlobals g)
    {
        var sharding = new Command("cluster-sharding", "Cluster sharding: the regions, and where their shards and entities are.");
        sharding.Subcommands.Add(Regions(g));
        sharding.Subcommands.Add(RegionStats(g));
        sharding.Subcommands.Add(ShardStats(g));
        return sharding;
    }

    private static Command Regions(PbmGlobals g)
        => QueryCommand.Create(g, "regions", "List the shard regions (entity types) started on the node.",
            "/cluster/shards", ClusterHttpJsonContext.Default.ShardEntityTypeKeys, (output, keys) =>
            {
                foreach (var name in keys.EntityTypeKeys) output.WriteLine(name);
            });

    private static Command RegionStats(PbmGlobals g)
    {
        var region = RegionArgument();
        var cmd = new Command("region-stats", "Shards and entities of REGION on every node of the cluster.") { region };
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var name = parse.GetValue(region)!;
            var stats = await client.GetAsync($"/cluster/shards/{Uri.EscapeDataString(name)}/stats", ClusterHttpJsonContext.Default.ClusterShardingStatsResponse, ct);
            printer.Write(stats, ClusterHttpJsonContext.Default.ClusterShardingStatsResponse, output =>
            {
                Table.Write(output, ["NODE", "SHARDS", "ENTITIES", "FAILED"], stats.Regions.Select(kv => (IReadOnlyList<string>)
                [
                    kv.Key,
                    Words.Number(kv.Value.Shards.Count),
                    Words.Number(kv.Value.Shards.Sum(s => s.NumEntities)),
                    kv.Value.Failed.Count == 0 ? "-" : string.Join(",", kv.Value.Failed),
                ]));
                output.WriteLine($"Total: {Words.Plural(stats.TotalShards, "shard")}, {Words.Plural(stats.TotalEntities, "entity", "entities")} on {Words.Plural(stats.Regions.Count, "node")}");
            });
        }, ct));
        return cmd;
    }

    private static Command ShardStats(PbmGlobals g)
    {
        var region = RegionArgument();
        var cmd = new Command("shard-stats", "The shards of REGION hosted by this node and their entity counts.") { region };
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var name = parse.GetValue(region)!;
            var details = await client.GetAsync($"/cluster/shards/{Uri.EscapeDataString(name)}", ClusterHttpJsonContext.Default.ShardDetails, ct);
            printer.Write(details, ClusterHttpJsonContext.Default.ShardDetails, output =>
            {
                Table.Write(output, ["SHARD", "ENTITIES"], details.Regions.Select(s => (IReadOnlyList<string>)[s.ShardId, Words.Number(s.NumEntities)]));
                output.WriteLine($"Total: {Words.Plural(details.Regions.Count, "shard")}, {Words.Plural(details.Regions.Sum(s => s.NumEntities), "entity", "entities")} on this node");
                if (details.Failed.Count > 0) output.WriteLine("Did not answer: " + string.Join(", ", details.Failed));
            });
        }, ct));
        return cmd;
    }

    private static Argument<string> RegionArgument() => new("REGION") { Description = "The shard region (entity type), e.g. pipeline." };


}
