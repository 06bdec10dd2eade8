using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>
/// The SASE+ matcher of one pattern stream (vpl.md §5): keeps runs per partition key, in buckets by the
/// position they reached, so an event visits only the runs it can advance; expires runs in deadline order
/// from a heap; confirms absences when their deadline passes. Emits one match row per completed run
/// (Kleene at the end: one per collected event), ordered by the start of the run.
/// </summary>
internal sealed class SequenceOperator : Operator, IRunInspector, IPatternCounters
{
    private const long NoticeInterval = 60 * TimeFormat.NanosPerSecond;

    /// <summary>Deadline used for absence runs without <c>.within</c>: they confirm at end of input.</summary>
    private const long EndOfInput = long.MaxValue - 1;

    private readonly SequencePlan _plan;
    private readonly Frame _frame;
    private readonly Value[] _blank;
    private readonly PartitionMap<PartitionRuns> _parts = new();
    private readonly DeadlineQueue _deadlines = new();
    private readonly Queue<Run>? _fifo;
    private readonly Stack<Run>? _runPool;
    private readonly List<Run> _ended = new();
    private readonly List<(Run Run, Event Row)> _matches = new();
    private readonly List<Run> _scratch = new();
    private readonly bool[] _hasKleene;
    private readonly bool _anyKleeneSlot;
    private readonly FieldAccessor[]?[] _keyFields;
    private readonly Stack<PartitionRuns> _spareParts = new();
    private PartitionRuns? _single;
    private readonly int _maxKleene;
    private readonly int _maxRuns;
    private long _seq;
    private long _visit;
    private long _live;
    private long _lastBudgetNotice = long.MinValue;

    public SequenceOperator(SequencePlan plan, Frame frame, EngineOptions options)
    {
        _plan = plan;
        _frame = frame;
        _blank = new Value[plan.SlotNames.Length];
        _hasKleene = plan.Alternatives.Select(a => a.HasKleene).ToArray();
        _anyKleeneSlot = plan.SlotIsKleene.Any(k => k);
        _keyFields = plan.InputTypes.Select(_ => plan.PartitionFields?.Select(f => new FieldAccessor(f.Name)).ToArray()).ToArray();
        _maxKleene = Math.Max(1, options.MaxKleeneEvents);
        _maxRuns = Math.Max(1, options.MaxRunsPerStream);
        if (plan.EvictOldest) _fifo = new Queue<Run>();
        else _runPool = new Stack<Run>();
    }

    /// <summary>New runs refused because the run budget was full.</summary>
    public long RunsRefused { get; private set; }

    /// <summary>Runs evicted to make room (<c>.budget(evict_oldest)</c>).</summary>
    public long RunsEvicted { get; private set; }

    /// <summary>Runs that reached <c>max_kleene_events</c>.</summary>
    public long KleeneLimitHits { get; private set; }

    public long LiveRuns => _live;

    public override void Push(Event row) => Accept(0, row);

    /// <summary>An event of input type <paramref name="input"/> (index into <see cref="SequencePlan.InputTypes"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Accept(int input, Event e)
    {
        _visit++;
        var key = KeyOf(input, e);
        var negations = _plan.NegationsByInput[input];
        if (negations.Length > 0) ApplyNegations(negations, key, e);

        var buckets = _plan.BucketsByInput[input];
        if (buckets.Length > 0 && TryGetPartition(key, out var part))
        {
            for (int b = 0; b < buckets.Length; b++)
            {
                int entry = buckets[b];
                var list = part.Buckets[entry & SequencePlan.BucketMask];
                if (entry < 0 && list is not null && part.Keyed is not null) list = LookUp(part, entry & SequencePlan.BucketMask, list, e);
                if (list is null) continue;
                for (int i = list.Count - 1; i >= 0; i--)
                {
                    if (i >= list.Count) continue;
                    var run = list[i];
                    if (run.Visit == _visit) continue;
                    run.Visit = _visit;
                    React(run, e);
                }
            }
        }

        var starts = _plan.StartsByInput[input];
        for (int s = 0; s < starts.Length; s++) TryStart(starts[s], key, e);

        FlushMatches();
        if (_ended.Count > 0) RecycleEnded();
    }

