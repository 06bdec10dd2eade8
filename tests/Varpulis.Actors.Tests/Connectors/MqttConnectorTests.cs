using System.Text;
using Akka.Actor;
using Akka.Streams;
using MQTTnet;
using MQTTnet.Protocol;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Mqtt;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Tests.Infrastructure;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>MQTT source and sink against a real Mosquitto on loopback.</summary>
public sealed class MqttConnectorTests : IAsyncLifetime
{
    private readonly MosquittoBroker _broker = new();
    private readonly ActorSystem _system = ActorSystem.Create("mqtt-tests");
    private readonly CapturingLoggerFactory _logs = new();
    private readonly List<IMqttClient> _clients = new();

    public Task InitializeAsync() => _broker.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var c in _clients)
        {
            if (c.IsConnected) await c.DisconnectAsync(new MqttClientDisconnectOptions());
            c.Dispose();
        }
        await _system.Terminate();
        await _broker.DisposeAsync();
    }

    private MqttSettings Settings(string clientId) => new("Sensors", "127.0.0.1", _broker.Port, clientId, null, null, false, TimeSpan.FromSeconds(5), TimeSpan.FromHours(1));

    private static SourceSettings Batching(int size = 100) => new(size, TimeSpan.FromMilliseconds(50), 2, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2));

    private (RunningSource Running, ConnectorHealth Health) StartSource(RecordingTarget target, string clientId, params MqttSubscription[] subscriptions)
    {
        var health = new ConnectorHealth("p-" + clientId, "Sensors", ConnectorKind.Mqtt, BindingDirection.Source);
        var source = new MqttSource(Settings(clientId), subscriptions, Batching(), health, _logs.CreateLogger("Varpulis.Actors.Connectors.Mqtt"));
        var running = SourceGraph.Run(source, Batching(), target, health, _logs.CreateLogger("Varpulis.Actors.Connectors"), _system.Materializer());
        return (running, health);
    }

    private async Task<IMqttClient> ClientAsync(string id)
    {
        var c = new MqttClientFactory().CreateMqttClient();
        _clients.Add(c);
        await c.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port).WithClientId(id)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        return c;
    }

    private static Task PublishAsync(IMqttClient c, string topic, string json, int qos = 1)
        => c.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(json).WithQualityOfServiceLevel((MqttQualityOfServiceLevel)qos).Build());

    [MosquittoFact]
    public async Task RoundTripFromSourceThroughTheGraphToTheSink()
    {
        var received = new List<string>();
        var subscriber = await ClientAsync("test-sub");
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            lock (received) received.Add(e.ApplicationMessage.Topic + " " + Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
        await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("alerts/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());

        var sinkHealth = new ConnectorHealth("p1", "Alerts", ConnectorKind.Mqtt, BindingDirection.Sink);
        await using var sink = new MqttSinkConnector(Settings("rt"), _ => (1, false), sinkHealth, _logs.CreateLogger("Varpulis.Actors.Connectors.Mqtt"));
        var target = new RecordingTarget();
        // The "pipeline": each journaled event becomes one output event for the sink. Like the pipeline's sink worker, it
        // hands a batch's outputs to the sink after the previous batch's (batches may be in flight together).
        var previous = Task.CompletedTask;
        var order = new object();
        async Task DeliverAfterAsync(Task before, List<SinkRecord> outputs)
        {
            await before;
            var result = await sink.DeliverAsync(outputs, CancellationToken.None);
            Assert.True(result.AllDelivered);
        }
        target.OnBatch = batch =>
        {
            var outputs = new List<SinkRecord>();
            for (int i = 0; i < batch.EventCount; i++)
            {
                using var e = System.Text.Json.JsonDocument.Parse(batch.EventJson(i).ToArray());
                var f = e.RootElement.GetProperty("fields");
                var json = $$$"""{"event_type":"Hot","timestamp":"2026-01-23T10:00:00Z","data":{"sensor":"{{{f.GetProperty("sensor_id").GetString()}}}","value":{{{f.GetProperty("value").GetDouble()}}}}}""";
                outputs.Add(new SinkRecord("Alerts", "alerts/hot", null, Encoding.UTF8.GetBytes(json)));
            }
            lock (order) return previous = DeliverAfterAsync(previous, outputs);
        };
        var (running, health) = StartSource(target, "rt", new MqttSubscription("sensors/#", 1, "TemperatureReading"));
        await Eventually.True(() => health.Connection == ConnectionState.Connected, "the source to connect");

        var publisher = await ClientAsync("test-pub");
        for (int i = 0; i < 300; i++)
            await PublishAsync(publisher, $"sensors/room{i % 3}", $$"""{"sensor_id":"s{{i}}","value":{{i}}.5}""");

        await Eventually.True(() => { lock (received) return received.Count == 300; }, "300 output messages");
        lock (received)
        {
            Assert.Equal(Enumerable.Range(0, 300).Select(i => $$$"""alerts/hot {"event_type":"Hot","timestamp":"2026-01-23T10:00:00Z","data":{"sensor":"s{{{i}}}","value":{{{i}}}.5}}"""), received);
        }
        // Messages without a type take the binding's event type; batches are never one message each.
        Assert.All(target.Events, e => Assert.Equal("TemperatureReading", e.GetProperty("event_type").GetString()));
        Assert.True(target.Batches.Count < 300, $"{target.Batches.Count} batches for 300 messages");
        await Eventually.True(() => health.Delivered == 300, "300 events counted as journaled");
        Assert.Equal(ConnectionState.Connected, sinkHealth.Connection);
        await running.DrainAsync();
        Assert.Equal(ConnectionState.Stopped, health.Connection);
    }

    [MosquittoFact]
    public async Task WildcardSubscriptionsReceiveExactlyTheMatchingTopicsWithTheirBindingsTypes()
    {
        var target = new RecordingTarget();
        var (running, health) = StartSource(target, "wild",
            new MqttSubscription("building/+/temp", 1, "Temp"),
            new MqttSubscription("alarms/#", 0, "Alarm"));
        await Eventually.True(() => health.Connection == ConnectionState.Connected, "the source to connect");
        var publisher = await ClientAsync("wild-pub");
        string[] topics = ["building/a/temp", "building/a/b/temp", "building/temp", "alarms", "alarms/fire/3", "other/a/temp", "building/b/temp"];
        foreach (var t in topics) await PublishAsync(publisher, t, $$"""{"topic":"{{t}}"}""");
        await PublishAsync(publisher, "alarms/typed", """{"event_type":"Custom","data":{"topic":"alarms/typed"}}""");
        await PublishAsync(publisher, "alarms/bad", "not json");
        await Eventually.True(() => target.Events.Count == 5 && health.Rejected == 1, "5 matching messages and 1 rejected");
        Assert.Equal("not JSON (at byte 1)", health.LastError);
        Assert.Single(_logs.Matching("Source Sensors of pipeline p-wild: 1 messages rejected (0 more rejection lines held back), first: not JSON (at byte 1)"));
        await Task.Delay(300);
        Assert.Equal(
            ["Temp building/a/temp", "Alarm alarms", "Alarm alarms/fire/3", "Temp building/b/temp", "Custom alarms/typed"],
            target.Events.Select(e => e.GetProperty("event_type").GetString() + " " + e.GetProperty("fields").GetProperty("topic").GetString()));
        await running.DrainAsync();
    }

    [MosquittoFact]
    public async Task MessagesArePubAckedOnlyAfterThePipelineTookTheBatch()
    {
        var target = new RecordingTarget();
        target.FailNext(2);
        var (running, health) = StartSource(target, "ack", new MqttSubscription("in/#", 1, "E"));
        await Eventually.True(() => health.Connection == ConnectionState.Connected, "the source to connect");
        var publisher = await ClientAsync("ack-pub");
        for (int i = 0; i < 50; i++) await PublishAsync(publisher, "in/x", $$"""{"n":{{i}}}""");
        // The first two batches fail: nothing was acknowledged, so the broker redelivers them after the reconnection.
        await Eventually.True(() => target.Events.Select(e => e.GetProperty("fields").GetProperty("n").GetInt32()).Distinct().Count() == 50, "all 50 messages journaled");
        Assert.Equal(Enumerable.Range(0, 50), target.Field("n").Select(int.Parse).Distinct().Order());
        Assert.NotEmpty(_logs.Matching("lost its connection: pipeline did not answer; reconnecting with backoff"));
        Assert.NotEmpty(_logs.Matching("session resumed"));
        await running.DrainAsync();
    }

    [MosquittoFact]
    public async Task BrokerRestartMidStreamLosesNoAcknowledgedMessage()
    {
        var target = new RecordingTarget();
        var (running, health) = StartSource(target, "restart", new MqttSubscription("in/#", 1, "E"));
        await Eventually.True(() => health.Connection == ConnectionState.Connected, "the source to connect");

        // A publisher that resends until the broker acknowledges: the ids it got a PUBACK for must all reach the pipeline.
        var acked = new List<int>();
        var publisher = new MqttClientFactory().CreateMqttClient();
        _clients.Add(publisher);
        var pubOptions = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port).WithClientId("restart-pub")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(2)).Build();
        await publisher.ConnectAsync(pubOptions);
        var publishing = Task.Run(async () =>
        {
            for (int i = 0; i < 600; i++)
            {
                while (true)
                {
                    try
                    {
                        if (!publisher.IsConnected) await publisher.ConnectAsync(pubOptions);
                        var r = await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("in/x").WithPayload($$"""{"n":{{i}}}""")
                            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                        if (r.IsSuccess)
                        {
                            lock (acked) acked.Add(i);
                            break;
                        }
                    }
                    catch (Exception)
                    {
                        await Task.Delay(100);
                    }
                }
                if (i % 50 == 0) await Task.Delay(20);
            }
        });
        await Eventually.True(() => target.Events.Count >= 150, "a third of the stream");
        await _broker.RestartAsync(TimeSpan.FromMilliseconds(500));
        await publishing;
        await Eventually.True(() => target.Field("n").Distinct().Count() == 600, "every acknowledged message journaled", TimeSpan.FromSeconds(90));
        lock (acked) Assert.Equal(Enumerable.Range(0, 600), acked);
        Assert.Equal(Enumerable.Range(0, 600), target.Field("n").Select(int.Parse).Distinct().Order());
        Assert.NotEmpty(_logs.Matching("lost its connection"));
        Assert.True(_logs.Matching("connected to mqtt://127.0.0.1").Count >= 2, "the source connected again");
        await running.DrainAsync();
    }
}
