using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;

namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>The trend aggregate functions of vpl.md §5.8.</summary>
internal enum TrendFunction
{
    CountTrends,
    CountEvents,
    Sum,
    Avg,
    Min,
    Max,
}

/// <summary>One <c>name: fn(...)</c> of <c>.trend_aggregate</c>.</summary>
internal sealed class TrendAggregatePlan
{
    public required string Name { get; init; }

    public required TrendFunction Function { get; init; }

    /// <summary>Alias slot the function reads; -1 for <c>count_trends()</c>.</summary>
    public required int Slot { get; init; }

    /// <summary>The field read for sum/avg/min/max; null otherwise.</summary>
    public FieldAccessor? Field { get; init; }
}

/// <summary>Where trend results go: the result type and its slots.</summary>
internal sealed class TrendOutputPlan
{
    public required TrendAggregatePlan[] Aggregates { get; init; }

    /// <summary>Tumbling window size (the <c>.within</c> duration), ns.</summary>
    public required long Window { get; init; }

    public FieldAccessor[]? PartitionFields { get; init; }

    public required EventType ResultType { get; init; }

    /// <summary>Result slot of each partition key part (key fields already named by an aggregate are not repeated: -1).</summary>
    public required int[] KeySlots { get; init; }

    public required int StartSlot { get; init; }

    public required int EndSlot { get; init; }

    /// <summary>The partition key read with <paramref name="fields"/> (one accessor set per input type keeps their caches hot).</summary>
    public static Value KeyOf(FieldAccessor[]? fields, Event e)
    {
        if (fields is null) return Value.Null;
        if (fields.Length == 1) return fields[0].Get(e);
        var parts = new Value[fields.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = fields[i].Get(e);
        return Value.FromArray(parts);
    }

    /// <summary>A fresh set of partition key accessors.</summary>
    public FieldAccessor[]? NewKeyFields() => PartitionFields?.Select(f => new FieldAccessor(f.Name)).ToArray();

    public long WindowIndex(long ts) => Windows.TimeWindowOperator.FloorDiv(ts, Window);

    public long WindowEnd(long index) => SafeMul(index + 1, Window);

    private static long SafeMul(long a, long b)
    {
        long high = Math.BigMul(a, b, out long low);
        if ((high == 0 && low >= 0) || (high == -1 && low < 0)) return low;
        return a < 0 == b < 0 ? long.MaxValue : long.MinValue;
    }

    /// <summary>Builds a result row from the computed values of each aggregate.</summary>
    public Event BuildRow(Value key, long windowIndex, Value[] aggregateValues)
    {
        var values = new Value[ResultType.FieldCount];
        for (int i = 0; i < aggregateValues.Length; i++) values[i] = aggregateValues[i];
        int parts = KeySlots.Length;
        for (int i = 0; i < parts; i++)
        {
            if (KeySlots[i] < 0) continue;
            values[KeySlots[i]] = parts == 1 ? key : key.IsArray ? key.AsArray[i] : Value.Null;
        }
        long end = WindowEnd(windowIndex);
        values[StartSlot] = Value.FromTimestamp(end - Window);
        values[EndSlot] = Value.FromTimestamp(end);
        return new Event(ResultType, end, values);
    }
}

/// <summary>The general trend counter's view of a pattern: its alternatives and, per step, which bound events later predicates read.</summary>
internal sealed class TrendPlan
{
    public required TrendOutputPlan Output { get; init; }

    public required AlternativePlan[] Alternatives { get; init; }

    /// <summary>
    /// Per alternative, per step k: the steps (≤ k) whose last event a later predicate reads, or step k's own previous
    /// event for a Kleene step that compares with it. Partial trends are merged when these events agree.
    /// </summary>
    public required int[][][] Needed { get; init; }

    public required int SlotCount { get; init; }

    public required EventType[] InputTypes { get; init; }

    /// <summary>Per input type: the (alternative, step) pairs of that type.</summary>
    public required (int Alt, int Step)[][] StepsByInput { get; init; }
}

/// <summary>
/// Aggregates over a set of (partial) trends that extend identically: their number, and per aggregate function the
/// sum over trends of the field of that alias's events, the number of those events, and their min and max.
/// </summary>
internal sealed class TrendAggregate
{
    public TrendNumber Count;
    public readonly TrendNumber[] Sums;
    public readonly TrendNumber[] Events;
    public readonly Value[] Min;
    public readonly Value[] Max;

