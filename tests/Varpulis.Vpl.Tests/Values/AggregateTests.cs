using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Runtime.Aggregates;
using Xunit;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Values;

public class AggregateTests
{
    private static readonly Value N = Value.Null;

    private static Value Agg(string name, params Value[] values) => AggWith(name, [], values);

    private static Value AggWith(string name, Value[] constArgs, params Value[] values)
    {
        Assert.True(AggregateFunctions.TryGet(name, out var f), $"no aggregate {name}");
        return AggregateFunctions.Aggregate(f, constArgs, values);
    }

    [Fact]
    public void Registry()
    {
        Assert.Equal(
            ["avg", "count", "count_distinct", "ema", "first", "last", "max", "median", "min", "percentile", "stddev", "sum"],
            AggregateFunctions.Names);
        AggregateFunctions.TryGet("ema", out var ema);
        Assert.Equal(2, ema.MinArgs);
        Assert.Equal(1, ema.ConstantArgs);
        AggregateFunctions.TryGet("count", out var count);
        Assert.Equal(0, count.MinArgs);
        Assert.Equal(1, count.MaxArgs);
        Assert.False(AggregateFunctions.TryGet("mean", out _));
    }

    [Fact]
    public void CountRowsCountsEveryAddCountExprSkipsNulls()
    {
        Assert.True(AggregateFunctions.TryGet("count", 0, out var rows));
        Assert.Same(AggregateFunctions.CountRows, rows);
        Same(3L, AggregateFunctions.Aggregate(rows, [], [N, N, 1L]));
        Assert.True(AggregateFunctions.TryGet("count", 1, out var expr));
        Same(1L, AggregateFunctions.Aggregate(expr, [], [N, N, 1L]));
        Same(0L, Agg("count"));
        Same(2L, Agg("count", double.NaN, "x"));
    }

    [Fact]
    public void SumIsIntWhenEveryInputIsInt()
    {
        Same(6L, Agg("sum", 1L, 2L, 3L));
        Same(6.0, Agg("sum", 1L, 2.0, 3L));
        Same(6.0, Agg("sum", 1.0, 2L, 3L));
        Same(3L, Agg("sum", 1L, N, 2L));
        Same(3L, Agg("sum", 1L, double.NaN, 2L));
        Same(3.5, Agg("sum", 1.5, double.NaN, 2L));
        Same(3L, Agg("sum", 1L, "x", true, 2L));
        Same(N, Agg("sum"));
        Same(N, Agg("sum", N, double.NaN));
        Same(0.30000000000000004, Agg("sum", 0.1, 0.2));
    }

    [Fact]
    public void SumOverflowPromotesToFloat()
    {
        Same(9223372036854775808.0, Agg("sum", long.MaxValue, 1L));
        Same(9223372036854775809.0, Agg("sum", long.MaxValue, 1L, 1L));
        Same(9223372036854775807.0, Agg("sum", long.MaxValue, 1L, -1L));
    }

    [Fact]
    public void Avg()
    {
        Same(2.0, Agg("avg", 1L, 2L, 3L));
        Same(2.5, Agg("avg", 2L, 3.0));
        Same(2.0, Agg("avg", 1L, N, double.NaN, "x", 3L));
        Same(N, Agg("avg"));
        Same(N, Agg("avg", N));
    }

    [Fact]
    public void MinMaxKeepKindAndIgnoreNullNaNAndOtherFamilies()
    {
        Same(1L, Agg("min", 3L, 1L, 2.5));
        Same(3L, Agg("max", 3L, 1L, 2.5));
        Same(2.5, Agg("max", 1L, 2.5));
        Same(1L, Agg("min", 1L, 1.0));
        Same(1L, Agg("min", N, double.NaN, 1L, double.NaN));
        Same(2L, Agg("max", double.NaN, 2L));
        Same("a", Agg("min", "b", "a", "c"));
        Same("c", Agg("max", "b", "a", "c"));
        Same(Ts(9), Agg("max", Ts(1), Ts(9), Ts(5)));
        Same(Dur(1), Agg("min", Dur(3), Dur(1)));
        Same(1L, Agg("min", 1L, "a", 0.5 + 1));
        Same("b", Agg("min", true, "b", 1L));
        Same(N, Agg("min"));
        Same(N, Agg("max", N, double.NaN));
    }

    [Fact]
    public void StdDevIsTheSampleStandardDeviation()
    {
        var r = Agg("stddev", 2L, 4L, 4L, 4L, 5L, 5L, 7L, 9L);
        Assert.True(r.IsFloat);
        Assert.Equal(Math.Sqrt(32.0 / 7.0), r.AsFloat, 12);
        Same(0.0, Agg("stddev", 5L, 5.0));
        var withNaN = Agg("stddev", 1L, double.NaN, 3L, N);
        Assert.Equal(Math.Sqrt(2.0), withNaN.AsFloat, 12);
        Same(N, Agg("stddev", 1L));
        Same(N, Agg("stddev"));
    }

