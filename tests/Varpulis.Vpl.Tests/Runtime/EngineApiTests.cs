using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Tests.Runtime;

/// <summary>The engine's public surface: event time, end of input, counters and per-stream statistics.</summary>
public class EngineApiTests
{
    private const long Second = 1_000_000_000;

    [Fact]
    public void AdvanceTimeFiresDueWindowsWithoutAnEventAndNeverGoesBack()
    {
        var program = RuntimeKit.Compile("stream W = T.window(10s).aggregate(n: count()).emit(n: n)");
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process(RuntimeKit.Events(program, "@1s T { v: 1 }\n@2s T { v: 2 }"), sink);
        Assert.Empty(sink.Events);

        engine.AdvanceTime(9 * Second, sink);
        Assert.Empty(sink.Events);
        engine.AdvanceTime(10 * Second, sink);
        Assert.Equal(["""{"event_type":"W","timestamp":"1970-01-01T00:00:10Z","data":{"n":2}}"""], RuntimeKit.Lines(sink));
        Assert.Equal(10 * Second, engine.Watermark);

        engine.AdvanceTime(5 * Second, sink);
        Assert.Equal(10 * Second, engine.Watermark);
        Assert.Single(sink.Events);
    }

    [Fact]
    public void FinishFlushesTimeAndSessionWindowsButNotPartialCountWindows()
    {
        var program = RuntimeKit.Compile("""
            stream Time = T.window(10s).aggregate(n: count()).emit(n: n)
            stream Session = T.window(session: 1m).aggregate(n: count()).emit(n: n)
            stream Count = T.window(3).aggregate(n: count()).emit(n: n)
            """);
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process(RuntimeKit.Events(program, "@1s T { v: 1 }\n@2s T { v: 2 }"), sink);
        Assert.Empty(sink.Events);
        engine.Finish(sink);
        Assert.Equal(
            [
                """{"event_type":"Time","timestamp":"1970-01-01T00:00:10Z","data":{"n":2}}""",
                """{"event_type":"Session","timestamp":"1970-01-01T00:01:02Z","data":{"n":2}}""",
            ],
            RuntimeKit.Lines(sink));
    }

    [Fact]
    public void CountersCoverRoutedAndUnroutedEvents()
    {
        var program = RuntimeKit.Compile("""
            stream A = T.where(v > 1).emit(v: v)
            stream B = T.emit(v: v)
            """);
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process(RuntimeKit.Events(program, "@1s T { v: 1 }\n@2s Noise { v: 5 }\n@3s T { v: 2 }"), sink);
        Assert.Equal(3, engine.EventsProcessed);
        Assert.Equal(3, engine.OutputEventsEmitted);
        Assert.Equal(3 * Second, engine.MaxTimestamp);
        var stats = engine.GetStreamStats();
        Assert.Equal([new StreamStats("A", 2, 1, 0, 0), new StreamStats("B", 2, 2, 0, 0)], stats);
    }

    [Fact]
    public void LateEventsAreDroppedAndCountedOnlyWhereAllowedLatenessIsDeclared()
    {
        var program = RuntimeKit.Compile("""
            stream Strict = T.allowed_lateness(2s).emit(v: v)
            stream Lax = T.emit(v: v)
            """);
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        // 3s arrives when event time is 10s: 3 < 10 - 2 -> late for Strict; 9s is within the lateness.
        engine.Process(RuntimeKit.Events(program, "@10s T { v: 1 }\n@3s T { v: 2 }\n@9s T { v: 3 }"), sink);
        Assert.Equal(1, engine.LateEvents);
        var stats = engine.GetStreamStats();
        Assert.Equal(new StreamStats("Strict", 3, 2, 1, 0), stats[0]);
        Assert.Equal(new StreamStats("Lax", 3, 3, 0, 0), stats[1]);
    }

    [Fact]
    public void WatermarkIsTheHighestTimestampMinusTheDeclaredOutOfOrderness()
    {
        var program = RuntimeKit.Compile("stream W = T.watermark(out_of_order: 5s).emit(v: v)");
        Assert.Equal(5 * Second, program.OutOfOrderness);
        var engine = program.CreateEngine();
        engine.Process(RuntimeKit.Events(program, "@20s T { v: 1 }\n@12s T { v: 2 }"), new ListOutputSink());
        Assert.Equal(20 * Second, engine.MaxTimestamp);
        Assert.Equal(15 * Second, engine.Watermark);
    }

    [Fact]
    public void EnginesOfOneProgramAreIndependent()
    {
        var program = RuntimeKit.Compile("var n = 0\nfn bump() -> int:\n    n := n + 1\n    return n\nstream S = T.emit(n: bump())");
        var events = RuntimeKit.Events(program, "@1s T { v: 1 }\n@2s T { v: 2 }");
        var first = RuntimeKit.RunUninterrupted(program, events);
        var second = RuntimeKit.RunUninterrupted(program, events);
        Assert.Equal(first, second);
        Assert.Equal(
            [
                """{"event_type":"S","timestamp":"1970-01-01T00:00:01Z","data":{"n":1}}""",
                """{"event_type":"S","timestamp":"1970-01-01T00:00:02Z","data":{"n":2}}""",
            ],
            first);
    }

    [Fact]
    public void ProcessingOneByOneEqualsProcessingABatch()
    {
        var program = RuntimeKit.Compile("stream W = T.partition_by(k).window(10s).aggregate(s: sum(v)).emit(k: k, s: s)");
        var events = RuntimeKit.Events(program, "@1s T { k: \"a\", v: 1 }\n@2s T { k: \"b\", v: 2 }\n@12s T { k: \"a\", v: 3 }");
        var engine = program.CreateEngine();
        var sink = new ListOutputSink();
        foreach (var e in events) engine.Process(e, sink);
        engine.Finish(sink);
        Assert.Equal(RuntimeKit.RunUninterrupted(program, events), RuntimeKit.Lines(sink));
        Assert.Equal(3, sink.Events.Count);
    }
}
