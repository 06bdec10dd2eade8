using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Persistence;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Serialization;

namespace Varpulis.Actors.Node;

public static class NodeHostingExtensions
{
    /// <summary>
    /// A single Varpulis node: remoting on the configured (or a free) loopback port, a cluster of one that joins
    /// itself, strict serialization through <see cref="VarpulisSerializer"/>, persistence, the pipeline region and
    /// the server directory.
    /// </summary>
    public static AkkaConfigurationBuilder WithVarpulisNode(this AkkaConfigurationBuilder builder, VarpulisSettings settings)
    {
        var p = settings.Persistence;
        builder
            .AddHocon(
                """
                akka.cluster.min-nr-of-members = 1
                akka.cluster.sharding.distributed-data.durable.keys = []
                akka.cluster.distributed-data.durable.keys = []
                akka.cluster.log-info = off
                akka.actor.serialize-messages = off
                akka.persistence.journal.auto-start-journals = []
                """,
                HoconAddMode.Prepend)
            .WithRemoting(settings.Cluster.Hostname, settings.Cluster.Port)
            .WithClustering(new ClusterOptions { Roles = ["worker"] })
            .AddStartup((system, _) =>
            {
                // A cluster of one: the node is its own seed, whatever port remoting picked.
                var cluster = Akka.Cluster.Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            })
            .WithCustomSerializer("varpulis", [typeof(IPipelineProtocol), typeof(Directory.IDirectoryProtocol), typeof(Connectors.IConnectorsProtocol)], system => new VarpulisSerializer(system))
            .WithVarpulisPersistence(p, settings.Server.StateDir)
            .AddPipelineRegion(
                new PipelineEntitySettings(p.SnapshotEveryEvents, TimeSpan.FromSeconds(Math.Max(0, p.SnapshotIntervalSecs))),
                VarpulisPersistence.ShardingPluginId)
            .AddServerDirectory();
        return builder;
    }
}
