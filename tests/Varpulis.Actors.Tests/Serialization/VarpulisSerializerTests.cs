using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Pipelines.Routes;
using Varpulis.Actors.Serialization;
using Varpulis.Contracts.Cluster;
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
            "Varpulis.Actors.Cluster.IClusterManagerProtocol, Varpulis.Actors" = varpulis
            "Varpulis.Actors.Cluster.IClusterBootstrapProtocol, Varpulis.Actors" = varpulis
            "Varpulis.Actors.Connectors.IConnectorsProtocol, Varpulis.Actors" = varpulis
            "Varpulis.Actors.Groups.IPipelineGroupProtocol, Varpulis.Actors" = varpulis
          }
        }
        """));

    private static readonly WorkerInfo Worker = new(
        "worker-0", "http://127.0.0.1:9000", "akka.tcp://varpulis@127.0.0.1:4001", WorkerStatus.Ready, ["worker"], 1, 1000, 2, ["orders"], 42, At);

    private static readonly MigrationInfo Migration = new(
        "m1", "p1", "orders", "worker-0", "worker-1", MigrationReason.Drain, MigrationStatus.Completed, At, At.AddSeconds(2), 2000, null);

    private static readonly HostedPipeline Hosted = new("p1", "t1", "orders", 10, 2, At);

    public static IEnumerable<object[]> Messages()
    {
        object[] all =
        [
            new DeployPipeline("p1", "t1", "name", "stream A = B .emit(x: 1)", At),
            new DeployPipeline("p1", "t1", "name", "stream A = B .emit(x: 1)", At, 50),
            new EnsurePipeline("p1", "t1", "name", "src", At),
            new ReloadPipeline("p1", "t1", "src2"),
            new DeletePipeline("p1", "t1"),
            new IngestEvents("p1", "t1", "{\"event_type\":\"A\"}"u8.ToArray(), true),
            new IngestEvents("p1", "t1", "{\"event_type\":\"A\"}"u8.ToArray(), false, "key-é1", 1_735_689_600_000),
            new GetPipelineInfo("p1", "t1"),
            new GetPipelineMetrics("p1", "t1"),
            new CheckpointPipeline("p1", "t1"),
            new RestorePipeline("p1", "t1", "{\"version\":1,\"streams\":{}}"),
            new ListPipelineRuns("p1", "t1", "S", 10),
            new PipelineError("parse_error", "bad", [new DiagnosticInfo("error", 1, 2, "m", "h"), new DiagnosticInfo("warning", 3, 4, "w", null)]),
            new PipelineError("pipeline_not_found", "nope"),
            new PipelineInfo("p1", "t1", "name", "running", "src", ["A", "B"], At, At.AddSeconds(5)),
            new PipelineInfo("p1", "t1", "name", "running", "src", ["A"], At, At, "worker-0"),
            new PipelineReloaded(["A"], ["B"]),
            new PipelineDeleted("p1"),
            new IngestResult(2, 1, [new IngestError(1, "bad")], "[{\"x\":1}]"u8.ToArray(), 1, 42),
            new IngestResult(0, 2, [new IngestError(0, "unknown event type 'Ü'"), new IngestError(5, "")], [], 0, 0),
            new PipelineMetrics("p1", 10, 2, 1.5, 3.25, 7.75, 4, 1, 0),
            new CheckpointTaken("p1", "{\"version\":1}", 10, At),
            new PipelineRestored("p1", 10, ["A"], []),
            new PipelineRuns("p1", "S", "[]", 0),
            new PipelineDefined("p1", "t1", "name", "src", At),
            new PipelineSourceReloaded("src2", At),
            new EventsAccepted(1_700_000_000_123_456_789, true, "{\"events\":[]}"u8.ToArray()),
            new EventsAccepted(-5, false, []),
            new EventsAccepted(7, true, "{\"events\":[]}"u8.ToArray(), "retry-42"),
            new EventBatchAccepted(1_700_000_000_123_456_789, true, [1, 0, 0]),
            new EventBatchAccepted(-5, false, []),
            new EventBatchAccepted(7, true, [1, 1, 4, 0x54, 0x69, 0x63, 0x6B, 0], "retry-é42", Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(),
                [new IngestError(0, "unknown event type 'Ü'"), new IngestError(3, "")]),
            new EventBatchAccepted(8, false, [1, 0, 0], "", null, null),
            new EventBatchAccepted(9, true, [1, 0, 0], null, null, null, new RouteOrigin("source-pipeline", 41)),
            new EventBatchAccepted(10, true, [1, 0, 0], "k", [7], null, new RouteOrigin("ü", long.MaxValue)),
            new EventBatchAccepted(11, true, [1, 0, 0], Source: new SourceOrigin("kafka-in", [new KafkaPartitionOffset("orders", 0, 41), new KafkaPartitionOffset("tö", 7, long.MaxValue)])),
            new EventBatchAccepted(12, true, [1, 0, 0], Source: new SourceOrigin("mqtt-in", [])),
            new EventsAccepted(8, true, "{\"events\":[]}"u8.ToArray(), null, new RouteOrigin("source-pipeline", 41)),
            new EventsAccepted(9, true, "{\"events\":[]}"u8.ToArray(), "k", new RouteOrigin("ü", long.MaxValue)),
            new SetPipelineRoutes("p1", "t1", [new PipelineRoute("B", ["b0", "b1"], "k", ["Order*", "*"]), new PipelineRoute("C", ["c"], null, ["X"])]),
            new DeliverRoutedEvents("p2", "t1", "p1", 7, "{\"events\":[{\"event_type\":\"A\"}]}"u8.ToArray()),
            new DeliverRoutedEvents("pü", "", "ß", long.MaxValue, []),
            new RouteAck("p1", "p2", 6, 7),
            new PipelineRoutesSet("p1", 2),
            new PipelineRoutesChanged([new PipelineRoute("B", ["b0"], null, ["*"])], At),
            new PipelineSnapshot("p1", "t1", "n", "src", At, false, "{}", [], Routing: new RouteSnapshot(
                [new PipelineRoute("B", ["b0"], null, ["*"])],
                new Dictionary<string, long> { ["b0"] = 3 },
                [new RoutedBatch("b0", 3, "{\"events\":[]}"u8.ToArray())],
                new Dictionary<string, long> { ["a"] = 9 })),
            new PipelineCheckpointRestored("{\"version\":1}", At),
            new PipelineRemoved(At),
            new PipelineSnapshot("p1", "t1", "name", "src", At, false, "{\"version\":1}"),
            new PipelineSnapshot("p1", "t1", "name", "src", At, true, null),
            new PipelineSnapshot("p1", "t1", "name", "src", At, false, "{\"version\":1}",
                [new IdempotentReply("k1", "aGFzaA==", 5, new IngestResult(1, 0, [], "[]"u8.ToArray(), 0, 3))]),
            new PipelineSnapshot("p1", "t1", "name", "src", At, false, "{\"version\":1}", null,
                [new KafkaPartitionOffset("readings", 0, 41), new KafkaPartitionOffset("readings", 3, 7)],
                [new UnsettledOutputs(12, [Record]), new UnsettledOutputs(15, [Record, new SinkRecord("Hook", null, null, "{}"u8.ToArray())])]),
            new SourceEventsAccepted(1_700_000_000_123_456_789, "Bus", "{\"events\":[{\"event_type\":\"Ü\"}]}"u8.ToArray(),
                [new KafkaPartitionOffset("readings", 0, 41), new KafkaPartitionOffset("ünï", 3, long.MaxValue)]),
            new SourceEventsAccepted(5, "Sensors", "{\"events\":[]}"u8.ToArray(), []),
            Tenant,
            Entry,
            new CreateTenant(Tenant),
            GetTenants.Instance,
            new TenantList([Tenant]),
            new DeleteTenant("t1"),
            new TenantDeleted("t1", ["p1", "p2"]),
            new DirectoryError("quota_exceeded", "full"),
            DirectoryPing.Instance,
            new DirectoryPong(1, 2),
            new TenantAdded(Tenant),
            new TenantRemoved("t1"),
            new PipelineAdded(Entry),
            new PipelineDropped("p1"),
            new DirectorySnapshot([Tenant], [Entry]),
            new PipelineSourceUpdated("p1", "stream B = C .emit(y: 2)"),
            new DeployPipelineRequest(Entry, 10, 50),
            new ReloadPipelineRequest("p1", "t1", "src", 50),
            new RemovePipelineRequest("p1", "t1"),
            new QueryPipelines("t1", 0, 50),
            new PipelineListItem(Entry, "running", "worker-0", At),
            new PipelineListing(2, [new PipelineListItem(Entry, "running", "worker-0", At), new PipelineListItem(Entry, "starting", null, null)]),
            new GetTenantUsage("t1"),
            new TenantUsage("t1", 10, 2, 1),
            GetWorkers.Instance,
            new WorkerList([Worker, Worker with { Id = "worker-1", LastHeartbeat = null, Status = WorkerStatus.Unhealthy }]),
            new GetWorker("worker-0"),
            new WorkerFound(Worker),
            new DrainWorker("worker-0"),
            new WorkerDrained(new DrainResult("worker-0", 3, "drained")),
            new RemoveWorker("worker-0"),
            new WorkerRemoved(new WorkerDeleted(true, "worker-0", 2)),
            GetTopology.Instance,
            new TopologyReport(new ClusterTopology(
                [new ClusterNodeInfo("akka.tcp://varpulis@127.0.0.1:4000", ["coordinator"], "up", true, null, null, true)],
                [new PipelinePlacementInfo("p1", "orders", "default", "worker-0", "running")])),
            GetClusterSummary.Instance,
            new SummaryReport(new ClusterSummary(new WorkerCounts(3, 2, 1, 0), 1, 5, 0, 1, 4, "akka.tcp://varpulis@127.0.0.1:4000")),
            GetMigrations.Instance,
            new MigrationList([Migration, Migration with { Id = "m2", Status = MigrationStatus.InProgress, CompletedAt = null, DurationMs = null }]),
            RebalanceCluster.Instance,
            new RebalanceStarted(new RebalanceResult("started", 1, [Migration])),
            GetClusterHealth.Instance,
            new ClusterHealth(new WorkerCounts(1, 1, 0, 0), 0, 0, "akka.tcp://varpulis@127.0.0.1:4000"),
            new Varpulis.Actors.Cluster.Raft.LeaderRecord(3, 2, "akka.tcp://varpulis@127.0.0.1:4001", new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)),
            Varpulis.Actors.Cluster.Raft.GetLeadership.Instance,
            new Varpulis.Actors.Cluster.Raft.PutCoordinatorState("journal/varpulis-directory", new Varpulis.Actors.Cluster.Raft.StateVersion(3, 17), [1, 2, 0, 255]),
            new Varpulis.Actors.Cluster.Raft.CoordinatorStateStored("journal/varpulis-directory", new Varpulis.Actors.Cluster.Raft.StateVersion(3, 17), false, new Varpulis.Actors.Cluster.Raft.StateVersion(4, 1)),
            new Varpulis.Actors.Cluster.Raft.GetCoordinatorState("snapshot/varpulis-directory"),
            new Varpulis.Actors.Cluster.Raft.CoordinatorStateValue("snapshot/varpulis-directory", new Varpulis.Actors.Cluster.Raft.StateVersion(2, 5), [9, 8], new Varpulis.Actors.Cluster.Raft.StateVersion(2, 9)),
            new Varpulis.Actors.Cluster.Raft.CoordinatorStateValue("journal/none", Varpulis.Actors.Cluster.Raft.StateVersion.Zero, [], Varpulis.Actors.Cluster.Raft.StateVersion.Zero),
            new Varpulis.Actors.Cluster.Raft.CoordinatorStateDigest(new Dictionary<string, Varpulis.Actors.Cluster.Raft.StateVersion> { ["journal/a"] = new(1, 2), ["snapshot/a"] = new(1, 3) }),
            new Varpulis.Actors.Cluster.Raft.PullCoordinatorState(["journal/a", "snapshot/a"]),
            Varpulis.Actors.Cluster.Raft.GetCoordinatorStateSummary.Instance,
            new Varpulis.Actors.Cluster.Raft.CoordinatorStateSummary(new Varpulis.Actors.Cluster.Raft.StateVersion(5, 40), 8),
            Varpulis.Actors.Cluster.Scaling.GetScalingRecommendation.Instance,
            new Varpulis.Actors.Cluster.Scaling.ScalingReport(new ScalingRecommendation("scale_up", 1, 3, "reason", 2.5, 5, new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))),
            new GetPlacements(["p1"]),
            new GetPlacements(null),
            new PlacementList([new PipelinePlacementInfo("p1", "orders", "default", null, "starting")]),
            CheckPlacementCapacity.Instance,
            new PlacementCapacity(2),
            GetClusterMetrics.Instance,
            new ClusterMetricsReport(
                [new WorkerMetricsInfo("worker-0", 2, 10, 4, 2.5, At), new WorkerMetricsInfo("worker-1", 0, 0, 0, 0, null)],
                [new PipelineMetricsInfo(null, "p", "p1", "worker-0", 10, 4, 2.5)]),
            Group,
            new CreatePipelineGroup("g", "default", Group.Pipelines, Group.Routes, 10, 50),
            new PipelineGroupDeployed(Group),
            new GetPipelineGroups(null),
            new GetPipelineGroups("default"),
            new PipelineGroupList([Group]),
            new GetPipelineGroup("g1", "default"),
            new PipelineGroupFound(Group),
            new DeletePipelineGroup("g1", "default"),
            new PipelineGroupDeleted("g1", 3),
            new GroupError("group_not_found", "pipeline group 'g1' not found"),
            new PipelineGroupRecorded(Group),
            new PipelineGroupRemoved("g1"),
            new PipelineGroupSnapshot([Group, Group with { Id = "g2", Phase = GroupPhase.Deleting }]),
            new ClusterError("worker_not_found", "worker 'x' not found"),
            new WorkerHeartbeat("akka.tcp://varpulis@127.0.0.1:4001", "worker-0", 2, 1000, [Hosted], At),
            new WorkerHeartbeat("akka.tcp://varpulis@127.0.0.1:4001", null, 2, 1000, [], At),
            new PipelineHosted("akka.tcp://varpulis@127.0.0.1:4001", "worker-0", Hosted),
            new PipelineReleased("akka.tcp://varpulis@127.0.0.1:4001", "p1", "handoff"),
            ReportNow.Instance,
            new DrainBegun("worker-0", "akka.tcp://varpulis@127.0.0.1:4001", At),
            new DrainEnded("worker-0", "akka.tcp://varpulis@127.0.0.1:4001", At),
            new MigrationRecorded(Migration),
            new ClusterManagerSnapshot([new DrainBegun("worker-0", "akka.tcp://varpulis@127.0.0.1:4001", At)], [Migration]),
            HandOffPipeline.Instance,
            new PipelineOutputSubscribed("p1"),
            new PipelineOutputBatch("p1", ["{\"event_type\":\"A\"}", "{\"event_type\":\"B\"}"]),
            new PipelineOutputEnded("p1", "moving"),
            new PlacementDirectives(
                ["akka.tcp://varpulis@127.0.0.1:4001"],
                new Dictionary<string, string> { ["p1"] = "akka.tcp://varpulis@127.0.0.1:4002" },
                new Dictionary<string, int> { ["akka.tcp://varpulis@127.0.0.1:4001"] = 1000 },
                new Dictionary<string, string> { ["p2"] = "worker-1" },
                new Dictionary<string, string> { ["akka.tcp://varpulis@127.0.0.1:4001"] = "worker-0" },
                PlacementDirectives.RoundRobin),
            new RequestJoinGrant("worker-0"),
            new JoinGrant("postgresql", "Host=db;Password=secret"),
            new JoinGrant("sqlite", null),
            new DeliverToSinks(7, [Record, new SinkRecord("Hook", null, null, "{}"u8.ToArray())]),
            Record,
            new GetConnectorStatus("p1"),
            new GetConnectorStatus("p1") { TenantId = "t1" },
            Status,
            new ConnectorStatusList([Status, Status with { Direction = "source", Circuit = null, LastError = null }]),
            new GetSinkProgress("p1"),
            new SinkProgress(42),
            new StopConnectors("p1"),
            new StopConnectors("p1", DeadLetterDisposal.Delete),
            new DeadLetterCount(12),
            new ConnectorsStopped("p1"),
            new IngestSourceBatch("p1", "Bus", "{\"events\":[]}"u8.ToArray(), [new SourcePosition("t", 2, 17), SourcePosition.OfTopic("a/b")]),
            Letter,
            new GetDeadLetters("p1", 10, 50),
            new DeadLetterPage(3, [Letter]),
            new ClearDeadLetters("p1"),
            new DeadLettersCleared(3),
            new ReplayDeadLetters("p1", "Hook", 100),
            new ReplayDeadLetters("p1") { TenantId = "t1" },
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
    public void ASubscriptionCarriesItsSubscriberAsAResolvableReference()
    {
        var subscriber = _system.ActorOf(Akka.Actor.Props.Empty, "subscriber");
        var message = new SubscribePipelineOutput("p1", "t1", subscriber);
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<VarpulisSerializer>(serializer);
        var back = (SubscribePipelineOutput)_system.Serialization.Deserialize(
            serializer.ToBinary(message), serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, message));
        Assert.Equal(("p1", "t1"), (back.PipelineId, back.TenantId));
        Assert.Equal(subscriber, back.Subscriber);
    }

    [Fact]
    public void EveryMessageTypeIsCovered()
    {
        var covered = Messages().Select(m => m[0].GetType()).Append(typeof(SubscribePipelineOutput)).ToHashSet();
        Assert.Equal([], VarpulisSerializer.SupportedTypes.Where(t => !covered.Contains(t)).Select(t => t.Name));
    }

    [Fact]
    public void EveryProtocolTypeHasAManifest()
    {
        var protocol = typeof(IPipelineProtocol).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false }
                && (typeof(IPipelineProtocol).IsAssignableFrom(t) || typeof(IDirectoryProtocol).IsAssignableFrom(t) || typeof(IConnectorsProtocol).IsAssignableFrom(t)
                    || typeof(IClusterManagerProtocol).IsAssignableFrom(t) || typeof(IClusterBootstrapProtocol).IsAssignableFrom(t)
                    || typeof(IPipelineGroupProtocol).IsAssignableFrom(t)));
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
        Assert.Equal(14 + body.Length, bytes.Length);
    }

    [Fact]
    public void EventsAcceptedWrittenBeforeIdempotencyKeysStillReads()
    {
        // Layout 1: [1][is_batch][ingest time, 8 bytes LE][body]
        var body = "{\"event_type\":\"A\"}"u8.ToArray();
        var v1 = new byte[10 + body.Length];
        v1[0] = 1;
        v1[1] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(v1.AsSpan(2), 123);
        body.CopyTo(v1.AsSpan(10));
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(EventsAccepted));
        var e = (EventsAccepted)serializer.FromBinary(v1, "JE");
        Assert.Equal((123L, true, (string?)null), (e.IngestTimeNanos, e.IsBatch, e.IdempotencyKey));
        Assert.Equal(body, e.Body);
    }

    [Fact]
    public void EventBatchAcceptedUsesTheCompactBinaryLayout()
    {
        byte[] batch = [1, 0, 0];
        var plain = new EventBatchAccepted(1, false, batch);
        Assert.Equal(27 + batch.Length, _system.Serialization.FindSerializerFor(plain).ToBinary(plain).Length);
        var keyed = new EventBatchAccepted(1, true, batch, "k", new byte[32], [new IngestError(2, "bad")]);
        Assert.Equal(27 + 1 + 32 + (8 + 3) + batch.Length, _system.Serialization.FindSerializerFor(keyed).ToBinary(keyed).Length);
        var routed = new EventBatchAccepted(1, true, batch, Route: new RouteOrigin("a", 5));
        Assert.Equal(27 + 1 + 8 + batch.Length, _system.Serialization.FindSerializerFor(routed).ToBinary(routed).Length);
        var sourced = new EventBatchAccepted(1, true, batch, Source: new SourceOrigin("k1", [new KafkaPartitionOffset("t", 0, 9)]));
        Assert.Equal(27 + 2 + 4 + (4 + 1 + 12) + batch.Length, _system.Serialization.FindSerializerFor(sourced).ToBinary(sourced).Length);
    }

    [Fact]
    public void EventBatchAcceptedOfTheFirstLayoutStillReads()
    {
        // Layout 1 (before route and source origins): [1][is_batch][ingest time, 8][key length, 4, -1 = none][key]
        // [hash length, 1][hash][error count, 4]([index, 4][length, 4][utf-8])*[batch]
        byte[] v1 = [1, 1, .. BitConverter.GetBytes(42L), .. BitConverter.GetBytes(1), (byte)'k', 2, 0xAB, 0xCD,
            .. BitConverter.GetBytes(1), .. BitConverter.GetBytes(3), .. BitConverter.GetBytes(3), (byte)'b', (byte)'a', (byte)'d', 1, 0, 0];
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(EventBatchAccepted));
        var e = (EventBatchAccepted)serializer.FromBinary(v1, "JB");
        Assert.Equal(Canonical(new EventBatchAccepted(42, true, [1, 0, 0], "k", [0xAB, 0xCD], [new IngestError(3, "bad")])), Canonical(e));
        Assert.Null(e.Route);
        Assert.Null(e.Source);
    }

    [Fact]
    public void TruncatedEventBatchAcceptedIsRefused()
    {
        var keyed = new EventBatchAccepted(1, true, [], "key", new byte[32], [new IngestError(2, "bad")], new RouteOrigin("from", 3),
            new SourceOrigin("kafka", [new KafkaPartitionOffset("t", 1, 2), new KafkaPartitionOffset("u", 3, 4)]));
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(EventBatchAccepted));
        var bytes = serializer.ToBinary(keyed);
        // Every cut before the batch (here empty) loses a part of the header: refused, never read short.
        for (int n = 0; n < bytes.Length; n++)
        {
            var cut = bytes[..n];
            var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(cut, "JB"));
            Assert.Contains("EventBatchAccepted payload", ex.Message);
        }
        Assert.Equal(Canonical(keyed), Canonical(serializer.FromBinary(bytes, "JB")));
    }

    private static readonly PipelineGroup Group = new(
        "g1",
        "orders",
        "default",
        [new GroupPipelineSpec("a", "stream A = X", "worker-1", 1, null), new GroupPipelineSpec("b", "stream B = Y", null, 2, "k")],
        [new GroupRouteSpec("_external", "a", ["X"]), new GroupRouteSpec("a", "b", ["A*", "*"])],
        [new GroupDeployment("a", 0, "p-a"), new GroupDeployment("b", 0, "p-b0"), new GroupDeployment("b", 1, "p-b1")],
        GroupPhase.Deployed,
        At);

    // Records holding arrays and lists compare by reference: compare their JSON instead.
    private static string Canonical(object o) => o switch
    {
        EventBatchAccepted b => $"{b.IngestTimeNanos}|{b.IsBatch}|{Convert.ToBase64String(b.Batch)}|{b.IdempotencyKey ?? "<none>"}|{(b.BodyHash is null ? "<none>" : Convert.ToBase64String(b.BodyHash))}|{string.Join(";", b.Errors ?? [])}|{b.Route}|{(b.Source is null ? "<none>" : b.Source.Connector + ":" + string.Join(";", b.Source.Offsets))}",
        EventsAccepted e => $"{e.IngestTimeNanos}|{e.IsBatch}|{Convert.ToBase64String(e.Body)}|{e.IdempotencyKey}|{e.Route}",
        DeliverRoutedEvents d => $"{d.PipelineId}|{d.TenantId}|{d.Source}|{d.Sequence}|{Convert.ToBase64String(d.Body)}",
        IngestEvents i => $"{i.PipelineId}|{i.TenantId}|{i.IsBatch}|{Convert.ToBase64String(i.Body)}|{i.IdempotencyKey}|{i.DeadlineUnixMs}",
        IngestResult r => $"{r.Accepted}|{r.Rejected}|{string.Join(";", r.Errors)}|{Convert.ToBase64String(r.OutputEventsJson)}|{r.OutputCount}|{r.ProcessingTimeUs}",
        _ => JsonSerializer.Serialize(o, o.GetType(), VplJson.SerializerOptions),
    };

    public void Dispose() => _system.Dispose();
}
