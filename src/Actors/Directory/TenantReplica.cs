using Akka.Actor;
using Akka.DistributedData;

namespace Varpulis.Actors.Directory;

/// <summary>
/// The tenants as every node sees them: a Distributed Data dictionary (tenant id → <see cref="TenantInfo"/>) that only
/// the <see cref="ServerDirectory"/> writes, to every node before it answers a tenant change. Nodes read it locally to
/// authenticate keys without asking the directory.
/// </summary>
public static class TenantReplica
{
    public static readonly LWWDictionaryKey<string, TenantInfo> Key = new("varpulis-tenants");

    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Starts an actor that calls <paramref name="onChange"/> with the full tenant list whenever the local replica changes.</summary>
    public static IActorRef Follow(ActorSystem system, Action<IReadOnlyList<TenantInfo>> onChange)
        => system.ActorOf(Props.Create(() => new Follower(DistributedData.Get(system).Replicator, onChange)), "tenant-replica");

    /// <summary>
    /// The tenants from the local replica; when <paramref name="majority"/>, from a majority of nodes (a node that just
    /// joined may not have received them by gossip yet). Null when the read failed (not enough nodes answered).
    /// </summary>
    public static async Task<IReadOnlyList<TenantInfo>?> ReadAsync(ActorSystem system, bool majority, CancellationToken ct)
    {
        var replicator = DistributedData.Get(system).Replicator;
        IReadConsistency consistency = majority ? new ReadMajority(ReadTimeout) : ReadLocal.Instance;
        var reply = await replicator.Ask<IGetResponse>(Dsl.Get(Key, consistency), ReadTimeout + TimeSpan.FromSeconds(1), ct);
        return reply switch
        {
            GetSuccess s => s.Get(Key).Values.ToList(),
            NotFound => [],
            _ => null,
        };
    }

    private sealed class Follower : ReceiveActor
    {
        public Follower(IActorRef replicator, Action<IReadOnlyList<TenantInfo>> onChange)
        {
            replicator.Tell(Dsl.Subscribe(Key, Self));
            Receive<Changed>(c => onChange(c.Get(Key).Values.ToList()));
        }
    }
}
