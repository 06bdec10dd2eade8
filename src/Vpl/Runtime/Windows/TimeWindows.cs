using Varpulis.Vpl.Compilation;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime.Windows;

/// <summary>
/// Event-time windows aligned to the epoch: tumbling <c>.window(d)</c> = <c>[k·d, (k+1)·d)</c>, and hopping
/// <c>.window(d, sliding: s)</c> = windows of size d starting at every multiple of s. A window fires when
/// the pipeline's event time reaches its end; windows of every partition that end together fire in the
/// same step, ordered by end, then partition key. With <c>.allowed_lateness(L)</c> a fired window is kept
/// until event time passes <c>end + L</c>, and a late event within L re-fires it with all its events.
/// </summary>
internal sealed class TimeWindowOperator : Operator
{
    private sealed class Window
    {
        public readonly List<Event> Events = new();
        public bool Fired;
    }

    private enum ItemKind : byte
    {
        Fire = 0,
        Purge = 1,
    }

    private readonly record struct DueItem(long Due, ItemKind Kind, Value Key, long Start);

    private sealed class DueItemComparer : IComparer<DueItem>
    {
        public static readonly DueItemComparer Instance = new();

        public int Compare(DueItem x, DueItem y)
        {
            int c = x.Due.CompareTo(y.Due);
            if (c != 0) return c;
            c = ((byte)x.Kind).CompareTo((byte)y.Kind);
            if (c != 0) return c;
            c = Value.CompareTotal(x.Key, y.Key);
            if (c != 0) return c;
            return x.Start.CompareTo(y.Start);
        }
    }

    private readonly Frame _frame;
    private readonly long _size;
    private readonly long _slide;
    private readonly long _lateness;
    private readonly KeySelector? _partition;
    private readonly Dictionary<(Value Key, long Start), Window> _windows = new();
    private readonly SortedSet<DueItem> _due = new(DueItemComparer.Instance);

    public TimeWindowOperator(Frame frame, long size, long slide, long allowedLateness, KeySelector? partition)
    {
        _frame = frame;
        _size = size;
        _slide = slide;
        _lateness = Math.Max(0, allowedLateness);
        _partition = partition;
    }

    public override void Push(Event row)
    {
        Value key = _partition.KeyOf(_frame, row);
        long ts = row.Timestamp;
        long lastStart = FloorDiv(ts, _slide) * _slide;
        long firstStart = FloorDiv(ts - _size, _slide) * _slide + _slide;
        for (long start = firstStart; start <= lastStart; start += _slide)
        {
            if (start > ts || start + _size <= ts) continue;
            if (!_windows.TryGetValue((key, start), out var w))
            {
                w = new Window();
                _windows[(key, start)] = w;
                AddDue(new DueItem(SafeAdd(start, _size), ItemKind.Fire, key, start));
            }
            else if (w.Fired)
            {
                // An allowed-late event: fire the window again with everything it holds.
                w.Fired = false;
                AddDue(new DueItem(SafeAdd(start, _size), ItemKind.Fire, key, start));
            }
            w.Events.Add(row);
        }
    }

    private void AddDue(DueItem item)
    {
        _due.Add(item);
        Schedule(_due.Min.Due);
    }

    public override void OnTime(long due, long now)
    {
        while (_due.Count > 0 && _due.Min.Due <= due)
        {
            var item = _due.Min;
            _due.Remove(item);
            if (!_windows.TryGetValue((item.Key, item.Start), out var w)) continue;
            if (item.Kind == ItemKind.Purge)
            {
                if (w.Fired) _windows.Remove((item.Key, item.Start));
                continue;
            }
            long end = SafeAdd(item.Start, _size);
            if (_lateness > 0 && now != long.MaxValue)
            {
                w.Fired = true;
                _due.Add(new DueItem(SafeAdd(end, _lateness), ItemKind.Purge, item.Key, item.Start));
            }
            else
            {
                _windows.Remove((item.Key, item.Start));
            }
            if (w.Events.Count > 0)
            {
                var events = w.Fired ? new List<Event>(w.Events) : w.Events;
                Next.PushBatch(new WindowBatch(item.Key, events, item.Start, end, true));
            }
        }
        if (_due.Count > 0) Schedule(_due.Min.Due);
    }

    public override void AfterRestore()
    {
        if (_due.Count > 0) Schedule(_due.Min.Due);
    }

    public override string StateKind => _slide == _size ? "window.tumbling_time" : "window.hopping_time";

    public override JsonNode SaveState()
    {
        var windows = new JsonArray();
        foreach (var ((k, start), w) in _windows.OrderBy(kv => kv.Key.Start).ThenBy(kv => kv.Key.Key, ValueTotalComparer.Instance))
        {
            windows.Add(new JsonObject
            {
                ["key"] = CheckpointCodec.EncodeValue(k),
                ["start"] = start,
                ["fired"] = w.Fired,
                ["events"] = CheckpointCodec.EncodeEvents(w.Events),
            });
        }
        var due = new JsonArray();
        foreach (var d in _due)
        {
            due.Add(new JsonObject
            {
                ["due"] = d.Due,
                ["kind"] = d.Kind == ItemKind.Fire ? "fire" : "purge",
                ["key"] = CheckpointCodec.EncodeValue(d.Key),
                ["start"] = d.Start,
            });
        }
        return new JsonObject { ["windows"] = windows, ["due"] = due };
    }

