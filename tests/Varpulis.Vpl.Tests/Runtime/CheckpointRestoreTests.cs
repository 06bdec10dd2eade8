using System.Text.Json.Nodes;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Tests.Runtime;

/// <summary>
/// vpl.md §9 beyond plain equivalence: restoring into a changed program, checkpoint versions, the counters a
/// checkpoint carries, and a rejected document leaving the engine as it was.
/// </summary>
public class CheckpointRestoreTests
{
    private const string Original = """
        stream Counts = T.window(3).aggregate(s: sum(v)).emit(s: s)
        stream Seen = T.distinct(k).emit(k: k)
        stream Firsts = T.limit(2).emit(v: v)
        """;

    // Counts: same text -> same shape. Seen: distinct(k) -> distinct(v) changes its shape. Firsts: removed.
    // Fresh: new.
    private const string Changed = """
        stream Counts = T.window(3).aggregate(s: sum(v)).emit(s: s)
        stream Seen = T.distinct(v).emit(k: k)
        stream Fresh = T.limit(1).emit(v: v)
        """;

    private const string Before = """
        @1s T { k: "a", v: 1 }
        @2s T { k: "b", v: 2 }
        """;

    private const string After = """
        @3s T { k: "a", v: 3 }
        @4s T { k: "c", v: 2 }
        """;

    [Fact]
    public void RestoringIntoAChangedProgramKeepsSameShapeStreamsAndResetsTheOthers()
    {
        var original = RuntimeKit.Compile(Original);
        var engine = original.CreateEngine();
        engine.Process(RuntimeKit.Events(original, Before), new ListOutputSink());
        var checkpoint = RuntimeKit.ThroughText(engine.CreateCheckpoint());

        var changed = RuntimeKit.Compile(Changed);
        var restored = changed.CreateEngine();
        var report = restored.Restore(checkpoint);
        Assert.Equal(["Counts"], report.RestoredStreams);
        Assert.Equal(["Seen", "Fresh"], report.ResetStreams);
        Assert.Equal(2, report.EventsRestored);

        var sink = new ListOutputSink();
        restored.Process(RuntimeKit.Events(changed, After), sink);
        restored.Finish(sink);
        // Counts kept v 1, 2 and completes its window with v 3: s 6 at 3s.
        // Seen (reset) sees v 3, then v 2 — both new to an empty distinct(v).
        // Fresh lets its first event through.
        Assert.Equal(
            [
                """{"event_type":"Counts","timestamp":"1970-01-01T00:00:03Z","data":{"s":6}}""",
                """{"event_type":"Seen","timestamp":"1970-01-01T00:00:03Z","data":{"k":"a"}}""",
                """{"event_type":"Fresh","timestamp":"1970-01-01T00:00:03Z","data":{"v":3}}""",
                """{"event_type":"Seen","timestamp":"1970-01-01T00:00:04Z","data":{"k":"c"}}""",
            ],
            RuntimeKit.Lines(sink));
    }

    [Fact]
    public void RestoringIntoTheSameProgramRestoresEveryStream()
    {
        var program = RuntimeKit.Compile(Original);
        var engine = program.CreateEngine();
        engine.Process(RuntimeKit.Events(program, Before), new ListOutputSink());
        var report = program.CreateEngine().Restore(RuntimeKit.ThroughText(engine.CreateCheckpoint()));
        Assert.Equal(["Counts", "Seen", "Firsts"], report.RestoredStreams);
        Assert.Empty(report.ResetStreams);
    }

    [Fact]
    public void CheckpointCarriesVersionOneAndTheCounters()
    {
        var program = RuntimeKit.Compile(Original);
        var engine = program.CreateEngine();
        engine.Process(RuntimeKit.Events(program, Before + "\n" + After), new ListOutputSink());
        var checkpoint = RuntimeKit.ThroughText(engine.CreateCheckpoint());
        Assert.Equal(1, (int)checkpoint["version"]!);
        Assert.Equal(4, (long)checkpoint["events_processed"]!);
        // Counts 1 (s 6), Seen 3 (a, b, c), Firsts 2 (v 1, v 2).
        Assert.Equal(6, (long)checkpoint["output_events_emitted"]!);
        Assert.Equal(6, engine.OutputEventsEmitted);

        var restored = program.CreateEngine();
        restored.Restore(checkpoint);
        Assert.Equal(4, restored.EventsProcessed);
        Assert.Equal(6, restored.OutputEventsEmitted);
        Assert.Equal(engine.MaxTimestamp, restored.MaxTimestamp);
        Assert.Equal(engine.Watermark, restored.Watermark);
    }

