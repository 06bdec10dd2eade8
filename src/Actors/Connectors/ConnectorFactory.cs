using Akka.Actor;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors.Files;
using Varpulis.Actors.Connectors.Http;
using Varpulis.Actors.Connectors.Kafka;
using Varpulis.Actors.Connectors.Mqtt;
using Varpulis.Actors.Connectors.Sinks;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Pipelines;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors;

/// <summary>What a pipeline's connectors need to know about their pipeline and node.</summary>
public sealed record PipelineConnectorsSettings(string PipelineId, string PipelineName, string StateDir)
{
    /// <summary>How long a source waits for the pipeline to journal a batch before it reconnects and reads it again.</summary>
    public TimeSpan IngestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the sinks' settled journal position is persisted.</summary>
    public TimeSpan SettleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a stop waits for sources to drain.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Dead letters the pipeline may have waiting for the DLQ's journal before it takes no new events
    /// (<c>server.dlq_backlog_limit</c>, <see cref="DeadLetters.DeadLetterBounds"/>).
    /// </summary>
    public long DeadLetterBacklogLimit { get; init; } = DeadLetters.DeadLetterBounds.DefaultBacklogLimit;

    /// <summary>
    /// Dead letters the pipeline's DLQ may hold before the pipeline takes no new events until they are replayed or cleared
    /// (<c>server.dlq_max_events</c>, <see cref="DeadLetters.DeadLetterBounds"/>).
    /// </summary>
    public long DeadLetterMaxEvents { get; init; } = DeadLetters.DeadLetterBounds.DefaultMaxHeld;

    /// <summary>How long a source waits before it offers a batch again that the pipeline refused because of its DLQ (either bound).</summary>
    public TimeSpan BacklogRetryPause { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Reads <c>env("NAME")</c> parameters (default: the process environment).</summary>
    public Func<string, string?>? Environment { get; init; }

    /// <summary>Where <c>console</c> sinks write (default: standard output).</summary>
    public TextWriter? Console { get; init; }

    /// <summary>Extra librdkafka properties of every Kafka client (tuning; tests' short group sessions).</summary>
    public IReadOnlyDictionary<string, string> KafkaProperties { get; init; } = new Dictionary<string, string>();

    /// <summary>Where a file source keeps how far it has read.</summary>
    public string PositionFile(string connector) => Path.Combine(StateDir, "connectors", PipelineId, connector + ".position");
}

/// <summary>Creates a pipeline's sources and sinks from its compiled bindings (one per connector and direction).</summary>
public interface IConnectorFactory
{
    IConnectorSource CreateSource(string connector, IReadOnlyList<ConnectorBinding> bindings, ConnectorHealth health, ILogger log);

