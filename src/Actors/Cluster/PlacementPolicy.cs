using System.Collections.Immutable;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// What the cluster manager tells the shard allocation strategy, replicated to every node by Distributed Data: the
/// members being drained (no new pipelines, and theirs move away), requested moves (rebalance: pipeline id → target
/// member address), each worker's capacity, the placement mode, and (for pipeline groups) worker affinity
/// (pipeline id → worker id). Addresses are <c>Akka.Actor.Address</c> strings.
/// </summary>
public sealed record PlacementDirectives(
    IReadOnlyList<string> Draining,
    IReadOnlyDictionary<string, string> Moves,
    IReadOnlyDictionary<string, int> Capacity,
    IReadOnlyDictionary<string, string> Affinity,
    IReadOnlyDictionary<string, string> WorkerIds,
    string Mode) : IClusterManagerProtocol
{
    public const string LeastLoaded = "least-loaded";
    public const string RoundRobin = "round-robin";

    public static readonly PlacementDirectives Empty = new(
        [],
        ImmutableDictionary<string, string>.Empty,
        ImmutableDictionary<string, int>.Empty,
        ImmutableDictionary<string, string>.Empty,
        ImmutableDictionary<string, string>.Empty,
        LeastLoaded);
}

/// <summary>A worker's shard region as the policy sees it: its member address and the pipelines (shards) it holds.</summary>
public sealed record RegionShards(string Address, IReadOnlyList<string> Shards);

/// <summary>
/// The placement decisions of <see cref="PipelineAllocationStrategy"/>, without any actor machinery. One shard is one
/// pipeline. New pipelines go to a worker that is not draining and below its capacity: the requested target of a
/// move, else the worker named by the pipeline's affinity, else the least loaded (fewest pipelines; ties by address)
/// or the next in turn (round-robin). A rebalance round moves away every pipeline of a draining worker and every
/// pipeline with a pending move, at most <c>limit</c> at a time. Nothing moves on its own when workers join.
/// </summary>
public static class PlacementPolicy
{
    /// <summary>The address of the region that takes <paramref name="shardId"/>; null only when there are no regions.</summary>
    public static string? Allocate(string shardId, IReadOnlyList<RegionShards> regions, PlacementDirectives d, ref int turn)
    {
        if (regions.Count == 0) return null;
        var candidates = Candidates(regions, d);
        if (candidates.Count == 0)
        {
            // Every worker is draining or full: a pipeline must still live somewhere.
            candidates = regions.OrderBy(r => r.Shards.Count).ThenBy(r => r.Address, StringComparer.Ordinal).ToList();
        }
        if (d.Moves.TryGetValue(shardId, out var target) && candidates.FirstOrDefault(r => r.Address == target) is { } moveTarget)
            return moveTarget.Address;
        if (d.Affinity.TryGetValue(shardId, out var workerId))
        {
            var preferred = candidates.FirstOrDefault(r => d.WorkerIds.TryGetValue(r.Address, out var id) && id == workerId);
            if (preferred is not null) return preferred.Address;
        }
        if (d.Mode == PlacementDirectives.RoundRobin)
        {
            var ordered = candidates.OrderBy(r => r.Address, StringComparer.Ordinal).ToList();
            var chosen = ordered[(int)((uint)turn % (uint)ordered.Count)];
            turn++;
            return chosen.Address;
        }
        return candidates.OrderBy(r => r.Shards.Count).ThenBy(r => r.Address, StringComparer.Ordinal).First().Address;
    }

    /// <summary>The shards to hand off in this round.</summary>
    public static IReadOnlyList<string> Rebalance(IReadOnlyList<RegionShards> regions, PlacementDirectives d, IImmutableSet<string> inProgress, int limit)
    {
        var available = Candidates(regions, d).Select(r => r.Address).ToHashSet(StringComparer.Ordinal);
        var moves = new List<string>();
        foreach (var region in regions.OrderBy(r => r.Address, StringComparer.Ordinal))
        {
            bool draining = d.Draining.Contains(region.Address);
            foreach (var shard in region.Shards)
            {
                if (moves.Count >= limit) return moves;
                if (inProgress.Contains(shard)) continue;
                if (draining && available.Count > 0)
                {
                    moves.Add(shard);
                }
                else if (d.Moves.TryGetValue(shard, out var target) && target != region.Address && available.Contains(target))
                {
                    moves.Add(shard);
                }
            }
        }
        return moves;
    }

    /// <summary>Regions that may take a new pipeline: not draining, below capacity.</summary>
    private static List<RegionShards> Candidates(IReadOnlyList<RegionShards> regions, PlacementDirectives d)
        => regions.Where(r => !d.Draining.Contains(r.Address)
                              && (!d.Capacity.TryGetValue(r.Address, out int max) || r.Shards.Count < max))
            .ToList();
}
