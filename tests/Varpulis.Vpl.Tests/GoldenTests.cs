using System.Text;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Tests;

/// <summary>
/// Golden tests: every directory under <c>Golden/</c> holds <c>program.vpl</c>, <c>events.evt</c> and
/// <c>expected.jsonl</c> (the output events, one JSON line each, in emission order, after end of input).
/// An optional <c>options.json</c> sets engine options (<c>max_runs</c>, <c>max_kleene_events</c>,
/// <c>distinct_capacity</c>, <c>start_time_ms</c>). Each case also runs split at several points with a
/// checkpoint/restore in between, through the JSON text of the checkpoint: the output must not change.
/// </summary>
public class GoldenTests
{
    public static string GoldenRoot => Path.Combine(AppContext.BaseDirectory, "Golden");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        if (!Directory.Exists(GoldenRoot)) return data;
        foreach (var dir in Directory.GetDirectories(GoldenRoot).OrderBy(d => d, StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden(string name)
    {
        var c = GoldenCase.Load(name);
        var actual = c.Run(splitAt: null);
        Assert.Equal(c.Expected, actual);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GoldenSurvivesCheckpointRestore(string name)
    {
        var c = GoldenCase.Load(name);
        int n = c.Events.Count;
        foreach (int k in new[] { 1, n / 3, n / 2, 2 * n / 3, n - 1 }.Where(k => k > 0 && k < n).Distinct())
        {
            var actual = c.Run(splitAt: k);
            Assert.True(c.Expected.SequenceEqual(actual), $"checkpoint after {k} of {n} events changed the output:\n{string.Join("\n", actual)}");
        }
    }

    [Fact]
    public void ThereAreEnoughGoldenCases()
    {
        Assert.True(Cases().Count >= 80, $"only {Cases().Count} golden cases");
    }
}

internal sealed class GoldenCase
{
    private GoldenCase(string name, CompiledProgram program, List<Event> events, List<string> expected, EngineOptions options)
    {
        Name = name;
        Program = program;
        Events = events;
        Expected = expected;
        Options = options;
    }

    public string Name { get; }

    public CompiledProgram Program { get; }

    public List<Event> Events { get; }

    public List<string> Expected { get; }

    public EngineOptions Options { get; }

    public static GoldenCase Load(string name)
    {
        var dir = Path.Combine(GoldenTests.GoldenRoot, name);
        var source = File.ReadAllText(Path.Combine(dir, "program.vpl"));
        var compilation = VplCompiler.Compile(source, new CompileOptions { Path = $"{name}/program.vpl" });
        Assert.True(compilation.Success, string.Join("\n", compilation.Diagnostics.Select(d => d.Format())));
        var opts = new EngineOptions();
        long start = 0;
        var optionsPath = Path.Combine(dir, "options.json");
        if (File.Exists(optionsPath))
        {
            var o = JsonNode.Parse(File.ReadAllText(optionsPath))!.AsObject();
            opts = new EngineOptions
            {
                MaxRunsPerStream = (int?)o["max_runs"] ?? opts.MaxRunsPerStream,
                MaxKleeneEvents = (int?)o["max_kleene_events"] ?? opts.MaxKleeneEvents,
                DistinctCapacity = (int?)o["distinct_capacity"] ?? opts.DistinctCapacity,
            };
            start = ((long?)o["start_time_ms"] ?? 0) * TimeFormat.NanosPerMilli;
        }
        var events = new List<Event>();
        using (var stream = File.OpenRead(Path.Combine(dir, "events.evt")))
        {
            var reader = new EvtReader(stream, compilation.Program!.Types, new EvtReaderOptions { Path = $"{name}/events.evt", BaseTimeNanos = start });
            while (reader.ReadBatch(events, null, 1024) > 0)
            {
            }
        }
        var expected = File.ReadAllLines(Path.Combine(dir, "expected.jsonl"), Encoding.UTF8).Where(l => l.Trim().Length > 0).Select(Normalize).ToList();
        return new GoldenCase(name, compilation.Program!, events, expected, opts);
    }

    /// <summary>Re-renders a JSON line so formatting differences (spacing) do not matter.</summary>
    private static string Normalize(string line) => JsonNode.Parse(line)!.ToJsonString();

    public List<string> Run(int? splitAt)
    {
        var sink = new ListOutputSink();
        var engine = Program.CreateEngine(Options);
        if (splitAt is int k)
        {
            engine.Process(Events.GetRange(0, k), sink);
            var text = engine.CreateCheckpoint().ToJsonString();
            engine = Program.CreateEngine(Options);
            engine.Restore(JsonNode.Parse(text)!.AsObject());
            engine.Process(Events.GetRange(k, Events.Count - k), sink);
        }
        else
        {
            engine.Process(Events, sink);
        }
        engine.Finish(sink);
        return sink.Events.Select(e => Normalize(EventJson.ToJsonLine(e))).ToList();
    }
}
