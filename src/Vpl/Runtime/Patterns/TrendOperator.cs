using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>The bound events a class of partial trends agrees on (compared by reference).</summary>
internal readonly struct TrendKey(Event[] events) : IEquatable<TrendKey>
{
    public Event[] Events { get; } = events;

    public bool Equals(TrendKey other)
    {
        var a = Events;
        var b = other.Events;
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (!ReferenceEquals(a[i], b[i])) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is TrendKey k && Equals(k);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var e in Events) h.Add(RuntimeHelpers.GetHashCode(e));
        return h.ToHashCode();
    }
}

/// <summary>
/// Exact trend aggregation (GRETA, vpl.md §5.8): per partition and tumbling window, partial trends are grouped into
/// classes by (alternative, last bound step, the bound events later predicates read). Each class keeps the
/// aggregates of all its trends, so an event extends every trend of a class at once; the count can be exponential,
/// the work is polynomial. A trend is counted when its last event arrives, in the window of all its events.
/// </summary>
internal sealed class TrendOperator : Operator
{
    private sealed class ClassTable
    {
        public TrendAggregate? Single;
        public Dictionary<TrendKey, TrendAggregate>? Keyed;
    }

    private sealed class WindowState(long index, int alts, Func<int, int> steps, int aggregates)
    {
        public readonly long Index = index;
        public readonly ClassTable[][] Tables = Enumerable.Range(0, alts).Select(a => Enumerable.Range(0, steps(a)).Select(_ => new ClassTable()).ToArray()).ToArray();
        public readonly TrendAggregate Result = new(aggregates);
    }

    private readonly TrendPlan _plan;
    private readonly TrendOutputPlan _out;
    private readonly Frame _frame;
    private readonly Value[] _captures;
    private readonly Value[] _blank;
    private readonly Dictionary<Value, Dictionary<long, WindowState>> _parts = new();
    private readonly PriorityQueue<(Value Key, long Window), (long End, long Seq)> _closes = new();
    private readonly List<(int Alt, int Step, TrendKey Key, TrendAggregate Agg)> _pending = new();
    private readonly List<TrendAggregate> _scratch = new();
    private int _scratchUsed;
    private readonly FieldAccessor[]?[] _keyFields;
    private long _seq;

    public TrendOperator(TrendPlan plan, Frame frame)
    {
        _keyFields = plan.InputTypes.Select(_ => plan.Output.NewKeyFields()).ToArray();
        _plan = plan;
        _out = plan.Output;
        _frame = frame;
        _captures = new Value[plan.SlotCount];
        _blank = new Value[plan.SlotCount];
    }

    public override void Push(Event row) => Accept(0, row);

    public void Accept(int input, Event e)
    {
        long w = _out.WindowIndex(e.Timestamp);
        long end = _out.WindowEnd(w);
        if (Stream.Engine.Watermark >= end) return; // its window already closed
        var key = TrendOutputPlan.KeyOf(_keyFields[input], e);
        var slots = _plan.StepsByInput[input];
        WindowState? state = null;
        if (_parts.TryGetValue(key, out var windows)) windows.TryGetValue(w, out state);
        var aggs = _out.Aggregates;
        foreach (var (a, s) in slots)
        {
            var alt = _plan.Alternatives[a];
            var step = alt.Steps[s];
            if (s == 0)
            {
                if (step.Kleene && state is not null) ExtendFrom(state.Tables[a][0], a, 0, 0, e);
                if (!Test(step.Predicate, _blank, e)) continue;
                var agg = Scratch();
                agg.Count = TrendNumber.One;
                agg.AddEvent(aggs, step.Slot, e);
                _pending.Add((a, 0, KeyAfter(a, 0, default, -1, e), agg));
                continue;
            }
            if (state is null) continue;
            ExtendFrom(state.Tables[a][s - 1], a, s - 1, s, e);
            if (step.Kleene) ExtendFrom(state.Tables[a][s], a, s, s, e);
        }
        if (_pending.Count == 0) return;
        if (state is null)
        {
            if (windows is null) _parts[key] = windows = new Dictionary<long, WindowState>();
            state = new WindowState(w, _plan.Alternatives.Length, i => _plan.Alternatives[i].Steps.Length, aggs.Length);
            windows[w] = state;
            _closes.Enqueue((key, w), (end, _seq++));
            Schedule(end);
        }
        foreach (var (a, s, k, agg) in _pending)
        {
            if (s == _plan.Alternatives[a].Steps.Length - 1) state.Result.Merge(agg);
            var table = state.Tables[a][s];
            if (_plan.Needed[a][s].Length == 0)
            {
                if (table.Single is null) table.Single = agg.Copy();
                else table.Single.Merge(agg);
            }
            else
            {
                table.Keyed ??= new Dictionary<TrendKey, TrendAggregate>();
                if (table.Keyed.TryGetValue(k, out var existing)) existing.Merge(agg);
                else table.Keyed[k] = agg.Copy();
            }
        }
        _pending.Clear();
        _scratchUsed = 0;
    }

