using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Varpulis.Actors.Connectors.Sinks;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Mqtt;

/// <summary>
/// The MQTT sink of one connector (QoS and retain flag per topic, from its bindings): one connection (client id <c>&lt;client_id&gt;-out</c>, clean session), one
/// message per event, published concurrently; QoS 1 events count as delivered on the broker's PUBACK. Connects
/// on the first delivery and again on the next delivery after losing the connection.
/// </summary>
public sealed class MqttSinkConnector(MqttSettings settings, Func<string, (int Qos, bool Retain)> publishOptions, ConnectorHealth health, ILogger log) : ISinkConnector
{
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private IMqttClient? _client;

    public string Connector => settings.Connector;

    public ConnectorKind Kind => ConnectorKind.Mqtt;

    public async Task<SinkDeliveryResult> DeliverAsync(IReadOnlyList<SinkRecord> records, CancellationToken cancellationToken)
    {
        IMqttClient client;
        try
        {
            client = await ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            health.SetConnection(ConnectionState.Reconnecting, ex.Message);
            return SinkDeliveryResult.Failed(records.Count, $"cannot connect to {settings.Describe()}: {ex.Message}");
        }
        var tasks = new Task<string?>[records.Count];
        for (int i = 0; i < records.Count; i++) tasks[i] = PublishAsync(client, records[i], cancellationToken);
        return new SinkDeliveryResult(await Task.WhenAll(tasks).ConfigureAwait(false));
    }

    private async Task<string?> PublishAsync(IMqttClient client, SinkRecord r, CancellationToken ct)
    {
        var (qos, retain) = publishOptions(r.Topic!);
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(r.Topic)
            .WithPayload(r.Json)
            .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)qos)
            .WithRetainFlag(retain)
            .WithContentType("application/json")
            .Build();
        try
        {
            var result = await client.PublishAsync(message, ct).ConfigureAwait(false);
            return result.IsSuccess ? null : $"broker refused the message: {result.ReasonCode} {result.ReasonString}".TrimEnd();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ex is OperationCanceledException ? "no acknowledgement from the broker within the timeout" : ex.Message;
        }
    }

    private async Task<IMqttClient> ConnectedClientAsync(CancellationToken ct)
    {
        if (_client is { IsConnected: true } c) return c;
        await _connectGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true } again) return again;
            _client?.Dispose();
            _client = new MqttClientFactory().CreateMqttClient();
            await _client.ConnectAsync(settings.ClientOptions(settings.ClientId + "-out", persistentSession: false, receiveMaximum: 1024, TimeSpan.FromSeconds(10)), ct).ConfigureAwait(false);
            health.SetConnection(ConnectionState.Connected);
            log.LogInformation("Sink {Connector} of pipeline {PipelineId} connected to {Broker}", Connector, health.PipelineId, settings.Describe());
            return _client;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is null) return;
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.LogDebug("Sink {Connector}: disconnect failed: {Error}", Connector, ex.Message);
        }
        _client.Dispose();
        _connectGate.Dispose();
    }
}
