using System.Text;
using Varpulis.Host.Cli;
using Varpulis.Host.Simulate;

namespace Varpulis.Host.Tests.Cli;

public class SimulateCommandTests
{
    private sealed record Result(int Code, string Stdout, string Stderr, string Events);

    private static Result Simulate(SimulateOptions options)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var events = new MemoryStream();
        int code = new Simulation(options, stdout, stderr, () => events).Run();
        return new Result(code, stdout.ToString(), stderr.ToString(), Encoding.UTF8.GetString(events.ToArray()));
    }

    private const string HighTemp = """
        stream HighTemp = TempReading as t
            .where(t.value > 100)
            .emit(sensor: t.sensor, value: t.value)
        """;

    private const string ThreeReadings = """
        TempReading { sensor: "S1", value: 95.5 }
        @1s TempReading { sensor: "S1", value: 101.2 }
        @2s TempReading { sensor: "S2", value: 120 }
        """;

    [Fact]
    public void PrintsOutputEventsAsJsonLinesAndTheSummaryOnStandardError()
    {
        using var dir = new TempDir();
        var r = Simulate(new SimulateOptions { ProgramPath = dir.File("p.vpl", HighTemp), EventsPath = dir.File("e.evt", ThreeReadings), Immediate = true });
        Assert.Equal(0, r.Code);
        Assert.Equal(
            "{\"event_type\":\"HighTemp\",\"timestamp\":\"1970-01-01T00:00:01Z\",\"data\":{\"sensor\":\"S1\",\"value\":101.2}}\n" +
            "{\"event_type\":\"HighTemp\",\"timestamp\":\"1970-01-01T00:00:02Z\",\"data\":{\"sensor\":\"S2\",\"value\":120}}\n",
            r.Events);
        Assert.Equal(string.Empty, r.Stdout);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Events processed: 3", lines[0]);
        Assert.Equal("Output events emitted: 2", lines[1]);
        Assert.Matches(@"^Duration: \d+\.\d{3} s$", lines[2]);
        Assert.Matches(@"^Event rate: \d+ events/sec$", lines[3]);
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public void QuietWithOutputFileWritesTheFileAndPutsTheSummaryOnStandardOutput()
    {
        using var dir = new TempDir();
        var output = dir.Combine("out.jsonl");
        var r = Simulate(new SimulateOptions
        {
            ProgramPath = dir.File("p.vpl", HighTemp), EventsPath = dir.File("e.evt", ThreeReadings), Immediate = true, Quiet = true, OutputPath = output, Preload = true,
        });
        Assert.Equal(0, r.Code);
        Assert.Equal(string.Empty, r.Events);
        Assert.Equal(2, File.ReadAllLines(output).Length);
        Assert.Contains("Events processed: 3\n", r.Stdout);
        Assert.Contains("Output events emitted: 2\n", r.Stdout);
        Assert.Matches(@"Engine rate: \d+ events/sec", r.Stdout);
        Assert.Equal(string.Empty, r.Stderr);
    }

    [Fact]
    public void MalformedLineStopsWithExitCodeOneNamingFileLineAndColumn()
    {
        using var dir = new TempDir();
        var events = dir.File("e.evt", "TempReading { value: 101 }\nTempReading { value 5 }\nTempReading { value: 200 }\n");
        var r = Simulate(new SimulateOptions { ProgramPath = dir.File("p.vpl", HighTemp), EventsPath = events, Immediate = true, Quiet = true });
        Assert.Equal(1, r.Code);
        Assert.StartsWith($"error: {events}:2:21: ", r.Stderr);
    }

    [Fact]
    public void SkipInvalidCountsAndReportsSkippedLines()
    {
        using var dir = new TempDir();
        var events = dir.File("e.evt", "TempReading { value: 101 }\nTempReading { value 5 }\nTempReading { value: 200 }\n");
        var r = Simulate(new SimulateOptions { ProgramPath = dir.File("p.vpl", HighTemp), EventsPath = events, Immediate = true, Quiet = true, SkipInvalid = true });
        Assert.Equal(0, r.Code);
        Assert.Contains("Events processed: 2\n", r.Stdout);
        Assert.Contains("Output events emitted: 2\n", r.Stdout);
        Assert.Contains("Skipped invalid lines: 1\n", r.Stdout);
        Assert.StartsWith($"skipped {events}:2:21: ", r.Stderr);
    }

    [Fact]
    public void StartTimeShiftsEventTime()
    {
        using var dir = new TempDir();
        var r = Simulate(new SimulateOptions
        {
            ProgramPath = dir.File("p.vpl", HighTemp), EventsPath = dir.File("e.evt", ThreeReadings), Immediate = true, StartTime = "2026-01-23T10:00:00Z",
        });
        Assert.Equal(0, r.Code);
        Assert.StartsWith("{\"event_type\":\"HighTemp\",\"timestamp\":\"2026-01-23T10:00:01Z\"", r.Events);
    }

    [Fact]
    public void InvalidStartTimeIsAnError()
    {
        using var dir = new TempDir();
        var r = Simulate(new SimulateOptions { ProgramPath = dir.File("p.vpl", HighTemp), EventsPath = dir.File("e.evt", ThreeReadings), StartTime = "yesterday" });
        Assert.Equal(1, r.Code);
        Assert.Equal("error: invalid --start-time 'yesterday': expected RFC 3339 (2026-01-23T10:00:00Z) or epoch milliseconds\n", r.Stderr.Replace("\r\n", "\n"));
    }

    [Fact]
    public void ProgramErrorsArePrintedAndExitWithOne()
    {
        using var dir = new TempDir();
        var p = dir.File("p.vpl", "stream S = T .where(x >) .emit(x: x)\n");
        var r = Simulate(new SimulateOptions { ProgramPath = p, EventsPath = dir.File("e.evt", ThreeReadings) });
        Assert.Equal(1, r.Code);
        Assert.Contains($"{p}:1:24: error VPL0023: expected an expression", r.Stderr);
    }

    [Fact]
    public void WithoutImmediateEventsArePacedByTheirOffsets()
    {
        using var dir = new TempDir();
        var events = dir.File("e.evt", "TempReading { value: 101 }\n@300ms TempReading { value: 102 }\n");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = Simulate(new SimulateOptions { ProgramPath = dir.File("p.vpl", HighTemp), EventsPath = events, Quiet = true });
        Assert.Equal(0, r.Code);
        Assert.True(sw.ElapsedMilliseconds >= 290, $"took {sw.ElapsedMilliseconds} ms");
        Assert.Contains("Output events emitted: 2\n", r.Stdout);
    }

    private const string Tumbling = """
        stream PerSecond = Tick
            .partition_by(sym)
            .window(1s)
            .aggregate(n: count(), total: sum(v))
            .emit(sym: sym, n: n, total: total)
        """;

    private static string TickLines(int from, int to)
    {
        var sb = new StringBuilder();
        for (int i = from; i < to; i++) sb.Append($"@{i * 300}ms Tick {{ sym: \"{(i % 2 == 0 ? "A" : "B")}\", v: {i} }}\n");
        return sb.ToString();
    }

    [Fact]
    public void CheckpointDirContinuesWindowsAcrossFiles()
    {
        using var dir = new TempDir();
        var program = dir.File("p.vpl", Tumbling);
        var whole = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = dir.File("all.evt", TickLines(0, 20)), Immediate = true });
        Assert.Equal(0, whole.Code);

        var cp = dir.Combine("cp");
        var first = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = dir.File("a.evt", TickLines(0, 9)), Immediate = true, CheckpointDir = cp });
        Assert.Equal(0, first.Code);
        Assert.Contains("Open windows and runs carried over in checkpoint 1; pass --flush to end the input with this file", first.Stderr);
        var second = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = dir.File("b.evt", TickLines(9, 20)), Immediate = true, CheckpointDir = cp, Flush = true });
        Assert.Equal(0, second.Code);
        Assert.StartsWith("Auto-restored from checkpoint 1 (9 events)\n", second.Stderr);
        Assert.Contains("Events processed: 11\n", second.Stderr);

        Assert.Equal(whole.Events, first.Events + second.Events);
        Assert.Equal(12, whole.Events.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(File.Exists(Path.Combine(cp, "checkpoint-000002.json")));
    }

    [Fact]
    public void CheckpointDirKeepsTheNewestThree()
    {
        using var dir = new TempDir();
        var program = dir.File("p.vpl", Tumbling);
        var cp = dir.Combine("cp");
        for (int run = 0; run < 5; run++)
        {
            var r = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = dir.File($"f{run}.evt", TickLines(run * 4, run * 4 + 4)), Immediate = true, Quiet = true, CheckpointDir = cp });
            Assert.Equal(0, r.Code);
        }
        var files = Directory.GetFiles(cp).Select(f => Path.GetFileName(f)!).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "checkpoint-000003.json", "checkpoint-000004.json", "checkpoint-000005.json" }, files);
    }

    [Fact]
    public void WorkersGiveTheSameOutputMultisetAsOneWorker()
    {
        using var dir = new TempDir();
        var program = dir.File("p.vpl", Tumbling);
        var events = dir.File("e.evt", TickLines(0, 200));
        var one = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = events, Immediate = true });
        var four = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = events, Immediate = true, Workers = 4 });
        Assert.Equal(0, four.Code);
        Assert.StartsWith("Running on 4 workers, partitioned by 'sym'.\n", four.Stderr);
        var a = one.Events.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        var b = four.Events.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(120, a.Length);
        Assert.Equal(a, b);
    }

    [Fact]
    public void PreloadedWorkersParseTheFileInBlocksWithTheSameOutputsAndErrors()
    {
        using var dir = new TempDir();
        var program = dir.File("p.vpl", Tumbling);
        // About 2.6 MB: three blocks of the parallel loader, with BATCH offsets that carry across them.
        var sb = new StringBuilder();
        for (int i = 0; i < 60_000; i++)
        {
            if (i % 7 == 0) sb.Append("BATCH ").Append(i * 100).Append('\n');
            sb.Append("Tick { sym: \"").Append((char)('A' + (i % 5))).Append("\", v: ").Append(i).Append(" }\n");
        }
        var events = dir.File("e.evt", sb.ToString());
        var one = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = events, Immediate = true, Preload = true });
        var two = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = events, Immediate = true, Preload = true, Workers = 2 });
        Assert.Equal((0, 0), (one.Code, two.Code));
        var a = one.Events.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        var b = two.Events.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(30_000, a.Length);
        Assert.Equal(a, b);

        // A malformed line in the third block: the same error, with its line number.
        var bad = dir.File("bad.evt", sb.ToString() + "Tick { sym: \"A\", v: 1 }\nTick { sym \"A\" }\n" + sb);
        var oneBad = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = bad, Immediate = true, Preload = true, Quiet = true });
        var twoBad = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = bad, Immediate = true, Preload = true, Quiet = true, Workers = 2 });
        Assert.Equal((1, 1), (oneBad.Code, twoBad.Code));
        Assert.StartsWith($"error: {bad}:{60_000 + 8_572 + 2}:12: ", oneBad.Stderr);
        Assert.Equal(oneBad.Stderr, twoBad.Stderr);
    }

    [Fact]
    public void ProgramThatCannotBeSplitRunsOnOneWorkerAndSaysSo()
    {
        using var dir = new TempDir();
        var program = dir.File("p.vpl", "stream Counts = Tick .window(3) .aggregate(n: count()) .emit(n: n)\n");
        var r = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = dir.File("e.evt", TickLines(0, 9)), Immediate = true, Workers = 2 });
        Assert.Equal(0, r.Code);
        Assert.StartsWith("Running on 1 worker: the program cannot be split safely (stream 'Counts' keeps state that is not partitioned by a single field).\n", r.Stderr);
        Assert.Equal(3, r.Events.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void ConsoleAndFileSinksAreWrittenAndOtherSinksCounted()
    {
        using var dir = new TempDir();
        var sinkFile = dir.Combine("sink.jsonl");
        var program = dir.File("p.vpl", $$"""
            connector Out = file(path: "{{sinkFile.Replace("\\", "\\\\")}}")
            connector Broker = mqtt(host: "localhost", port: 1883)
            stream Hot = TempReading .where(value > 100) .emit(v: value) .to(Out) .to(Broker, topic: "hot")
            """);
        var r = Simulate(new SimulateOptions { ProgramPath = program, EventsPath = dir.File("e.evt", ThreeReadings), Immediate = true, Quiet = true });
        Assert.Equal(0, r.Code);
        Assert.Equal(2, File.ReadAllLines(sinkFile).Length);
        Assert.Contains("Sink events not delivered: 2 (simulate delivers only to console and file connectors)\n", r.Stdout);
    }
}
