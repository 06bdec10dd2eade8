using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors.Sinks;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Kafka;

/// <summary>
/// The Kafka sink of one connector: one idempotent producer with <c>acks=all</c>. A record counts as delivered when
/// its delivery report says so (every in-sync replica has it); a report with an error, or none within
/// <c>timeout</c>, is a failed delivery of that record.
/// </summary>
public sealed class KafkaSinkConnector(KafkaSettings settings, ConnectorHealth health, ILogger log) : ISinkConnector
{
    private readonly LogThrottle _errorLog = new(TimeSpan.FromSeconds(10), TimeProvider.System);
    private IProducer<byte[]?, byte[]>? _producer;

    public string Connector => settings.Connector;

    public ConnectorKind Kind => ConnectorKind.Kafka;

    public async Task<SinkDeliveryResult> DeliverAsync(IReadOnlyList<SinkRecord> records, CancellationToken cancellationToken)
    {
        var producer = _producer ??= CreateProducer();
        var tasks = new Task<string?>[records.Count];
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            tasks[i] = ProduceAsync(producer, r, cancellationToken);
        }
        var errors = await Task.WhenAll(tasks).ConfigureAwait(false);
        if (errors.Any(e => e is null)) health.SetConnection(ConnectionState.Connected);
        return new SinkDeliveryResult(errors);
    }

    private static async Task<string?> ProduceAsync(IProducer<byte[]?, byte[]> producer, SinkRecord r, CancellationToken ct)
    {
        try
        {
            var message = new Message<byte[]?, byte[]> { Key = r.Key is null ? null : Encoding.UTF8.GetBytes(r.Key), Value = r.Json };
            var report = await producer.ProduceAsync(r.Topic, message, ct).ConfigureAwait(false);
            return report.Status == PersistenceStatus.Persisted ? null : $"not persisted ({report.Status})";
        }
        catch (ProduceException<byte[]?, byte[]> ex)
        {
            return ex.Error.Reason;
        }
        catch (OperationCanceledException)
        {
            return "no delivery report within the timeout";
        }
        catch (KafkaException ex)
        {
            return ex.Error.Reason;
        }
    }

    private IProducer<byte[]?, byte[]> CreateProducer()
        => new ProducerBuilder<byte[]?, byte[]>(settings.ProducerConfig())
            .SetLogHandler((_, m) => log.LogDebug("Sink {Connector} librdkafka {Facility}: {Message}", Connector, m.Facility, m.Message))
            .SetErrorHandler((_, e) =>
            {
                if (e.Code == ErrorCode.Local_AllBrokersDown) health.SetConnection(ConnectionState.Reconnecting, e.Reason);
                if (_errorLog.ShouldLog(out long suppressed))
                    log.LogWarning("Sink {Connector} of pipeline {PipelineId}: {Error} (librdkafka retries; {Suppressed} similar errors not logged)",
                        Connector, health.PipelineId, e.Reason, suppressed);
            })
            .Build();

    public ValueTask DisposeAsync()
    {
        if (_producer is not null)
        {
            _producer.Flush(TimeSpan.FromSeconds(5));
            _producer.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
