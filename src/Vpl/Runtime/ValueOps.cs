using System.Runtime.CompilerServices;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// The VPL operators over <see cref="Value"/> (vpl.md §6.2). Every operator is total: an operand of a
/// kind the operator does not apply to gives <c>null</c> (arithmetic) or <c>false</c> (comparisons),
/// never an exception. Scalar results never allocate.
/// </summary>
/// <remarks>
/// Decisions where the spec is silent:
/// <list type="bullet">
/// <item>int overflow in <c>+ - * **</c> and unary <c>-</c> never wraps: the result is promoted to float.</item>
/// <item>Division and modulo by zero give <c>null</c> for floats too (<c>1.0 / 0</c> is <c>null</c>, not infinity),
/// so the results stay representable in JSON. <c>**</c> follows <see cref="Math.Pow"/> for floats.</item>
/// <item>Timestamp and duration arithmetic that leaves the 64-bit nanosecond range gives <c>null</c>;
/// <c>duration * float</c> and <c>duration / float</c> round to the nearest nanosecond (half away from zero).</item>
/// <item>Booleans, arrays, maps and events are not ordered: <c>&lt; &lt;= &gt; &gt;=</c> on them are false.</item>
/// <item><c>Not(null)</c> is <c>null</c> (and so false in a condition); <c>Not</c> of a non-boolean is <c>null</c>.</item>
/// <item><c>in</c> with a right side that is not an array, map or string is false, and so is <c>not in</c>;
/// a non-string looked up in a string or map is "not contained" (<c>in</c> false, <c>not in</c> true).</item>
/// </list>
/// </remarks>
public static class ValueOps
{
    private const int Unordered = int.MinValue;

    // ---------------------------------------------------------------- arithmetic