    public TrendAggregate(int n)
    {
        Sums = new TrendNumber[n];
        Events = new TrendNumber[n];
        Min = new Value[n];
        Max = new Value[n];
        for (int i = 0; i < n; i++) Sums[i] = Events[i] = TrendNumber.Zero;
        Count = TrendNumber.Zero;
    }

    /// <summary>Back to no trends.</summary>
    public void Clear()
    {
        Count = TrendNumber.Zero;
        for (int i = 0; i < Sums.Length; i++)
        {
            Sums[i] = Events[i] = TrendNumber.Zero;
            Min[i] = Max[i] = Value.Null;
        }
    }

    public TrendAggregate Copy()
    {
        var c = new TrendAggregate(Sums.Length) { Count = Count };
        Array.Copy(Sums, c.Sums, Sums.Length);
        Array.Copy(Events, c.Events, Events.Length);
        Array.Copy(Min, c.Min, Min.Length);
        Array.Copy(Max, c.Max, Max.Length);
        return c;
    }

    /// <summary>Every trend of this set gains <paramref name="e"/> as an event of the alias in <paramref name="slot"/>.</summary>
    public void AddEvent(TrendAggregatePlan[] specs, int slot, Event e)
    {
        for (int i = 0; i < specs.Length; i++)
        {
            var s = specs[i];
            if (s.Slot != slot) continue;
            Events[i] += Count;
            if (s.Field is null) continue;
            var v = s.Field.Get(e);
            if (v.IsNull) continue;
            if (TrendNumber.FromValue(v) is { } num) Sums[i] += Count * num;
            if (Min[i].IsNull || Value.CompareTotal(v, Min[i]) < 0) Min[i] = v;
            if (Max[i].IsNull || Value.CompareTotal(v, Max[i]) > 0) Max[i] = v;
        }
    }

    public void Merge(TrendAggregate o)
    {
        Count += o.Count;
        for (int i = 0; i < Sums.Length; i++)
        {
            Sums[i] += o.Sums[i];
            Events[i] += o.Events[i];
            if (!o.Min[i].IsNull && (Min[i].IsNull || Value.CompareTotal(o.Min[i], Min[i]) < 0)) Min[i] = o.Min[i];
            if (!o.Max[i].IsNull && (Max[i].IsNull || Value.CompareTotal(o.Max[i], Max[i]) > 0)) Max[i] = o.Max[i];
        }
    }

    /// <summary>The value of each aggregate function over all trends of this set.</summary>
    public Value[] Results(TrendAggregatePlan[] specs)
    {
        var r = new Value[specs.Length];
        for (int i = 0; i < specs.Length; i++)
        {
            r[i] = specs[i].Function switch
            {
                TrendFunction.CountTrends => Count.ToValue(),
                TrendFunction.CountEvents => Events[i].ToValue(),
                TrendFunction.Sum => Sums[i].ToValue(),
                TrendFunction.Avg => Events[i].IsZero ? Value.Null : Value.FromFloat(Sums[i].AsDouble / Events[i].AsDouble),
                TrendFunction.Min => Min[i],
                _ => Max[i],
            };
        }
        return r;
    }

    public JsonObject Encode()
    {
        var sums = new JsonArray();
        var events = new JsonArray();
        var min = new JsonArray();
        var max = new JsonArray();
        for (int i = 0; i < Sums.Length; i++)
        {
            sums.Add(Sums[i].Encode());
            events.Add(Events[i].Encode());
            min.Add(CheckpointCodec.EncodeValue(Min[i]));
            max.Add(CheckpointCodec.EncodeValue(Max[i]));
        }
        return new JsonObject { ["count"] = Count.Encode(), ["sums"] = sums, ["events"] = events, ["min"] = min, ["max"] = max };
    }

    public static TrendAggregate Decode(JsonNode node, int n, TypeRegistry types)
    {
        var a = new TrendAggregate(n) { Count = TrendNumber.Decode(node["count"]) };
        var sums = node["sums"]!.AsArray();
        var events = node["events"]!.AsArray();
        var min = node["min"]!.AsArray();
        var max = node["max"]!.AsArray();
        if (sums.Count != n) throw new CheckpointException("trend aggregate does not fit this stream");
        for (int i = 0; i < n; i++)
        {
            a.Sums[i] = TrendNumber.Decode(sums[i]);
            a.Events[i] = TrendNumber.Decode(events[i]);
            a.Min[i] = CheckpointCodec.DecodeValue(min[i], types);
            a.Max[i] = CheckpointCodec.DecodeValue(max[i], types);
        }
        return a;
    }
}
