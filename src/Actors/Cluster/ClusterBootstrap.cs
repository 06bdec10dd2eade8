using Akka.Actor;
using Varpulis.Actors.Configuration;

namespace Varpulis.Actors.Cluster;

/// <summary>Marker of the join handshake's messages (bound to the Varpulis serializer).</summary>
public interface IClusterBootstrapProtocol
{
}

/// <summary>A worker about to join asks the coordinator for the cluster's journal settings.</summary>
public sealed record RequestJoinGrant(string WorkerId) : IClusterBootstrapProtocol;

/// <summary>The cluster's journal: <c>postgresql</c> with its connection string, or <c>sqlite</c> (embedded, no secret).</summary>
public sealed record JoinGrant(string Provider, string? ConnectionString) : IClusterBootstrapProtocol;

/// <summary>
/// The coordinator's side of the join handshake (<c>/user/cluster-bootstrap</c>). The PostgreSQL connection string
/// is a secret: it never appears on the open HTTP seed endpoint; it travels over Akka.NET remoting, the cluster's
/// trust boundary (whoever reaches the remoting port can join the cluster, so it must be a private network).
/// </summary>
public sealed class ClusterBootstrapResponder : ReceiveActor
{
    public const string Name = "cluster-bootstrap";

    public ClusterBootstrapResponder(PersistenceSettings persistence)
    {
        Receive<RequestJoinGrant>(_ => Sender.Tell(new JoinGrant(
            persistence.IsPostgres ? "postgresql" : "sqlite",
            persistence.IsPostgres ? persistence.ConnectionString : null)));
    }

    public static Props Props(PersistenceSettings persistence) => Akka.Actor.Props.Create(() => new ClusterBootstrapResponder(persistence));
}
