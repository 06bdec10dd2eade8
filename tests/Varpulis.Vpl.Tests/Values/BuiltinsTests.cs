using Varpulis.Vpl.Runtime;
using Xunit;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Values;

public class BuiltinsTests
{
    private static readonly Value N = Value.Null;

    private static Value Call(string name, params Value[] args)
    {
        Assert.True(Builtins.TryGet(name, out var f), $"no builtin {name}");
        var general = f.Invoke(args);
        // The fast paths must agree with the general entry point.
        if (args.Length == 1 && f.Invoke1 is { } one) Same(general, one(args[0]));
        if (args.Length == 2 && f.Invoke2 is { } two) Same(general, two(args[0], args[1]));
        return general;
    }

    [Fact]
    public void RegistryHasEveryFunctionOfTheSpecAndNotNow()
    {
        string[] expected =
        [
            "abs", "avg", "ceil", "coalesce", "contains", "cos", "ends_with", "exp", "first", "floor", "is_null", "join",
            "keys", "last", "len", "log", "log10", "lower", "max", "min", "pow", "range", "replace", "reverse", "round",
            "sin", "sort", "split", "sqrt", "starts_with", "substring", "sum", "tan", "timestamp", "to_float", "to_int",
            "to_string", "trim", "type_of", "upper", "values",
        ];
        Assert.Equal(expected, Builtins.Names);
        Assert.False(Builtins.TryGet("now", out _));
        Assert.False(Builtins.TryGet("ABS", out _));
    }

    [Fact]
    public void ArityIsPublishedAndEnforcedWithoutThrowing()
    {
        Builtins.TryGet("substring", out var f);
        Assert.Equal(2, f.MinArgs);
        Assert.Equal(3, f.MaxArgs);
        Same(N, f.Invoke(["abc"]));
        Same(N, f.Invoke(["abc", 1L, 1L, 1L]));
        Builtins.TryGet("coalesce", out var c);
        Assert.Equal(int.MaxValue, c.MaxArgs);
        Builtins.TryGet("pow", out var p);
        Assert.Null(p.Invoke1);
        Assert.NotNull(p.Invoke2);
    }

    [Fact]
    public void Abs()
    {
        Same(3L, Call("abs", -3L));
        Same(3L, Call("abs", 3L));
        Same(2.5, Call("abs", -2.5));
        Same(9223372036854775808.0, Call("abs", long.MinValue));
        Same(Sec(2), Call("abs", Sec(-2)));
        Same(N, Call("abs", N));
        Same(N, Call("abs", "x"));
    }

    [Fact]
    public void FloatMath()
    {
        Same(3.0, Call("sqrt", 9L));
        Same(1.5, Call("sqrt", 2.25));
        Same(N, Call("sqrt", -1L));
        Same(double.NaN, Call("sqrt", double.NaN));
        Same(N, Call("sqrt", "9"));
        Same(0.0, Call("log", 1L));
        Same(1.0, Call("log", Math.E));
        Same(N, Call("log", 0L));
        Same(N, Call("log", -1.0));
        Same(3.0, Call("log", 8L, 2L));
        Same(N, Call("log", 8L, 1L));
        Same(N, Call("log", 8L, "2"));
        Same(2.0, Call("log10", 100L));
        Same(N, Call("log10", 0.0));
        Same(1.0, Call("exp", 0L));
        Same(N, Call("exp", 1000L));
        Same(double.PositiveInfinity, Call("exp", double.PositiveInfinity));
        Same(0.0, Call("sin", 0L));
        Same(1.0, Call("cos", 0.0));
        Same(0.0, Call("tan", 0L));
        Same(N, Call("sin", N));
        Same(N, Call("cos", true));
    }

    [Fact]
    public void FloorCeilRoundReturnInts()
    {
        Same(2L, Call("floor", 2.7));
        Same(-3L, Call("floor", -2.5));
        Same(5L, Call("floor", 5L));
        Same(3L, Call("ceil", 2.1));
        Same(-2L, Call("ceil", -2.5));
        Same(3L, Call("round", 2.5));
        Same(-3L, Call("round", -2.5));
        Same(2L, Call("round", 2.4));
        Same(7L, Call("round", 7L));
        Same(1e300, Call("floor", 1e300));
        Same(double.PositiveInfinity, Call("ceil", double.PositiveInfinity));
        Same(N, Call("round", double.NaN));
        Same(N, Call("floor", "2.5"));
        Same(N, Call("ceil", N));
    }