    /// <summary><c>a + b</c>: numbers, string concatenation, array concatenation, timestamp/duration arithmetic.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value Add(Value a, Value b)
    {
        if (a.IsInt && b.IsInt)
        {
            long x = a.AsInt, y = b.AsInt;
            long r = unchecked(x + y);
            if (((x ^ r) & (y ^ r)) >= 0) return Value.FromInt(r);
        }
        else if (a.IsFloat && b.IsFloat)
        {
            return Value.FromFloat(a.AsFloat + b.AsFloat);
        }
        return AddSlow(a, b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Value AddSlow(Value a, Value b)
    {
        if (a.IsInt && b.IsInt) return Value.FromFloat((double)a.AsInt + b.AsInt);
        if (a.TryGetDouble(out double fa) && b.TryGetDouble(out double fb)) return Value.FromFloat(fa + fb);
        switch (a.Kind)
        {
            case ValueKind.String when b.IsString:
                return Value.FromString(string.Concat(a.AsString, b.AsString));
            case ValueKind.Timestamp when b.IsDuration:
                return TryAdd(a.AsNanos, b.AsNanos, out long t1) ? Value.FromTimestamp(t1) : Value.Null;
            case ValueKind.Duration when b.IsTimestamp:
                return TryAdd(a.AsNanos, b.AsNanos, out long t2) ? Value.FromTimestamp(t2) : Value.Null;
            case ValueKind.Duration when b.IsDuration:
                return TryAdd(a.AsNanos, b.AsNanos, out long d) ? Value.FromDuration(d) : Value.Null;
            case ValueKind.Array when b.IsArray:
                {
                    var x = a.AsArray;
                    var y = b.AsArray;
                    var r = new Value[x.Length + y.Length];
                    x.CopyTo(r, 0);
                    y.CopyTo(r, x.Length);
                    return Value.FromArray(r);
                }
            default:
                return Value.Null;
        }
    }

    /// <summary><c>a - b</c>: numbers; <c>timestamp - timestamp → duration</c>; <c>timestamp - duration → timestamp</c>; durations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value Subtract(Value a, Value b)
    {
        if (a.IsInt && b.IsInt)
        {
            long x = a.AsInt, y = b.AsInt;
            long r = unchecked(x - y);
            if (((x ^ y) & (x ^ r)) >= 0) return Value.FromInt(r);
        }
        else if (a.IsFloat && b.IsFloat)
        {
            return Value.FromFloat(a.AsFloat - b.AsFloat);
        }
        return SubtractSlow(a, b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Value SubtractSlow(Value a, Value b)
    {
        if (a.IsInt && b.IsInt) return Value.FromFloat((double)a.AsInt - b.AsInt);
        if (a.TryGetDouble(out double fa) && b.TryGetDouble(out double fb)) return Value.FromFloat(fa - fb);
        switch (a.Kind)
        {
            case ValueKind.Timestamp when b.IsTimestamp:
                return TrySub(a.AsNanos, b.AsNanos, out long d1) ? Value.FromDuration(d1) : Value.Null;
            case ValueKind.Timestamp when b.IsDuration:
                return TrySub(a.AsNanos, b.AsNanos, out long t) ? Value.FromTimestamp(t) : Value.Null;
            case ValueKind.Duration when b.IsDuration:
                return TrySub(a.AsNanos, b.AsNanos, out long d2) ? Value.FromDuration(d2) : Value.Null;
            default:
                return Value.Null;
        }
    }

    /// <summary><c>a * b</c>: numbers; <c>duration * number</c> and <c>number * duration</c> give a duration.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value Multiply(Value a, Value b)
    {
        if (a.IsFloat && b.IsFloat) return Value.FromFloat(a.AsFloat * b.AsFloat);
        return MultiplySlow(a, b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Value MultiplySlow(Value a, Value b)
    {
        if (a.IsInt && b.IsInt)
        {
            return TryMul(a.AsInt, b.AsInt, out long r) ? Value.FromInt(r) : Value.FromFloat((double)a.AsInt * b.AsInt);
        }
        if (a.TryGetDouble(out double fa) && b.TryGetDouble(out double fb)) return Value.FromFloat(fa * fb);
        if (a.IsDuration) return ScaleDuration(a.AsNanos, b);
        if (b.IsDuration) return ScaleDuration(b.AsNanos, a);
        return Value.Null;
    }

    /// <summary>
    /// <c>a / b</c>: int / int truncates toward zero; mixed → float; division by zero (int or float) → <c>null</c>.
    /// <c>duration / number → duration</c>, <c>duration / duration → float</c>.
    /// </summary>
    public static Value Divide(Value a, Value b)
    {
        if (a.IsInt && b.IsInt)
        {
            long x = a.AsInt, y = b.AsInt;
            if (y == 0) return Value.Null;
            if (y == -1 && x == long.MinValue) return Value.FromFloat(-(double)x);
            return Value.FromInt(x / y);
        }
        if (a.TryGetDouble(out double fa) && b.TryGetDouble(out double fb))
        {
            return fb == 0 ? Value.Null : Value.FromFloat(fa / fb);
        }
        if (a.IsDuration)
        {
            long n = a.AsNanos;
            if (b.IsInt)
            {
                long y = b.AsInt;
                if (y == 0 || (y == -1 && n == long.MinValue)) return Value.Null;
                return Value.FromDuration(n / y);
            }
            if (b.IsFloat)
            {
                double y = b.AsFloat;
                return y == 0 ? Value.Null : DurationFromDouble(n / y);
            }
            if (b.IsDuration)
            {
                long y = b.AsNanos;
                return y == 0 ? Value.Null : Value.FromFloat((double)n / y);
            }
        }
        return Value.Null;
    }

    /// <summary>
    /// <c>a % b</c>: the remainder of truncated division (sign of <paramref name="a"/>), for ints, floats and
    /// durations; by zero → <c>null</c>.
    /// </summary>
    public static Value Modulo(Value a, Value b)
    {
        if (a.IsInt && b.IsInt)
        {
            long y = b.AsInt;
            if (y == 0) return Value.Null;
            if (y == -1) return Value.FromInt(0);
            return Value.FromInt(a.AsInt % y);
        }
        if (a.TryGetDouble(out double fa) && b.TryGetDouble(out double fb))
        {
            return fb == 0 ? Value.Null : Value.FromFloat(fa % fb);
        }
        if (a.IsDuration && b.IsDuration)
        {
            long y = b.AsNanos;
            if (y == 0) return Value.Null;
            if (y == -1) return Value.FromDuration(0);
            return Value.FromDuration(a.AsNanos % y);
        }
        return Value.Null;
    }

    /// <summary>
    /// <c>a ** b</c>: int ** non-negative int → int (promoted to float on overflow); a negative int exponent or
    /// any float operand → float (<see cref="Math.Pow"/>).
    /// </summary>
    public static Value Power(Value a, Value b)
    {
        if (a.IsInt && b.IsInt && b.AsInt >= 0)
        {
            return TryIntPow(a.AsInt, b.AsInt, out long r) ? Value.FromInt(r) : Value.FromFloat(Math.Pow(a.AsInt, b.AsInt));
        }
        if (a.TryGetDouble(out double fa) && b.TryGetDouble(out double fb)) return Value.FromFloat(Math.Pow(fa, fb));
        return Value.Null;
    }

    /// <summary>Unary <c>-</c>: ints (<c>-long.MinValue</c> promotes to float), floats and durations.</summary>
    public static Value Negate(Value a)
    {
        if (a.IsInt) return a.AsInt == long.MinValue ? Value.FromFloat(-(double)long.MinValue) : Value.FromInt(-a.AsInt);
        if (a.IsFloat) return Value.FromFloat(-a.AsFloat);
        if (a.IsDuration) return a.AsNanos == long.MinValue ? Value.Null : Value.FromDuration(-a.AsNanos);
        return Value.Null;
    }

    /// <summary><c>not a</c>: booleans only; <c>not null</c> and <c>not</c> of a non-boolean are <c>null</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value Not(Value a) => a.IsBool ? Value.FromBool(!a.AsBool) : Value.Null;

    /// <summary>The condition test: only the boolean <c>true</c> passes; <c>null</c>, missing and non-booleans do not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsTrue(Value v) => v.IsTrue;

    // ---------------------------------------------------------------- comparison

    /// <summary>
    /// <c>a == b</c>: numbers compare numerically (<c>1 == 1.0</c>), <c>null == null</c> is true, incompatible kinds
    /// are unequal, arrays and maps compare structurally, events by identity, NaN equals nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value Equal(Value a, Value b) => Value.FromBool(AreEqual(a, b));

    /// <summary><c>a != b</c>: the negation of <see cref="Equal"/> (so <c>x != null</c> is true iff x is not null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value NotEqual(Value a, Value b) => Value.FromBool(!AreEqual(a, b));

    /// <summary><c>a &lt; b</c>; false when either side is null, NaN or the kinds are not comparable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value Less(Value a, Value b)
    {
        if (a.IsInt && b.IsInt) return Value.FromBool(a.AsInt < b.AsInt);
        if (a.IsFloat && b.IsFloat) return Value.FromBool(a.AsFloat < b.AsFloat);
        int c = Compare(a, b);
        return Value.FromBool(c != Unordered && c < 0);
    }

    /// <summary><c>a &lt;= b</c>; false when either side is null, NaN or the kinds are not comparable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value LessOrEqual(Value a, Value b)
    {
        if (a.IsInt && b.IsInt) return Value.FromBool(a.AsInt <= b.AsInt);
        if (a.IsFloat && b.IsFloat) return Value.FromBool(a.AsFloat <= b.AsFloat);
        int c = Compare(a, b);
        return Value.FromBool(c != Unordered && c <= 0);
    }

    /// <summary><c>a &gt; b</c>; false when either side is null, NaN or the kinds are not comparable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value Greater(Value a, Value b)
    {
        if (a.IsInt && b.IsInt) return Value.FromBool(a.AsInt > b.AsInt);
        if (a.IsFloat && b.IsFloat) return Value.FromBool(a.AsFloat > b.AsFloat);
        int c = Compare(a, b);
        return Value.FromBool(c != Unordered && c > 0);
    }

    /// <summary><c>a &gt;= b</c>; false when either side is null, NaN or the kinds are not comparable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value GreaterOrEqual(Value a, Value b)
    {
        if (a.IsInt && b.IsInt) return Value.FromBool(a.AsInt >= b.AsInt);
        if (a.IsFloat && b.IsFloat) return Value.FromBool(a.AsFloat >= b.AsFloat);
        int c = Compare(a, b);
        return Value.FromBool(c != Unordered && c >= 0);
    }

    /// <summary>
    /// <c>a in b</c>: element of an array (by <see cref="Value.Equals(Value)"/>), key of a map, substring of a
    /// string. Null on either side, or a right side that is not a container, gives false.
    /// </summary>
    public static Value In(Value a, Value b) => Value.FromBool(Contains(b, a) == 1);

    /// <summary><c>a not in b</c>: the negation of <see cref="In"/>, except that null on either side or a right side
    /// that is not a container gives false.</summary>
    public static Value NotIn(Value a, Value b) => Value.FromBool(Contains(b, a) == 0);

    /// <summary>Equality as a bool (the semantics of <see cref="Equal"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AreEqual(Value a, Value b)
    {
        if (a.IsInt && b.IsInt) return a.AsInt == b.AsInt;
        if (a.IsFloat && b.IsFloat) return a.AsFloat == b.AsFloat;
        return a.Equals(b);
    }

    /// <summary>
    /// Orders two values of comparable kinds (numbers with numbers, strings, timestamps, durations). Returns
    /// false when they are not comparable (null, NaN, different kinds, bools, arrays, maps, events).
    /// </summary>
    public static bool TryCompare(Value a, Value b, out int result)
    {
        int c = Compare(a, b);
        result = c == Unordered ? 0 : c;
        return c != Unordered;
    }

    /// <summary>-1/0/1 or <see cref="Unordered"/>.</summary>
    private static int Compare(Value a, Value b)
    {
        if (a.IsInt)
        {
            if (b.IsInt) return a.AsInt.CompareTo(b.AsInt);
            if (b.IsFloat) return CompareIntFloat(a.AsInt, b.AsFloat);
            return Unordered;
        }
        if (a.IsFloat)
        {
            if (b.IsFloat)
            {
                double x = a.AsFloat, y = b.AsFloat;
                if (x < y) return -1;
                if (x > y) return 1;
                return x == y ? 0 : Unordered;
            }
            if (b.IsInt)
            {
                int c = CompareIntFloat(b.AsInt, a.AsFloat);
                return c == Unordered ? Unordered : -c;
            }
            return Unordered;
        }
        if (a.IsString) return b.IsString ? Math.Sign(string.CompareOrdinal(a.AsString, b.AsString)) : Unordered;
        if (a.IsTimestamp) return b.IsTimestamp ? a.AsNanos.CompareTo(b.AsNanos) : Unordered;
        if (a.IsDuration) return b.IsDuration ? a.AsNanos.CompareTo(b.AsNanos) : Unordered;
        return Unordered;
    }

    /// <summary>Exact comparison of a long with a double (no rounding of large longs).</summary>
    private static int CompareIntFloat(long a, double b)
    {
        if (double.IsNaN(b)) return Unordered;
        if (b >= 9223372036854775808.0) return -1;
        if (b < -9223372036854775808.0) return 1;
        double t = Math.Truncate(b);
        long bt = (long)t;
        if (a < bt) return -1;
        if (a > bt) return 1;
        double frac = b - t;
        return frac > 0 ? -1 : frac < 0 ? 1 : 0;
    }

    /// <summary>1 contained, 0 not contained, -1 not applicable (null or not a container).</summary>
    internal static int Contains(Value container, Value item)
    {
        if (item.IsNull) return -1;
        switch (container.Kind)
        {
            case ValueKind.Array:
                foreach (var v in container.AsArray)
                {
                    if (AreEqual(v, item)) return 1;
                }
                return 0;
            case ValueKind.Map:
                return item.IsString && container.AsMap.ContainsKey(item.AsString) ? 1 : 0;
            case ValueKind.String:
                return item.IsString && container.AsString.Contains(item.AsString, StringComparison.Ordinal) ? 1 : 0;
            default:
                return -1;
        }
    }

    /// <summary>The VPL name of a value's kind, as <c>type_of</c> returns it: <c>null bool int float str timestamp duration array map event</c>.</summary>
    public static string TypeName(Value v) => TypeName(v.Kind);

    /// <summary>The VPL name of a kind (see <see cref="TypeName(Value)"/>).</summary>
    public static string TypeName(ValueKind kind) => kind switch
    {
        ValueKind.Null => "null",
        ValueKind.Bool => "bool",
        ValueKind.Int => "int",
        ValueKind.Float => "float",
        ValueKind.String => "str",
        ValueKind.Timestamp => "timestamp",
        ValueKind.Duration => "duration",
        ValueKind.Array => "array",
        ValueKind.Map => "map",
        _ => "event",
    };

    // ---------------------------------------------------------------- helpers

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryAdd(long x, long y, out long r)
    {
        r = unchecked(x + y);
        return ((x ^ r) & (y ^ r)) >= 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TrySub(long x, long y, out long r)
    {
        r = unchecked(x - y);
        return ((x ^ y) & (x ^ r)) >= 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryMul(long x, long y, out long r)
    {
        long high = Math.BigMul(x, y, out r);
        return high == (r >> 63);
    }

    private static bool TryIntPow(long b, long e, out long r)
    {
        r = 1;
        long basis = b;
        while (e > 0)
        {
            if ((e & 1) != 0 && !TryMul(r, basis, out r)) return false;
            e >>= 1;
            if (e > 0 && !TryMul(basis, basis, out basis)) return false;
        }
        return true;
    }

    private static Value ScaleDuration(long nanos, Value factor)
    {
        if (factor.IsInt) return TryMul(nanos, factor.AsInt, out long r) ? Value.FromDuration(r) : Value.Null;
        if (factor.IsFloat) return DurationFromDouble(nanos * factor.AsFloat);
        return Value.Null;
    }

    /// <summary>A duration from a double number of nanoseconds, rounded half away from zero; null out of range.</summary>
    private static Value DurationFromDouble(double nanos)
    {
        double r = Math.Round(nanos, MidpointRounding.AwayFromZero);
        if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) return Value.Null;
        return Value.FromDuration((long)r);
    }
}
