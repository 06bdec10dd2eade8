namespace Varpulis.Vpl.Runtime.Aggregates;

/// <summary>
/// Incremental state of one aggregate over one group of rows (a window firing per partition, or a Kleene
/// alias's events). Not thread-safe. <see cref="Result"/> may be called at any time and does not consume state.
/// </summary>
public interface IAggregator
{
    void Add(Value v);

    Value Result();

    void Reset();

    /// <summary>
    /// Values this aggregate skipped because they were not numbers (numeric aggregates only: a string, a bool, an array;
    /// not null, not NaN) since the last call, and the first of them; the count starts again at 0.
    /// </summary>
    long TakeSkipped(out Value first)
    {
        first = Value.Null;
        return 0;
    }
}

/// <summary>
/// An aggregate function. Its first argument (when it has one) is the per-row expression whose values are passed
/// to <see cref="IAggregator.Add"/>; the arguments after it are constants (<c>ema</c>'s period,
/// <c>percentile</c>'s p), evaluated once and passed to <see cref="Create"/>.
/// </summary>
public sealed class AggregateFunction
{
    public required string Name { get; init; }

    /// <summary>Total argument count, the row expression included (<c>count</c>: 0; <c>ema</c>: 2).</summary>
    public required int MinArgs { get; init; }

    public required int MaxArgs { get; init; }

    /// <summary>How many trailing arguments are constants passed to <see cref="Create"/> (0 or 1).</summary>
    public int ConstantArgs { get; init; }

    /// <summary>
    /// Creates an aggregator from the constant extra arguments. Throws <see cref="ArgumentException"/> with a message
    /// fit for a diagnostic when a constant is invalid (<c>percentile(x, 150)</c>).
    /// </summary>
    public required Func<Value[], IAggregator> Create { get; init; }

    public override string ToString() => Name;
}

/// <summary>
/// The aggregate functions of vpl.md §6.4. Nulls are ignored by every aggregate except <c>count()</c>; the numeric
/// aggregates (<c>sum avg stddev ema percentile median</c>) also ignore NaN and values that are not numbers.
/// An aggregate over no (non-ignored) values is <c>null</c>, except the counts, which are <c>0</c>. A value that a numeric
/// aggregate skips because it is not a number (not null, not NaN: a string, a bool, ...) is a type error: the
/// <c>.aggregate</c> operator counts them per stream (<see cref="IAggregator.TakeSkipped"/>).
/// </summary>
/// <remarks>
/// <c>count</c> is registered once with 0..1 arguments. <see cref="TryGet(string, out AggregateFunction)"/> returns
/// the <c>count(expr)</c> form (counts non-null values); the compiler uses
/// <see cref="TryGet(string, int, out AggregateFunction)"/> with the call's argument count to get
/// <see cref="CountRows"/> for <c>count()</c>, which counts every <see cref="IAggregator.Add"/> call (one per row,
/// whatever the value).
/// </remarks>
public static class AggregateFunctions
{
    /// <summary><c>count()</c>: the number of rows (every Add call counts, even with null).</summary>
    public static readonly AggregateFunction CountRows = Make("count", 0, 0, _ => new CountAggregator(countNulls: true));

    /// <summary><c>count(expr)</c>: the number of non-null values.</summary>
    public static readonly AggregateFunction Count = Make("count", 0, 1, _ => new CountAggregator(countNulls: false));

    public static readonly AggregateFunction Sum = Make("sum", 1, 1, _ => new SumAggregator());

    public static readonly AggregateFunction Avg = Make("avg", 1, 1, _ => new AvgAggregator());

    public static readonly AggregateFunction Min = Make("min", 1, 1, _ => new ExtremeAggregator(wantMax: false));

    public static readonly AggregateFunction Max = Make("max", 1, 1, _ => new ExtremeAggregator(wantMax: true));

    public static readonly AggregateFunction StdDev = Make("stddev", 1, 1, _ => new StdDevAggregator());

    public static readonly AggregateFunction First = Make("first", 1, 1, _ => new FirstAggregator());

    public static readonly AggregateFunction Last = Make("last", 1, 1, _ => new LastAggregator());

    public static readonly AggregateFunction CountDistinct = Make("count_distinct", 1, 1, _ => new CountDistinctAggregator());

    public static readonly AggregateFunction Ema = Make("ema", 2, 2, args => new EmaAggregator(EmaAggregator.ParsePeriod(args)), constantArgs: 1);

    public static readonly AggregateFunction Percentile = Make("percentile", 2, 2, args => new PercentileAggregator(PercentileAggregator.ParseP(args)), constantArgs: 1);

    public static readonly AggregateFunction Median = Make("median", 1, 1, _ => new MedianAggregator());

    private static readonly Dictionary<string, AggregateFunction> Table = new[]
    {
        Count, Sum, Avg, Min, Max, StdDev, First, Last, CountDistinct, Ema, Percentile, Median,
    }.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Looks an aggregate up by name (for <c>count</c>: the <c>count(expr)</c> form).</summary>
    public static bool TryGet(string name, out AggregateFunction f) => Table.TryGetValue(name, out f!);

    /// <summary>Looks an aggregate up by name and call arity: <c>count</c> with 0 arguments is <see cref="CountRows"/>.</summary>
    public static bool TryGet(string name, int argCount, out AggregateFunction f)
    {
        if (argCount == 0 && name == "count")
        {
            f = CountRows;
            return true;
        }
        return Table.TryGetValue(name, out f!);
    }

    /// <summary>Every aggregate's name, sorted.</summary>
    public static IEnumerable<string> Names { get; } = Table.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Aggregates a whole sequence at once (Kleene aliases, built-ins over arrays, tests).</summary>
    public static Value Aggregate(AggregateFunction f, Value[] constArgs, IEnumerable<Value> values)
    {
        var agg = f.Create(constArgs);
        foreach (var v in values) agg.Add(v);
        return agg.Result();
    }

    private static AggregateFunction Make(string name, int min, int max, Func<Value[], IAggregator> create, int constantArgs = 0)
        => new() { Name = name, MinArgs = min, MaxArgs = max, Create = create, ConstantArgs = constantArgs };
}