    /// <summary>The partition key: one field accessor per input type, so its type→slot cache always hits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Value KeyOf(int input, Event e)
    {
        var fields = _keyFields[input];
        if (fields is null) return Value.Null;
        if (fields.Length == 1) return fields[0].Get(e);
        var parts = new Value[fields.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = fields[i].Get(e);
        return Value.FromArray(parts);
    }

    private bool TryGetPartition(Value key, [NotNullWhen(true)] out PartitionRuns? part)
    {
        if (_single is not null)
        {
            part = _single;
            return true;
        }
        return _parts.TryGetValue(key, out part);
    }

    /// <summary>The runs of a key, created on first use; an unpartitioned stream keeps its one partition in a field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private PartitionRuns GetOrCreatePartition(Value key)
    {
        if (_single is not null) return _single;
        if (!_parts.TryGetValue(key, out var part))
        {
            part = _spareParts.Count > 0 ? _spareParts.Pop().Reset(key) : new PartitionRuns(key, _plan.BucketCount);
            _parts.Add(key, part);
            if (_plan.PartitionFields is null) _single = part;
        }
        return part;
    }

    /// <summary>
    /// The runs of <paramref name="all"/> (a bucket's) that may take <paramref name="e"/>: when the bucket is indexed,
    /// those with the event's key (null: none), since their other reactions need another event type.
    /// </summary>
    private List<Run>? LookUp(PartitionRuns part, int bucket, List<Run> all, Event e)
    {
        if (part.Keyed![bucket] is not { } index) return all;
        if (all.Count < PartitionRuns.IndexUntil)
        {
            // Few runs left: scan them, and index again when 16 wait.
            part.DropIndex(bucket);
            return all;
        }
        return index.TryGetValue(EventKey(bucket, e), out var keyed) ? keyed : null;
    }

    private Value EventKey(int bucket, Event e)
    {
        _frame.Row = e;
        _frame.Captures = null;
        return _plan.KeyedStep[bucket]!.EventKey!(_frame);
    }

    private Value RunKey(StepPlan step, Run run)
    {
        _frame.Captures = run.Captures;
        return step.RunKey!(_frame);
    }

    /// <summary>
    /// After <see cref="PartitionRuns.Add"/> (which returned <paramref name="count"/>, and whose callers check first
    /// that the partition is indexed or the bucket reached <see cref="PartitionRuns.IndexFrom"/>): indexes the run
    /// by key where its bucket is, or now gets, indexed.
    /// </summary>
    private void PlaceKeyed(Run run, PartitionRuns part, int bucket, int count)
    {
        if (_plan.KeyedStep[bucket] is not { } step) return;
        if (part.Keyed?[bucket] is { } index)
        {
            PartitionRuns.AddKeyed(run, index, RunKey(step, run));
        }
        else if (count >= PartitionRuns.IndexFrom)
        {
            index = new Dictionary<Value, List<Run>>();
            (part.Keyed ??= new Dictionary<Value, List<Run>>?[_plan.BucketCount])[bucket] = index;
            foreach (var r in part.Buckets[bucket]!) PartitionRuns.AddKeyed(r, index, RunKey(step, r));
        }
    }

    private bool Test(Eval? predicate, Value[] captures, Event e)
    {
        if (predicate is null) return true;
        _frame.Row = e;
        _frame.Captures = captures;
        return predicate(_frame).IsTrue;
    }

    // ------------------------------------------------------------------------------------------
    // Negation

    private void ApplyNegations((int Alt, NegationPlan Negation)[] negations, Value key, Event e)
    {
        _scratch.Clear();
        foreach (var (a, neg) in negations)
        {
            var alt = _plan.Alternatives[a];
            int from = Math.Max(1, neg.FromPos), to = Math.Min(neg.ToPos, alt.Steps.Length);
            if (neg.Predicate is null)
            {
                // Without a predicate an X kills the runs of its own partition.
                if (TryGetPartition(key, out var part)) CollectNegated(part, alt, from, to, null, e);
            }
            else
            {
                // With a predicate an X is checked against every run it applies to, in every partition (vpl.md §5.5).
                foreach (var part in _parts.Values) CollectNegated(part, alt, from, to, neg.Predicate, e);
            }
        }
        foreach (var run in _scratch)
        {
            if (!run.Dead) Kill(run);
        }
        _scratch.Clear();
    }

    private void CollectNegated(PartitionRuns part, AlternativePlan alt, int from, int to, Eval? predicate, Event e)
    {
        for (int pos = from; pos <= to; pos++)
        {
            var list = part.Buckets[alt.BucketBase + pos];
            if (list is null) continue;
            foreach (var run in list)
            {
                if (e.Timestamp <= run.Deadline && Test(predicate, run.Captures, e)) _scratch.Add(run);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Advancing runs

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void React(Run run, Event e)
    {
        if (e.Timestamp > run.Deadline) return; // expired; the deadline timer removes it
        var alt = _plan.Alternatives[run.Alt];
        var steps = alt.Steps;
        int pos = run.Pos;
        bool canAdvance = pos < steps.Length && ReferenceEquals(steps[pos].Type, e.Type) && Test(steps[pos].Predicate, run.Captures, e);
        var selection = _plan.Selection;
        bool kleeneOpen = pos >= 1 && steps[pos - 1].Kleene && ReferenceEquals(steps[pos - 1].Type, e.Type);
        switch (selection)
        {
            case SelectionMode.SkipTillNext:
                if (canAdvance) Advance(run, e);
                else if (kleeneOpen && CanExtend(run, pos - 1, e)) Extend(run, pos - 1, e);
                return;
            case SelectionMode.Strict:
                if (canAdvance) Advance(run, e);
                else if (kleeneOpen && CanExtend(run, pos - 1, e)) Extend(run, pos - 1, e);
                else if (pos < steps.Length || steps[pos - 1].Kleene || !alt.Absence) Kill(run);
                return;
            default:
                {
                    bool canExtend = kleeneOpen && CanExtend(run, pos - 1, e);
                    if (canAdvance && Clone(run, e) is { } advanced) Advance(advanced, e);
                    if (canExtend && Clone(run, e) is { } extended) Extend(extended, pos - 1, e);
                    return;
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool CanExtend(Run run, int step, Event e)
    {
        var list = run.Collected[step]!;
        if (list.Count >= _maxKleene) return false;
        return Test(_plan.Alternatives[run.Alt].Steps[step].Predicate, run.Captures, e);
    }

    /// <summary>Binds the run's next step to <paramref name="e"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Advance(Run run, Event e)
    {
        var step = _plan.Alternatives[run.Alt].Steps[run.Pos];
        if (step.Kleene)
        {
            var list = run.Collected[run.Pos] ??= new List<Event>();
            list.Clear();
            list.Add(e);
            run.Captures[step.Slot] = step.CaptureLastOnly ? Value.FromEvent(e) : Value.FromArray([Value.FromEvent(e)]);
        }
        else
        {
            run.Captures[step.Slot] = Value.FromEvent(e);
        }
        run.Pos++;
        run.LastTs = e.Timestamp;
        var alt = _plan.Alternatives[run.Alt];
        if (run.Pos == alt.Steps.Length && !alt.Absence && !step.Kleene)
        {
            // Complete: without Kleene aliases the captures are exactly the row, so the match takes them over; the run ends.
            _matches.Add((run, _anyKleeneSlot ? BuildRow(run, e.Timestamp) : new Event(_plan.MatchType, e.Timestamp, run.Captures)));
            Kill(run);
            return;
        }
        var part = run.Partition;
        part.Remove(run);
        int bucket = alt.BucketBase + run.Pos, count = part.Add(run, bucket);
        if (part.Keyed is not null || count >= PartitionRuns.IndexFrom) PlaceKeyed(run, part, bucket, count);
        AfterBind(run, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Extend(Run run, int stepIndex, Event e)
    {
        var step = _plan.Alternatives[run.Alt].Steps[stepIndex];
        var list = run.Collected[stepIndex]!;
        list.Add(e);
        run.LastTs = e.Timestamp;
        run.Captures[step.Slot] = step.CaptureLastOnly ? Value.FromEvent(e) : Value.FromArray(ToValues(list));
        if (list.Count >= _maxKleene && !run.Capped)
        {
            run.Capped = true;
            KleeneLimitHits++;
            Stream.Engine.Options.Host?.Notice(Stream.Plan.Name, "kleene_limit",
                $"a run reached max_kleene_events ({_maxKleene}); it collects no more events");
        }
        if (stepIndex == _plan.Alternatives[run.Alt].Steps.Length - 1) AfterBind(run, e);
    }

    /// <summary>After a bind: a complete run matches; a Kleene step at the end matches on every event and stays.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AfterBind(Run run, Event e)
    {
        var alt = _plan.Alternatives[run.Alt];
        var steps = alt.Steps;
        if (run.Pos < steps.Length || alt.Absence) return;
        _matches.Add((run, BuildRow(run, e.Timestamp)));
        if (!steps[^1].Kleene) Kill(run);
    }

    private static Value[] ToValues(List<Event> list)
    {
        var arr = new Value[list.Count];
        for (int i = 0; i < arr.Length; i++) arr[i] = Value.FromEvent(list[i]);
        return arr;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Event BuildRow(Run run, long timestamp)
    {
        var steps = _plan.Alternatives[run.Alt].Steps;
        var values = new Value[_plan.SlotNames.Length];
        for (int i = 0; i < steps.Length && i < run.Pos; i++)
        {
            var s = steps[i];
            values[s.Slot] = s.Kleene ? Value.FromArray(ToValues(run.Collected[i]!)) : run.Captures[s.Slot];
        }
        // A Kleene alias this alternative does not bind (`B*` taken zero times) holds no events: an empty array.
        var kleene = _plan.SlotIsKleene;
        for (int i = 0; i < values.Length; i++)
        {
            if (kleene[i] && values[i].IsNull) values[i] = Value.FromArray(Array.Empty<Value>());
        }
        return new Event(_plan.MatchType, timestamp, values);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FlushMatches()
    {
        if (_matches.Count == 0) return;
        if (_matches.Count > 1) _matches.Sort(static (x, y) => x.Run.StartSeq != y.Run.StartSeq ? x.Run.StartSeq.CompareTo(y.Run.StartSeq) : x.Run.Seq.CompareTo(y.Run.Seq));
        // Copy first: pushing downstream cannot re-enter this operator, but keep the list reusable.
        int n = _matches.Count;
        if (n == 1)
        {
            var row = _matches[0].Row;
            _matches.Clear();
            Next.Push(row);
            return;
        }
        var rows = new Event[n];
        for (int i = 0; i < n; i++) rows[i] = _matches[i].Row;
        _matches.Clear();
        foreach (var r in rows) Next.Push(r);
    }

    // ------------------------------------------------------------------------------------------
    // Run life cycle

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TryStart(int altIndex, Value key, Event e)
    {
        var alt = _plan.Alternatives[altIndex];
        var first = alt.Steps[0];
        if (!Test(first.Predicate, _blank, e)) return;
        if (!MakeRoom(e.Timestamp)) return;
        var run = NewRun(altIndex, key, e.Timestamp);
        if (first.Kleene)
        {
            run.Collected[0] = new List<Event> { e };
            run.Captures[first.Slot] = first.CaptureLastOnly ? Value.FromEvent(e) : Value.FromArray([Value.FromEvent(e)]);
        }
        else
        {
            run.Captures[first.Slot] = Value.FromEvent(e);
        }
        run.Pos = 1;
        run.LastTs = e.Timestamp;
        Register(run);
        AfterBind(run, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Run NewRun(int altIndex, Value key, long startTs)
    {
        var alt = _plan.Alternatives[altIndex];
        long seq = _seq++;
        long deadline = _plan.Within == long.MaxValue ? long.MaxValue : SafeAdd(startTs, _plan.Within);
        var run = Rent();
        run.Seq = seq;
        run.StartSeq = seq;
        run.Alt = altIndex;
        run.Pos = 0;
        run.Key = key;
        run.StartTs = startTs;
        run.LastTs = startTs;
        run.Deadline = deadline;
        run.Captures = new Value[_plan.SlotNames.Length];
        run.Collected = _hasKleene[altIndex] ? new List<Event>?[alt.Steps.Length] : Array.Empty<List<Event>?>();
        run.Capped = false;
        run.Visit = 0;
        return run;
    }

    /// <summary>
    /// A run object: ended runs are reused once the event that ended them is done (their deadline entries become
    /// stale), so no run garbage survives into the older GC generations. Not in evict mode, whose eviction queue
    /// may still hold ended runs.
    /// </summary>
    private Run Rent()
    {
        var run = _runPool is { Count: > 0 } pool ? pool.Pop() : new Run();
        run.Dead = false;
        return run;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RecycleEnded()
    {
        if (_runPool is null)
        {
            _ended.Clear();
            return;
        }
        foreach (var run in _ended)
        {
            run.Generation++;
            if (_runPool.Count < 65536) _runPool.Push(run);
        }
        _ended.Clear();
    }

    /// <summary>
    /// Adds a run to its partition, the deadline heap and the eviction order. While restoring, no timer is
    /// scheduled per run: <see cref="AfterRestore"/> schedules one for the earliest deadline.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Register(Run run, bool restoring = false)
    {
        var part = GetOrCreatePartition(run.Key);
        int bucket = _plan.Alternatives[run.Alt].BucketBase + run.Pos, count = part.Add(run, bucket);
        if (part.Keyed is not null || count >= PartitionRuns.IndexFrom) PlaceKeyed(run, part, bucket, count);
        part.Live++;
        _live++;
        long expiry = ExpiryOf(run);
        if (expiry != long.MaxValue)
        {
            _deadlines.Add(run, expiry);
            if (!restoring) Schedule(DueOf(expiry));
        }
        if (_fifo is not null)
        {
            _fifo.Enqueue(run);
            if (_fifo.Count > 2 * _live + 1024) CompactFifo();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long ExpiryOf(Run run)
        => run.Deadline != long.MaxValue ? run.Deadline : _plan.Alternatives[run.Alt].Absence ? EndOfInput : long.MaxValue;

    private static long DueOf(long expiry) => expiry >= EndOfInput - 1 ? EndOfInput : expiry + 1;

    private Run? Clone(Run run, Event e)
    {
        if (!MakeRoom(e.Timestamp)) return null;
        var copy = Rent();
        copy.Seq = _seq++;
        copy.StartSeq = run.StartSeq;
        copy.Alt = run.Alt;
        copy.Pos = run.Pos;
        copy.Key = run.Key;
        copy.StartTs = run.StartTs;
        copy.LastTs = run.LastTs;
        copy.Deadline = run.Deadline;
        copy.Captures = (Value[])run.Captures.Clone();
        copy.Collected = new List<Event>?[run.Collected.Length];
        copy.Capped = run.Capped;
        copy.Visit = _visit;
        for (int i = 0; i < run.Collected.Length; i++)
        {
            if (run.Collected[i] is { } l) copy.Collected[i] = new List<Event>(l);
        }
        Register(copy);
        return copy;
    }

    /// <summary>Applies the run budget before a new run: true when there is room (possibly after an eviction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool MakeRoom(long now)
    {
        if (_live < _maxRuns) return true;
        if (_fifo is not null)
        {
            while (_fifo.TryDequeue(out var oldest))
            {
                if (oldest.Dead) continue;
                Kill(oldest);
                RunsEvicted++;
                BudgetNotice(now, "evicted the oldest run");
                return true;
            }
        }
        RunsRefused++;
        BudgetNotice(now, "refused a new run");
        return false;
    }

    private void BudgetNotice(long now, string what)
    {
        if (_lastBudgetNotice != long.MinValue && now - _lastBudgetNotice < NoticeInterval) return;
        _lastBudgetNotice = now;
        Stream.Engine.Options.Host?.Notice(Stream.Plan.Name, "run_budget",
            $"run budget of {_maxRuns} live runs is full: {what} (refused {RunsRefused}, evicted {RunsEvicted} so far)");
    }

    private void CompactFifo()
    {
        var fifo = _fifo!;
        var live = fifo.Where(r => !r.Dead).ToArray();
        fifo.Clear();
        foreach (var r in live) fifo.Enqueue(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Kill(Run run)
    {
        if (run.Dead) return;
        run.Dead = true;
        if (_runPool is not null) _ended.Add(run);
        var part = run.Partition;
        // A dead run may wait in the deadline heap until its deadline: let go of its events now.
        run.Captures = Array.Empty<Value>();
        run.Collected = Array.Empty<List<Event>?>();
        part.Remove(run);
        part.Live--;
        _live--;
        // Empty partitions are dropped (keys come and go); the single partition of an unpartitioned stream stays.
        if (part.Live == 0 && _plan.PartitionFields is not null && _parts.TryGetValue(part.Key, out var current) && ReferenceEquals(current, part))
        {
            _parts.Remove(part.Key);
            if (_spareParts.Count < 1024) _spareParts.Push(part);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void OnTime(long due, long now)
    {
        while (_deadlines.TryPeek(out long deadline) && DueOf(deadline) <= now)
        {
            var (run, generation) = _deadlines.Dequeue();
            if (run.Generation != generation || run.Dead) continue; // ended already
            var alt = _plan.Alternatives[run.Alt];
            if (alt.Absence && run.Pos == alt.Steps.Length)
            {
                long ts = run.Deadline == long.MaxValue ? run.LastTs : run.Deadline;
                _matches.Add((run, BuildRow(run, ts)));
            }
            Kill(run);
            FlushMatches();
            RecycleEnded();
        }
        if (_deadlines.TryPeek(out long next)) Schedule(DueOf(next));
    }

    private static long SafeAdd(long a, long b) => Windows.TimeWindowOperator.SafeAdd(a, b);

    // ------------------------------------------------------------------------------------------
    // Inspection

    private IEnumerable<Run> LiveRunsInOrder()
        => _parts.Values.SelectMany(p => p.Buckets.Where(b => b is not null).SelectMany(b => b!)).OrderBy(r => r.Seq);

    public IEnumerable<RunInfo> ListRuns(int limit)
    {
        if (limit <= 0) yield break;
        int n = 0;
        foreach (var run in LiveRunsInOrder())
        {
            if (n++ >= limit) yield break;
            yield return Describe(run);
        }
    }

    private RunInfo Describe(Run run)
    {
        var steps = _plan.Alternatives[run.Alt].Steps;
        var alt = _plan.Alternatives[run.Alt];
        string next = run.Pos < steps.Length
            ? (steps[run.Pos].Kleene ? "all " : "") + steps[run.Pos].Type.Name + " as " + steps[run.Pos].Alias
            : alt.Absence ? "deadline (absence)" : steps[^1].Kleene ? "more " + steps[^1].Type.Name + " as " + steps[^1].Alias : "";
        var captures = new List<KeyValuePair<string, Value>>();
        for (int i = 0; i < run.Pos && i < steps.Length; i++)
        {
            var s = steps[i];
            captures.Add(new(s.Alias, s.Kleene ? Value.FromArray(ToValues(run.Collected[i]!)) : run.Captures[s.Slot]));
        }
        return new RunInfo(Stream.Plan.Name, run.Key, run.Pos, next, captures, run.StartTs, run.Deadline == long.MaxValue ? null : run.Deadline);
    }

    public IEnumerable<KeyValuePair<Value, long>> CountByPartition()
        => _parts.Values.Select(p => new KeyValuePair<Value, long>(p.Key, p.Live));

    // ------------------------------------------------------------------------------------------
    // Checkpoints

    public override string StateKind => "pattern.sequence";

    public override JsonNode SaveState()
    {
        var runs = new JsonArray();
        foreach (var run in LiveRunsInOrder())
        {
            var collected = new JsonArray();
            foreach (var l in run.Collected) collected.Add(l is null ? null : CheckpointCodec.EncodeEvents(l));
            var captures = new JsonArray();
            foreach (var c in run.Captures) captures.Add(CheckpointCodec.EncodeValue(c));
            runs.Add(new JsonObject
            {
                ["seq"] = run.Seq,
                ["start_seq"] = run.StartSeq,
                ["alt"] = run.Alt,
                ["pos"] = run.Pos,
                ["started"] = run.StartTs,
                ["last"] = run.LastTs,
                ["deadline"] = run.Deadline,
                ["key"] = CheckpointCodec.EncodeValue(run.Key),
                ["captures"] = captures,
                ["collected"] = collected,
                ["capped"] = run.Capped,
            });
        }
        return new JsonObject
        {
            ["next_seq"] = _seq,
            ["refused"] = RunsRefused,
            ["evicted"] = RunsEvicted,
            ["kleene_limit_hits"] = KleeneLimitHits,
            ["last_budget_notice"] = _lastBudgetNotice,
            ["runs"] = runs,
        };
    }

    public override void LoadState(JsonNode state)
    {
        var types = Stream.Engine.Program.Types;
        _seq = (long?)state["next_seq"] ?? 0;
        RunsRefused = (long?)state["refused"] ?? 0;
        RunsEvicted = (long?)state["evicted"] ?? 0;
        KleeneLimitHits = (long?)state["kleene_limit_hits"] ?? 0;
        _lastBudgetNotice = (long?)state["last_budget_notice"] ?? long.MinValue;
        foreach (var node in state["runs"]?.AsArray() ?? new JsonArray())
        {
            var o = node!.AsObject();
            int altIndex = (int)o["alt"]!;
            if (altIndex < 0 || altIndex >= _plan.Alternatives.Length) throw new CheckpointException("pattern run of an unknown alternative");
            var alt = _plan.Alternatives[altIndex];
            int pos = (int)o["pos"]!;
            if (pos < 1 || pos > alt.Steps.Length) throw new CheckpointException("pattern run at an invalid position");
            var capturesNode = o["captures"]!.AsArray();
            var collectedNode = o["collected"]!.AsArray();
            if (capturesNode.Count != _plan.SlotNames.Length || (collectedNode.Count != alt.Steps.Length && collectedNode.Count != 0))
                throw new CheckpointException("pattern run does not fit this pattern");
            var run = new Run
            {
                Seq = (long)o["seq"]!,
                StartSeq = (long)o["start_seq"]!,
                Alt = altIndex,
                Pos = pos,
                StartTs = (long)o["started"]!,
                LastTs = (long)o["last"]!,
                Deadline = (long)o["deadline"]!,
                Key = CheckpointCodec.DecodeValue(o["key"], types),
                Captures = new Value[capturesNode.Count],
                Collected = new List<Event>?[collectedNode.Count],
                Capped = (bool?)o["capped"] ?? false,
            };
            for (int i = 0; i < capturesNode.Count; i++) run.Captures[i] = CheckpointCodec.DecodeValue(capturesNode[i], types);
            for (int i = 0; i < collectedNode.Count; i++)
            {
                if (collectedNode[i] is { } c) run.Collected[i] = CheckpointCodec.DecodeEvents(c, types);
            }
            // Runs are saved in creation order, so the eviction order and the heap order are rebuilt exactly.
            Register(run, restoring: true);
        }
    }

    public override void AfterRestore()
    {
        if (_deadlines.TryPeek(out long next)) Schedule(DueOf(next));
    }
}

/// <summary>Routes one input event type of a pattern stream to the stream's sequence operator.</summary>
internal sealed class SequencePort(StreamRuntime stream, int input) : InputPort
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Accept(Event e)
    {
        stream.EventsIn++;
        if (stream.IsLate(e)) return;
        ((SequenceOperator)stream.Head).Accept(input, e);
    }
}
