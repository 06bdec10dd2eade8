using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Outputs;

namespace Varpulis.Actors.Pipelines;

/// <summary>Routes pipeline commands to entities by pipeline id.</summary>
public sealed class PipelineMessageExtractor() : HashCodeMessageExtractor(MaxShards)
{
    public const int MaxShards = 100;

    public override string EntityId(object message) => message switch
    {
        IPipelineCommand c => c.PipelineId,
        _ => null!,
    };
}

public static class PipelineHostingExtensions
{
    public const string RegionName = "pipeline";

    /// <summary>
    /// Starts the <c>pipeline</c> shard region: remember-entities on (event-sourced in sharding's own journal), no
    /// idle passivation, coordinator state in (non-durable) distributed data. Register with <c>IRequiredActor&lt;PipelineEntity&gt;</c>.
    /// </summary>
    public static AkkaConfigurationBuilder AddPipelineRegion(this AkkaConfigurationBuilder builder, PipelineEntitySettings settings, string shardingPluginId)
    {
        return builder.WithShardRegion<PipelineEntity>(
            RegionName,
            (_, _, resolver) => entityId => PipelineEntity.Props(
                entityId,
                settings,
                resolver.GetService<OutputHubs>(),
                resolver.GetService<TimeProvider>(),
                resolver.GetService<ILoggerFactory>()),
            new PipelineMessageExtractor(),
            new ShardOptions
            {
                RememberEntities = true,
                RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                StateStoreMode = StateStoreMode.DData,
                JournalPluginId = "akka.persistence.journal." + shardingPluginId,
                SnapshotPluginId = "akka.persistence.snapshot-store." + shardingPluginId,
                ShouldPassivateIdleEntities = false,
            });
    }
}
