namespace Varpulis.Actors.Configuration;

/// <summary>The Akka.Management HTTP endpoint of a node (cluster routes, <c>pbm</c>); it listens on the node's bind address.</summary>
public sealed class ManagementSettings
{
    /// <summary>Akka Management's conventional port.</summary>
    public const int DefaultPort = 8558;

    /// <summary>
    /// The port, when one was configured (flag, environment or file); 0 picks a free one. Unset: <see cref="DefaultPort"/>,
    /// best effort — a node whose default port is taken (a second node on the host) starts without the endpoint and says
    /// so in its log, while a configured port that cannot be bound is a startup error.
    /// </summary>
    public int? Port { get; set; }

    public int EffectivePort => Port ?? DefaultPort;
}
