using Varpulis.Vpl.Runtime;
using Xunit;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Values;

public class ValueOpsTests
{
    private static readonly Value N = Value.Null;
    private const long S = TimeFormat.NanosPerSecond;

    [Fact]
    public void IntArithmeticStaysInt()
    {
        Same(5L, ValueOps.Add(2L, 3L));
        Same(-1L, ValueOps.Subtract(2L, 3L));
        Same(6L, ValueOps.Multiply(2L, 3L));
        Same(3L, ValueOps.Divide(7L, 2L));
        Same(1L, ValueOps.Modulo(7L, 2L));
        Same(8L, ValueOps.Power(2L, 3L));
        Same(1L, ValueOps.Power(5L, 0L));
        Same(-3L, ValueOps.Negate(3L));
    }

    [Fact]
    public void IntDivisionTruncatesTowardZero()
    {
        Same(-3L, ValueOps.Divide(-7L, 2L));
        Same(-3L, ValueOps.Divide(7L, -2L));
        Same(-1L, ValueOps.Modulo(-7L, 2L));
        Same(1L, ValueOps.Modulo(7L, -2L));
    }

    [Fact]
    public void DivisionAndModuloByZeroAreNull()
    {
        Same(N, ValueOps.Divide(1L, 0L));
        Same(N, ValueOps.Modulo(1L, 0L));
        Same(N, ValueOps.Divide(1.0, 0L));
        Same(N, ValueOps.Divide(1L, 0.0));
        Same(N, ValueOps.Modulo(1.5, 0.0));
        Same(N, ValueOps.Divide(Sec(1), 0L));
        Same(N, ValueOps.Divide(Sec(1), 0.0));
        Same(N, ValueOps.Divide(Sec(1), Dur(0)));
        Same(N, ValueOps.Modulo(Sec(1), Dur(0)));
    }

    [Fact]
    public void MixedIntFloatIsFloat()
    {
        Same(3.5, ValueOps.Add(1L, 2.5));
        Same(3.5, ValueOps.Add(2.5, 1L));
        Same(-1.5, ValueOps.Subtract(1L, 2.5));
        Same(5.0, ValueOps.Multiply(2L, 2.5));
        Same(0.4, ValueOps.Divide(1L, 2.5));
        Same(3.5, ValueOps.Divide(7.0, 2L));
        Same(1.5, ValueOps.Modulo(7.5, 2L));
        Same(0.5, ValueOps.Power(2L, -1L));
        Same(4.0, ValueOps.Power(2.0, 2L));
        Same(2.0, ValueOps.Power(4L, 0.5));
        Same(-2.5, ValueOps.Negate(2.5));
    }

    [Fact]
    public void IntOverflowPromotesToFloat()
    {
        Same(9223372036854775808.0, ValueOps.Add(long.MaxValue, 1L));
        Same(-9223372036854775809.0, ValueOps.Subtract(long.MinValue, 1L));
        Same(1.8446744073709552E19, ValueOps.Multiply(4294967296L, 4294967296L));
        Same(1E20, ValueOps.Power(10L, 20L));
        Same(9223372036854775808.0, ValueOps.Negate(long.MinValue));
        Same(9223372036854775808.0, ValueOps.Divide(long.MinValue, -1L));
        Same(0L, ValueOps.Modulo(long.MinValue, -1L));
        Same(long.MaxValue, ValueOps.Add(long.MaxValue - 1, 1L));
        Same(4611686018427387904L, ValueOps.Power(2L, 62L));
        Same(-9223372036854775808L, ValueOps.Power(-2L, 63L));
    }

    [Fact]
    public void StringConcatenation()
    {
        Same("ab", ValueOps.Add("a", "b"));
        Same(N, ValueOps.Add("a", 1L));
        Same(N, ValueOps.Add(1L, "a"));
        Same(N, ValueOps.Add("a", N));
        Same(N, ValueOps.Subtract("a", "b"));
        Same(N, ValueOps.Multiply("a", 3L));
    }

    [Fact]
    public void ArrayConcatenation()
    {
        Same(Arr(1L, 2L, "x"), ValueOps.Add(Arr(1L), Arr(2L, "x")));
        Same(N, ValueOps.Add(Arr(1L), 2L));
    }

    [Fact]
    public void NullAndWrongKindsGiveNull()
    {
        Same(N, ValueOps.Add(N, 1L));
        Same(N, ValueOps.Add(1L, N));
        Same(N, ValueOps.Multiply(true, 2L));
        Same(N, ValueOps.Negate("x"));
        Same(N, ValueOps.Negate(N));
        Same(N, ValueOps.Power("a", 2L));
        Same(N, ValueOps.Divide(Map(), 1L));
    }

