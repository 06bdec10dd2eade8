using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Patterns;

/// <summary>A small event as the property tests generate it: type, time in ms, and int fields.</summary>
internal sealed record TestEvent(string Type, long Ms, int Id, int X, int K);

/// <summary>Compiles programs and runs them over events, uninterrupted or through a checkpoint.</summary>
internal static class PatternKit
{
    public static CompiledProgram Compile(string source)
    {
        var c = VplCompiler.Compile(source);
        Assert.True(c.Success, string.Join("\n", c.Diagnostics.Select(d => d.Format())));
        return c.Program!;
    }

    public static IReadOnlyList<Diagnostic> Diagnose(string source) => VplCompiler.Compile(source).Diagnostics;

    public static Event Make(CompiledProgram p, TestEvent e)
    {
        var type = p.Types.GetOrAdd(e.Type);
        var fields = new (string, Value)[] { ("id", Value.FromInt(e.Id)), ("x", Value.FromInt(e.X)), ("k", Value.FromInt(e.K)) };
        var values = new Value[fields.Length + type.FieldCount];
        int max = -1;
        foreach (var (name, v) in fields)
        {
            int slot = type.GetOrAddSlot(name);
            values[slot] = v;
            max = Math.Max(max, slot);
        }
        return new Event(type, e.Ms * TimeFormat.NanosPerMilli, values[..(max + 1)]);
    }

    public static Event Make(CompiledProgram p, string type, long ms, params (string Name, Value Value)[] fields)
    {
        var t = p.Types.GetOrAdd(type);
        var slots = fields.Select(f => t.GetOrAddSlot(f.Name)).ToArray();
        var values = new Value[slots.Length == 0 ? 0 : slots.Max() + 1];
        for (int i = 0; i < slots.Length; i++) values[slots[i]] = fields[i].Value;
        return new Event(t, ms * TimeFormat.NanosPerMilli, values);
    }

    /// <summary>Runs every event, then end of input; with <paramref name="splitAt"/>, checkpoints after that many events and continues in a fresh engine.</summary>
    public static List<Event> Run(CompiledProgram p, IReadOnlyList<Event> events, int? splitAt = null, EngineOptions? options = null, bool finish = true)
    {
        var sink = new ListOutputSink();
        var engine = p.CreateEngine(options);
        if (splitAt is int k)
        {
            engine.Process(events.Take(k).ToList(), sink);
            var text = engine.CreateCheckpoint().ToJsonString();
            engine = p.CreateEngine(options);
            engine.Restore(JsonNode.Parse(text)!.AsObject());
            engine.Process(events.Skip(k).ToList(), sink);
        }
        else
        {
            engine.Process(events, sink);
        }
        if (finish) engine.Finish(sink);
        return sink.Events;
    }

    /// <summary>An output rendered as <c>Type{f=v,...}@ms</c>, events inside as their ids.</summary>
    public static string Render(Event e)
    {
        var parts = e.PresentFields().Select(kv => kv.Key + "=" + RenderValue(kv.Value));
        return $"{e.Type.Name}{{{string.Join(",", parts)}}}@{e.Timestamp / TimeFormat.NanosPerMilli}";
    }

    public static string RenderValue(Value v) => v.Kind switch
    {
        ValueKind.Event => v.AsEvent.Get("id").ToString(),
        ValueKind.Array => "[" + string.Join(" ", v.AsArray.Select(RenderValue)) + "]",
        _ => v.ToString(),
    };
}
