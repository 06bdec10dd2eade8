using System.Text;
using Akka.Actor;
using Akka.Streams;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Kafka;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Tests.Infrastructure;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>Kafka source and sink against librdkafka's mock cluster (real protocol on loopback).</summary>
public sealed class KafkaConnectorTests : IAsyncLifetime
{
    private readonly KafkaMockCluster _kafka = new();
    private readonly ActorSystem _system = ActorSystem.Create("kafka-tests");
    private readonly CapturingLoggerFactory _logs = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        _kafka.Dispose();
    }

    private KafkaSettings Settings(string group, TimeSpan? timeout = null, string? brokers = null)
        => new("Bus", [brokers ?? _kafka.BootstrapServers], group, null, "earliest", "plaintext", null, null, null, null, "none", timeout ?? TimeSpan.FromSeconds(10))
        {
            Extra = KafkaMockCluster.FastGroup,
        };

    private static SourceSettings Batching => new(50, TimeSpan.FromMilliseconds(50), 2, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2));

    private (RunningSource Running, ConnectorHealth Health) StartSource(ISourceBatchTarget target, string group, string topic)
    {
        var health = new ConnectorHealth("p1", "Bus", ConnectorKind.Kafka, BindingDirection.Source);
        var source = new KafkaSource(Settings(group), [new KafkaSubscription(topic, "Reading")], Batching, health, _logs.CreateLogger("Varpulis.Actors.Connectors.Kafka"));
        return (SourceGraph.Run(source, Batching, target, health, _logs.CreateLogger("Varpulis.Actors.Connectors"), _system.Materializer()), health);
    }

    private static IEnumerable<string> Readings(int from, int count) => Enumerable.Range(from, count).Select(i => $$"""{"n":{{i}}}""");

    [Fact]
    public async Task OffsetsAreCommittedOnlyAfterThePipelineTookTheBatch()
    {
        await _kafka.ProduceAsync("readings", Readings(0, 200));
        var target = new RecordingTarget();
        target.FailNext(3);
        var (running, health) = StartSource(target, "g1", "readings");
        await Eventually.True(() => target.Field("n").Distinct().Count() == 200, "200 records journaled");
        await Eventually.True(() => _kafka.Committed("g1", "readings").Values.Sum() == 200, "offsets committed through the end");
        Assert.Equal(_kafka.EndOffsets("readings"), _kafka.Committed("g1", "readings"));
        // Three failed batches were read again (not committed), so nothing is missing.
        Assert.Equal(Enumerable.Range(0, 200), target.Field("n").Select(int.Parse).Distinct().Order());
        Assert.All(target.Events, e => Assert.Equal("Reading", e.GetProperty("event_type").GetString()));
        Assert.NotEmpty(_logs.Matching("lost its connection: pipeline did not answer"));
        await running.DrainAsync();
        Assert.Equal(ConnectionState.Stopped, health.Connection);
    }

    [Fact]
    public async Task ARestartedSourceResumesFromTheCommittedOffsetAndTheLedgerDropsReplayedRecords()
    {
        await _kafka.ProduceAsync("resume", Readings(0, 300));
        var ledger = new KafkaOffsetLedger();
        var journal = new List<int>();
        var target = new LedgerTarget(ledger, journal);
        var (first, _) = StartSource(target, "g2", "resume");
        await Eventually.True(() => { lock (journal) return journal.Count >= 100; }, "a third journaled");
        // The consuming side dies without a clean stop: batches in flight are neither committed nor lost.
        first.Abort();
        await first.Completion;
        await _kafka.ProduceAsync("resume", Readings(300, 100));
        var (second, _) = StartSource(target, "g2", "resume");
        await Eventually.True(() => { lock (journal) return journal.Count == 400; }, "400 records journaled once each");
        await Eventually.True(() => _kafka.Committed("g2", "resume").Values.Sum() == 400, "offsets committed through the end");
        await second.DrainAsync();
        lock (journal) Assert.Equal(Enumerable.Range(0, 400), journal.Order());
    }

    [Fact]
    public async Task TheSinkDeliversWithAcksAllAndKeys()
    {
        var health = new ConnectorHealth("p1", "Bus", ConnectorKind.Kafka, BindingDirection.Sink);
        await using var sink = new KafkaSinkConnector(Settings("unused"), health, _logs.CreateLogger("Varpulis.Actors.Connectors.Kafka"));
        var records = Enumerable.Range(0, 100)
            .Select(i => new SinkRecord("Bus", "alerts", "sensor-" + (i % 4), Encoding.UTF8.GetBytes($$$"""{"event_type":"Hot","timestamp":"2026-01-23T10:00:00Z","data":{"n":{{{i}}}}}""")))
            .ToList();
        var result = await sink.DeliverAsync(records, CancellationToken.None);
        Assert.True(result.AllDelivered, string.Join("; ", result.Errors.Where(e => e is not null)));
        var read = _kafka.ReadAll("alerts", 100);
        Assert.Equal(100, read.Count);
        // Records of one key stay in order (one partition per key).
        foreach (var g in read.GroupBy(r => r.Key))
        {
            var ns = g.Select(r => int.Parse(r.Value.Split("\"n\":")[1].TrimEnd('}'))).ToList();
            Assert.Equal(ns.Order(), ns);
            Assert.All(ns, n => Assert.Equal(g.Key, "sensor-" + (n % 4)));
        }
        Assert.Equal(ConnectionState.Connected, health.Connection);
    }

    [Fact]
    public async Task ASinkWithoutABrokerFailsEachRecordWithinTheTimeout()
    {
        var health = new ConnectorHealth("p1", "Bus", ConnectorKind.Kafka, BindingDirection.Sink);
        await using var sink = new KafkaSinkConnector(Settings("unused", TimeSpan.FromSeconds(1), $"127.0.0.1:{MosquittoBroker.FreePort()}"), health,
            _logs.CreateLogger("Varpulis.Actors.Connectors.Kafka"));
        var result = await sink.DeliverAsync([new SinkRecord("Bus", "alerts", null, "{}"u8.ToArray()), new SinkRecord("Bus", "alerts", null, "{}"u8.ToArray())], CancellationToken.None);
        Assert.Equal(0, result.DeliveredCount);
        Assert.All(result.Errors, e => Assert.Contains("timed out", e, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Stands in for the pipeline: drops records its ledger has journaled, journals the rest, notes their positions.</summary>
    private sealed class LedgerTarget(KafkaOffsetLedger ledger, List<int> journal) : ISourceBatchTarget
    {
        public Task<SourceBatchOutcome> DeliverAsync(SourceBatch batch, CancellationToken cancellationToken)
        {
            lock (journal)
            {
                var fresh = ledger.Filter(batch);
                using var doc = System.Text.Json.JsonDocument.Parse(fresh.Body);
                foreach (var e in doc.RootElement.GetProperty("events").EnumerateArray()) journal.Add(e.GetProperty("fields").GetProperty("n").GetInt32());
                ledger.Record(fresh.Positions);
                return Task.FromResult(new SourceBatchOutcome(fresh.EventCount, 0, Array.Empty<string>()));
            }
        }
    }
}
