using System.Buffers;
using System.Threading.Channels;
using Akka;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Varpulis.Actors.Connectors.Sources;

namespace Varpulis.Actors.Connectors.Mqtt;

/// <summary>One topic filter a source subscribes to, the QoS, and the event type of the binding.</summary>
public sealed record MqttSubscription(string Filter, int Qos, string? EventType);

/// <summary>
/// The MQTT source of one connector of one pipeline: one MQTT 5.0 connection with a persistent session, one
/// subscription per binding. Messages are acknowledged manually (QoS 1 PUBACK only in
/// <see cref="AcknowledgeAsync"/>, after the pipeline journaled them), so the broker redelivers what was not
/// acknowledged when the connection drops. The receive maximum bounds unacknowledged messages in flight.
/// </summary>
public sealed class MqttSource(MqttSettings settings, IReadOnlyList<MqttSubscription> subscriptions, SourceSettings batching, ConnectorHealth health, ILogger log)
    : IConnectorSource
{
    public string Connector => settings.Connector;

    public Source<SourceRecord, NotUsed> Connect()
    {
        int capacity = Math.Min(ushort.MaxValue, batching.BatchSize * (batching.MaxInFlight + 1));
        var channel = Channel.CreateBounded<SourceRecord>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        var client = new MqttClientFactory().CreateMqttClient();
        return Source.FromTask(ConnectAsync(client, channel.Writer, (ushort)capacity))
            .ConcatMany(_ => ChannelSource.FromReader(channel.Reader))
            .WatchTermination((mat, done) =>
            {
                done.ContinueWith(_ => CloseAsync(client), TaskScheduler.Default);
                return mat;
            });
    }

    private async Task<NotUsed> ConnectAsync(IMqttClient client, ChannelWriter<SourceRecord> writer, ushort receiveMaximum)
    {
        client.ApplicationMessageReceivedAsync += async e =>
        {
            // Acknowledged in AcknowledgeAsync once the pipeline has journaled the message (QoS 0 needs none).
            e.AutoAcknowledge = false;
            var m = e.ApplicationMessage;
            var record = new SourceRecord(m.Payload.ToArray(), SourcePosition.OfTopic(m.Topic),
                m.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce ? null : e);
            try
            {
                await writer.WriteAsync(record).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                // The connection is closing: the broker redelivers what was not acknowledged.
            }
        };
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected)
                writer.TryComplete(new IOException($"disconnected from {settings.Describe()}: {e.Reason}{(e.Exception is null ? "" : " (" + e.Exception.Message + ")")}"));
            return Task.CompletedTask;
        };
        var options = settings.ClientOptions(settings.ClientId, persistentSession: true, receiveMaximum, TimeSpan.FromSeconds(10));
        var connected = await client.ConnectAsync(options, CancellationToken.None).ConfigureAwait(false);
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var s in subscriptions.DistinctBy(s => s.Filter))
            subscribe = subscribe.WithTopicFilter(s.Filter, (MqttQualityOfServiceLevel)subscriptions.Where(x => x.Filter == s.Filter).Max(x => x.Qos));
        var result = await client.SubscribeAsync(subscribe.Build(), CancellationToken.None).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if ((int)item.ResultCode > 2)
                throw new IOException($"{settings.Describe()} refused the subscription to '{item.TopicFilter.Topic}': {item.ResultCode}");
        }
        health.SetConnection(ConnectionState.Connected);
        log.LogInformation("Source {Connector} of pipeline {PipelineId} connected to {Broker}, session {Session}, subscribed to {Filters}",
            Connector, health.PipelineId, settings.Describe(), connected.IsSessionPresent ? "resumed" : "new", string.Join(", ", subscriptions.Select(s => s.Filter).Distinct()));
        return NotUsed.Instance;
    }

    private async Task CloseAsync(IMqttClient client)
    {
        try
        {
            if (client.IsConnected)
                await client.DisconnectAsync(new MqttClientDisconnectOptions { Reason = MqttClientDisconnectOptionsReason.NormalDisconnection }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.LogDebug("Source {Connector}: disconnect failed: {Error}", Connector, ex.Message);
        }
        finally
        {
            client.Dispose();
        }
    }

    public async Task AcknowledgeAsync(IReadOnlyList<SourceRecord> records, CancellationToken cancellationToken)
    {
        foreach (var r in records)
        {
            if (r.AckToken is not MqttApplicationMessageReceivedEventArgs e) continue;
            try
            {
                await e.AcknowledgeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The connection that brought the message is gone: the broker delivers it again (at least once).
                log.LogDebug("Source {Connector}: PUBACK not sent ({Error}); the broker will redeliver", Connector, ex.Message);
            }
        }
    }

    public string? DefaultEventType(SourcePosition position)
        => subscriptions.FirstOrDefault(s => MqttTopics.Matches(s.Filter, position.Topic))?.EventType;
}
