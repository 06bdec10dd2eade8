using System.Runtime.CompilerServices;
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

    /// <summary>Values a numeric aggregate of this stream skipped because they were not numbers.</summary>
    public long TypeErrors;

    /// <summary>What the first of <see cref="TypeErrors"/> was, for the log: <c>sum() skipped "abc" (a string)</c>.</summary>
    public string? FirstTypeError;

    /// <summary>Stopwatch ticks charged to this stream during the sampled event being processed.</summary>
    internal long SampleTicks;

    /// <summary>True while this stream is in the list of streams the sampled event reached.</summary>
    internal bool SampleTouched;

    /// <summary>Counts values an aggregate skipped as not numeric (vpl.md §6.4: skipped, counted, logged once).</summary>
    public void CountTypeErrors(long n, string function, Value example)
    {
        if (n <= 0) return;
        TypeErrors += n;
        FirstTypeError ??= $"{function}() skipped {Describe(example)}, which is not a number";
    }

    private static string Describe(Value v)
    {
        var text = v.IsString ? "\"" + v.AsString + "\"" : v.ToString();
        if (text.Length > 64) text = text[..64] + "...";
        return $"{text} (a {v.Kind.ToString().ToLowerInvariant()})";
    }

    /// <summary>A frame for evaluations done by this stream's ports.</summary>
    public Frame Frame { get; set; } = null!;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    /// <summary>The stream this port feeds (set by the engine when it wires the port; used to charge sampled time).</summary>
    public StreamRuntime? Owner;

    public abstract void Accept(Event e);
}

/// <summary>
/// A derived stream's input as its upstream's tail sees it: the port itself, timed on sampled events so that the
/// derived stream's time is charged to it and not to the stream that fed it.
/// </summary>
internal sealed class DownstreamPort(Engine engine, InputPort inner) : InputPort
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Accept(Event e)
    {
        if (engine.Sampling) engine.AcceptSampled(inner, e);
        else inner.Accept(e);
    }
}

/// <summary>Feeds a stream's first operator.</summary>
internal sealed class HeadPort(StreamRuntime stream) : InputPort
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