    [Fact]
    public void RoundWithDigits()
    {
        Same(2.35, Call("round", 2.345, 2L));
        Same(2.0, Call("round", 2.0, 0L));
        Same(-1.25, Call("round", -1.245, 2L));
        Same(1300L, Call("round", 1250L, -2L));
        Same(-1300L, Call("round", -1250L, -2L));
        Same(1200L, Call("round", 1249L, -2L));
        Same(1250L, Call("round", 1250L, 2L));
        Same(1300.0, Call("round", 1250.0, -2L));
        Same(N, Call("round", 1.5, 1.0));
        Same(N, Call("round", 1.5, 16L));
        Same(N, Call("round", "1.5", 1L));
    }

    [Fact]
    public void Pow()
    {
        Same(1024L, Call("pow", 2L, 10L));
        Same(0.25, Call("pow", 2L, -2L));
        Same(N, Call("pow", N, 2L));
    }

    [Fact]
    public void MinMaxOverArguments()
    {
        Same(1L, Call("min", 3L, 1L, 2L));
        Same(3L, Call("max", 3L, 1L, 2L));
        Same(1L, Call("min", 1L, 2.5));
        Same(2.5, Call("max", 1L, 2.5));
        Same(1L, Call("min", 1L, 1.0));
        Same(1.0, Call("min", 1.0, 1L));
        Same(2L, Call("min", N, 2L, N, 3L));
        Same(3L, Call("max", double.NaN, 2L, 3L));
        Same("a", Call("min", "b", "a"));
        Same(Ts(5), Call("max", Ts(1), Ts(5)));
        Same(Sec(1), Call("min", Sec(3), Sec(1)));
        Same(N, Call("min", 1L, "a"));
        Same(N, Call("max", true, false));
        Same(N, Call("min", N, N));
    }

    [Fact]
    public void MinMaxOverOneArray()
    {
        Same(1L, Call("min", Arr(3L, 1L, 2L)));
        Same(3L, Call("max", Arr(3L, 1L, 2L)));
        Same(N, Call("min", Arr()));
        Same(N, Call("max", Arr(1L, "x")));
        Same(5L, Call("max", 5L));
        Same(N, Call("min", N));
    }

    [Fact]
    public void Len()
    {
        Same(5L, Call("len", "hello"));
        Same(0L, Call("len", ""));
        Same(3L, Call("len", Arr(1L, 2L, 3L)));
        Same(1L, Call("len", Map(("a", 1L))));
        Same(N, Call("len", N));
        Same(N, Call("len", 5L));
    }

    [Fact]
    public void CaseAndTrim()
    {
        Same("hello", Call("lower", "HeLLo"));
        Same("HELLO", Call("upper", "HeLLo"));
        Same("a b", Call("trim", "  a b \t\n"));
        Same(N, Call("lower", N));
        Same(N, Call("upper", 1L));
        Same(N, Call("trim", Arr()));
    }

    [Fact]
    public void SplitAndJoin()
    {
        Same(Arr("a", "", "b"), Call("split", "a,,b", ","));
        Same(Arr("a", "b"), Call("split", "a::b", "::"));
        Same(Arr("a", "b", "c"), Call("split", "  a b\tc "));
        Same(Arr(""), Call("split", "", ","));
        Same(N, Call("split", "a,b", ""));
        Same(N, Call("split", N, ","));
        Same(N, Call("split", "a", 1L));
        Same("a-b-c", Call("join", Arr("a", "b", "c"), "-"));
        Same("1, 2.0, true, null", Call("join", Arr(1L, 2.0, true, N), ", "));
        Same("ab", Call("join", Arr("a", "b")));
        Same("", Call("join", Arr(), ","));
        Same(N, Call("join", "abc", ","));
        Same(N, Call("join", Arr("a"), 1L));
    }

    [Fact]
    public void Replace()
    {
        Same("a-b-c", Call("replace", "a.b.c", ".", "-"));
        Same("abc", Call("replace", "abc", "", "x"));
        Same("ac", Call("replace", "abc", "b", ""));
        Same(N, Call("replace", "abc", N, "x"));
        Same(N, Call("replace", 1L, "1", "2"));
    }

    [Fact]
    public void StartsEndsContains()
    {
        Same(true, Call("starts_with", "hello", "he"));
        Same(false, Call("starts_with", "hello", "He"));
        Same(true, Call("ends_with", "hello", "lo"));
        Same(false, Call("ends_with", "hello", "x"));
        Same(N, Call("starts_with", N, "a"));
        Same(N, Call("ends_with", "a", 1L));
        Same(true, Call("contains", "hello", "ell"));
        Same(false, Call("contains", "hello", "xyz"));
        Same(false, Call("contains", "hello", 1L));
        Same(true, Call("contains", Arr(1L, 2L), 2.0));
        Same(false, Call("contains", Arr(1L, 2L), 3L));
        Same(true, Call("contains", Map(("k", 1L)), "k"));
        Same(false, Call("contains", Arr(N), N));
        Same(N, Call("contains", N, "a"));
        Same(N, Call("contains", 5L, 5L));
    }

