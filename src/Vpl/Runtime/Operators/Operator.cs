using Varpulis.Vpl.Compilation;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Varpulis.Vpl.Runtime.Operators;

/// <summary>
/// The events of one window firing for one partition. A following <c>.aggregate</c> reduces it to one
/// event; any other operator handles its events one by one and keeps the batch together.
/// </summary>
internal readonly record struct WindowBatch(Value Key, List<Event> Events, long WindowStart, long WindowEnd, bool IsTimeWindow)
{
    /// <summary>Result timestamp: the window end for time windows, else the last event's time.</summary>
    public long ResultTimestamp => IsTimeWindow ? WindowEnd : Events[^1].Timestamp;
}

/// <summary>
/// One stage of a stream's operator chain. Operators are created per engine instance and are
/// single-threaded. Stateful operators save and load their state for checkpoints and may ask the
/// engine's timer queue to call them back when event time reaches a due time.
/// </summary>
internal abstract class Operator
{
    /// <summary>The next stage; the last stage of a stream is its <see cref="StreamTail"/>.</summary>
    public Operator Next = null!;

    /// <summary>The stream this operator belongs to.</summary>
    public StreamRuntime Stream = null!;

    /// <summary>Declaration order of the stream, then position in its chain: orders things due at the same time.</summary>
    public long Order;

    /// <summary>The due time this operator is currently queued for (<see cref="long.MaxValue"/>: none).</summary>
    public long ScheduledDue = long.MaxValue;

    public abstract void Push(Event row);

    public virtual void PushBatch(in WindowBatch batch)
    {
        foreach (var e in batch.Events) Push(e);
    }

    /// <summary>
    /// Called by the timer queue when event time reached <paramref name="due"/>: handle what is due at or
    /// before it, then reschedule for the next due item. <paramref name="now"/> is the current event time.
    /// </summary>
    public virtual void OnTime(long due, long now)
    {
    }

    /// <summary>A short stable name of the state layout, e.g. <c>window.tumbling_time</c>; null when stateless.</summary>
    public virtual string? StateKind => null;

    public virtual JsonNode? SaveState() => null;

    public virtual void LoadState(JsonNode state)
    {
    }

    /// <summary>Re-queue timers after a restore.</summary>
    public virtual void AfterRestore()
    {
    }

    protected void Schedule(long due) => Stream.Engine.Timers.Schedule(this, due);
}

/// <summary>
/// An operator that maps or filters rows one at a time. Inside a window batch it keeps the batch
/// together, so <c>.window(..).where(..).aggregate(..)</c> aggregates the filtered batch.
/// </summary>
internal abstract class RowOperator : Operator
{
    /// <summary>The row to pass on, or null to drop it.</summary>
    protected abstract Event? Apply(Event row);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public sealed override void Push(Event row)
    {
        var r = Apply(row);
        if (r is not null) Next.Push(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public sealed override void PushBatch(in WindowBatch batch)
    {
        var kept = new List<Event>(batch.Events.Count);
        foreach (var e in batch.Events)
        {
            var r = Apply(e);
            if (r is not null) kept.Add(r);
        }
        if (kept.Count > 0) Next.PushBatch(batch with { Events = kept });
    }
}

/// <summary>The end of a stream: counts, emits pipeline outputs and feeds derived streams.</summary>
internal sealed class StreamTail : Operator
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Push(Event row)
    {
        var s = Stream;
        s.EventsOut++;
        if (s.Plan.ProducesOutput) s.Engine.EmitOutput(row);
        var downstream = s.Downstream;
        for (int i = 0; i < downstream.Length; i++) downstream[i].Accept(row);
    }
}
