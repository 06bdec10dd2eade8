using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>
/// Hamlet sharing (vpl.md §5.8): trend streams of one program of the form <c>S where p as s -> all T where q as t</c>
/// with the same T, q, window and partition key share the Kleene sub-pattern. Built at compile time; the first
/// stream compiled is the owner: it reads the T events and keeps the shared state of every engine.
/// </summary>
internal sealed class TrendShareGroup
{
    public required string Owner { get; init; }

    public Eval? KleenePredicate { get; init; }

    public required long Window { get; init; }

    public FieldAccessor[]? PartitionFields { get; init; }

    /// <summary>Member streams in registration order (a member's index is its position).</summary>
    public List<string> Members { get; } = new();

    /// <summary>Per member, the start-alias fields its aggregates read (the layout of its <see cref="MemberStarts"/>).</summary>
    public List<string[]> MemberStartFields { get; } = new();

    /// <summary>Fields of T that some member aggregates (sum/avg/min/max over t.f), shared by all members.</summary>
    public List<string> KleeneFields { get; } = new();

    /// <summary>Per shared field: some member asks for its min or max (else only its sums are kept).</summary>
    public List<bool> KleeneFieldExtremes { get; } = new();

    public int FieldIndex(string field, bool extremes)
    {
        int i = KleeneFields.IndexOf(field);
        if (i < 0)
        {
            KleeneFields.Add(field);
            KleeneFieldExtremes.Add(false);
            i = KleeneFields.Count - 1;
        }
        KleeneFieldExtremes[i] |= extremes;
        return i;
    }
}

/// <summary>
/// One member's starts at one boundary: how many, and per start-alias aggregate the sum, min and max of the field.
/// </summary>
internal sealed class MemberStarts(int fields)
{
    public long Count;
    public readonly TrendNumber[] Sums = Enumerable.Repeat(TrendNumber.Zero, fields).ToArray();
    public readonly Value[] Min = new Value[fields];
    public readonly Value[] Max = new Value[fields];
}

/// <summary>
/// A point between T events where starts happened. For one start placed here: the number of trends (<see cref="Trends"/>),
/// the T events summed over them (<see cref="Events"/>), per shared field the sum over trends of the T values, and
/// the min and max of the T values after it. Each member scales these by its own starts here.
/// </summary>
internal sealed class Boundary(int fields, int members)
{
    public TrendNumber Trends = TrendNumber.Zero;
    public TrendNumber Events = TrendNumber.Zero;
    public readonly TrendNumber[] Sums = Enumerable.Repeat(TrendNumber.Zero, fields).ToArray();
    public readonly Value[] Min = new Value[fields];
    public readonly Value[] Max = new Value[fields];
    public bool SawKleene;
    public readonly MemberStarts?[] Starts = new MemberStarts?[members];
}

internal sealed class SharedWindow(int members)
{
    public readonly List<Boundary> Boundaries = new();

    /// <summary>Members that started a trend here (each reads the window once when it closes).</summary>
    public readonly bool[] Started = new bool[members];
}

/// <summary>The shared Kleene state of one engine, owned by the group owner's operator.</summary>
internal sealed class SharedTrendState
{
    private readonly TrendShareGroup _group;
    private readonly Frame _frame;
    private readonly Value[] _blank;
    private readonly Value[] _values;
    private readonly FieldAccessor[] _fields;
    private readonly bool[] _extremes;

    private readonly PriorityQueue<(Value Key, long Window), long> _cleanups = new();
    private readonly SharedTrendOperator _owner;

    public SharedTrendState(TrendShareGroup group, SharedTrendOperator owner, Frame frame, int slots)
    {
        _group = group;
        _owner = owner;
        _frame = frame;
        _blank = new Value[slots];
        _fields = group.KleeneFields.Select(f => new FieldAccessor(f)).ToArray();
        _extremes = group.KleeneFieldExtremes.ToArray();
        _values = new Value[_fields.Length];
    }

    public Dictionary<Value, Dictionary<long, SharedWindow>> Windows { get; } = new();

    public int MemberCount => _group.Members.Count;

    public int FieldCount => _fields.Length;