    [Fact]
    public void Substring()
    {
        Same("llo", Call("substring", "hello", 2L));
        Same("el", Call("substring", "hello", 1L, 2L));
        Same("llo", Call("substring", "hello", -3L));
        Same("he", Call("substring", "hello", -10L, 2L));
        Same("bc", Call("substring", "abc", 1L, 99L));
        Same("", Call("substring", "abc", 5L));
        Same("", Call("substring", "abc", 1L, 0L));
        Same(N, Call("substring", "abc", 1L, -1L));
        Same(N, Call("substring", "abc", 1.0));
        Same(N, Call("substring", N, 1L));
    }

    [Fact]
    public void ToStringUsesValueRendering()
    {
        Same("42", Call("to_string", 42L));
        Same("100.0", Call("to_string", 100.0));
        Same("abc", Call("to_string", "abc"));
        Same("true", Call("to_string", true));
        Same("null", Call("to_string", N));
        Same("5s", Call("to_string", Sec(5)));
        Same("1970-01-01T00:00:01Z", Call("to_string", Ts(TimeFormat.NanosPerSecond)));
        Same("[1, \"a\"]", Call("to_string", Arr(1L, "a")));
    }

    [Fact]
    public void ToInt()
    {
        Same(5L, Call("to_int", 5L));
        Same(2L, Call("to_int", 2.9));
        Same(-2L, Call("to_int", -2.9));
        Same(42L, Call("to_int", " 42 "));
        Same(-7L, Call("to_int", "-7"));
        Same(3L, Call("to_int", "3.9"));
        Same(N, Call("to_int", "abc"));
        Same(1L, Call("to_int", true));
        Same(0L, Call("to_int", false));
        Same(1500L, Call("to_int", Ts(1_500_000_000)));
        Same(-1L, Call("to_int", Ts(-1)));
        Same(1500L, Call("to_int", Dur(1_500_999_999)));
        Same(N, Call("to_int", double.NaN));
        Same(N, Call("to_int", 1e19));
        Same(N, Call("to_int", N));
        Same(N, Call("to_int", Arr()));
    }

    [Fact]
    public void ToFloat()
    {
        Same(5.0, Call("to_float", 5L));
        Same(2.5, Call("to_float", 2.5));
        Same(1000.0, Call("to_float", "1e3"));
        Same(-0.5, Call("to_float", " -0.5 "));
        Same(double.NaN, Call("to_float", "NaN"));
        Same(N, Call("to_float", "abc"));
        Same(1.0, Call("to_float", true));
        Same(1.5, Call("to_float", Ts(1_500_000)));
        Same(1.5, Call("to_float", Dur(1_500_000)));
        Same(N, Call("to_float", N));
    }

    [Fact]
    public void IsNullTypeOfCoalesce()
    {
        Same(true, Call("is_null", N));
        Same(false, Call("is_null", 0L));
        Same("null", Call("type_of", N));
        Same("bool", Call("type_of", true));
        Same("int", Call("type_of", 1L));
        Same("float", Call("type_of", 1.0));
        Same("str", Call("type_of", "x"));
        Same("timestamp", Call("type_of", Ts(0)));
        Same("duration", Call("type_of", Dur(0)));
        Same("array", Call("type_of", Arr()));
        Same("map", Call("type_of", Map()));
        var reg = new TypeRegistry();
        Same("event", Call("type_of", Value.FromEvent(new Event(reg.GetOrAdd("A"), 0, []))));
        Same(2L, Call("coalesce", N, 2L, 3L));
        Same(N, Call("coalesce", N, N));
        Same(1L, Call("coalesce", 1L));
        Same(false, Call("coalesce", N, false));
    }

    [Fact]
    public void FirstLast()
    {
        Same(1L, Call("first", Arr(1L, 2L, 3L)));
        Same(3L, Call("last", Arr(1L, 2L, 3L)));
        Same(N, Call("first", Arr()));
        Same(N, Call("last", Arr()));
        Same(N, Call("first", "abc"));
        Same(N, Call("last", N));
    }

    [Fact]
    public void FirstLastOfEventArraysGiveEvents()
    {
        var reg = new TypeRegistry();
        var t = reg.GetOrAdd("B");
        var e1 = new Event(t, 1, [10L]);
        var e2 = new Event(t, 2, [20L]);
        var arr = Arr(Value.FromEvent(e1), Value.FromEvent(e2));
        Assert.Same(e1, Call("first", arr).AsEvent);
        Assert.Same(e2, Call("last", arr).AsEvent);
    }

