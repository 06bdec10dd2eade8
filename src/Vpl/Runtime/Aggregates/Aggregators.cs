namespace Varpulis.Vpl.Runtime.Aggregates;

/// <summary><c>count()</c> (every row) and <c>count(expr)</c> (non-null values). Empty → 0.</summary>
internal sealed class CountAggregator(bool countNulls) : IAggregator
{
    private long _n;

    public void Add(Value v)
    {
        if (countNulls || !v.IsNull) _n++;
    }

    public Value Result() => Value.FromInt(_n);

    public void Reset() => _n = 0;
}

/// <summary>
/// <c>sum(expr)</c>: an int while every value is an int (an int overflow continues as a float), a float as soon as
/// one float is added. Floats are added in arrival order. No numeric value → null.
/// </summary>
internal sealed class SumAggregator : IAggregator
{
    private SkippedValues _skipped;
    private long _int;
    private double _float;
    private bool _isFloat;
    private bool _any;

    public void Add(Value v)
    {
        if (v.IsInt)
        {
            _any = true;
            if (_isFloat)
            {
                _float += v.AsInt;
                return;
            }
            long x = v.AsInt;
            long r = unchecked(_int + x);
            if (((_int ^ r) & (x ^ r)) < 0)
            {
                _float = (double)_int + x;
                _isFloat = true;
            }
            else
            {
                _int = r;
            }
        }
        else if (v.IsFloat)
        {
            double d = v.AsFloat;
            if (double.IsNaN(d)) return;
            if (!_isFloat)
            {
                _float = _int;
                _isFloat = true;
            }
            _float += d;
            _any = true;
        }
        else
        {
            _skipped.Add(v);
        }
    }

    public long TakeSkipped(out Value first) => _skipped.Take(out first);

    public Value Result() => !_any ? Value.Null : _isFloat ? Value.FromFloat(_float) : Value.FromInt(_int);

    public void Reset()
    {
        _int = 0;
        _float = 0;
        _isFloat = false;
        _any = false;
    }
}

/// <summary><c>avg(expr)</c>: the float mean of the numeric values. No numeric value → null.</summary>
internal sealed class AvgAggregator : IAggregator
{
    private SkippedValues _skipped;
    private double _sum;
    private long _n;

    public long TakeSkipped(out Value first) => _skipped.Take(out first);

    public void Add(Value v)
    {
        if (!Numeric.TryGet(v, out double d))
        {
            _skipped.Add(v);
            return;
        }
        _sum += d;
        _n++;
    }

    public Value Result() => _n == 0 ? Value.Null : Value.FromFloat(_sum / _n);

    public void Reset()
    {
        _sum = 0;
        _n = 0;
    }
}

/// <summary>
/// <c>min(expr)</c> / <c>max(expr)</c> over numbers, strings, timestamps or durations. The first orderable value fixes
/// the family (numbers, strings, timestamps or durations); later values of another family, bools, arrays, maps,
/// events, nulls and NaN are ignored. The result keeps its kind (an int minimum stays an int); ties keep the first.
/// </summary>
internal sealed class ExtremeAggregator(bool wantMax) : IAggregator
{
    private Value _best;

    public void Add(Value v)
    {
        if (_best.IsNull)
        {
            if (v.Kind is ValueKind.Int or ValueKind.String or ValueKind.Timestamp or ValueKind.Duration
                || (v.IsFloat && !double.IsNaN(v.AsFloat)))
            {
                _best = v;
            }
            return;
        }
        if (ValueOps.TryCompare(v, _best, out int c) && (wantMax ? c > 0 : c < 0)) _best = v;
    }

    public Value Result() => _best;

    public void Reset() => _best = Value.Null;
}

/// <summary><c>stddev(expr)</c>: the sample standard deviation (n − 1), Welford's algorithm; fewer than 2 values → null.</summary>
internal sealed class StdDevAggregator : IAggregator
{
    private SkippedValues _skipped;
    private long _n;
    private double _mean;
    private double _m2;

    public long TakeSkipped(out Value first) => _skipped.Take(out first);

    public void Add(Value v)
    {
        if (!Numeric.TryGet(v, out double x))
        {
            _skipped.Add(v);
            return;
        }
        _n++;
        double delta = x - _mean;
        _mean += delta / _n;
        _m2 += delta * (x - _mean);
    }

    public Value Result() => _n < 2 ? Value.Null : Value.FromFloat(Math.Sqrt(_m2 / (_n - 1)));

    public void Reset()
    {
        _n = 0;
        _mean = 0;
        _m2 = 0;
    }
}

/// <summary><c>first(expr)</c>: the first non-null value.</summary>
internal sealed class FirstAggregator : IAggregator
{
    private Value _first;

    public void Add(Value v)
    {
        if (_first.IsNull) _first = v;
    }

    public Value Result() => _first;

    public void Reset() => _first = Value.Null;
}

/// <summary><c>last(expr)</c>: the last non-null value.</summary>
internal sealed class LastAggregator : IAggregator
{
    private Value _last;

    public void Add(Value v)
    {
        if (!v.IsNull) _last = v;
    }

    public Value Result() => _last;

    public void Reset() => _last = Value.Null;
}

/// <summary><c>count_distinct(expr)</c>: distinct non-null values by <see cref="Value.Equals(Value)"/> (so <c>1</c> and
/// <c>1.0</c> are one value); every NaN counts as one value.</summary>
internal sealed class CountDistinctAggregator : IAggregator
{
    private readonly HashSet<Value> _seen = new();
    private bool _sawNaN;