    /// <summary>A T event: every boundary of its partition and window gains it (one pass for all member streams).</summary>
    public void AcceptKleene(Value key, long window, Event e)
    {
        if (!Windows.TryGetValue(key, out var byIndex) || !byIndex.TryGetValue(window, out var w)) return;
        if (_group.KleenePredicate is { } p)
        {
            _frame.Row = e;
            _frame.Captures = _blank;
            if (!p(_frame).IsTrue) return;
        }
        for (int f = 0; f < _fields.Length; f++) _values[f] = _fields[f].Get(e);
        foreach (var b in w.Boundaries)
        {
            // Trends of one start ending at e: e alone, or e appended to any earlier trend.
            var c = TrendNumber.One + b.Trends;
            b.Trends += c;
            b.Events += c + b.Events;
            for (int f = 0; f < _fields.Length; f++)
            {
                var v = _values[f];
                // Every earlier trend is extended by e, so the sum doubles even when e has no number here.
                b.Sums[f] += (TrendNumber.FromValue(v) ?? TrendNumber.Zero) * c + b.Sums[f];
                if (v.IsNull || !_extremes[f]) continue;
                if (b.Min[f].IsNull || Value.CompareTotal(v, b.Min[f]) < 0) b.Min[f] = v;
                if (b.Max[f].IsNull || Value.CompareTotal(v, b.Max[f]) > 0) b.Max[f] = v;
            }
            b.SawKleene = true;
        }
    }

    /// <summary>Records a start of a member; true when it is the member's first start in this window (it must read the result at the window's end).</summary>
    public bool AddStart(int member, Value key, long window, FieldAccessor[] startFields, Event e)
    {
        if (!Windows.TryGetValue(key, out var byIndex)) Windows[key] = byIndex = new Dictionary<long, SharedWindow>();
        if (!byIndex.TryGetValue(window, out var w))
        {
            byIndex[window] = w = new SharedWindow(MemberCount);
            AddCleanup(key, window);
        }
        if (w.Boundaries.Count == 0 || w.Boundaries[^1].SawKleene) w.Boundaries.Add(new Boundary(_fields.Length, MemberCount));
        var b = w.Boundaries[^1];
        var ms = b.Starts[member] ??= new MemberStarts(startFields.Length);
        ms.Count++;
        for (int i = 0; i < startFields.Length; i++)
        {
            var v = startFields[i].Get(e);
            if (v.IsNull) continue;
            if (TrendNumber.FromValue(v) is { } num) ms.Sums[i] += num;
            if (ms.Min[i].IsNull || Value.CompareTotal(v, ms.Min[i]) < 0) ms.Min[i] = v;
            if (ms.Max[i].IsNull || Value.CompareTotal(v, ms.Max[i]) > 0) ms.Max[i] = v;
        }
        if (w.Started[member]) return false;
        w.Started[member] = true;
        return true;
    }

    /// <summary>
    /// A window is forgotten one nanosecond after its end: members read it at its end, and the timer queue runs
    /// due times in order, so every member has read it first.
    /// </summary>
    private void AddCleanup(Value key, long window)
    {
        long due = Runtime.Windows.TimeWindowOperator.SafeAdd(_owner.WindowEnd(window), 1);
        _cleanups.Enqueue((key, window), due);
        _owner.WakeAt(due);
    }

    /// <summary>Forgets the windows whose cleanup is due at or before <paramref name="due"/>; returns the next cleanup time.</summary>
    public long Cleanup(long due)
    {
        while (_cleanups.TryPeek(out var item, out long at) && at <= due)
        {
            _cleanups.Dequeue();
            if (Windows.TryGetValue(item.Key, out var byIndex) && byIndex.Remove(item.Window) && byIndex.Count == 0) Windows.Remove(item.Key);
        }
        return _cleanups.TryPeek(out _, out long next) ? next : long.MaxValue;
    }

    /// <summary>A member's view of a closed window: the boundaries where it started trends.</summary>
    public List<(Boundary Boundary, MemberStarts Starts)>? Read(int member, Value key, long window)
    {
        if (!Windows.TryGetValue(key, out var byIndex) || !byIndex.TryGetValue(window, out var w) || !w.Started[member]) return null;
        var result = new List<(Boundary, MemberStarts)>();
        foreach (var b in w.Boundaries)
        {
            if (b.Starts[member] is { } ms) result.Add((b, ms));
        }
        return result;
    }

