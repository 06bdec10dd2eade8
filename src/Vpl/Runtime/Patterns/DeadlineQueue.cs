using System.Runtime.CompilerServices;

namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>
/// Runs in deadline order. Runs of one stream share one <c>.within</c>, so in-order input gives non-decreasing
/// deadlines: those go to a FIFO (O(1)); a run whose deadline is earlier than the FIFO's tail (out-of-order
/// input) goes to a heap. The earliest of both heads is next. Entries carry the run's generation: a run that
/// ended and was reused since is a stale entry, skipped by the caller.
/// </summary>
internal sealed class DeadlineQueue
{
    private readonly Queue<(long Deadline, Run Run, int Generation)> _fifo = new();
    private readonly PriorityQueue<(Run Run, int Generation), (long Deadline, long Seq)> _heap = new();
    private long _tail = long.MinValue;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(Run run, long deadline)
    {
        if (deadline >= _tail)
        {
            _fifo.Enqueue((deadline, run, run.Generation));
            _tail = deadline;
        }
        else
        {
            _heap.Enqueue((run, run.Generation), (deadline, run.Seq));
        }
    }

    /// <summary>The earliest deadline, or false when empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryPeek(out long deadline)
    {
        bool f = _fifo.TryPeek(out var fi);
        bool h = _heap.TryPeek(out _, out var hp);
        if (!f && !h)
        {
            deadline = 0;
            return false;
        }
        deadline = !h ? fi.Deadline : !f ? hp.Deadline : Math.Min(fi.Deadline, hp.Deadline);
        return true;
    }

    /// <summary>Removes the entry with the earliest deadline (FIFO first on ties: it holds the older runs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (Run Run, int Generation) Dequeue()
    {
        bool f = _fifo.TryPeek(out var fi);
        bool h = _heap.TryPeek(out _, out var hp);
        if (f && (!h || fi.Deadline < hp.Deadline || (fi.Deadline == hp.Deadline && fi.Run.Seq <= hp.Seq)))
        {
            var e = _fifo.Dequeue();
            return (e.Run, e.Generation);
        }
        return _heap.Dequeue();
    }
}
