namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>
/// One partial match of a sequence: which alternative, how many steps are bound, what they captured, when it
/// started and when it expires. A run lives in exactly one bucket of its partition: the bucket of its
/// (alternative, position), so an event only visits the runs whose next step (or open Kleene step) it can serve.
/// </summary>
internal sealed class Run
{
    /// <summary>Creation order (clones get their own).</summary>
    public long Seq;

    /// <summary>Creation order of the run this one was cloned from (its own <see cref="Seq"/> otherwise): the emission order.</summary>
    public long StartSeq;

    public int Alt;

    /// <summary>Number of steps bound; the next step is <c>Steps[Pos]</c>, and <c>Steps[Pos - 1]</c> may still collect when Kleene.</summary>
    public int Pos;

    public long StartTs;

    public long LastTs;

    /// <summary>Inclusive: events with a timestamp past it cannot advance the run. <see cref="long.MaxValue"/> when none.</summary>
    public long Deadline;

    public Value Key;

    /// <summary>One value per alias slot: the captured event, or for a Kleene alias its last event or array of events.</summary>
    public Value[] Captures = null!;

    /// <summary>Events collected by each Kleene step (by step index); null for single steps.</summary>
    public List<Event>?[] Collected = null!;

    public PartitionRuns Partition = null!;

    public int Bucket;

    public int Index;

    /// <summary>The list of its bucket's index that holds it (by <see cref="RunKey"/>), while the bucket is indexed.</summary>
    public List<Run>? KeyedList;

    public int KeyedIndex;

    public Value RunKey;

    public bool Dead;

    /// <summary>The event stamp of the last event that visited this run (no run reacts twice to one event).</summary>
    public long Visit;

    /// <summary>Incremented each time the object is reused for another run (older deadline entries are stale).</summary>
    public int Generation;

    /// <summary>The Kleene cap was reached (counted and logged once per run).</summary>
    public bool Capped;
}

/// <summary>
/// The live runs of one partition key, in one list per (alternative, position). A bucket whose runs wait for a
/// step with a lookup key (<see cref="StepPlan.EventKey"/>) also gets an index by that key once it holds
/// <see cref="IndexFrom"/> runs, until a lookup finds it below <see cref="IndexUntil"/>: meanwhile an event visits
/// only the runs with its key (50 interleaved users waiting for their own Purchase) instead of all of them.
/// </summary>
internal sealed class PartitionRuns : IPartitionState
{
    public const int IndexFrom = 16;

    public const int IndexUntil = 4;

    public PartitionRuns(Value key, int bucketCount)
    {
        Key = key;
        Buckets = new List<Run>?[bucketCount];
    }

    public Value Key { get; private set; }

    public List<Run>?[] Buckets { get; }

    /// <summary>Per bucket, while it is indexed: its runs by key (allocated on the first index).</summary>
    public Dictionary<Value, List<Run>>?[]? Keyed;

    public int Live;

    /// <summary>Reuses an emptied partition for another key (every bucket is empty when Live is 0).</summary>
    public PartitionRuns Reset(Value key)
    {
        Key = key;
        Keyed = null;
        return this;
    }

    /// <summary>Adds a run to a bucket (not to its index: see <see cref="AddKeyed"/>); returns the bucket's run count.</summary>
    public int Add(Run run, int bucket)
    {
        var list = Buckets[bucket] ??= new List<Run>(4);
        run.Bucket = bucket;
        run.Index = list.Count;
        run.Partition = this;
        list.Add(run);
        return list.Count;
    }

    /// <summary>Indexes a run of an indexed bucket; a key equal to nothing (NaN) is left out: no event can advance that run by this step.</summary>
    public static void AddKeyed(Run run, Dictionary<Value, List<Run>> index, Value key)
    {
        if (!key.Equals(key)) return;
        if (!index.TryGetValue(key, out var list)) index[key] = list = new List<Run>(2);
        run.RunKey = key;
        run.KeyedList = list;
        run.KeyedIndex = list.Count;
        list.Add(run);
    }

    /// <summary>Swap-remove: O(1); callers iterate buckets from the end so a moved run is never visited twice.</summary>
    public void Remove(Run run)
    {
        var list = Buckets[run.Bucket]!;
        int last = list.Count - 1;
        if (run.Index != last)
        {
            var moved = list[last];
            list[run.Index] = moved;
            moved.Index = run.Index;
        }
        list.RemoveAt(last);
        if (Keyed is not null) RemoveKeyed(run);
    }

    /// <summary>The index side of <see cref="Remove"/>, apart so that the plain path stays small enough to inline.</summary>
    private void RemoveKeyed(Run run)
    {
        if (run.KeyedList is { } keyed)
        {
            int lastKeyed = keyed.Count - 1;
            if (run.KeyedIndex != lastKeyed)
            {
                var moved = keyed[lastKeyed];
                keyed[run.KeyedIndex] = moved;
                moved.KeyedIndex = run.KeyedIndex;
            }
            keyed.RemoveAt(lastKeyed);
            if (keyed.Count == 0) Keyed![run.Bucket]!.Remove(run.RunKey);
            run.KeyedList = null;
            run.RunKey = default;
        }
    }

    /// <summary>
    /// Lets go of a bucket's index (it fell below <see cref="IndexUntil"/> runs). Called before a lookup, never while
    /// an event visits the bucket's runs, so a keyed list being visited always loses its dead runs.
    /// </summary>
    public void DropIndex(int bucket)
    {
        foreach (var r in Buckets[bucket]!)
        {
            r.KeyedList = null;
            r.RunKey = default;
        }
        Keyed![bucket] = null;
    }
}
