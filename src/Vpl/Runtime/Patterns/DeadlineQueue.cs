namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>
/// Runs in deadline order. Runs of one stream share one <c>.within</c>, so in-order input gives non-decreasing
/// deadlines: those go to a FIFO (O(1)); a run whose deadline is earlier than the FIFO's tail (out-of-order
/// input) goes to a heap. The earliest of both heads is next.
/// </summary>
internal sealed class DeadlineQueue
{
    private readonly Queue<(long Deadline, Run Run)> _fifo = new();
    private readonly PriorityQueue<Run, (long Deadline, long Seq)> _heap = new();
    private long _tail = long.MinValue;

    public void Add(Run run, long deadline)
    {
        if (deadline >= _tail)
        {
            _fifo.Enqueue((deadline, run));
            _tail = deadline;
        }
        else
        {
            _heap.Enqueue(run, (deadline, run.Seq));
        }
    }

    /// <summary>The earliest deadline, or false when empty.</summary>
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

    /// <summary>Removes the run with the earliest deadline (FIFO first on ties: it holds the older runs).</summary>
    public Run Dequeue()
    {
        bool f = _fifo.TryPeek(out var fi);
        bool h = _heap.TryPeek(out _, out var hp);
        if (f && (!h || fi.Deadline < hp.Deadline || (fi.Deadline == hp.Deadline && fi.Run.Seq <= hp.Seq)))
            return _fifo.Dequeue().Run;
        return _heap.Dequeue();
    }
}
