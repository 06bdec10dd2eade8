using Varpulis.Vpl.Compilation;
using System.Text.Json.Nodes;

namespace Varpulis.Vpl.Runtime.Operators;

/// <summary>
/// <c>join(A, B, ...).on(A.k == B.k).window(d)</c> (vpl.md §6.5): each input keeps its most recent event per
/// key. An arrival is joined with the most recent event of every other input that has the same key and a
/// timestamp ≥ arrival − d (inclusive); one joined row per arrival when every input has a partner.
/// Buffered events are not consumed. Without <c>.allowed_lateness</c> a late arrival is processed like any
/// other (vpl.md §7), so the most recent event of a key is kept as long as the key exists; with
/// <c>.allowed_lateness(L)</c> a key is forgotten once event time passes its event + window + L.
/// </summary>
internal sealed class JoinOperator : Operator
{
    private readonly Frame _frame;
    private readonly Eval[] _keys;
    private readonly long _window;
    private readonly EventType _rowType;
    private readonly Dictionary<Value, Event>[] _latest;
    private readonly PriorityQueue<(int Side, Value Key), long> _expiry = new();
    private readonly long? _retention;

    public JoinOperator(Frame frame, Eval[] keys, long window, EventType rowType, long? allowedLateness)
    {
        _retention = allowedLateness is long l ? TimeWindowsMath.SafeAdd(window, l) : null;
        _frame = frame;
        _keys = keys;
        _window = window;
        _rowType = rowType;
        _latest = new Dictionary<Value, Event>[keys.Length];
        for (int i = 0; i < _latest.Length; i++) _latest[i] = new Dictionary<Value, Event>();
    }

    public override void Push(Event row) => PushSide(0, row);

    public void PushSide(int side, Event e)
    {
        _frame.Row = e;
        var key = _keys[side](_frame);
        _latest[side][key] = e;
        if (_retention is long keep)
        {
            long forgetAt = TimeWindowsMath.SafeAdd(TimeWindowsMath.SafeAdd(e.Timestamp, keep), 1);
            _expiry.Enqueue((side, key), forgetAt);
            Schedule(forgetAt);
        }

        long from = e.Timestamp - _window;
        var values = new Value[_latest.Length];
        for (int i = 0; i < _latest.Length; i++)
        {
            if (i == side)
            {
                values[i] = Value.FromEvent(e);
                continue;
            }
            if (!_latest[i].TryGetValue(key, out var partner) || partner.Timestamp < from) return;
            values[i] = Value.FromEvent(partner);
        }
        Next.Push(new Event(_rowType, e.Timestamp, values));
    }

    public override void OnTime(long due, long now)
    {
        while (_expiry.TryPeek(out var item, out long at) && at <= due)
        {
            _expiry.Dequeue();
            if (_latest[item.Side].TryGetValue(item.Key, out var e) && TimeWindowsMath.SafeAdd(TimeWindowsMath.SafeAdd(e.Timestamp, _retention ?? long.MaxValue), 1) <= now)
                _latest[item.Side].Remove(item.Key);
        }
        if (_expiry.TryPeek(out _, out long next)) Schedule(next);
    }

    public override void AfterRestore()
    {
        if (_retention is not long keep) return;
        for (int side = 0; side < _latest.Length; side++)
        {
            foreach (var (k, e) in _latest[side]) _expiry.Enqueue((side, k), TimeWindowsMath.SafeAdd(TimeWindowsMath.SafeAdd(e.Timestamp, keep), 1));
        }
        if (_expiry.TryPeek(out _, out long next)) Schedule(next);
    }

    public override string StateKind => "join";

    public override JsonNode SaveState()
    {
        var sides = new JsonArray();
        foreach (var side in _latest)
        {
            var a = new JsonArray();
            foreach (var (k, e) in side.OrderBy(kv => kv.Key, ValueTotalComparer.Instance))
                a.Add(new JsonObject { ["key"] = CheckpointCodec.EncodeValue(k), ["event"] = CheckpointCodec.EncodeEvent(e) });
            sides.Add(a);
        }
        return new JsonObject { ["sides"] = sides };
    }

    public override void LoadState(JsonNode state)
    {
        var types = Stream.Engine.Program.Types;
        var sides = state["sides"]?.AsArray() ?? new JsonArray();
        for (int i = 0; i < _latest.Length; i++)
        {
            _latest[i].Clear();
            if (i >= sides.Count) continue;
            foreach (var n in sides[i]!.AsArray())
                _latest[i][CheckpointCodec.DecodeValue(n!["key"], types)] = CheckpointCodec.DecodeEvent(n["event"]!, types);
        }
        _expiry.Clear();
    }
}

/// <summary>Routes one join input's events to its side of the join.</summary>
internal sealed class JoinPort(StreamRuntime stream, int side) : InputPort
{
    public override void Accept(Event e)
    {
        stream.EventsIn++;
        if (stream.IsLate(e)) return;
        ((JoinOperator)stream.Head).PushSide(side, e);
    }
}

/// <summary>
/// <c>timer(period [, initial_delay: d])</c>: emits a <c>Timer_&lt;Stream&gt;</c> event with field <c>timestamp</c> at
/// first-event-time + initial delay (default: one period) and every period after, in event time.
/// Timers do not fire at end of input. A jump in event time catches up at most 100,000 ticks; the rest are
/// skipped and reported as a notice.
/// </summary>
internal sealed class TimerSourceOperator(long period, long initialDelay, EventType timerType) : Operator, IStartListener
{
    private const int MaxCatchUp = 100_000;
    private long _next = long.MinValue;

    public override void Push(Event row) => Next.Push(row);

    public void OnStart(long firstTimestamp)
    {
        _next = TimeWindowsMath.SafeAdd(firstTimestamp, initialDelay);
        Schedule(_next);
    }

    public override void OnTime(long due, long now)
    {
        if (now == long.MaxValue || _next == long.MinValue) return;
        int ticks = 0;
        while (_next <= now && ticks < MaxCatchUp)
        {
            Next.Push(new Event(timerType, _next, [Value.FromTimestamp(_next)]));
            _next = TimeWindowsMath.SafeAdd(_next, period);
            ticks++;
        }
        if (_next <= now)
        {
            long skipped = (now - _next) / period + 1;
            _next = TimeWindowsMath.SafeAdd(_next, skipped * period);
            Stream.Engine.Options.Host?.Notice(Stream.Plan.Name, "timer_skipped", $"timer skipped {skipped} ticks after a jump in event time");
        }
        Schedule(_next);
    }

    public override void AfterRestore()
    {
        if (_next != long.MinValue) Schedule(_next);
    }

    public override string StateKind => "timer";

    public override JsonNode SaveState() => new JsonObject { ["next"] = _next };

    public override void LoadState(JsonNode state) => _next = (long?)state["next"] ?? long.MinValue;
}

internal static class TimeWindowsMath
{
    public static long SafeAdd(long a, long b) => Windows.TimeWindowOperator.SafeAdd(a, b);
}