    public JsonNode Save()
    {
        var windows = new JsonArray();
        foreach (var (key, byIndex) in Windows.OrderBy(kv => kv.Key, ValueTotalComparer.Instance))
        {
            foreach (var (index, w) in byIndex.OrderBy(kv => kv.Key))
            {
                var boundaries = new JsonArray();
                foreach (var b in w.Boundaries)
                {
                    var starts = new JsonArray();
                    foreach (var ms in b.Starts)
                    {
                        starts.Add(ms is null ? null : new JsonObject
                        {
                            ["count"] = ms.Count,
                            ["sums"] = new JsonArray(ms.Sums.Select(s => s.Encode()).ToArray()),
                            ["min"] = new JsonArray(ms.Min.Select(CheckpointCodec.EncodeValue).ToArray()),
                            ["max"] = new JsonArray(ms.Max.Select(CheckpointCodec.EncodeValue).ToArray()),
                        });
                    }
                    boundaries.Add(new JsonObject
                    {
                        ["trends"] = b.Trends.Encode(),
                        ["events"] = b.Events.Encode(),
                        ["sums"] = new JsonArray(b.Sums.Select(s => s.Encode()).ToArray()),
                        ["min"] = new JsonArray(b.Min.Select(CheckpointCodec.EncodeValue).ToArray()),
                        ["max"] = new JsonArray(b.Max.Select(CheckpointCodec.EncodeValue).ToArray()),
                        ["saw_kleene"] = b.SawKleene,
                        ["starts"] = starts,
                    });
                }
                windows.Add(new JsonObject
                {
                    ["key"] = CheckpointCodec.EncodeValue(key),
                    ["window"] = index,
                    ["started"] = new JsonArray(w.Started.Select(r => (JsonNode)r).ToArray()),
                    ["boundaries"] = boundaries,
                });
            }
        }
        return new JsonObject
        {
            ["members"] = new JsonArray(_group.Members.Select((m, i) => (JsonNode)new JsonObject
            {
                ["stream"] = m,
                ["start_fields"] = new JsonArray(_group.MemberStartFields[i].Select(f => (JsonNode)f).ToArray()),
            }).ToArray()),
            ["fields"] = new JsonArray(_group.KleeneFields.Select(f => (JsonNode)f).ToArray()),
            ["windows"] = windows,
        };
    }

    /// <summary>
    /// Loads shared state saved by a program with possibly other member streams: members are matched by stream name
    /// and start fields, T fields by name; what has no counterpart is dropped, what is new starts empty.
    /// </summary>
    public void Load(JsonNode node, TypeRegistry types)
    {
        var memberMap = node["members"]!.AsArray().Select(m =>
        {
            int i = _group.Members.IndexOf((string)m!["stream"]!);
            var fields = m["start_fields"]!.AsArray().Select(f => (string)f!).ToArray();
            return i >= 0 && _group.MemberStartFields[i].SequenceEqual(fields) ? i : -1;
        }).ToArray();
        var fieldMap = node["fields"]!.AsArray().Select(f => _group.KleeneFields.IndexOf((string)f!)).ToArray();
        foreach (var wn in node["windows"]!.AsArray())
        {
            var key = CheckpointCodec.DecodeValue(wn!["key"], types);
            long index = (long)wn["window"]!;
            var w = new SharedWindow(MemberCount);
            var started = wn["started"]!.AsArray();
            for (int m = 0; m < memberMap.Length; m++)
            {
                if (memberMap[m] >= 0) w.Started[memberMap[m]] = (bool)started[m]!;
            }
            foreach (var bn in wn["boundaries"]!.AsArray())
            {
                var b = new Boundary(FieldCount, MemberCount)
                {
                    Trends = TrendNumber.Decode(bn!["trends"]),
                    Events = TrendNumber.Decode(bn["events"]),
                    SawKleene = (bool)bn["saw_kleene"]!,
                };
                for (int f = 0; f < fieldMap.Length; f++)
                {
                    int to = fieldMap[f];
                    if (to < 0) continue;
                    b.Sums[to] = TrendNumber.Decode(bn["sums"]![f]);
                    b.Min[to] = CheckpointCodec.DecodeValue(bn["min"]![f], types);
                    b.Max[to] = CheckpointCodec.DecodeValue(bn["max"]![f], types);
                }
                var starts = bn["starts"]!.AsArray();
                for (int m = 0; m < memberMap.Length; m++)
                {
                    if (memberMap[m] < 0 || starts[m] is not JsonObject sn) continue;
                    var sums = sn["sums"]!.AsArray();
                    var ms = new MemberStarts(sums.Count) { Count = (long)sn["count"]! };
                    for (int i = 0; i < sums.Count; i++)
                    {
                        ms.Sums[i] = TrendNumber.Decode(sums[i]);
                        ms.Min[i] = CheckpointCodec.DecodeValue(sn["min"]![i], types);
                        ms.Max[i] = CheckpointCodec.DecodeValue(sn["max"]![i], types);
                    }
                    b.Starts[memberMap[m]] = ms;
                }
                w.Boundaries.Add(b);
            }
            if (!Windows.TryGetValue(key, out var byIndex)) Windows[key] = byIndex = new Dictionary<long, SharedWindow>();
            byIndex[index] = w;
            _cleanups.Enqueue((key, index), Runtime.Windows.TimeWindowOperator.SafeAdd(_owner.WindowEnd(index), 1));
        }
    }

