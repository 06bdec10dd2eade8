using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Serialization;
using Varpulis.Vpl.Json;

namespace Varpulis.Actors.Tests.Serialization;

/// <summary>Every protocol message, journal event and snapshot round-trips through the bound serializer.</summary>
public sealed class VarpulisSerializerTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2025, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);
    private static readonly TenantInfo Tenant = new("t1", "acme", "pro", "ab12", At);
    private static readonly PipelineEntry Entry = new("p1", "t1", "name", "stream A = B .emit(x: 1)", At);
    private static readonly SinkRecord Record = new("Bus", "alerts", "k1", "{\"event_type\":\"Hot\",\"timestamp\":\"2026-01-23T10:00:00Z\",\"data\":{\"x\":1}}"u8.ToArray());
    private static readonly ConnectorStatus Status = new("Hook", "http", "sink", "connected", "open", 10, 5, 0, 7, "answered 500");
    private static readonly DeadLetter Letter = new(5, At, "Bus", "alerts", "k1", "answered 500", "{\"event_type\":\"Hot\",\"timestamp\":\"2026-01-23T10:00:00Z\",\"data\":{}}");

    private readonly ActorSystem _system = ActorSystem.Create("serialization", ConfigurationFactory.ParseString(
        """
        akka.actor {
          serializers.varpulis = "Varpulis.Actors.Serialization.VarpulisSerializer, Varpulis.Actors"
          serialization-bindings {
            "Varpulis.Actors.Pipelines.IPipelineProtocol, Varpulis.Actors" = varpulis
            "Varpulis.Actors.Directory.IDirectoryProtocol, Varpulis.Actors" = varpulis
            "Varpulis.Actors.Connectors.IConnectorsProtocol, Varpulis.Actors" = varpulis
          }
        }
        """));

    public static IEnumerable<object[]> Messages()
    {
        object[] all =
        [
            new DeployPipeline("p1", "t1", "name", "stream A = B .emit(x: 1)", At),
            new EnsurePipeline("p1", "t1", "name", "src", At),
            new ReloadPipeline("p1", "t1", "src2"),
            new DeletePipeline("p1", "t1"),
            new IngestEvents("p1", "t1", "{\"event_type\":\"A\"}"u8.ToArray(), true),
            new GetPipelineInfo("p1", "t1"),
            new GetPipelineMetrics("p1", "t1"),
            new CheckpointPipeline("p1", "t1"),
            new RestorePipeline("p1", "t1", "{\"version\":1,\"streams\":{}}"),
            new ListPipelineRuns("p1", "t1", "S", 10),
            new PipelineError("parse_error", "bad", [new DiagnosticInfo("error", 1, 2, "m", "h"), new DiagnosticInfo("warning", 3, 4, "w", null)]),
            new PipelineError("pipeline_not_found", "nope"),
            new PipelineInfo("p1", "t1", "name", "running", "src", ["A", "B"], At, At.AddSeconds(5)),
            new PipelineReloaded(["A"], ["B"]),
            new PipelineDeleted("p1"),
            new IngestResult(2, 1, [new IngestError(1, "bad")], "[{\"x\":1}]"u8.ToArray(), 1, 42),
            new PipelineMetrics("p1", 10, 2, 1.5, 3.25, 7.75, 4, 1, 0),
            new CheckpointTaken("p1", "{\"version\":1}", 10, At),
            new PipelineRestored("p1", 10, ["A"], []),
            new PipelineRuns("p1", "S", "[]", 0),
            new PipelineDefined("p1", "t1", "name", "src", At),
            new PipelineSourceReloaded("src2", At),
            new EventsAccepted(1_700_000_000_123_456_789, true, "{\"events\":[]}"u8.ToArray()),
            new EventsAccepted(-5, false, []),
            new PipelineCheckpointRestored("{\"version\":1}", At),
            new PipelineRemoved(At),
            new PipelineSnapshot("p1", "t1", "name", "src", At, false, "{\"version\":1}"),
            new PipelineSnapshot("p1", "t1", "name", "src", At, true, null),
            Tenant,
            Entry,
            new CreateTenant(Tenant),
            GetTenants.Instance,
            new TenantList([Tenant]),
            new DeleteTenant("t1"),
            new TenantDeleted("t1", ["p1", "p2"]),
            new RegisterPipeline(Entry, 10),
            new PipelineRegistered("p1"),
            new UnregisterPipeline("p1"),
            new PipelineUnregistered("p1"),
            new ListPipelines("t1", 0, 50),
            new PipelinePage(1, [Entry]),
            new DirectoryError("quota_exceeded", "full"),
            DirectoryPing.Instance,
            new DirectoryPong(1, 2),
            new TenantAdded(Tenant),
            new TenantRemoved("t1"),
            new PipelineAdded(Entry),
            new PipelineDropped("p1"),
            new DirectorySnapshot([Tenant], [Entry]),
            new DeliverToSinks(7, [Record, new SinkRecord("Hook", null, null, "{}"u8.ToArray())]),
            Record,
            new GetConnectorStatus("p1"),
            Status,
            new ConnectorStatusList([Status, Status with { Direction = "source", Circuit = null, LastError = null }]),
            new GetSinkProgress("p1"),
            new SinkProgress(42),
            new StopConnectors("p1"),
            new ConnectorsStopped("p1"),
            new IngestSourceBatch("p1", "Bus", "{\"events\":[]}"u8.ToArray(), [new SourcePosition("t", 2, 17), SourcePosition.OfTopic("a/b")]),
            Letter,
            new GetDeadLetters("p1", 10, 50),
            new DeadLetterPage(3, [Letter]),
            new ClearDeadLetters("p1"),
            new DeadLettersCleared(3),
            new ReplayDeadLetters("p1", "Hook", 100),
            new DeadLettersReplayed(2, 1, 0, 1),
            new ConnectorsError("replay_in_progress", "busy"),
            new DeadLettersAdded([Letter, Letter with { Id = 6, Topic = null, Key = null }]),
            new DeadLettersRemoved([5, 6]),
            new DeadLettersPurged(6),
            new SinkOutputsSettled(99),
            new DeadLetterSnapshot(7, 99, [Letter]),
        ];
        return all.Select(m => new[] { m });
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void RoundTripsThroughTheBoundSerializer(object message)
    {
        var serialization = _system.Serialization;
        var serializer = serialization.FindSerializerFor(message);
        Assert.IsType<VarpulisSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        var back = serialization.Deserialize(bytes, serializer.Identifier, manifest);
        Assert.Equal(message.GetType(), back.GetType());
        Assert.Equal(Canonical(message), Canonical(back));
    }

    [Fact]
    public void EveryMessageTypeIsCovered()
    {
        var covered = Messages().Select(m => m[0].GetType()).ToHashSet();
        Assert.Equal([], VarpulisSerializer.SupportedTypes.Where(t => !covered.Contains(t)).Select(t => t.Name));
    }

    [Fact]
    public void EveryProtocolTypeHasAManifest()
    {
        var protocol = typeof(IPipelineProtocol).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false }
                && (typeof(IPipelineProtocol).IsAssignableFrom(t) || typeof(IDirectoryProtocol).IsAssignableFrom(t) || typeof(IConnectorsProtocol).IsAssignableFrom(t)));
        Assert.Equal([], protocol.Where(t => !VarpulisSerializer.SupportedTypes.Contains(t)).Select(t => t.Name));
    }

    [Fact]
    public void UnknownManifestIsRejected()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(DeletePipeline));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([1], "nope"));
    }

    [Fact]
    public void EventsAcceptedUsesTheCompactBinaryLayout()
    {
        var body = "{\"event_type\":\"A\"}"u8.ToArray();
        var bytes = _system.Serialization.FindSerializerFor(new EventsAccepted(1, false, body)).ToBinary(new EventsAccepted(1, false, body));
        Assert.Equal(10 + body.Length, bytes.Length);
    }

    // Records holding arrays and lists compare by reference: compare their JSON instead.
    private static string Canonical(object o) => o switch
    {
        EventsAccepted e => $"{e.IngestTimeNanos}|{e.IsBatch}|{Convert.ToBase64String(e.Body)}",
        IngestEvents i => $"{i.PipelineId}|{i.TenantId}|{i.IsBatch}|{Convert.ToBase64String(i.Body)}",
        _ => JsonSerializer.Serialize(o, o.GetType(), VplJson.SerializerOptions),
    };

    public void Dispose() => _system.Dispose();
}