    public void Add(Value v)
    {
        if (v.IsNull) return;
        if (v.IsFloat && double.IsNaN(v.AsFloat)) _sawNaN = true;
        else _seen.Add(v);
    }

    public Value Result() => Value.FromInt(_seen.Count + (_sawNaN ? 1 : 0));

    public void Reset()
    {
        _seen.Clear();
        _sawNaN = false;
    }
}

/// <summary>
/// <c>ema(expr, period)</c>: exponential moving average, k = 2 / (period + 1), seeded with the first value
/// (<c>ema = x₀</c>, then <c>ema = k·x + (1 − k)·ema</c>). A float; non-numbers and NaN are ignored; empty → null.
/// </summary>
internal sealed class EmaAggregator(double k) : IAggregator
{
    private SkippedValues _skipped;
    private double _ema;
    private bool _any;

    public long TakeSkipped(out Value first) => _skipped.Take(out first);

    public static double ParsePeriod(Value[] args)
    {
        var p = args.Length > 0 ? args[0] : Value.Null;
        if (!p.TryGetDouble(out double period) || !(period >= 1) || double.IsInfinity(period))
        {
            throw new ArgumentException($"ema: period must be a number >= 1, got {Describe(p)}");
        }
        return 2.0 / (period + 1.0);
    }

    public void Add(Value v)
    {
        if (!Numeric.TryGet(v, out double x))
        {
            _skipped.Add(v);
            return;
        }
        if (!_any)
        {
            _ema = x;
            _any = true;
        }
        else
        {
            _ema = (k * x) + ((1 - k) * _ema);
        }
    }

    public Value Result() => _any ? Value.FromFloat(_ema) : Value.Null;

    public void Reset()
    {
        _ema = 0;
        _any = false;
    }

    internal static string Describe(Value v) => v.IsString ? "\"" + v.AsString + "\"" : v.ToString();
}

/// <summary>
/// <c>percentile(expr, p)</c>, nearest-rank: the value at rank ⌈p/100 · n⌉ (at least 1) of the sorted numeric values,
/// returned with its kind (an int stays an int). <c>p = 0</c> is the minimum, <c>p = 100</c> the maximum. Empty → null.
/// </summary>
internal sealed class PercentileAggregator(double p) : IAggregator
{
    private readonly NumericSample _sample = new();

    public static double ParseP(Value[] args)
    {
        var v = args.Length > 0 ? args[0] : Value.Null;
        if (!v.TryGetDouble(out double p) || !(p >= 0 && p <= 100))
        {
            throw new ArgumentException($"percentile: p must be a number between 0 and 100, got {EmaAggregator.Describe(v)}");
        }
        return p;
    }

    public void Add(Value v) => _sample.Add(v);

    public long TakeSkipped(out Value first) => _sample.TakeSkipped(out first);

    public Value Result()
    {
        var sorted = _sample.Sorted();
        if (sorted.Count == 0) return Value.Null;
        long rank = (long)Math.Ceiling(p * sorted.Count / 100.0);
        rank = Math.Clamp(rank, 1, sorted.Count);
        return sorted[(int)rank - 1];
    }

    public void Reset() => _sample.Clear();
}

/// <summary><c>median(expr)</c>: a float; the middle value of an odd count, the mean of the two middle values of an even
/// count (<c>median([1, 2, 3, 4]) = 2.5</c>). Non-numbers and NaN are ignored; empty → null.</summary>
internal sealed class MedianAggregator : IAggregator
{
    private readonly NumericSample _sample = new();

    public void Add(Value v) => _sample.Add(v);

    public long TakeSkipped(out Value first) => _sample.TakeSkipped(out first);

    public Value Result()
    {
        var sorted = _sample.Sorted();
        int n = sorted.Count;
        if (n == 0) return Value.Null;
        sorted[n / 2].TryGetDouble(out double hi);
        if (n % 2 == 1) return Value.FromFloat(hi);
        sorted[(n / 2) - 1].TryGetDouble(out double lo);
        return Value.FromFloat((lo / 2) + (hi / 2));
    }

    public void Reset() => _sample.Clear();
}

/// <summary>The numeric values seen (NaN and non-numbers dropped), sorted lazily.</summary>
internal sealed class NumericSample
{
    private static readonly Comparer<Value> NumericOrder = Comparer<Value>.Create((a, b) =>
    {
        ValueOps.TryCompare(a, b, out int c);
        return c;
    });

    private readonly List<Value> _values = new();
    private bool _sorted = true;
    private SkippedValues _skipped;

    public long TakeSkipped(out Value first) => _skipped.Take(out first);

    public void Add(Value v)
    {
        if (!Numeric.TryGet(v, out _))
        {
            _skipped.Add(v);
            return;
        }
        _values.Add(v);
        _sorted = false;
    }

    public List<Value> Sorted()
    {
        if (!_sorted)
        {
            _values.Sort(NumericOrder);
            _sorted = true;
        }
        return _values;
    }

    public void Clear()
    {
        _values.Clear();
        _sorted = true;
    }
}

/// <summary>The values a numeric aggregate skipped as not numbers (nulls and NaN are not counted: they are no type error).</summary>
internal struct SkippedValues
{
    private long _count;
    private Value _first;

    public void Add(Value v)
    {
        if (v.IsNull || v.IsFloat) return;
        if (_count++ == 0) _first = v;
    }

    public long Take(out Value first)
    {
        first = _first;
        long n = _count;
        _count = 0;
        _first = Value.Null;
        return n;
    }
}

internal static class Numeric
{
    /// <summary>An int or a non-NaN float as a double.</summary>
    public static bool TryGet(Value v, out double d) => v.TryGetDouble(out d) && !double.IsNaN(d);
}
