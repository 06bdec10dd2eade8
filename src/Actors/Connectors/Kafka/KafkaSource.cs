using System.Threading.Channels;
using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors.Sources;

namespace Varpulis.Actors.Connectors.Kafka;

/// <summary>One Kafka topic a source reads, and the event type of its binding.</summary>
public sealed record KafkaSubscription(string Topic, string? EventType);

/// <summary>
/// The Kafka source of one connector of one pipeline: one consumer in the connector's group, polled on a
/// dedicated thread into a bounded channel (back-pressure stops polling). Offsets are committed only in
/// <see cref="AcknowledgeAsync"/>, after the pipeline journaled the batch: after a crash the group resumes from the
/// last committed offset, so every record is read at least once and none is skipped. Each record carries its
/// (topic, partition, offset) so that a pipeline can drop one it has journaled already.
/// </summary>
public sealed class KafkaSource : IConnectorSource
{
    private readonly LogThrottle _errorLog = new(TimeSpan.FromSeconds(10), TimeProvider.System);
    private readonly KafkaSettings _settings;
    private readonly IReadOnlyList<KafkaSubscription> _subscriptions;
    private readonly SourceSettings _batching;
    private readonly ConnectorHealth _health;
    private readonly ILogger _log;

    public KafkaSource(KafkaSettings settings, IReadOnlyList<KafkaSubscription> subscriptions, SourceSettings batching, ConnectorHealth health, ILogger log)
    {
        _settings = settings;
        _subscriptions = subscriptions;
        _batching = batching;
        _health = health;
        _log = log;
    }

    public string Connector => _settings.Connector;

    public Source<SourceRecord, NotUsed> Connect()
    {
        var channel = Channel.CreateBounded<SourceRecord>(new BoundedChannelOptions(_batching.BatchSize * (_batching.MaxInFlight + 1)) { SingleReader = true, SingleWriter = true });
        var connection = new Connection(this, channel.Writer);
        return ChannelSource.FromReader(channel.Reader)
            .WatchTermination((mat, done) =>
            {
                done.ContinueWith(_ => connection.Stop(), TaskScheduler.Default);
                return mat;
            });
    }

    public Task AcknowledgeAsync(IReadOnlyList<SourceRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0 || records[0].AckToken is not Connection connection) return Task.CompletedTask;
        var offsets = records
            .GroupBy(r => (r.Position.Topic, r.Position.Partition))
            .Select(g => new TopicPartitionOffset(g.Key.Topic, g.Key.Partition, g.Max(r => r.Position.Offset) + 1))
            .ToList();
        // Commit blocks on a broker round trip: keep it off the stream's threads.
        return Task.Run(() => connection.Commit(offsets), cancellationToken);
    }

    public string? DefaultEventType(SourcePosition position)
        => _subscriptions.FirstOrDefault(s => s.Topic == position.Topic)?.EventType;

    /// <summary>One consumer and its polling thread; records point back to it so that commits go to the consumer that read them.</summary>
    private sealed class Connection
    {
        private readonly KafkaSource _owner;
        private readonly ChannelWriter<SourceRecord> _writer;
        private readonly CancellationTokenSource _stop = new();
        private readonly IConsumer<Ignore, byte[]> _consumer;
        private readonly Thread _thread;
        private readonly object _gate = new();
        private bool _closed;

        public Connection(KafkaSource owner, ChannelWriter<SourceRecord> writer)
        {
            _owner = owner;
            _writer = writer;
            var s = owner._settings;
            _consumer = new ConsumerBuilder<Ignore, byte[]>(s.ConsumerConfig())
                .SetErrorHandler((_, e) => OnError(e))
                .SetLogHandler((_, m) => owner._log.LogDebug("Source {Connector} librdkafka {Facility}: {Message}", owner.Connector, m.Facility, m.Message))
                .SetPartitionsAssignedHandler((_, parts) =>
                {
                    owner._health.SetConnection(ConnectionState.Connected);
                    owner._log.LogInformation("Source {Connector} of pipeline {PipelineId} consuming {Broker} as group {Group}: assigned {Partitions}",
                        owner.Connector, owner._health.PipelineId, s.Describe(), s.GroupId, string.Join(", ", parts.Select(p => $"{p.Topic}[{p.Partition.Value}]")));
                })
                .SetPartitionsRevokedHandler((_, parts) =>
                    owner._log.LogInformation("Source {Connector} of pipeline {PipelineId}: partitions revoked {Partitions}",
                        owner.Connector, owner._health.PipelineId, string.Join(", ", parts.Select(p => $"{p.Topic}[{p.Partition.Value}]"))))
                .Build();
            _consumer.Subscribe(owner._subscriptions.Select(x => x.Topic).Distinct());
            _thread = new Thread(Poll) { IsBackground = true, Name = $"kafka-source-{owner.Connector}" };
            _thread.Start();
        }

        private void Poll()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var r = _consumer.Consume(_stop.Token);
                    if (r is null || r.IsPartitionEOF) continue;
                    var record = new SourceRecord(r.Message.Value ?? Array.Empty<byte>(), new SourcePosition(r.Topic, r.Partition.Value, r.Offset.Value), this);
                    if (!_writer.TryWrite(record)) _writer.WriteAsync(record, _stop.Token).AsTask().GetAwaiter().GetResult();
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _writer.TryComplete(new IOException($"consumer of {_owner._settings.Describe()} failed: {ex.Message}", ex));
            }
        }

        private void OnError(Error e)
        {
            if (e.IsFatal)
            {
                _writer.TryComplete(new IOException($"fatal error from {_owner._settings.Describe()}: {e.Reason}"));
                return;
            }
            if (e.Code == ErrorCode.Local_AllBrokersDown) _owner._health.SetConnection(ConnectionState.Reconnecting, e.Reason);
            if (_owner._errorLog.ShouldLog(out long suppressed))
                _owner._log.LogWarning("Source {Connector} of pipeline {PipelineId}: {Error} (librdkafka retries; {Suppressed} similar errors not logged)",
                    _owner.Connector, _owner._health.PipelineId, e.Reason, suppressed);
        }

        public void Commit(IReadOnlyList<TopicPartitionOffset> offsets)
        {
            lock (_gate)
            {
                // A closed consumer's records are read again by the next one (they were not committed).
                if (_closed) return;
                _consumer.Commit(offsets);
            }
            _owner._log.LogTrace("Source {Connector} committed {Offsets}", _owner.Connector, string.Join(", ", offsets));
        }

        public void Stop()
        {
            _stop.Cancel();
            _thread.Join(TimeSpan.FromSeconds(30));
            lock (_gate)
            {
                _closed = true;
                try
                {
                    _consumer.Close();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _owner._log.LogDebug("Source {Connector}: consumer close failed: {Error}", _owner.Connector, ex.Message);
                }
                _consumer.Dispose();
            }
            _stop.Dispose();
        }
    }
}
