using System.Globalization;

namespace Varpulis.Vpl.Runtime;

public static partial class Builtins
{
    /// <summary>The largest array <c>range</c> builds; a longer range gives null.</summary>
    public const int MaxRangeLength = 1_000_000;

    private static readonly Comparer<Value> TotalOrder = Comparer<Value>.Create(Value.CompareTotal);

    /// <summary>
    /// <c>to_int(x)</c>: int → itself; float → truncated toward zero (NaN, infinities and values beyond 64 bits → null);
    /// string → parsed (invariant culture, surrounding whitespace allowed; <c>"42"</c> → 42, <c>"3.9"</c> → 3, else null);
    /// bool → 1/0; timestamp → epoch milliseconds (rounded down, the inverse of <c>timestamp(ms)</c>); duration → whole
    /// milliseconds (truncated toward zero); anything else → null.
    /// </summary>
    private static Value ToInt(Value v)
    {
        switch (v.Kind)
        {
            case ValueKind.Int:
                return v;
            case ValueKind.Float:
                return TruncateToInt(v.AsFloat);
            case ValueKind.String:
                {
                    var s = v.AsString.AsSpan().Trim();
                    if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return Value.FromInt(l);
                    if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return TruncateToInt(d);
                    return Value.Null;
                }
            case ValueKind.Bool:
                return Value.FromInt(v.AsBool ? 1 : 0);
            case ValueKind.Timestamp:
                return Value.FromInt(Math.DivRem(v.AsNanos, TimeFormat.NanosPerMilli, out long rem) - (rem < 0 ? 1 : 0));
            case ValueKind.Duration:
                return Value.FromInt(v.AsNanos / TimeFormat.NanosPerMilli);
            default:
                return Value.Null;
        }
    }

    private static Value TruncateToInt(double d)
    {
        double t = Math.Truncate(d);
        return t >= -TwoTo63 && t < TwoTo63 ? Value.FromInt((long)t) : Value.Null;
    }

    /// <summary>
    /// <c>to_float(x)</c>: int or float → float; string → parsed (invariant culture, <c>"1e3"</c>, <c>"NaN"</c> accepted;
    /// else null); bool → 1.0/0.0; timestamp → epoch milliseconds; duration → milliseconds (with fraction); else null.
    /// </summary>
    private static Value ToFloat(Value v)
    {
        switch (v.Kind)
        {
            case ValueKind.Int:
            case ValueKind.Float:
                v.TryGetDouble(out double d);
                return Value.FromFloat(d);
            case ValueKind.String:
                return double.TryParse(v.AsString.AsSpan().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double p)
                    ? Value.FromFloat(p)
                    : Value.Null;
            case ValueKind.Bool:
                return Value.FromFloat(v.AsBool ? 1.0 : 0.0);
            case ValueKind.Timestamp:
            case ValueKind.Duration:
                return Value.FromFloat(v.AsNanos / (double)TimeFormat.NanosPerMilli);
            default:
                return Value.Null;
        }
    }

    /// <summary><c>coalesce(a, b, ...)</c>: the first argument that is not null; all null → null.</summary>
    private static Value Coalesce(Value[] args)
    {
        foreach (var v in args)
        {
            if (!v.IsNull) return v;
        }
        return Value.Null;
    }

    /// <summary><c>sort(array)</c>: a new array in <see cref="Value.CompareTotal"/> order (stable; numbers compare
    /// numerically, kinds in the order null, bool, number, string, timestamp, duration, array, map, event); else null.</summary>
    private static Value Sort(Value v)
    {
        if (!v.IsArray) return Value.Null;
        return Value.FromArray(v.AsArray.OrderBy(x => x, TotalOrder).ToArray());
    }

    /// <summary><c>reverse(array)</c>: a new array with the elements in reverse order; else null.</summary>
    private static Value Reverse(Value v)
    {
        if (!v.IsArray) return Value.Null;
        var copy = (Value[])v.AsArray.Clone();
        Array.Reverse(copy);
        return Value.FromArray(copy);
    }

    /// <summary><c>keys(m)</c>: a map's keys in insertion order, or an event's present field names in slot order; else null.</summary>
    private static Value Keys(Value v)
    {
        if (v.IsMap)
        {
            var m = v.AsMap;
            var items = new Value[m.Count];
            int i = 0;
            foreach (var kv in m) items[i++] = Value.FromString(kv.Key);
            return Value.FromArray(items);
        }
        if (v.IsEvent) return Value.FromArray(v.AsEvent.PresentFields().Select(kv => Value.FromString(kv.Key)).ToArray());
        return Value.Null;
    }

    /// <summary><c>values(m)</c>: a map's values in insertion order, or an event's present field values in slot order; else null.</summary>
    private static Value Values(Value v)
    {
        if (v.IsMap)
        {
            var m = v.AsMap;
            var items = new Value[m.Count];
            int i = 0;
            foreach (var kv in m) items[i++] = kv.Value;
            return Value.FromArray(items);
        }
        if (v.IsEvent) return Value.FromArray(v.AsEvent.PresentFields().Select(kv => kv.Value).ToArray());
        return Value.Null;
    }

    /// <summary>
    /// <c>range(n)</c> = <c>range(0, n)</c>, <c>range(a, b)</c> = <c>range(a, b, 1)</c>, <c>range(a, b, step)</c>: the ints
    /// from <paramref name="from"/> (inclusive) toward <paramref name="to"/> (exclusive) by <paramref name="step"/>
    /// (negative steps count down). An empty range is <c>[]</c>. A zero step, non-int arguments or more than
    /// <see cref="MaxRangeLength"/> elements give null.
    /// </summary>
    private static Value Range(Value from, Value to, Value step)
    {
        if (!from.IsInt || !to.IsInt || !step.IsInt || step.AsInt == 0) return Value.Null;
        long a = from.AsInt, s = step.AsInt;
        Int128 span = (Int128)to.AsInt - a;
        Int128 count = s > 0
            ? (span <= 0 ? 0 : (span + s - 1) / s)
            : (span >= 0 ? 0 : (-span + (-(Int128)s) - 1) / -(Int128)s);
        if (count > MaxRangeLength) return Value.Null;
        var items = new Value[(int)count];
        for (int i = 0; i < items.Length; i++) items[i] = Value.FromInt(a + (i * s));
        return Value.FromArray(items);
    }

    /// <summary>
    /// <c>timestamp(ms)</c>: epoch milliseconds (int, or float with a fraction, rounded to the nanosecond) → timestamp;
    /// an RFC 3339 string is parsed; a timestamp is returned as it is; out of range or anything else → null.
    /// </summary>
    private static Value Timestamp(Value v)
    {
        switch (v.Kind)
        {
            case ValueKind.Int:
                return ValueOps.TryMul(v.AsInt, TimeFormat.NanosPerMilli, out long ns) ? Value.FromTimestamp(ns) : Value.Null;
            case ValueKind.Float:
                {
                    double n = Math.Round(v.AsFloat * TimeFormat.NanosPerMilli, MidpointRounding.AwayFromZero);
                    return n >= -TwoTo63 && n < TwoTo63 ? Value.FromTimestamp((long)n) : Value.Null;
                }
            case ValueKind.String:
                return EventBuilder.TryParseTimestamp(v.AsString, out long parsed) ? Value.FromTimestamp(parsed) : Value.Null;
            case ValueKind.Timestamp:
                return v;
            default:
                return Value.Null;
        }
    }
}