    [Fact]
    public void TimestampAndDurationArithmetic()
    {
        var t0 = Ts(1000 * S);
        Same(Ts(1005 * S), ValueOps.Add(t0, Sec(5)));
        Same(Ts(1005 * S), ValueOps.Add(Sec(5), t0));
        Same(Ts(995 * S), ValueOps.Subtract(t0, Sec(5)));
        Same(Sec(-5), ValueOps.Subtract(Ts(995 * S), t0));
        Same(Sec(7), ValueOps.Add(Sec(3), Sec(4)));
        Same(Sec(-1), ValueOps.Subtract(Sec(3), Sec(4)));
        Same(Sec(6), ValueOps.Multiply(Sec(3), 2L));
        Same(Sec(6), ValueOps.Multiply(2L, Sec(3)));
        Same(Dur(1500 * TimeFormat.NanosPerMilli), ValueOps.Multiply(Sec(1), 1.5));
        Same(Dur(1500 * TimeFormat.NanosPerMilli), ValueOps.Divide(Sec(3), 2L));
        Same(Dur(2 * S), ValueOps.Divide(Sec(3), 1.5));
        Same(Dur(2), ValueOps.Multiply(Dur(1), 1.5));
        Same(1.5, ValueOps.Divide(Sec(3), Sec(2)));
        Same(Sec(1), ValueOps.Modulo(Sec(7), Sec(3)));
        Same(Sec(-3), ValueOps.Negate(Sec(3)));
        Same(N, ValueOps.Add(t0, t0));
        Same(N, ValueOps.Add(t0, 1L));
        Same(N, ValueOps.Multiply(t0, 2L));
        Same(N, ValueOps.Subtract(Sec(1), t0));
    }

    [Fact]
    public void TimeArithmeticOutOfRangeIsNull()
    {
        Same(N, ValueOps.Add(Ts(long.MaxValue), Dur(1)));
        Same(N, ValueOps.Subtract(Ts(long.MinValue), Dur(1)));
        Same(N, ValueOps.Subtract(Ts(long.MaxValue), Ts(-1)));
        Same(N, ValueOps.Multiply(Dur(long.MaxValue), 2L));
        Same(N, ValueOps.Multiply(Dur(long.MaxValue), 2.0));
        Same(N, ValueOps.Multiply(Sec(1), double.NaN));
        Same(N, ValueOps.Negate(Dur(long.MinValue)));
    }

    [Fact]
    public void NumbersCompareNumericallyAcrossIntAndFloat()
    {
        Same(true, ValueOps.Equal(1L, 1.0));
        Same(true, ValueOps.Equal(1.0, 1L));
        Same(false, ValueOps.NotEqual(1L, 1.0));
        Same(true, ValueOps.GreaterOrEqual(2L, 1.5));
        Same(true, ValueOps.LessOrEqual(1.5, 2L));
        Same(true, ValueOps.LessOrEqual(2L, 2.0));
        Same(true, ValueOps.GreaterOrEqual(2.0, 2L));
        Same(false, ValueOps.Less(2L, 2.0));
        Same(true, ValueOps.Less(1L, 1.5));
        Same(true, ValueOps.Greater(1.5, 1L));
        Same(false, ValueOps.Equal(1L, 1.5));
    }

    [Fact]
    public void LargeIntsCompareExactlyWithFloats()
    {
        // 2^53 + 1 is not representable as a double; it is still greater than 2^53.
        Same(true, ValueOps.Greater(9007199254740993L, 9007199254740992.0));
        Same(false, ValueOps.Equal(9007199254740993L, 9007199254740992.0));
        Same(true, ValueOps.Less(long.MaxValue, 9223372036854775808.0));
        Same(true, ValueOps.Greater(long.MinValue, -1e19));
        Same(true, ValueOps.Less(-3L, -2.5));
        Same(true, ValueOps.Greater(-2L, -2.5));
    }

    [Fact]
    public void IntsCompare()
    {
        Same(true, ValueOps.Less(1L, 2L));
        Same(false, ValueOps.Less(2L, 2L));
        Same(true, ValueOps.LessOrEqual(2L, 2L));
        Same(true, ValueOps.Greater(3L, 2L));
        Same(false, ValueOps.GreaterOrEqual(1L, 2L));
        Same(true, ValueOps.Equal(2L, 2L));
        Same(true, ValueOps.NotEqual(2L, 3L));
    }

    [Fact]
    public void NullComparisons()
    {
        Same(true, ValueOps.Equal(N, N));
        Same(false, ValueOps.NotEqual(N, N));
        Same(false, ValueOps.Equal(1L, N));
        Same(true, ValueOps.NotEqual(1L, N));
        Same(true, ValueOps.NotEqual(N, "x"));
        Same(false, ValueOps.Less(N, 1L));
        Same(false, ValueOps.LessOrEqual(N, N));
        Same(false, ValueOps.Greater(1L, N));
        Same(false, ValueOps.GreaterOrEqual(N, 1L));
    }

