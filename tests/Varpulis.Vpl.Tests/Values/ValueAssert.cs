using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Values;

/// <summary>Exact value assertions: same kind and same value (floats bit for bit, so NaN equals NaN).</summary>
internal static class ValueAssert
{
    public static void Same(Value expected, Value actual)
    {
        if (!AreSame(expected, actual)) Assert.Fail($"expected {Render(expected)}, got {Render(actual)}");
    }

    private static bool AreSame(Value expected, Value actual)
    {
        if (expected.Kind != actual.Kind) return false;
        switch (expected.Kind)
        {
            case ValueKind.Float:
                return BitConverter.DoubleToInt64Bits(expected.AsFloat) == BitConverter.DoubleToInt64Bits(actual.AsFloat)
                    || expected.AsFloat == actual.AsFloat;
            case ValueKind.Timestamp:
            case ValueKind.Duration:
                return expected.AsNanos == actual.AsNanos;
            case ValueKind.Array:
                {
                    var e = expected.AsArray;
                    var a = actual.AsArray;
                    if (e.Length != a.Length) return false;
                    for (int i = 0; i < e.Length; i++)
                    {
                        if (!AreSame(e[i], a[i])) return false;
                    }
                    return true;
                }
            case ValueKind.Map:
                {
                    var e = expected.AsMap;
                    var a = actual.AsMap;
                    if (!e.Keys.SequenceEqual(a.Keys)) return false;
                    foreach (var kv in e)
                    {
                        if (!AreSame(kv.Value, a[kv.Key])) return false;
                    }
                    return true;
                }
            case ValueKind.Event:
                SameEvent(expected.AsEvent, actual.AsEvent);
                return true;
            default:
                return expected.Equals(actual);
        }
    }

    public static void SameEvent(Event expected, Event actual)
    {
        Assert.Equal(expected.Type.Name, actual.Type.Name);
        Assert.Equal(expected.Timestamp, actual.Timestamp);
        var e = expected.PresentFields().ToList();
        var a = actual.PresentFields().ToList();
        Assert.Equal(e.Select(kv => kv.Key), a.Select(kv => kv.Key));
        for (int i = 0; i < e.Count; i++) Same(e[i].Value, a[i].Value);
    }

    public static string Render(Value v) => ValueOps.TypeName(v) + " " + (v.IsString ? "\"" + v.AsString + "\"" : v.ToString());

    public static Value Arr(params Value[] items) => Value.FromArray(items);

    public static Value Map(params (string Key, Value Value)[] items)
    {
        var m = new ValueMap();
        foreach (var (k, v) in items) m.Add(k, v);
        return Value.FromMap(m);
    }

    public static Value Ts(long nanos) => Value.FromTimestamp(nanos);

    public static Value Dur(long nanos) => Value.FromDuration(nanos);

    public static Value Sec(long s) => Value.FromDuration(s * TimeFormat.NanosPerSecond);
}