    [Fact]
    public void ACheckpointWithANewerVersionIsRejectedAndTheEngineIsUnchanged()
    {
        var program = RuntimeKit.Compile(Original);
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process(RuntimeKit.Events(program, Before), sink);

        var other = program.CreateEngine();
        other.Process(RuntimeKit.Events(program, "@1s T { k: \"z\", v: 100 }"), new ListOutputSink());
        var checkpoint = RuntimeKit.ThroughText(other.CreateCheckpoint());
        checkpoint["version"] = 2;

        var ex = Assert.Throws<CheckpointException>(() => engine.Restore(checkpoint));
        Assert.Equal("checkpoint version 2 is newer than this engine supports (max 1)", ex.Message);

        // The engine still has its own state: the window completes with v 3 (1 + 2 + 3 = 6), "a" is a repeat.
        engine.Process(RuntimeKit.Events(program, After), sink);
        engine.Finish(sink);
        Assert.Equal(RuntimeKit.RunUninterrupted(program, RuntimeKit.Events(program, Before + "\n" + After)), RuntimeKit.Lines(sink));
    }

    [Fact]
    public void ACheckpointWithoutAVersionIsReadAsVersionOne()
    {
        var program = RuntimeKit.Compile(Original);
        var all = RuntimeKit.Events(program, Before + "\n" + After);
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process(all.Take(2).ToList(), sink);
        var checkpoint = RuntimeKit.ThroughText(engine.CreateCheckpoint());
        Assert.True(checkpoint.Remove("version"));

        var restored = program.CreateEngine();
        var report = restored.Restore(checkpoint);
        Assert.Equal(["Counts", "Seen", "Firsts"], report.RestoredStreams);
        restored.Process(all.Skip(2).ToList(), sink);
        restored.Finish(sink);
        Assert.Equal(RuntimeKit.RunUninterrupted(program, all), RuntimeKit.Lines(sink));
    }

    [Theory]
    [InlineData(0, "invalid checkpoint version 0")]
    [InlineData(-1, "invalid checkpoint version -1")]
    public void ACheckpointWithAnInvalidVersionIsRejected(int version, string message)
    {
        var program = RuntimeKit.Compile(Original);
        var checkpoint = RuntimeKit.ThroughText(program.CreateEngine().CreateCheckpoint());
        checkpoint["version"] = version;
        var ex = Assert.Throws<CheckpointException>(() => program.CreateEngine().Restore(checkpoint));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void ACheckpointWithUnreadableStateIsRejectedAndTheEngineIsUnchanged()
    {
        var program = RuntimeKit.Compile(Original);
        var all = RuntimeKit.Events(program, Before + "\n" + After);
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process(all.Take(2).ToList(), sink);

        var broken = RuntimeKit.ThroughText(engine.CreateCheckpoint());
        var counts = broken["streams"]!["Counts"]!["operators"]!.AsArray();
        counts[0]!["state"]!["partitions"]![0]!["events"]![0]!["ts"] = "not a number";
        Assert.Throws<CheckpointException>(() => engine.Restore(broken));

        engine.Process(all.Skip(2).ToList(), sink);
        engine.Finish(sink);
        Assert.Equal(RuntimeKit.RunUninterrupted(program, all), RuntimeKit.Lines(sink));
    }

    /// <summary>
    /// <c>Restore(JsonObject)</c> takes the document <c>CreateCheckpoint()</c> returns; a host that keeps it in
    /// memory (an actor snapshot, a test) must not have to serialize it first.
    /// </summary>
    [Fact]
    public void ACheckpointObjectCanBeRestoredWithoutGoingThroughText()
    {
        var program = RuntimeKit.Compile("""
            var n = 0
            fn bump() -> int:
                n := n + 1
                return n
            stream W = T.window(10s).aggregate(s: sum(v), a: avg(v)).emit(s: s, a: a, c: bump())
            stream D = T.distinct(k).emit(k: k)
            """);
        var all = RuntimeKit.Events(program, """
            @1s T { k: "a", v: 1.0 }
            @2s T { k: "b", v: 2 }
            @12s T { k: "a", v: 3 }
            @13s T { k: "c", v: 4.5 }
            """);
        var expected = RuntimeKit.RunUninterrupted(program, all);
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process(all.Take(3).ToList(), sink);
        var restored = program.CreateEngine();
        restored.Restore(engine.CreateCheckpoint());
        restored.Process(all.Skip(3).ToList(), sink);
        restored.Finish(sink);
        Assert.Equal(expected, RuntimeKit.Lines(sink));
    }
}