    [Fact]
    public void IncompatibleKindsAreUnequalAndUnordered()
    {
        Same(false, ValueOps.Equal(1L, "1"));
        Same(true, ValueOps.NotEqual(1L, "1"));
        Same(false, ValueOps.Less(1L, "2"));
        Same(false, ValueOps.GreaterOrEqual("2", 1L));
        Same(false, ValueOps.Equal(Ts(5), Dur(5)));
        Same(false, ValueOps.Less(Ts(5), Dur(6)));
        Same(false, ValueOps.Equal(true, 1L));
        Same(false, ValueOps.Less(false, true));
        Same(false, ValueOps.Less(Arr(1L), Arr(2L)));
    }

    [Fact]
    public void StringsTimestampsDurationsCompareAmongThemselves()
    {
        Same(true, ValueOps.Less("B", "a"));
        Same(true, ValueOps.Less("a", "b"));
        Same(true, ValueOps.Equal("a", "a"));
        Same(false, ValueOps.Equal("a", "A"));
        Same(true, ValueOps.GreaterOrEqual("b", "b"));
        Same(true, ValueOps.Less(Ts(1), Ts(2)));
        Same(true, ValueOps.Equal(Ts(2), Ts(2)));
        Same(true, ValueOps.Greater(Sec(2), Sec(1)));
        Same(true, ValueOps.LessOrEqual(Sec(2), Sec(2)));
    }

    [Fact]
    public void NaNComparisonsAreFalse()
    {
        Value nan = double.NaN;
        Same(false, ValueOps.Equal(nan, nan));
        Same(true, ValueOps.NotEqual(nan, nan));
        Same(false, ValueOps.Less(nan, 1.0));
        Same(false, ValueOps.GreaterOrEqual(nan, 1L));
        Same(false, ValueOps.LessOrEqual(1L, nan));
        Same(false, ValueOps.Greater(nan, nan));
    }

    [Fact]
    public void ContainersCompareStructurally()
    {
        Same(true, ValueOps.Equal(Arr(1L, "a"), Arr(1.0, "a")));
        Same(false, ValueOps.Equal(Arr(1L), Arr(1L, 2L)));
        Same(true, ValueOps.Equal(Map(("a", 1L), ("b", 2L)), Map(("b", 2L), ("a", 1.0))));
        Same(false, ValueOps.Equal(Map(("a", 1L)), Map(("a", 2L))));
    }

    [Fact]
    public void InAndNotIn()
    {
        Same(true, ValueOps.In(2L, Arr(1L, 2L)));
        Same(true, ValueOps.In(2.0, Arr(1L, 2L)));
        Same(false, ValueOps.In(3L, Arr(1L, 2L)));
        Same(true, ValueOps.NotIn(3L, Arr(1L, 2L)));
        Same(false, ValueOps.NotIn(2L, Arr(1L, 2L)));
        Same(true, ValueOps.In("a", Map(("a", 1L))));
        Same(false, ValueOps.In("b", Map(("a", 1L))));
        Same(false, ValueOps.In(1L, Map(("1", 1L))));
        Same(true, ValueOps.NotIn(1L, Map(("1", 1L))));
        Same(true, ValueOps.In("ell", "hello"));
        Same(false, ValueOps.In("x", "hello"));
        Same(true, ValueOps.NotIn("x", "hello"));
        Same(false, ValueOps.In(1L, "1"));
        Same(true, ValueOps.NotIn(1L, "1"));
    }

    [Fact]
    public void InWithNullOrNonContainerIsFalseBothWays()
    {
        Same(false, ValueOps.In(N, Arr(N)));
        Same(false, ValueOps.NotIn(N, Arr(1L)));
        Same(false, ValueOps.In(1L, N));
        Same(false, ValueOps.NotIn(1L, N));
        Same(false, ValueOps.In(1L, 1L));
        Same(false, ValueOps.NotIn(1L, 1L));
    }

    [Fact]
    public void NotTakesBooleansOnly()
    {
        Same(false, ValueOps.Not(true));
        Same(true, ValueOps.Not(false));
        Same(N, ValueOps.Not(N));
        Same(N, ValueOps.Not(1L));
        Assert.False(ValueOps.IsTrue(ValueOps.Not(N)));
    }

    [Fact]
    public void IsTrueOnlyForTrue()
    {
        Assert.True(ValueOps.IsTrue(true));
        Assert.False(ValueOps.IsTrue(false));
        Assert.False(ValueOps.IsTrue(N));
        Assert.False(ValueOps.IsTrue(1L));
        Assert.False(ValueOps.IsTrue("true"));
    }

    [Fact]
    public void TypeNames()
    {
        Assert.Equal("null", ValueOps.TypeName(N));
        Assert.Equal("bool", ValueOps.TypeName(true));
        Assert.Equal("int", ValueOps.TypeName(1L));
        Assert.Equal("float", ValueOps.TypeName(1.0));
        Assert.Equal("str", ValueOps.TypeName("s"));
        Assert.Equal("timestamp", ValueOps.TypeName(Ts(0)));
        Assert.Equal("duration", ValueOps.TypeName(Dur(0)));
        Assert.Equal("array", ValueOps.TypeName(Arr()));
        Assert.Equal("map", ValueOps.TypeName(Map()));
    }
}