    [Fact]
    public void SumAndAvgOfArrays()
    {
        Same(6L, Call("sum", Arr(1L, 2L, 3L)));
        Same(6.5, Call("sum", Arr(1L, 2L, 3.5)));
        Same(3L, Call("sum", Arr(1L, N, 2L)));
        Same(N, Call("sum", Arr()));
        Same(N, Call("sum", 5L));
        Same(2.0, Call("avg", Arr(1L, 2L, 3L)));
        Same(1.5, Call("avg", Arr(1L, double.NaN, 2L)));
        Same(N, Call("avg", Arr()));
        Same(N, Call("avg", N));
    }

    [Fact]
    public void SortAndReverse()
    {
        var source = Arr(3L, 1.5, "b", N, 2L, "a", true);
        Same(Arr(N, true, 1.5, 2L, 3L, "a", "b"), Call("sort", source));
        Same(Arr(3L, 1.5, "b", N, 2L, "a", true), source);
        Same(Arr(1L, 1.0, 2L), Call("sort", Arr(2L, 1L, 1.0)));
        Same(Arr(3L, 2L, 1L), Call("reverse", Arr(1L, 2L, 3L)));
        Same(Arr(), Call("reverse", Arr()));
        Same(N, Call("sort", "cba"));
        Same(N, Call("reverse", "abc"));
    }

    [Fact]
    public void KeysAndValues()
    {
        var m = Map(("b", 1L), ("a", "x"));
        Same(Arr("b", "a"), Call("keys", m));
        Same(Arr(1L, "x"), Call("values", m));
        var reg = new TypeRegistry();
        var t = reg.DefineOpen("T", ["x", "y", "z"]);
        var e = Value.FromEvent(new Event(t, 0, [1L, N, "z"]));
        Same(Arr("x", "z"), Call("keys", e));
        Same(Arr(1L, "z"), Call("values", e));
        Same(N, Call("keys", Arr()));
        Same(N, Call("values", N));
    }

    [Fact]
    public void Range()
    {
        Same(Arr(0L, 1L, 2L), Call("range", 3L));
        Same(Arr(2L, 3L, 4L), Call("range", 2L, 5L));
        Same(Arr(0L, 3L, 6L, 9L), Call("range", 0L, 10L, 3L));
        Same(Arr(5L, 3L, 1L), Call("range", 5L, 0L, -2L));
        Same(Arr(), Call("range", 0L));
        Same(Arr(), Call("range", 5L, 2L));
        Same(Arr(), Call("range", -3L));
        Same(N, Call("range", 0L, 5L, 0L));
        Same(N, Call("range", 2.0));
        Same(N, Call("range", N));
        Builtins.TryGet("range", out var range);
        var million = range.Invoke1!(1_000_000L).AsArray;
        Assert.Equal(1_000_000, million.Length);
        Same(999_999L, million[^1]);
        Same(N, Call("range", 1_000_001L));
        Same(N, Call("range", long.MinValue, long.MaxValue));
        Same(Arr(long.MaxValue - 1), Call("range", long.MaxValue - 1, long.MaxValue));
    }

    [Fact]
    public void TimestampFromEpochMillis()
    {
        Same(Ts(1_700_000_000_000 * TimeFormat.NanosPerMilli), Call("timestamp", 1_700_000_000_000L));
        Same(Ts(1_500_000), Call("timestamp", 1.5));
        Same(Ts(1_769_162_400L * TimeFormat.NanosPerSecond), Call("timestamp", "2026-01-23T10:00:00Z"));
        Same(Ts(7), Call("timestamp", Ts(7)));
        Same(N, Call("timestamp", long.MaxValue));
        Same(N, Call("timestamp", "not a time"));
        Same(N, Call("timestamp", "9999-12-31T00:00:00Z"));
        Same(N, Call("timestamp", N));
        Same(N, Call("timestamp", true));
    }

    [Fact]
    public void NoBuiltinThrowsOnAnyCombinationOfSampleValues()
    {
        var reg = new TypeRegistry();
        Value[] samples =
        [
            N, true, 0L, -1L, long.MaxValue, long.MinValue, 0.0, -0.5, double.NaN, double.PositiveInfinity, "", "abc",
            Ts(long.MinValue), Ts(0), Dur(long.MaxValue), Dur(-1), Arr(), Arr(1L, "a"), Map(), Map(("$k", 1L)),
            Value.FromEvent(new Event(reg.GetOrAdd("E"), 0, [])),
        ];
        foreach (var name in Builtins.Names)
        {
            Builtins.TryGet(name, out var f);
            foreach (var a in samples)
            {
                f.Invoke([a]);
                f.Invoke1?.Invoke(a);
                foreach (var b in samples)
                {
                    f.Invoke([a, b]);
                    f.Invoke2?.Invoke(a, b);
                    f.Invoke([a, b, a]);
                }
            }
            f.Invoke([]);
        }
    }
}
