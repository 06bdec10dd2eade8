using System.Runtime.CompilerServices;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// Event-time callbacks of one engine: a min-heap of (due time, stream declaration order, operator
/// position) → operator. Each operator is queued at most once, for its earliest due time; window ends,
/// run deadlines and absence deadlines are found without scanning any state. Things due at the same time
/// happen in declaration order, whatever the order they were scheduled in (so a restored engine behaves
/// exactly like one that never stopped).
/// </summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<Operator, (long Due, long Order)> _heap = new();

    public int Count => _heap.Count;

    /// <summary>Asks for <paramref name="op"/> to be called once event time reaches <paramref name="due"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Schedule(Operator op, long due)
    {
        if (due >= op.ScheduledDue) return;
        op.ScheduledDue = due;
        _heap.Enqueue(op, (due, op.Order));
    }

    public bool HasDue(long now) => _heap.TryPeek(out _, out var p) && p.Due <= now;

    /// <summary>Calls every operator whose due time is at or before <paramref name="now"/>, in due order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunDue(long now)
    {
        while (_heap.TryPeek(out var op, out var p) && p.Due <= now)
        {
            _heap.Dequeue();
            if (op.ScheduledDue != p.Due) continue; // superseded by an earlier schedule
            op.ScheduledDue = long.MaxValue;
            var engine = op.Stream.Engine;
            if (engine.Sampling) engine.OnTimeSampled(op, p.Due, now);
            else op.OnTime(p.Due, now);
        }
    }

    public void Clear()
    {
        while (_heap.TryDequeue(out var op, out _)) op.ScheduledDue = long.MaxValue;
    }
}
