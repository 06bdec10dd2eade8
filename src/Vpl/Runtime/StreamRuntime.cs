using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime;

/// <summary>Where an input of a stream comes from: events of a type, or the outputs of another stream.</summary>
internal sealed record SourceBinding(EventType? EventType, StreamPlan? Upstream, Func<StreamRuntime, InputPort> CreatePort);

/// <summary>
/// The compiled, engine-independent description of one stream: where its events come from, how to
/// build its operators, and what it produces. One plan serves any number of engine instances.
/// </summary>
internal sealed class StreamPlan
{
    public required string Name { get; init; }

    /// <summary>Declaration order within the program.</summary>
    public required int Index { get; init; }

    /// <summary>Canonical text of the definition: state is kept across reload/restore only when it is unchanged.</summary>
    public required string Shape { get; init; }

    /// <summary>True when the stream adds to the pipeline's output (<c>.emit</c>, or <c>.process</c> without <c>.emit</c>).</summary>
    public required bool ProducesOutput { get; init; }

    public required IReadOnlyList<SourceBinding> Sources { get; init; }

    /// <summary>Builds the operator chain (without the tail) for one engine.</summary>
    public required Func<StreamRuntime, IReadOnlyList<Operator>> BuildOperators { get; init; }

    /// <summary><c>.allowed_lateness(d)</c> in ns; null when not declared (late events are processed in arrival order).</summary>
    public long? AllowedLateness { get; init; }

    /// <summary>True when the stream's source is a pattern (inline sequence or named pattern).</summary>
    public bool IsPattern { get; init; }

    /// <summary>Event-type names this stream reads directly (for documentation, metrics and routing checks).</summary>
    public IReadOnlyList<string> InputTypeNames { get; init; } = Array.Empty<string>();

    /// <summary>Partition key field names that apply to all of this stream's state, if any (used to split work across workers).</summary>
    public IReadOnlyList<string>? PartitionKey { get; init; }

    /// <summary>True when the stream keeps no state across events (filters and projections only).</summary>
    public bool IsStateless { get; init; }

}


/// <summary>One stream inside one engine: its operators, its counters, and the streams it feeds.</summary>
internal sealed class StreamRuntime
{
    public StreamRuntime(Engine engine, StreamPlan plan)
    {
        Engine = engine;
        Plan = plan;
    }

    public Engine Engine { get; }

    public StreamPlan Plan { get; }

    public Operator[] Operators { get; set; } = Array.Empty<Operator>();

    public Operator Head => Operators[0];

    /// <summary>Input ports of the streams that read this stream's output, in declaration order.</summary>
    public InputPort[] Downstream { get; set; } = Array.Empty<InputPort>();

    public long EventsIn;
    public long EventsOut;
    public long LateEvents;

    /// <summary>A frame for evaluations done by this stream's ports.</summary>
    public Frame Frame { get; set; } = null!;

    public bool IsLate(Event e)
    {
        if (Plan.AllowedLateness is not long lateness) return false;
        long wm = Engine.Watermark;
        if (wm == long.MinValue) return false;
        if (e.Timestamp < wm - lateness)
        {
            LateEvents++;
            Engine.LateEvents++;
            return true;
        }
        return false;
    }
}

/// <summary>An entry point into a stream: receives routed input events or upstream outputs.</summary>
internal abstract class InputPort
{
    public abstract void Accept(Event e);
}

/// <summary>Feeds a stream's first operator.</summary>
internal sealed class HeadPort(StreamRuntime stream) : InputPort
{
    public override void Accept(Event e)
    {
        stream.EventsIn++;
        if (stream.IsLate(e)) return;
        stream.Head.Push(e);
    }
}

/// <summary>A merge input: its own filters, then the merged stream's first operator.</summary>
internal sealed class FilteredPort(StreamRuntime stream, Eval[] filters) : InputPort
{
    public override void Accept(Event e)
    {
        stream.EventsIn++;
        if (stream.IsLate(e)) return;
        var f = stream.Frame;
        f.Row = e;
        for (int i = 0; i < filters.Length; i++)
        {
            if (!filters[i](f).IsTrue) return;
        }
        stream.Head.Push(e);
    }
}
