using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Values;

/// <summary>Exact value assertions: same kind and same value (floats bit for bit, so NaN equals NaN).</summary>
internal static class ValueAssert
{
    public static void Same(Value expected, Value actual)
    {
        Assert.True(expected.Kind == actual.Kind, $"expected {Render(expected)}, got {Render(actual)}");
        if (expected.IsFloat)
        {
            Assert.True(BitConverter.DoubleToInt64Bits(expected.AsFloat) == BitConverter.DoubleToInt64Bits(actual.AsFloat) || expected.AsFloat == actual.AsFloat,
                $"expected {Render(expected)}, got {Render(actual)}");
            return;
        }
        if (expected.IsTimestamp || expected.IsDuration)
        {
            Assert.Equal(expected.AsNanos, actual.AsNanos);
            return;
        }
        if (expected.IsArray)
        {
            Assert.Equal(expected.AsArray.Length, actual.AsArray.Length);
            for (int i = 0; i < expected.AsArray.Length; i++) Same(expected.AsArray[i], actual.AsArray[i]);
            return;
        }
        if (expected.IsMap)
        {
            Assert.Equal(expected.AsMap.Keys, actual.AsMap.Keys);
            foreach (var kv in expected.AsMap) Same(kv.Value, actual.AsMap[kv.Key]);
            return;
        }
        if (expected.IsEvent)
        {
            SameEvent(expected.AsEvent, actual.AsEvent);
            return;
        }
        Assert.True(expected.Equals(actual), $"expected {Render(expected)}, got {Render(actual)}");
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
