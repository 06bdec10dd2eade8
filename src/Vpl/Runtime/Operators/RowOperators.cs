using Varpulis.Vpl.Compilation;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Vpl.Runtime.Operators;

/// <summary>
/// The partition key of a stream's state (<c>.partition_by(k1, k2)</c>): evaluated on a row, one key
/// gives its value, several give an array. The names are copied into aggregate results.
/// </summary>
internal sealed class KeySelector(string[] names, Eval[] keys)
{
    public string[] Names { get; } = names;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Value Key(Frame f)
    {
        if (keys.Length == 1) return keys[0](f);
        var parts = new Value[keys.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = keys[i](f);
        return Value.FromArray(parts);
    }

    /// <summary>The value of key part <paramref name="i"/> of a key built by <see cref="Key"/>.</summary>
    public Value Part(Value key, int i) => Names.Length == 1 ? key : key.IsArray ? key.AsArray[i] : Value.Null;
}

internal static class KeySelectorExtensions
{
    /// <summary>The partition key of <paramref name="row"/>, or null when the operator is not partitioned.</summary>
    public static Value KeyOf(this KeySelector? partition, Frame frame, Event row)
    {
        if (partition is null) return Value.Null;
        frame.Row = row;
        return partition.Key(frame);
    }
}

/// <summary><c>.where(expr)</c> / <c>.filter(expr)</c> / <c>.having(expr)</c>.</summary>
internal sealed class WhereOperator(Frame frame, Eval predicate) : RowOperator
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override Event? Apply(Event row)
    {
        frame.Row = row;
        return predicate(frame).IsTrue ? row : null;
    }
}

/// <summary><c>.emit(k: expr, ...)</c> and <c>.select(...)</c>: builds a new event of <paramref name="type"/> with one slot per argument.</summary>
internal sealed class ProjectOperator(Frame frame, EventType type, Eval[] fields) : RowOperator
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override Event? Apply(Event row)
    {
        frame.Row = row;
        var values = new Value[fields.Length];
        for (int i = 0; i < values.Length; i++) values[i] = fields[i](frame);
        return new Event(type, row.Timestamp, values);
    }
}

/// <summary>A projection whose fields land in given slots of an open type that already had other fields.</summary>
internal sealed class SlotProjectOperator(Frame frame, EventType type, Eval[] fields, int[] slots, int width) : RowOperator
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override Event? Apply(Event row)
    {
        frame.Row = row;
        var values = new Value[width];
        for (int i = 0; i < fields.Length; i++) values[slots[i]] = fields[i](frame);
        return new Event(type, row.Timestamp, values);
    }
}

/// <summary>Passes rows on unchanged (the head of a merged stream).</summary>
internal sealed class PassOperator : RowOperator
{
    protected override Event? Apply(Event row) => row;
}

/// <summary><c>.print(args...)</c>: prints the arguments (or the row) through the host; rows pass unchanged.</summary>
internal sealed class PrintOperator(Frame frame, Eval[] args) : RowOperator
{
    protected override Event? Apply(Event row)
    {
        var host = Stream.Engine.Options.Host;
        if (host is null) return row;
        string text;
        if (args.Length == 0)
        {
            text = row.ToString();
        }
        else
        {
            frame.Row = row;
            var sb = new StringBuilder();
            for (int i = 0; i < args.Length; i++)
            {
                if (i > 0) sb.Append(' ');
                sb.Append(args[i](frame).ToString());
            }
            text = sb.ToString();
        }
        host.Print(Stream.Plan.Name, text);
        return row;
    }
}

/// <summary><c>.log(level: "info", message: "...")</c></summary>
internal sealed class LogOperator(Frame frame, string level, Eval? message) : RowOperator
{
    protected override Event? Apply(Event row)
    {
        var host = Stream.Engine.Options.Host;
        if (host is null) return row;
        frame.Row = row;
        string text = message is null ? row.ToString() : message(frame).ToString();
        host.Log(Stream.Plan.Name, level, text, row);
        return row;
    }
}

/// <summary><c>.to(Connector, key: value, ...)</c>: hands the row to the host's sink; rows pass unchanged.</summary>
internal sealed class ToOperator(string connector, IReadOnlyList<KeyValuePair<string, Value>> args) : RowOperator
{
    protected override Event? Apply(Event row)
    {
        Stream.Engine.Options.Host?.Send(Stream.Plan.Name, connector, args, row);
        return row;
    }
}

/// <summary><c>.limit(n)</c> / <c>.first()</c>: the first n rows per partition.</summary>
internal sealed class LimitOperator(Frame frame, long limit, KeySelector? partition) : RowOperator
{
    private readonly Dictionary<Value, long> _counts = new();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override Event? Apply(Event row)
    {
        Value key = partition.KeyOf(frame, row);
        long n = _counts.GetValueOrDefault(key);
        if (n >= limit) return null;
        _counts[key] = n + 1;
        return row;
    }

    public override string StateKind => "limit";