    [Fact]
    public void FirstLastSkipNulls()
    {
        Same(1L, Agg("first", N, 1L, 2L));
        Same(2L, Agg("last", 1L, 2L, N));
        Same("x", Agg("first", "x", 2L));
        Same(double.NaN, Agg("last", 1L, double.NaN));
        Same(N, Agg("first"));
        Same(N, Agg("last", N));
    }

    [Fact]
    public void CountDistinct()
    {
        Same(3L, Agg("count_distinct", 1L, 1.0, 2L, "1", N, 2L));
        Same(2L, Agg("count_distinct", double.NaN, double.NaN, 1L));
        Same(2L, Agg("count_distinct", Arr(1L), Arr(1L), Arr(2L)));
        Same(0L, Agg("count_distinct"));
    }

    [Fact]
    public void EmaIsSeededWithTheFirstValue()
    {
        // period 3: k = 0.5. 10 → 10; 20 → 15; 30 → 22.5.
        Same(22.5, AggWith("ema", [3L], 10L, 20L, 30L));
        Same(10.0, AggWith("ema", [3L], 10L));
        Same(15.0, AggWith("ema", [3L], N, 10L, double.NaN, "x", 20L));
        Same(N, AggWith("ema", [3L]));
        // period 1: k = 1, the last value.
        Same(30.0, AggWith("ema", [1.0], 10L, 20L, 30L));
    }

    [Fact]
    public void EmaRejectsABadPeriod()
    {
        AggregateFunctions.TryGet("ema", out var f);
        Assert.Equal("ema: period must be a number >= 1, got 0", Assert.Throws<ArgumentException>(() => f.Create([0L])).Message);
        Assert.Equal("ema: period must be a number >= 1, got \"3\"", Assert.Throws<ArgumentException>(() => f.Create(["3"])).Message);
        Assert.Equal("ema: period must be a number >= 1, got null", Assert.Throws<ArgumentException>(() => f.Create([])).Message);
    }

    [Fact]
    public void PercentileIsNearestRank()
    {
        Value[] v = [15L, 20L, 35L, 40L, 50L];
        Same(15L, AggWith("percentile", [0L], v));
        Same(15L, AggWith("percentile", [5L], v));
        Same(20L, AggWith("percentile", [30L], v));
        Same(20L, AggWith("percentile", [40L], v));
        Same(35L, AggWith("percentile", [50L], v));
        Same(50L, AggWith("percentile", [100L], v));
        Same(40L, AggWith("percentile", [75.5], 40L, 15L, 50L, 35L, 20L));
        Same(2.5, AggWith("percentile", [50L], 3L, N, 2.5, double.NaN, 1L, 4L));
        Same(N, AggWith("percentile", [50L]));
    }

    [Fact]
    public void PercentileOutOfRangeIsRejectedAtCreation()
    {
        AggregateFunctions.TryGet("percentile", out var f);
        Assert.Equal("percentile: p must be a number between 0 and 100, got 150", Assert.Throws<ArgumentException>(() => f.Create([150L])).Message);
        Assert.Equal("percentile: p must be a number between 0 and 100, got -0.5", Assert.Throws<ArgumentException>(() => f.Create([-0.5])).Message);
        Assert.Equal("percentile: p must be a number between 0 and 100, got NaN", Assert.Throws<ArgumentException>(() => f.Create([double.NaN])).Message);
    }

    [Fact]
    public void Median()
    {
        Same(3.0, Agg("median", 5L, 1L, 3L));
        Same(2.5, Agg("median", 4L, 1L, 3L, 2L));
        Same(3.0, Agg("median", 2L, 4L));
        Same(1.5, Agg("median", 1.5));
        Same(2.0, Agg("median", 3L, N, double.NaN, 1L, "x"));
        Same(N, Agg("median"));
    }

    [Fact]
    public void ResultDoesNotConsumeAndResetClears()
    {
        foreach (var name in AggregateFunctions.Names)
        {
            AggregateFunctions.TryGet(name, out var f);
            Value[] args = f.ConstantArgs == 1 ? [50L] : [];
            var a = f.Create(args);
            a.Add(4L);
            a.Add(2L);
            var first = a.Result();
            Same(first, a.Result());
            a.Reset();
            var fresh = f.Create(args);
            Same(fresh.Result(), a.Result());
            a.Add(4L);
            a.Add(2L);
            Same(first, a.Result());
        }
    }
}
