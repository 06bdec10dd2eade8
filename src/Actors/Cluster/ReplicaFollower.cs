using Akka.Actor;
using Akka.DistributedData;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// Follows a Distributed Data dictionary on this node: an actor subscribed to <c>key</c> that calls <c>onChange</c> with
/// every value of the local replica whenever it changes (and once on subscribing, when it has a value).
/// </summary>
public static class ReplicaFollower
{
    public static IActorRef Follow<TValue>(ActorSystem system, LWWDictionaryKey<string, TValue> key, string name, Action<IReadOnlyDictionary<string, TValue>> onChange)
        => system.ActorOf(Props.Create(() => new Follower<TValue>(DistributedData.Get(system).Replicator, key, onChange)), name);

    private sealed class Follower<TValue> : ReceiveActor
    {
        public Follower(IActorRef replicator, LWWDictionaryKey<string, TValue> key, Action<IReadOnlyDictionary<string, TValue>> onChange)
        {
            replicator.Tell(Dsl.Subscribe(key, Self));
            Receive<Changed>(c => onChange(c.Get(key).Entries));
        }
    }
}