    public override JsonNode SaveState()
    {
        var a = new JsonArray();
        foreach (var (k, n) in _counts.OrderBy(kv => kv.Key, ValueTotalComparer.Instance))
            a.Add(new JsonArray(CheckpointCodec.EncodeValue(k), n));
        return new JsonObject { ["counts"] = a };
    }

    public override void LoadState(JsonNode state)
    {
        _counts.Clear();
        foreach (var item in state["counts"]?.AsArray() ?? new JsonArray())
        {
            var pair = item!.AsArray();
            _counts[CheckpointCodec.DecodeValue(pair[0], Stream.Engine.Program.Types)] = (long)pair[1]!;
        }
    }
}

/// <summary>
/// <c>.distinct([expr])</c>: drops rows whose key (the expression, else all field values) was already seen
/// in the partition; remembers the most recent <c>capacity</c> keys per partition (LRU).
/// </summary>
internal sealed class DistinctOperator(Frame frame, Eval? keyExpr, KeySelector? partition, int capacity) : RowOperator
{
    private sealed class Lru
    {
        public readonly Dictionary<Value, LinkedListNode<Value>> Index = new();
        public readonly LinkedList<Value> Order = new();
    }

    private readonly Dictionary<Value, Lru> _seen = new();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override Event? Apply(Event row)
    {
        frame.Row = row;
        Value pkey = partition is null ? Value.Null : partition.Key(frame);
        Value key = keyExpr is null ? WholeRow(row) : keyExpr(frame);
        if (!_seen.TryGetValue(pkey, out var lru)) _seen[pkey] = lru = new Lru();
        if (lru.Index.TryGetValue(key, out var node))
        {
            lru.Order.Remove(node);
            lru.Order.AddLast(node);
            return null;
        }
        Remember(lru, key);
        return row;
    }

    private void Remember(Lru lru, Value key)
    {
        lru.Index[key] = lru.Order.AddLast(key);
        while (lru.Order.Count > capacity)
        {
            var oldest = lru.Order.First!;
            lru.Order.RemoveFirst();
            lru.Index.Remove(oldest.Value);
        }
    }

    /// <summary>The whole field map (names and values, whatever the event type), as a key.</summary>
    private static Value WholeRow(Event row)
    {
        var names = row.Type.FieldNames;
        var parts = new List<Value>(row.Fields.Length * 2);
        var present = new List<(string Name, Value Value)>();
        for (int i = 0; i < row.Fields.Length && i < names.Count; i++)
        {
            if (!row.Fields[i].IsNull) present.Add((names[i], row.Fields[i]));
        }
        present.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (n, v) in present)
        {
            parts.Add(Value.FromString(n));
            parts.Add(v);
        }
        return Value.FromArray(parts.ToArray());
    }

    public override string StateKind => "distinct";

    public override JsonNode SaveState()
    {
        var a = new JsonArray();
        foreach (var (p, lru) in _seen.OrderBy(kv => kv.Key, ValueTotalComparer.Instance))
        {
            var keys = new JsonArray();
            foreach (var k in lru.Order) keys.Add(CheckpointCodec.EncodeValue(k));
            a.Add(new JsonObject { ["partition"] = CheckpointCodec.EncodeValue(p), ["keys"] = keys });
        }
        return new JsonObject { ["partitions"] = a };
    }

    public override void LoadState(JsonNode state)
    {
        _seen.Clear();
        var types = Stream.Engine.Program.Types;
        foreach (var item in state["partitions"]?.AsArray() ?? new JsonArray())
        {
            var lru = new Lru();
            foreach (var k in item!["keys"]!.AsArray()) Remember(lru, CheckpointCodec.DecodeValue(k, types));
            _seen[CheckpointCodec.DecodeValue(item["partition"], types)] = lru;
        }
    }
}

/// <summary>
/// <c>.process(f(args))</c>: calls a user function once per row; the events its <c>emit</c> statements create
/// replace the row (typed with the stream's output type, fields by name).
/// </summary>
internal sealed class ProcessOperator(Frame frame, Eval call, EventType outputType) : Operator
{
    private readonly List<Event> _emitted = new();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Push(Event row)
    {
        frame.Row = row;
        frame.Emitted = _emitted;
        _emitted.Clear();
        call(frame);
        frame.Emitted = null;
        if (_emitted.Count == 0) return;
        var produced = _emitted.ToArray();
        _emitted.Clear();
        foreach (var e in produced) Next.Push(Retype(e, row.Timestamp));
    }

    private Event Retype(Event e, long ts)
    {
        var names = e.Type.FieldNames;
        var values = new List<(int, Value)>();
        int max = -1;
        for (int i = 0; i < e.Fields.Length && i < names.Count; i++)
        {
            if (e.Fields[i].IsNull) continue;
            int slot = outputType.GetOrAddSlot(names[i]);
            values.Add((slot, e.Fields[i]));
            max = Math.Max(max, slot);
        }
        var arr = new Value[max + 1];
        foreach (var (s, v) in values) arr[s] = v;
        return new Event(outputType, ts, arr);
    }
}