    /// <summary>The next cleanup time (after a restore).</summary>
    public long NextCleanup => _cleanups.TryPeek(out _, out long next) ? next : long.MaxValue;
}

/// <summary>How one shared-trend member computes an aggregate from the boundaries.</summary>
internal readonly record struct SharedAggregate(TrendFunction Function, bool OnStart, int Field);

/// <summary>
/// The head operator of a trend stream in a Hamlet group: records its own starts (its start predicate) into the
/// shared state and, when a window closes, turns the shared per-boundary aggregates into its result row.
/// The owner also feeds the shared state with the T events.
/// </summary>
internal sealed class SharedTrendOperator : Operator
{
    private readonly TrendShareGroup _group;
    private readonly int _member;
    private readonly TrendOutputPlan _out;
    private readonly Eval? _startPredicate;
    private readonly FieldAccessor[] _startFields;
    private readonly SharedAggregate[] _aggregates;
    private readonly Frame _frame;
    private readonly Value[] _blank;
    private readonly PriorityQueue<(Value Key, long Window), (long End, long Seq)> _closes = new();
    private readonly SharedTrendState? _own;
    private SharedTrendOperator? _ownerCache;
    private readonly FieldAccessor[]? _startKey;
    private readonly FieldAccessor[]? _kleeneKey;
    private long _seq;

    public SharedTrendOperator(TrendShareGroup group, int member, TrendOutputPlan output, Eval? startPredicate,
        FieldAccessor[] startFields, SharedAggregate[] aggregates, Frame frame, int slots, bool isOwner)
    {
        _group = group;
        _member = member;
        _out = output;
        _startPredicate = startPredicate;
        _startFields = startFields;
        _aggregates = aggregates;
        _frame = frame;
        _blank = new Value[slots];
        _startKey = output.NewKeyFields();
        _kleeneKey = output.NewKeyFields();
        if (isOwner) _own = new SharedTrendState(group, this, new Frame(frame.State), slots);
    }

    /// <summary>The shared state of this engine: the owner's (re-resolved after a restore rebuilt the operators).</summary>
    private SharedTrendState? Shared
    {
        get
        {
            if (_own is not null) return _own;
            var owner = Stream.Engine.FindStream(_group.Owner)?.Head as SharedTrendOperator;
            if (!ReferenceEquals(owner, _ownerCache)) _ownerCache = owner;
            return _ownerCache?._own;
        }
    }

    public override void Push(Event row) => AcceptStart(row);

    public void AcceptStart(Event e)
    {
        if (_startPredicate is not null)
        {
            _frame.Row = e;
            _frame.Captures = _blank;
            if (!_startPredicate(_frame).IsTrue) return;
        }
        long w = _out.WindowIndex(e.Timestamp);
        long end = _out.WindowEnd(w);
        if (Stream.Engine.Watermark >= end) return;
        var shared = Shared;
        if (shared is null) return;
        var key = TrendOutputPlan.KeyOf(_startKey, e);
        if (shared.AddStart(_member, key, w, _startFields, e))
        {
            _closes.Enqueue((key, w), (end, _seq++));
            Schedule(end);
        }
    }

    public long WindowEnd(long window) => _out.WindowEnd(window);

    /// <summary>Asks the timer queue for a call at <paramref name="due"/> (the shared state's cleanups).</summary>
    internal void WakeAt(long due) => Schedule(due);

    public void AcceptKleene(Event e)
    {
        long w = _out.WindowIndex(e.Timestamp);
        if (Stream.Engine.Watermark >= _out.WindowEnd(w)) return;
        _own?.AcceptKleene(TrendOutputPlan.KeyOf(_kleeneKey, e), w, e);
    }

    private readonly List<(Value Key, long Window, long End)> _due = new();

    public override void OnTime(long due, long now)
    {
        // Only what is due at `due`: the queue calls again for later due times, in order, so every member reads a
        // window (due at its end) before the owner forgets it (due one nanosecond later).
        var items = _due;
        items.Clear();
        while (_closes.TryPeek(out var item, out var p) && p.End <= due)
        {
            _closes.Dequeue();
            items.Add((item.Key, item.Window, p.End));
        }
        items.Sort(static (x, y) => x.End != y.End ? x.End.CompareTo(y.End) : Value.CompareTotal(x.Key, y.Key));
        var shared = Shared;
        foreach (var (key, w, _) in items)
        {
            var view = shared?.Read(_member, key, w);
            if (view is null) continue;
            var row = Compute(view);
            if (row is not null) Next.Push(_out.BuildRow(key, w, row));
        }
        items.Clear();
        long next = _own?.Cleanup(due) ?? long.MaxValue;
        if (_closes.TryPeek(out _, out var close)) next = Math.Min(next, close.End);
        if (next != long.MaxValue) Schedule(next);
    }

