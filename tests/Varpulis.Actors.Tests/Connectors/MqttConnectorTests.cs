using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
        => StartSource(target, Settings(clientId), subscriptions);

    private (RunningSource Running, ConnectorHealth Health) StartSource(RecordingTarget target, MqttSettings settings, params MqttSubscription[] subscriptions)
    {
        var health = new ConnectorHealth("p-" + settings.ClientId, "Sensors", ConnectorKind.Mqtt, BindingDirection.Source);
        var source = new MqttSource(settings, subscriptions, Batching(), health, _logs.CreateLogger("Varpulis.Actors.Connectors.Mqtt"));
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

    // ------------------------------------------------------------------ TLS with a CA file

    /// <summary>A certificate authority made for the test (not trusted by the system).</summary>
    private static X509Certificate2 NewAuthority(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Writes a server certificate for 127.0.0.1 signed by <paramref name="authority"/> and its key (PEM files).</summary>
    private static (string CertFile, string KeyFile) ServerCertificate(X509Certificate2 authority, string dir)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var cert = request.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);
        var certFile = Path.Combine(dir, "server.pem");
        var keyFile = Path.Combine(dir, "server.key");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }

    [MosquittoFact]
    public async Task ACaFileLetsTheSourceTrustABrokerSignedByThatAuthorityAndNoOther()
    {
        using var dir = new TempDirectory("varpulis-mqtt-tls");
        System.IO.Directory.CreateDirectory(dir.Path);
        using var authority = NewAuthority("Varpulis Test CA");
        using var stranger = NewAuthority("Some Other CA");
        var caFile = Path.Combine(dir.Path, "ca.pem");
        var otherCaFile = Path.Combine(dir.Path, "other-ca.pem");
        await File.WriteAllTextAsync(caFile, authority.ExportCertificatePem());
        await File.WriteAllTextAsync(otherCaFile, stranger.ExportCertificatePem());
        await using var broker = new MosquittoBroker { Tls = ServerCertificate(authority, dir.Path) };
        await broker.InitializeAsync();
        MqttSettings Tls(string clientId, string? ca) => new("Sensors", "127.0.0.1", broker.Port, clientId, null, null, true, TimeSpan.FromSeconds(5), TimeSpan.FromHours(1),
            ca is null ? null : MqttSettings.LoadAuthorities("Sensors", ca));

        var target = new RecordingTarget();
        var (running, health) = StartSource(target, Tls("tls-trusted", caFile), new MqttSubscription("in/#", 1, "E"));
        await Eventually.True(() => health.Connection == ConnectionState.Connected, "the source to connect over TLS");
        Assert.Equal("mqtts://127.0.0.1:" + broker.Port + " (client id tls-trusted)", Tls("tls-trusted", caFile).Describe());

        var publisher = new MqttClientFactory().CreateMqttClient();
        _clients.Add(publisher);
        await publisher.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("tls-pub")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithTlsOptions(o => o.UseTls().WithCertificateValidationHandler(e => MqttSettings.ChainsTo(MqttSettings.LoadAuthorities("p", caFile), e.Certificate, e.Chain, e.SslPolicyErrors)))
            .Build());
        await PublishAsync(publisher, "in/a", """{"n":1}""");
        await Eventually.True(() => target.Events.Count == 1, "the message over TLS");
        Assert.Equal(["1"], target.Field("n"));
        await running.DrainAsync();

        // A broker certificate from another authority is refused, and so is one the system does not trust (no ca_file).
        foreach (var (clientId, ca) in new[] { ("tls-stranger", otherCaFile), ("tls-system", (string?)null) })
        {
            var refused = StartSource(new RecordingTarget(), Tls(clientId, ca), new MqttSubscription("in/#", 1, "E"));
            await Eventually.True(() => refused.Health.LastError is not null, $"{clientId} to fail to connect");
            Assert.Equal(ConnectionState.Reconnecting, refused.Health.Connection);
            Assert.StartsWith("The remote certificate was rejected by the provided RemoteCertificateValidationCallback", refused.Health.LastError);
            refused.Running.Abort();
        }
        Assert.Single(File.ReadAllLines(broker.LogPath), l => l.Contains("New client connected", StringComparison.Ordinal) && l.Contains("tls-trusted", StringComparison.Ordinal));
    }

    [Fact]
    public void ACaFileThatHoldsNoCertificateIsAConfigurationError()
    {
        using var dir = new TempDirectory("varpulis-mqtt-ca");
        System.IO.Directory.CreateDirectory(dir.Path);
        var empty = Path.Combine(dir.Path, "empty.pem");
        File.WriteAllText(empty, "not a certificate\n");
        var ex = Assert.Throws<Varpulis.Vpl.Compilation.Connectors.ConnectorConfigurationException>(() => MqttSettings.LoadAuthorities("Sensors", empty));
        Assert.Equal($"connector Sensors: ca_file {empty} holds no PEM certificate", ex.Message);
        var missing = Path.Combine(dir.Path, "missing.pem");
        Assert.StartsWith($"connector Sensors: ca_file {missing} cannot be read: ", Assert.Throws<Varpulis.Vpl.Compilation.Connectors.ConnectorConfigurationException>(() => MqttSettings.LoadAuthorities("Sensors", missing)).Message);
    }
}
