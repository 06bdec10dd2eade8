namespace Varpulis.Vpl.Runtime;

public static partial class Builtins
{
    private const double TwoTo63 = 9223372036854775808.0;

    /// <summary><c>abs(x)</c>: int → int (<c>abs(-2^63)</c> promotes to float), float → float, duration → duration; else null.</summary>
    private static Value Abs(Value v)
    {
        if (v.IsInt) return v.AsInt >= 0 ? v : ValueOps.Negate(v);
        if (v.IsFloat) return Value.FromFloat(Math.Abs(v.AsFloat));
        if (v.IsDuration) return v.AsNanos >= 0 ? v : ValueOps.Negate(v);
        return Value.Null;
    }

    /// <summary>
    /// Float-valued math (<c>sqrt log10 exp sin cos tan</c>): a number in, a float out; null for non-numbers and
    /// when a finite input gives NaN or an infinity (<c>sqrt(-1)</c>, <c>log10(0)</c>, <c>exp(1000)</c>).
    /// </summary>
    private static Value FloatMath(Value v, Func<double, double> f)
    {
        if (!v.TryGetDouble(out double x)) return Value.Null;
        return Finite(f(x), double.IsFinite(x));
    }

    private static Value Finite(double r, bool inputsFinite)
        => inputsFinite && !double.IsFinite(r) ? Value.Null : Value.FromFloat(r);

    /// <summary><c>log(x)</c>: natural logarithm; null for x ≤ 0 or a non-number.</summary>
    private static Value Log(Value v) => FloatMath(v, Math.Log);

    /// <summary><c>log(x, base)</c>: logarithm in <paramref name="b"/>; null for x ≤ 0, base ≤ 0, base = 1 or non-numbers.</summary>
    private static Value Log(Value v, Value b)
    {
        if (!v.TryGetDouble(out double x) || !b.TryGetDouble(out double bb) || bb == 1) return Value.Null;
        return Finite(Math.Log(x, bb), double.IsFinite(x) && double.IsFinite(bb));
    }

    /// <summary>
    /// <c>floor(x)</c> / <c>ceil(x)</c> (Python-like): an int stays as it is; a float is rounded and returned as an
    /// <b>int</b> when the result fits in 64 bits, else (±infinity, |x| ≥ 2^63) as the float; NaN gives null.
    /// </summary>
    private static Value RoundToInt(Value v, Func<double, double> f)
    {
        if (v.IsInt) return v;
        if (!v.IsFloat) return Value.Null;
        return FloatToIntOrFloat(f(v.AsFloat));
    }

    private static Value FloatToIntOrFloat(double r)
    {
        if (double.IsNaN(r)) return Value.Null;
        if (r >= -TwoTo63 && r < TwoTo63) return Value.FromInt((long)r);
        return Value.FromFloat(r);
    }

    /// <summary>
    /// <c>round(x)</c>: to the nearest integer, halves away from zero (<c>round(2.5) = 3</c>, <c>round(-2.5) = -3</c>),
    /// returned as an int like <c>floor</c>.
    /// </summary>
    private static Value Round1(Value v)
    {
        if (v.IsInt) return v;
        if (!v.IsFloat) return Value.Null;
        return FloatToIntOrFloat(Math.Round(v.AsFloat, MidpointRounding.AwayFromZero));
    }

    /// <summary>
    /// <c>round(x, digits)</c>: halves away from zero at <paramref name="digits"/> decimals (−18..15; negative rounds to
    /// tens, hundreds...). A float stays a float (<c>round(2.345, 2) = 2.35</c>); an int stays an int
    /// (<c>round(1250, -2) = 1300</c>). Digits outside the range or not an int give null.
    /// </summary>
    private static Value Round2(Value v, Value digits)
    {
        if (!digits.IsInt || digits.AsInt < -18 || digits.AsInt > 15) return Value.Null;
        int d = (int)digits.AsInt;
        if (v.IsInt)
        {
            if (d >= 0) return v;
            long p = Pow10(-d);
            long x = v.AsInt;
            long q = x / p, r = x % p;
            if (Math.Abs(r) >= p - Math.Abs(r)) q += Math.Sign(x);
            return ValueOps.TryMul(q, p, out long res) ? Value.FromInt(res) : Value.FromFloat((double)q * p);
        }
        if (!v.IsFloat) return Value.Null;
        double f = v.AsFloat;
        if (!double.IsFinite(f)) return v;
        if (d >= 0) return Value.FromFloat(Math.Round(f, d, MidpointRounding.AwayFromZero));
        double scale = Pow10(-d);
        return Value.FromFloat(Math.Round(f / scale, MidpointRounding.AwayFromZero) * scale);
    }

    private static long Pow10(int n)
    {
        long p = 1;
        for (int i = 0; i < n; i++) p *= 10;
        return p;
    }

    /// <summary>
    /// <c>min(...)</c> / <c>max(...)</c> with two or more arguments, or one array. Nulls and NaN are skipped; the values
    /// left must be mutually comparable (numbers, or strings, or timestamps, or durations) — a mix of incomparable
    /// kinds (or a bool, array, map, event) gives null. The winning value keeps its kind (<c>min(1, 2.5) = 1</c>);
    /// on ties the first wins. No value left → null. One non-array argument is returned as it is.
    /// </summary>
    private static Value Extreme(Value[] args, bool wantMax)
    {
        if (args.Length == 1) return Extreme1(args[0], wantMax);
        return ExtremeOf(args, wantMax);
    }

    private static Value Extreme1(Value v, bool wantMax)
    {
        if (v.IsArray) return ExtremeOf(v.AsArray, wantMax);
        return v.IsFloat && double.IsNaN(v.AsFloat) ? Value.Null : v;
    }

    private static Value Extreme2(Value x, Value y, bool wantMax)
    {
        Span<Value> two = [x, y];
        return ExtremeOf(two, wantMax);
    }

    private static Value ExtremeOf(ReadOnlySpan<Value> items, bool wantMax)
    {
        Value best = Value.Null;
        foreach (var v in items)
        {
            if (v.IsNull || (v.IsFloat && double.IsNaN(v.AsFloat))) continue;
            if (best.IsNull)
            {
                if (!IsOrderable(v)) return Value.Null;
                best = v;
                continue;
            }
            if (!ValueOps.TryCompare(v, best, out int c)) return Value.Null;
            if (wantMax ? c > 0 : c < 0) best = v;
        }
        return best;
    }

    private static bool IsOrderable(Value v) => v.Kind is ValueKind.Int or ValueKind.Float or ValueKind.String or ValueKind.Timestamp or ValueKind.Duration;
}