    private Value[]? Compute(List<(Boundary Boundary, MemberStarts Starts)> view)
    {
        var count = TrendNumber.Zero;
        foreach (var (b, ms) in view) count += TrendNumber.FromLong(ms.Count) * b.Trends;
        if (!count.IsPositive) return null;
        var result = new Value[_aggregates.Length];
        for (int i = 0; i < _aggregates.Length; i++)
        {
            var a = _aggregates[i];
            switch (a.Function)
            {
                case TrendFunction.CountTrends:
                    result[i] = count.ToValue();
                    break;
                case TrendFunction.CountEvents:
                    result[i] = (a.OnStart ? count : EventsOfKleene(view)).ToValue();
                    break;
                case TrendFunction.Sum:
                    result[i] = SumOf(view, a).ToValue();
                    break;
                case TrendFunction.Avg:
                    {
                        var events = a.OnStart ? count : EventsOfKleene(view);
                        result[i] = events.IsZero ? Value.Null : Value.FromFloat(SumOf(view, a).AsDouble / events.AsDouble);
                        break;
                    }
                default:
                    {
                        bool min = a.Function == TrendFunction.Min;
                        Value best = Value.Null;
                        foreach (var (b, ms) in view)
                        {
                            if (!b.Trends.IsPositive || ms.Count == 0) continue;
                            var v = a.OnStart ? (min ? ms.Min[a.Field] : ms.Max[a.Field]) : (min ? b.Min[a.Field] : b.Max[a.Field]);
                            if (v.IsNull) continue;
                            if (best.IsNull || (min ? Value.CompareTotal(v, best) < 0 : Value.CompareTotal(v, best) > 0)) best = v;
                        }
                        result[i] = best;
                        break;
                    }
            }
        }
        return result;
    }

    private static TrendNumber EventsOfKleene(List<(Boundary Boundary, MemberStarts Starts)> view)
    {
        var n = TrendNumber.Zero;
        foreach (var (b, ms) in view) n += TrendNumber.FromLong(ms.Count) * b.Events;
        return n;
    }

    private static TrendNumber SumOf(List<(Boundary Boundary, MemberStarts Starts)> view, SharedAggregate a)
    {
        var s = TrendNumber.Zero;
        foreach (var (b, ms) in view)
            s += a.OnStart ? ms.Sums[a.Field] * b.Trends : TrendNumber.FromLong(ms.Count) * b.Sums[a.Field];
        return s;
    }

    public override void AfterRestore()
    {
        long next = _own?.NextCleanup ?? long.MaxValue;
        if (_closes.TryPeek(out _, out var close)) next = Math.Min(next, close.End);
        if (next != long.MaxValue) Schedule(next);
    }

    public override string StateKind => "pattern.shared_trends";

    public override JsonNode SaveState()
    {
        var closes = new JsonArray();
        foreach (var (item, p) in _closes.UnorderedItems.OrderBy(x => x.Priority.Seq))
            closes.Add(new JsonObject { ["key"] = CheckpointCodec.EncodeValue(item.Key), ["window"] = item.Window, ["end"] = p.End });
        var o = new JsonObject { ["closes"] = closes };
        if (_own is not null) o["shared"] = _own.Save();
        return o;
    }

    public override void LoadState(JsonNode state)
    {
        var types = Stream.Engine.Program.Types;
        foreach (var c in state["closes"]?.AsArray() ?? new JsonArray())
            _closes.Enqueue((CheckpointCodec.DecodeValue(c!["key"], types), (long)c["window"]!), ((long)c["end"]!, _seq++));
        if (_own is not null && state["shared"] is { } shared) _own.Load(shared, types);
    }
}

/// <summary>Feeds a member's start events to its shared-trend operator.</summary>
internal sealed class SharedStartPort(StreamRuntime stream) : InputPort
{
    public override void Accept(Event e)
    {
        stream.EventsIn++;
        if (stream.IsLate(e)) return;
        ((SharedTrendOperator)stream.Head).AcceptStart(e);
    }
}

/// <summary>Feeds the T events of a Hamlet group to the owner, once for all member streams.</summary>
internal sealed class SharedKleenePort(StreamRuntime stream) : InputPort
{
    public override void Accept(Event e)
    {
        stream.EventsIn++;
        if (stream.IsLate(e)) return;
        ((SharedTrendOperator)stream.Head).AcceptKleene(e);
    }
}