    ISinkConnector CreateSink(string connector, IReadOnlyList<ConnectorBinding> bindings, ConnectorHealth health, ILogger log);
}

/// <summary>The real connectors: MQTTnet, Confluent.Kafka, HttpClient, files.</summary>
public sealed class ConnectorFactory(PipelineConnectorsSettings settings, HttpClient http) : IConnectorFactory
{
    /// <summary>
    /// The node's one HTTP client for HTTP sinks (connections pooled and renewed every 2 minutes so DNS changes are
    /// seen); each request has its own timeout (the connector's <c>timeout</c>), so the client's is infinite.
    /// </summary>
    public static HttpClient SharedHttp { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public IConnectorSource CreateSource(string connector, IReadOnlyList<ConnectorBinding> bindings, ConnectorHealth health, ILogger log)
    {
        var b = bindings[0];
        var p = b.Parameters;
        var batching = SourceSettings.From(p);
        return b.Kind switch
        {
            ConnectorKind.Mqtt => new MqttSource(MqttSettings.From(p, DefaultClientId(connector), settings.Environment),
                bindings.Select(x => new MqttSubscription(x.Topic!, (int)x.Parameters.GetInt("qos"), x.EventType)).ToList(), batching, health, log),
            ConnectorKind.Kafka => new KafkaSource(KafkaSettings.From(p, settings.Environment) with { Extra = settings.KafkaProperties },
                bindings.Select(x => new KafkaSubscription(x.Topic!, x.EventType)).ToList(), batching, health, log),
            ConnectorKind.File => new FileTailSource(connector, p.GetString("path", settings.Environment)!, settings.PositionFile(connector),
                bindings.Select(x => x.EventType).Distinct().Count() == 1 ? b.EventType : null, p.GetDuration("poll_interval"),
                batching.BatchSize * (batching.MaxInFlight + 1), health, log),
            _ => throw new ConnectorConfigurationException($"{b.KindName} connectors cannot be read"),
        };
    }

    public ISinkConnector CreateSink(string connector, IReadOnlyList<ConnectorBinding> bindings, ConnectorHealth health, ILogger log)
    {
        var b = bindings[0];
        var p = b.Parameters;
        return b.Kind switch
        {
            ConnectorKind.Mqtt => new MqttSinkConnector(MqttSettings.From(p, DefaultClientId(connector), settings.Environment),
                topic => bindings.FirstOrDefault(x => x.Topic == topic) is { } t ? ((int)t.Parameters.GetInt("qos"), t.Parameters.GetBool("retain")) : ((int)p.GetInt("qos"), p.GetBool("retain")),
                health, log),
            ConnectorKind.Kafka => new KafkaSinkConnector(KafkaSettings.From(p, settings.Environment) with { Extra = settings.KafkaProperties }, health, log),
            ConnectorKind.Http => new HttpSinkConnector(HttpSinkSettings.From(p, settings.Environment), http, health, log),
            ConnectorKind.File => FileSinkConnector.ToFile(connector, p.GetString("path", settings.Environment)!),
            _ => FileSinkConnector.ToConsole(connector, settings.Console ?? System.Console.Out),
        };
    }

    private string DefaultClientId(string connector) => $"varpulis-{settings.PipelineId}-{connector}";
}

/// <summary>
/// Sends source batches to the pipeline entity (an ask of <see cref="IngestSourceBatch"/>) and reads its reply,
/// which comes only after the journal write: an <see cref="IngestResult"/> (per-event rejections included) or a
/// <see cref="PipelineError"/>. A request the pipeline refused as a whole counts as rejected (it can never be
/// taken); any other error or no reply fails the batch, so the source reads it again.
/// </summary>
public sealed class ActorSourceTarget(IActorRef pipeline, string pipelineId, TimeSpan timeout, TimeSpan? backlogRetryPause = null) : ISourceBatchTarget
{
    private readonly TimeSpan _retryPause = backlogRetryPause ?? TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Offers the batch until the pipeline takes it: while its DLQ is at one of its bounds (the backlog, the letters held)
    /// the pipeline refuses, and the source waits here, reading nothing more (its graph has at most <c>max_in_flight</c> batches unanswered).
    /// </summary>
    public async Task<SourceBatchOutcome> DeliverAsync(SourceBatch batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            var reply = await pipeline.Ask<object>(new IngestSourceBatch(pipelineId, batch.Connector, batch.Body, batch.Positions), timeout, cancellationToken).ConfigureAwait(false);
            switch (reply)
            {
                case IngestResult r:
                    return new SourceBatchOutcome(r.Accepted, r.Rejected, r.Errors.Select(e => $"event {e.Index}: {e.Error}").ToList());
                case PipelineError { Code: "invalid_request" } e:
                    return new SourceBatchOutcome(0, batch.EventCount, [e.Message]);
                case PipelineError e when PipelineError.IsDeadLetterRefusal(e.Code):
                    await Task.Delay(_retryPause, cancellationToken).ConfigureAwait(false);
                    continue;
                case PipelineError e:
                    throw new InvalidOperationException($"pipeline {pipelineId} refused the batch: {e.Code}: {e.Message}");
                default:
                    throw new InvalidOperationException($"pipeline {pipelineId} answered {reply.GetType().Name}");
            }
        }
    }
}
