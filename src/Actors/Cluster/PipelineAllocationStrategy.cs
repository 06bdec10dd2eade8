using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.DistributedData;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// The shard allocation strategy of the <c>pipeline</c> region (one shard per pipeline): decisions are
/// <see cref="PlacementPolicy"/>'s, over the <see cref="PlacementDirectives"/> the cluster manager replicates with
/// Distributed Data, with the worker affinities of pipeline groups (<see cref="Groups.PipelineGroupManager.AffinityKey"/>,
/// written by the group manager before it deploys a group). It runs inside the shard coordinator (on the oldest worker)
/// and reads both from the local replica, so placement never waits for the coordinator node.
/// </summary>
public sealed class PipelineAllocationStrategy : IActorSystemDependentAllocationStrategy
{
    /// <summary>Pipelines handed off per rebalance round (a drain of many pipelines proceeds in rounds).</summary>
    public const int MovesPerRound = 16;

    public static readonly LWWRegisterKey<PlacementDirectives> DirectivesKey = new("varpulis-placement");

    private volatile PlacementDirectives _directives = PlacementDirectives.Empty;
    private volatile IReadOnlyDictionary<string, string> _affinity = ImmutableDictionary<string, string>.Empty;
    private Address _self = Address.AllSystems;
    private IActorRef? _replicator;
    private int _turn;

    public PlacementDirectives Directives => _affinity.Count == 0 ? _directives : _directives with { Affinity = _affinity };

    public void Start(ActorSystem system)
    {
        _self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        var replicator = DistributedData.Get(system).Replicator;
        _replicator = replicator;
        system.ActorOf(Props.Create(() => new DirectivesReader(replicator, this)));
    }

    public async Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        await RefreshAffinityAsync();
        var (regions, byAddress) = Describe(currentShardAllocations);
        var address = PlacementPolicy.Allocate(shardId, regions, Directives, ref _turn);
        return address is null ? requester : byAddress[address];
    }

    /// <summary>
    /// The directives (with the worker ids of the regions) and the affinities as a majority of nodes have them now: their
    /// writers write them to every node before a deploy, but subscribers hear of a change only at the next notification
    /// round, after the deploy may already be here; and a write that timed out on this node (a loaded machine), or was
    /// made before the writer knew this node, reached it only by gossip, later. A majority read overlaps the nodes the
    /// write reached. Allocations are rare (deploys, moves), so the round trips are cheap; without a majority in time,
    /// the local replica, else the subscription's copy.
    /// </summary>
    private async Task RefreshAffinityAsync()
    {
        if (_replicator is null) return;
        if (await ReadAsync(DirectivesKey) is { } directives) _directives = directives.Get(DirectivesKey).Value;
        var affinity = Groups.PipelineGroupManager.AffinityKey;
        if (await ReadAsync(affinity) is { } affinities) _affinity = affinities.Get(affinity).Entries;
    }

    private async Task<GetSuccess?> ReadAsync<T>(IKey<T> key)
        where T : IReplicatedData
    {
        foreach (IReadConsistency consistency in new IReadConsistency[] { new ReadMajority(AffinityReadTimeout), ReadLocal.Instance })
        {
            try
            {
                var reply = await _replicator!.Ask<IGetResponse>(Dsl.Get(key, consistency), AffinityReadTimeout + TimeSpan.FromSeconds(1));
                if (reply is GetSuccess g) return g;
                if (reply is NotFound) return null;
            }
            catch (AskTimeoutException)
            {
                // The next consistency.
            }
        }
        return null;
    }

    private static readonly TimeSpan AffinityReadTimeout = TimeSpan.FromSeconds(2);

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
    {
        var (regions, _) = Describe(currentShardAllocations);
        var moves = PlacementPolicy.Rebalance(regions, Directives, rebalanceInProgress, MovesPerRound);
        return Task.FromResult<IImmutableSet<string>>(moves.ToImmutableHashSet());
    }

    private (IReadOnlyList<RegionShards>, Dictionary<string, IActorRef>) Describe(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations)
    {
        var regions = new List<RegionShards>(allocations.Count);
        var byAddress = new Dictionary<string, IActorRef>(StringComparer.Ordinal);
        foreach (var (region, shards) in allocations)
        {
            // The coordinator's own region is a local ref: its path carries no host.
            var address = (region.Path.Address.HasLocalScope ? _self : region.Path.Address).ToString();
            regions.Add(new RegionShards(address, shards));
            byAddress[address] = region;
        }
        return (regions, byAddress);
    }

    /// <summary>Keeps the strategy's copy of the directives in step with the local replica.</summary>
    private sealed class DirectivesReader : ReceiveActor
    {
        public DirectivesReader(IActorRef replicator, PipelineAllocationStrategy owner)
        {
            var affinity = Groups.PipelineGroupManager.AffinityKey;
            replicator.Tell(Dsl.Subscribe(DirectivesKey, Self));
            replicator.Tell(Dsl.Get(DirectivesKey, ReadLocal.Instance));
            replicator.Tell(Dsl.Subscribe(affinity, Self));
            replicator.Tell(Dsl.Get(affinity, ReadLocal.Instance));
            Receive<Changed>(c => c.Key.Equals(affinity), c => owner._affinity = c.Get(affinity).Entries);
            Receive<GetSuccess>(g => g.Key.Equals(affinity), g => owner._affinity = g.Get(affinity).Entries);
            Receive<Changed>(c => owner._directives = c.Get(DirectivesKey).Value);
            Receive<GetSuccess>(g => owner._directives = g.Get(DirectivesKey).Value);
            Receive<NotFound>(_ => { });
            Receive<GetFailure>(_ => { });
        }
    }
}
