using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Pattern;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// Routes pipeline commands by pipeline id, one shard per pipeline (shard id = entity id): a pipeline is the unit that
/// moves (drain, rebalance, affinity), so no two pipelines are ever tied to each other's placement.
/// </summary>
public sealed class PipelineMessageExtractor : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        IPipelineCommand c => c.PipelineId,
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}

public static class PipelineHostingExtensions
{
    public const string RegionName = "pipeline";

    /// <summary>How long a failed pipeline waits before it restarts from its journal, at first and at most.</summary>
    public static readonly TimeSpan MinRestartBackoff = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan MaxRestartBackoff = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts the <c>pipeline</c> shard region on a node with the <c>worker</c> role: remember-entities (event-sourced
    /// in sharding's own journal), no idle passivation, coordinator state in distributed data, placement by
    /// <see cref="PipelineAllocationStrategy"/>, hand-off through <see cref="HandOffPipeline"/> (the entity snapshots,
    /// then stops). Each entity runs under a backoff supervisor: a pipeline whose engine failed restarts from its
    /// journal after 0.5 s, doubling to 30 s, and answers <c>unavailable</c> meanwhile.
    /// Register with <c>IRequiredActor&lt;PipelineEntity&gt;</c>.
    /// </summary>
    public static AkkaConfigurationBuilder AddPipelineRegion(this AkkaConfigurationBuilder builder, PipelineEntitySettings settings, string shardingPluginId)
    {
        builder.AddHocon(ClusterSharding.DefaultConfig(), HoconAddMode.Append);
        return builder.StartActors(async (system, registry, resolver) =>
        {
            var agent = registry.Get<WorkerAgent>();
            var time = resolver.GetService<TimeProvider>();
            var loggers = resolver.GetService<ILoggerFactory>();
            Props EntityProps(string entityId) => Supervised(entityId, PipelineEntity.Props(entityId, settings, agent, time, loggers));
            var region = await ClusterSharding.Get(system).StartAsync(
                RegionName,
                EntityProps,
                ShardingSettings(system, shardingPluginId),
                new PipelineMessageExtractor(),
                new PipelineAllocationStrategy(),
                HandOffPipeline.Instance);
            registry.Register<PipelineEntity>(region);
        });
    }

    /// <summary>
    /// The entity under its backoff supervisor: a failure (the engine threw) stops it and starts it again from its
    /// journal after 0.5 s, 1 s, 2 s ... up to 30 s; meanwhile every command is answered <c>unavailable</c>. The
    /// hand-off message goes to the entity, and the supervisor stops with it.
    /// </summary>
    internal static Props Supervised(string entityId, Props entity, TimeSpan? minBackoff = null)
        => BackoffSupervisor.Props(
            Backoff.OnFailure(entity, "pipeline", minBackoff ?? MinRestartBackoff, MaxRestartBackoff, 0.2, -1)
                .WithReplyWhileStopped(PipelineError.Unavailable(entityId, "restarting after a failure"))
                .WithFinalStopMessage(m => m is HandOffPipeline));

    /// <summary>A coordinator runs no pipeline: it reaches them through a proxy of the workers' region.</summary>
    public static AkkaConfigurationBuilder AddPipelineRegionProxy(this AkkaConfigurationBuilder builder)
    {
        builder.AddHocon(ClusterSharding.DefaultConfig(), HoconAddMode.Append);
        return builder.StartActors(async (system, registry) =>
        {
            var proxy = await ClusterSharding.Get(system).StartProxyAsync(RegionName, MemberRoles.Worker, new PipelineMessageExtractor());
            registry.Register<PipelineEntity>(proxy);
        });
    }

    private static ClusterShardingSettings ShardingSettings(ActorSystem system, string shardingPluginId)
    {
        var config = ConfigurationFactory.ParseString(
            $"""
            role = "{MemberRoles.Worker}"
            remember-entities = on
            remember-entities-store = eventsourced
            state-store-mode = ddata
            journal-plugin-id = "akka.persistence.journal.{shardingPluginId}"
            snapshot-plugin-id = "akka.persistence.snapshot-store.{shardingPluginId}"
            passivate-idle-entity-after = off
            """).WithFallback(system.Settings.Config.GetConfig("akka.cluster.sharding"));
        var coordinator = system.Settings.Config.GetConfig(config.GetString("coordinator-singleton"));
        return ClusterShardingSettings.Create(config, coordinator);
    }
}
