using System.Text;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>
/// The connector side of a pipeline's state: sink outputs collected per request, kept until settled and carried in
/// snapshots; Kafka records journaled once; a batch body rebuilt without the records already journaled.
/// </summary>
public sealed class PipelineConnectorStateTests
{
    private static CompiledProgram Program() => VplCompiler.Compile("""
        connector Bus = kafka (brokers: "127.0.0.1:9092", group_id: "g")
        connector Hook = http (url: "http://127.0.0.1:1/h")
        event Reading:
            value: int
        stream Readings = Reading.from(Bus, topic: "readings")
        stream Big = Readings .where(value > 10) .emit(value: value) .to(Hook)
        """).Program!;

    [Fact]
    public void OutputsOfTheEnginesToCallsAreKeptUntilTheSinksSettleThem()
    {
        var program = Program();
        var state = new PipelineConnectorState();
        state.UseProgram(program);
        Assert.True(state.HasConnectors);
        var engine = program.CreateEngine(new EngineOptions { Host = new Varpulis.Actors.Pipelines.PipelineEngineHost("p", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, state) });
        var builder = new EventBuilder(program.Types);
        var events = new[] { 5, 11, 12 }.Select((v, i) =>
        {
            Assert.True(builder.TryBegin("Reading", out _));
            Assert.True(builder.TrySet("value", Value.FromInt(v), out _));
            Assert.True(builder.TryBuild(1_000_000_000L * (i + 1), out var e, out _));
            return e!;
        }).ToList();
        engine.Process(events, new ListOutputSink());
        var pending = state.TakePending();
        Assert.NotNull(pending);
        Assert.Equal(
            ["""{"event_type":"Big","timestamp":"1970-01-01T00:00:02Z","data":{"value":11}}""", """{"event_type":"Big","timestamp":"1970-01-01T00:00:03Z","data":{"value":12}}"""],
            pending.Select(r => Encoding.UTF8.GetString(r.Json)));
        Assert.All(pending, r => Assert.Equal("Hook", r.Connector));
        Assert.Null(state.TakePending());

        state.AddUnsettled(4, pending);
        state.AddUnsettled(7, pending.Take(1).ToList());
        state.AddUnsettled(9, []);
        Assert.Equal([4L, 7L], state.Unsettled.Select(u => u.SequenceNr));
        state.Settle(5);
        Assert.Equal([7L], state.Unsettled.Select(u => u.SequenceNr));

        // A snapshot carries what is not settled, and the Kafka ledger.
        state.RecordOffsets([new KafkaPartitionOffset("readings", 0, 41)]);
        var restored = new PipelineConnectorState();
        restored.UseProgram(program);
        restored.Import(state.ExportOffsets(), state.ExportUnsettled());
        Assert.Equal([7L], restored.Unsettled.Select(u => u.SequenceNr));
        Assert.True(restored.Ledger.IsDuplicate(new SourcePosition("readings", 0, 41)));
        Assert.False(restored.Ledger.IsDuplicate(new SourcePosition("readings", 0, 42)));
        Assert.False(restored.Ledger.IsDuplicate(new SourcePosition("readings", 1, 0)));
    }

    [Fact]
    public void ABatchIsJournaledWithTheHighestOffsetOfEachPartition()
    {
        var offsets = PipelineConnectorState.HighestOffsets(
            [new SourcePosition("a", 0, 5), new SourcePosition("a", 0, 9), new SourcePosition("a", 1, 2), SourcePosition.OfTopic("mqtt/topic")]);
        Assert.Equal([new KafkaPartitionOffset("a", 0, 9), new KafkaPartitionOffset("a", 1, 2)], offsets.OrderBy(o => o.Partition));
    }

    [Fact]
    public void ABatchBodyLosesOnlyTheRecordsAlreadyJournaled()
    {
        var body = Encoding.UTF8.GetBytes("""{"events":[{"event_type":"R","fields":{"v":"ü"}},{"event_type":"R","fields":{"v":2}},{"event_type":"R","fields":{"v":3}}]}""");
        SourcePosition[] positions = [new("t", 0, 40), new("t", 0, 41), new("t", 0, 42)];
        var same = SourceBatchBuilder.Without(body, positions, p => p.Offset < 0, out var all);
        Assert.Same(body, same);
        Assert.Equal(positions, all);
        var trimmed = SourceBatchBuilder.Without(body, positions, p => p.Offset <= 41, out var kept);
        Assert.Equal("""{"events":[{"event_type":"R","fields":{"v":3}}]}""", Encoding.UTF8.GetString(trimmed));
        Assert.Equal([new SourcePosition("t", 0, 42)], kept);
        var none = SourceBatchBuilder.Without(body, positions, _ => true, out var empty);
        Assert.Equal("""{"events":[]}""", Encoding.UTF8.GetString(none));
        Assert.Empty(empty);
    }
}
