using System.Text;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Tests.Runtime;

/// <summary>Compile, read <c>.evt</c> text, run and checkpoint: the shared steps of the runtime tests.</summary>
internal static class RuntimeKit
{
    public static CompiledProgram Compile(string source)
    {
        var c = VplCompiler.Compile(source);
        Assert.True(c.Success, string.Join("\n", c.Diagnostics.Select(d => d.Format())));
        return c.Program!;
    }

    /// <summary>Reads <c>.evt</c> lines against the program's types (undeclared types get their slots here).</summary>
    public static List<Event> Events(CompiledProgram program, string evt)
    {
        var events = new List<Event>();
        using var reader = new EvtReader(new MemoryStream(Encoding.UTF8.GetBytes(evt)), program.Types, new EvtReaderOptions());
        while (reader.ReadBatch(events, null, 1024) > 0)
        {
        }
        return events;
    }

    public static List<string> Lines(ListOutputSink sink) => sink.Events.Select(e => EventJson.ToJsonLine(e)).ToList();

    /// <summary>All events, then end of input.</summary>
    public static List<string> RunUninterrupted(CompiledProgram program, IReadOnlyList<Event> events, EngineOptions? options = null)
    {
        var sink = new ListOutputSink();
        var engine = program.CreateEngine(options);
        engine.Process(events, sink);
        engine.Finish(sink);
        return Lines(sink);
    }

    /// <summary>The checkpoint's JSON text parsed back, as a host stores and reloads it.</summary>
    public static JsonObject ThroughText(JsonObject checkpoint) => JsonNode.Parse(checkpoint.ToJsonString())!.AsObject();

    /// <summary>
    /// The first <paramref name="k"/> events on one engine, a checkpoint through its JSON text, a restore into a
    /// fresh engine of <paramref name="restoreInto"/> (default: the same program), the rest there, end of input.
    /// </summary>
    public static List<string> RunSplit(
        CompiledProgram program,
        IReadOnlyList<Event> events,
        int k,
        CompiledProgram? restoreInto = null,
        IReadOnlyList<Event>? restEvents = null,
        EngineOptions? options = null)
    {
        var sink = new ListOutputSink();
        var first = program.CreateEngine(options);
        first.Process(events.Take(k).ToList(), sink);
        var checkpoint = ThroughText(first.CreateCheckpoint());
        var second = (restoreInto ?? program).CreateEngine(options);
        var report = second.Restore(checkpoint);
        Assert.Equal(k, report.EventsRestored);
        Assert.Empty(report.ResetStreams);
        second.Process((restEvents ?? events).Skip(k).ToList(), sink);
        second.Finish(sink);
        return Lines(sink);
    }
}