    /// <summary>A cleared aggregate from a pool reused by every event (classes keep copies, never pool objects).</summary>
    private TrendAggregate Scratch()
    {
        if (_scratchUsed == _scratch.Count) _scratch.Add(new TrendAggregate(_out.Aggregates.Length));
        var a = _scratch[_scratchUsed++];
        a.Clear();
        return a;
    }

    private bool Test(Eval? predicate, Value[] captures, Event e)
    {
        if (predicate is null) return true;
        _frame.Row = e;
        _frame.Captures = captures;
        return predicate(_frame).IsTrue;
    }

    /// <summary>Extends the classes of (alt, <paramref name="fromStep"/>) by binding <paramref name="e"/> to <paramref name="toStep"/>.</summary>
    private void ExtendFrom(ClassTable table, int alt, int fromStep, int toStep, Event e)
    {
        var step = _plan.Alternatives[alt].Steps[toStep];
        var specs = _out.Aggregates;
        if (table.Single is { } single)
        {
            if (Test(step.Predicate, _blank, e))
            {
                var agg = Scratch();
                agg.Merge(single);
                agg.AddEvent(specs, step.Slot, e);
                _pending.Add((alt, toStep, KeyAfter(alt, fromStep, default, toStep, e), agg));
            }
        }
        if (table.Keyed is null) return;
        var needed = _plan.Needed[alt][fromStep];
        var steps = _plan.Alternatives[alt].Steps;
        foreach (var (key, agg0) in table.Keyed)
        {
            for (int i = 0; i < needed.Length; i++) _captures[steps[needed[i]].Slot] = Value.FromEvent(key.Events[i]);
            // Binding the first event of a Kleene step: its own alias has nothing collected yet.
            if (fromStep != toStep && step.Kleene) _captures[step.Slot] = Value.Null;
            bool ok = Test(step.Predicate, _captures, e);
            Array.Clear(_captures);
            if (!ok) continue;
            var agg = Scratch();
            agg.Merge(agg0);
            agg.AddEvent(specs, step.Slot, e);
            _pending.Add((alt, toStep, KeyAfter(alt, fromStep, key, toStep, e), agg));
        }
    }

    /// <summary>The class key after binding <paramref name="e"/> to <paramref name="toStep"/> from a class of <paramref name="fromStep"/>.</summary>
    private TrendKey KeyAfter(int alt, int fromStep, TrendKey from, int toStep, Event e)
    {
        int target = toStep < 0 ? 0 : toStep;
        var needed = _plan.Needed[alt][target];
        if (needed.Length == 0) return default;
        var prev = toStep < 0 ? Array.Empty<int>() : _plan.Needed[alt][fromStep];
        // Same bound events as the class it came from (the new event is not part of the key): the same key.
        if (toStep >= 0 && Array.IndexOf(needed, target) < 0 && needed.AsSpan().SequenceEqual(prev)) return from;
        var events = new Event[needed.Length];
        for (int i = 0; i < needed.Length; i++)
        {
            int j = needed[i];
            if (j == target) events[i] = e;
            else events[i] = from.Events[Array.IndexOf(prev, j)];
        }
        return new TrendKey(events);
    }

    public override void OnTime(long due, long now)
    {
        var due_ = new List<(Value Key, long Window, long End)>();
        while (_closes.TryPeek(out var item, out var p) && p.End <= now)
        {
            _closes.Dequeue();
            due_.Add((item.Key, item.Window, p.End));
        }
        due_.Sort(static (x, y) => x.End != y.End ? x.End.CompareTo(y.End) : Value.CompareTotal(x.Key, y.Key));
        foreach (var (key, w, _) in due_)
        {
            if (!_parts.TryGetValue(key, out var windows) || !windows.Remove(w, out var state)) continue;
            if (windows.Count == 0) _parts.Remove(key);
            if (!state.Result.Count.IsPositive) continue;
            Next.Push(_out.BuildRow(key, w, state.Result.Results(_out.Aggregates)));
        }
        if (_closes.TryPeek(out _, out var next)) Schedule(next.End);
    }