    public override void LoadState(JsonNode state)
    {
        _windows.Clear();
        _due.Clear();
        var types = Stream.Engine.Program.Types;
        foreach (var n in state["windows"]?.AsArray() ?? new JsonArray())
        {
            var w = new Window { Fired = (bool?)n!["fired"] ?? false };
            w.Events.AddRange(CheckpointCodec.DecodeEvents(n["events"], types));
            _windows[(CheckpointCodec.DecodeValue(n["key"], types), (long)n["start"]!)] = w;
        }
        foreach (var n in state["due"]?.AsArray() ?? new JsonArray())
        {
            _due.Add(new DueItem(
                (long)n!["due"]!,
                (string?)n["kind"] == "purge" ? ItemKind.Purge : ItemKind.Fire,
                CheckpointCodec.DecodeValue(n["key"], types),
                (long)n["start"]!));
        }
    }

    internal static long FloorDiv(long a, long b)
    {
        long q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
        return q;
    }

    internal static long SafeAdd(long a, long b)
    {
        long r = unchecked(a + b);
        if (((a ^ r) & (b ^ r)) < 0) return a > 0 ? long.MaxValue : long.MinValue;
        return r;
    }
}

/// <summary>
/// <c>.window(session: g)</c>: per partition, a session collects events until the event-time gap to the
/// session's latest event is greater than g; it then fires with <c>window_start</c> = its first event's
/// time and <c>window_end</c> = its last event's time + g.
/// </summary>
internal sealed class SessionWindowOperator : Operator
{
    private sealed class Session
    {
        public readonly List<Event> Events = new();
        public long First;
        public long Last;
    }

    private readonly Frame _frame;
    private readonly long _gap;
    private readonly KeySelector? _partition;
    private readonly Dictionary<Value, Session> _sessions = new();

    // (close time, key) — entries go stale when a session is extended; checked on pop.
    private readonly PriorityQueue<Value, (long Due, long Seq)> _closing = new();
    private long _seq;

    public SessionWindowOperator(Frame frame, long gap, KeySelector? partition)
    {
        _frame = frame;
        _gap = gap;
        _partition = partition;
    }

    private long DueOf(Session s) => TimeWindowOperator.SafeAdd(TimeWindowOperator.SafeAdd(s.Last, _gap), 1);

    public override void Push(Event row)
    {
        Value key = _partition.KeyOf(_frame, row);
        long ts = row.Timestamp;
        if (_sessions.TryGetValue(key, out var s) && ts - s.Last > _gap)
        {
            _sessions.Remove(key);
            Fire(key, s);
            s = null;
        }
        if (s is null)
        {
            s = new Session { First = ts, Last = ts };
            _sessions[key] = s;
        }
        s.Events.Add(row);
        if (ts < s.First) s.First = ts;
        if (ts > s.Last) s.Last = ts;
        long due = DueOf(s);
        _closing.Enqueue(key, (due, _seq++));
        Schedule(due);
    }

    private void Fire(Value key, Session s)
        => Next.PushBatch(new WindowBatch(key, s.Events, s.First, TimeWindowOperator.SafeAdd(s.Last, _gap), true));

    public override void OnTime(long due, long now)
    {
        // Sessions closing at the same time fire in partition-key order.
        var batch = new List<(Value Key, Session S)>();
        while (_closing.TryPeek(out var key, out var p) && p.Due <= due)
        {
            _closing.Dequeue();
            if (_sessions.TryGetValue(key, out var s) && DueOf(s) == p.Due)
            {
                _sessions.Remove(key);
                batch.Add((key, s));
            }
        }
        batch.Sort((a, b) =>
        {
            int c = DueOf(a.S).CompareTo(DueOf(b.S));
            return c != 0 ? c : Value.CompareTotal(a.Key, b.Key);
        });
        foreach (var (k, s) in batch) Fire(k, s);
        if (_closing.TryPeek(out _, out var next)) Schedule(next.Due);
    }

    public override void AfterRestore()
    {
        foreach (var (k, s) in _sessions) _closing.Enqueue(k, (DueOf(s), _seq++));
        if (_closing.TryPeek(out _, out var next)) Schedule(next.Due);
    }

    public override string StateKind => "window.session";

    public override JsonNode SaveState()
    {
        var a = new JsonArray();
        foreach (var (k, s) in _sessions.OrderBy(kv => kv.Key, ValueTotalComparer.Instance))
        {
            a.Add(new JsonObject
            {
                ["key"] = CheckpointCodec.EncodeValue(k),
                ["first"] = s.First,
                ["last"] = s.Last,
                ["events"] = CheckpointCodec.EncodeEvents(s.Events),
            });
        }
        return new JsonObject { ["sessions"] = a };
    }

    public override void LoadState(JsonNode state)
    {
        _sessions.Clear();
        _closing.Clear();
        var types = Stream.Engine.Program.Types;
        foreach (var n in state["sessions"]?.AsArray() ?? new JsonArray())
        {
            var s = new Session { First = (long)n!["first"]!, Last = (long)n["last"]! };
            s.Events.AddRange(CheckpointCodec.DecodeEvents(n["events"], types));
            _sessions[CheckpointCodec.DecodeValue(n["key"], types)] = s;
        }
    }
}