    public override void AfterRestore()
    {
        if (_closes.TryPeek(out _, out var next)) Schedule(next.End);
    }

    // ------------------------------------------------------------------------------------------
    // Checkpoints

    public override string StateKind => "pattern.trends";

    public override JsonNode SaveState()
    {
        // Class keys compare events by reference: every distinct event is written once and referred to by index.
        var eventIndex = new Dictionary<Event, int>(ReferenceEqualityComparer.Instance);
        var events = new JsonArray();
        var windows = new JsonArray();
        foreach (var (key, byIndex) in _parts.OrderBy(kv => kv.Key, ValueTotalComparer.Instance))
        {
            foreach (var (w, state) in byIndex.OrderBy(kv => kv.Key))
            {
                var classes = new JsonArray();
                for (int a = 0; a < state.Tables.Length; a++)
                {
                    for (int s = 0; s < state.Tables[a].Length; s++)
                    {
                        var t = state.Tables[a][s];
                        if (t.Single is { } single) classes.Add(new JsonObject { ["alt"] = a, ["step"] = s, ["agg"] = single.Encode() });
                        if (t.Keyed is null) continue;
                        foreach (var (k, agg) in t.Keyed)
                        {
                            var refs = new JsonArray();
                            foreach (var ev in k.Events)
                            {
                                if (!eventIndex.TryGetValue(ev, out int idx))
                                {
                                    eventIndex[ev] = idx = events.Count;
                                    events.Add(CheckpointCodec.EncodeEvent(ev));
                                }
                                refs.Add(idx);
                            }
                            classes.Add(new JsonObject { ["alt"] = a, ["step"] = s, ["key"] = refs, ["agg"] = agg.Encode() });
                        }
                    }
                }
                windows.Add(new JsonObject
                {
                    ["key"] = CheckpointCodec.EncodeValue(key),
                    ["window"] = w,
                    ["result"] = state.Result.Encode(),
                    ["classes"] = classes,
                });
            }
        }
        return new JsonObject { ["events"] = events, ["windows"] = windows };
    }

    public override void LoadState(JsonNode state)
    {
        var types = Stream.Engine.Program.Types;
        int n = _out.Aggregates.Length;
        var events = CheckpointCodec.DecodeEvents(state["events"], types);
        foreach (var node in state["windows"]?.AsArray() ?? new JsonArray())
        {
            var key = CheckpointCodec.DecodeValue(node!["key"], types);
            long w = (long)node["window"]!;
            var ws = new WindowState(w, _plan.Alternatives.Length, i => _plan.Alternatives[i].Steps.Length, n);
            ws.Result.Merge(TrendAggregate.Decode(node["result"]!, n, types));
            foreach (var c in node["classes"]!.AsArray())
            {
                int a = (int)c!["alt"]!, s = (int)c["step"]!;
                if (a < 0 || a >= ws.Tables.Length || s < 0 || s >= ws.Tables[a].Length) throw new CheckpointException("trend class of an unknown step");
                var agg = TrendAggregate.Decode(c["agg"]!, n, types);
                if (c["key"] is JsonArray keyNode)
                {
                    var keyEvents = keyNode.Select(x => events[(int)x!]).ToArray();
                    (ws.Tables[a][s].Keyed ??= new())[new TrendKey(keyEvents)] = agg;
                }
                else
                {
                    ws.Tables[a][s].Single = agg;
                }
            }
            if (!_parts.TryGetValue(key, out var windows)) _parts[key] = windows = new Dictionary<long, WindowState>();
            windows[w] = ws;
            _closes.Enqueue((key, w), (_out.WindowEnd(w), _seq++));
        }
    }
}

/// <summary>Routes one input event type of a trend stream to its trend operator.</summary>
internal sealed class TrendPort(StreamRuntime stream, int input) : InputPort
{
    public override void Accept(Event e)
    {
        stream.EventsIn++;
        if (stream.IsLate(e)) return;
        ((TrendOperator)stream.Head).Accept(input, e);
    }
}
