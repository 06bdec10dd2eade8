using System.Globalization;
using System.Runtime.CompilerServices;

namespace Varpulis.Vpl.Runtime;

public enum ValueKind : byte
{
    Null,
    Bool,
    Int,
    Float,
    String,
    Timestamp,
    Duration,
    Array,
    Map,
    Event,
}

/// <summary>
/// A VPL value in 16 bytes without boxing: a reference (a kind tag for scalars, else the string,
/// array, map or event itself) and 64 bits of payload (int, float bits, bool, nanoseconds).
/// <c>default(Value)</c> is <c>null</c>. Values are immutable; arrays and maps are never mutated
/// after construction.
/// </summary>
public readonly struct Value : IEquatable<Value>
{
    private readonly object? _obj;
    private readonly long _bits;

    private Value(object? obj, long bits)
    {
        _obj = obj;
        _bits = bits;
    }

    private sealed class Tag(ValueKind kind)
    {
        public readonly ValueKind Kind = kind;
    }

    private static readonly Tag BoolTag = new(ValueKind.Bool);
    private static readonly Tag IntTag = new(ValueKind.Int);
    private static readonly Tag FloatTag = new(ValueKind.Float);
    private static readonly Tag TimestampTag = new(ValueKind.Timestamp);
    private static readonly Tag DurationTag = new(ValueKind.Duration);

    public static readonly Value Null = default;
    public static readonly Value True = new(BoolTag, 1);
    public static readonly Value False = new(BoolTag, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value FromInt(long v) => new(IntTag, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value FromFloat(double v) => new(FloatTag, BitConverter.DoubleToInt64Bits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value FromBool(bool v) => v ? True : False;

    public static Value FromString(string? v) => v is null ? Null : new(v, 0);

    public static Value FromTimestamp(long nanos) => new(TimestampTag, nanos);

    public static Value FromDuration(long nanos) => new(DurationTag, nanos);

    public static Value FromArray(Value[]? items) => items is null ? Null : new(items, 0);

    public static Value FromMap(ValueMap? map) => map is null ? Null : new(map, 0);

    public static Value FromEvent(Event? e) => e is null ? Null : new(e, 0);

    public ValueKind Kind => _obj switch
    {
        null => ValueKind.Null,
        Tag t => t.Kind,
        string => ValueKind.String,
        Value[] => ValueKind.Array,
        ValueMap => ValueKind.Map,
        _ => ValueKind.Event,
    };

    public bool IsNull => _obj is null;

    public bool IsBool => ReferenceEquals(_obj, BoolTag);

    public bool IsInt => ReferenceEquals(_obj, IntTag);

    public bool IsFloat => ReferenceEquals(_obj, FloatTag);

    public bool IsNumber => ReferenceEquals(_obj, IntTag) || ReferenceEquals(_obj, FloatTag);

    public bool IsString => _obj is string;

    public bool IsTimestamp => ReferenceEquals(_obj, TimestampTag);

    public bool IsDuration => ReferenceEquals(_obj, DurationTag);

    public bool IsArray => _obj is Value[];

    public bool IsMap => _obj is ValueMap;

    public bool IsEvent => _obj is Event;

    /// <summary>True only for the boolean <c>true</c>: null, missing and non-booleans are false in a condition.</summary>
    public bool IsTrue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ReferenceEquals(_obj, BoolTag) && _bits != 0;
    }

    public bool AsBool => _bits != 0;

    public long AsInt => _bits;

    public double AsFloat => BitConverter.Int64BitsToDouble(_bits);

    /// <summary>The raw 64-bit payload: nanoseconds for timestamps and durations.</summary>
    public long AsNanos => _bits;

    public string AsString => (string)_obj!;

    public Value[] AsArray => (Value[])_obj!;

    public ValueMap AsMap => (ValueMap)_obj!;

    public Event AsEvent => (Event)_obj!;

    /// <summary>The number as a double for ints and floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetDouble(out double d)
    {
        if (ReferenceEquals(_obj, FloatTag))
        {
            d = BitConverter.Int64BitsToDouble(_bits);
            return true;
        }
        if (ReferenceEquals(_obj, IntTag))
        {
            d = _bits;
            return true;
        }
        d = 0;
        return false;
    }

    public static implicit operator Value(long v) => FromInt(v);

    public static implicit operator Value(double v) => FromFloat(v);

    public static implicit operator Value(bool v) => FromBool(v);

    public static implicit operator Value(string? v) => FromString(v);

    /// <summary>
    /// Structural equality with numeric unification: <c>1 == 1.0</c>. Used for <c>==</c>, partition keys,
    /// distinct and join keys. Strings compare ordinally; events by reference.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Equals(Value other)
    {
        if (ReferenceEquals(_obj, other._obj))
        {
            if (_obj is null) return true;
            if (ReferenceEquals(_obj, FloatTag))
                return BitConverter.Int64BitsToDouble(_bits) == BitConverter.Int64BitsToDouble(other._bits);
            return _obj is Tag ? _bits == other._bits : true;
        }
        if (_obj is null || other._obj is null) return false;
        if (IsNumber && other.IsNumber)
        {
            if (IsInt) return (double)_bits == other.AsFloat && (long)other.AsFloat == _bits;
            return AsFloat == (double)other._bits && (long)AsFloat == other._bits;
        }
        return _obj switch
        {
            string s => other._obj is string o && string.Equals(s, o, StringComparison.Ordinal),
            Value[] a => other._obj is Value[] b && a.AsSpan().SequenceEqual(b),
            ValueMap m => other._obj is ValueMap n && m.ContentEquals(n),
            _ => false,
        };
    }

    public override bool Equals(object? obj) => obj is Value v && Equals(v);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override int GetHashCode()
    {
        switch (_obj)
        {
            case null:
                return 0;
            case Tag t when ReferenceEquals(t, FloatTag):
                {
                    double d = AsFloat;
                    if (d == Math.Floor(d) && d >= long.MinValue && d <= long.MaxValue) return ((long)d).GetHashCode();
                    return d.GetHashCode();
                }
            case Tag t when ReferenceEquals(t, IntTag):
                return _bits.GetHashCode();
            case Tag t:
                return HashCode.Combine((int)t.Kind, _bits);
            case string s:
                return string.GetHashCode(s, StringComparison.Ordinal);
            case Value[] a:
                {
                    var h = new HashCode();
                    foreach (var v in a) h.Add(v.GetHashCode());
                    return h.ToHashCode();
                }
            case ValueMap m:
                {
                    int h = m.Count;
                    foreach (var kv in m) h ^= HashCode.Combine(string.GetHashCode(kv.Key, StringComparison.Ordinal), kv.Value.GetHashCode());
                    return h;
                }
            default:
                return RuntimeHelpers.GetHashCode(_obj);
        }
    }

    public static bool operator ==(Value a, Value b) => a.Equals(b);

    public static bool operator !=(Value a, Value b) => !a.Equals(b);

    private int KindRank => Kind switch
    {
        ValueKind.Null => 0,
        ValueKind.Bool => 1,
        ValueKind.Int or ValueKind.Float => 2,
        ValueKind.String => 3,
        ValueKind.Timestamp => 4,
        ValueKind.Duration => 5,
        ValueKind.Array => 6,
        ValueKind.Map => 7,
        _ => 8,
    };

    /// <summary>
    /// A total order over all values, used to sort partition keys and for <c>sort</c>:
    /// null &lt; bool &lt; number &lt; string &lt; timestamp &lt; duration &lt; array &lt; map &lt; event.
    /// </summary>
    public static int CompareTotal(Value a, Value b)
    {
        int ra = a.KindRank, rb = b.KindRank;
        if (ra != rb) return ra.CompareTo(rb);
        switch (a.Kind)
        {
            case ValueKind.Null:
                return 0;
            case ValueKind.Bool:
                return a._bits.CompareTo(b._bits);
            case ValueKind.Int when b.IsInt:
                return a._bits.CompareTo(b._bits);
            case ValueKind.Int:
            case ValueKind.Float:
                a.TryGetDouble(out var x);
                b.TryGetDouble(out var y);
                return x.CompareTo(y);
            case ValueKind.String:
                return string.CompareOrdinal(a.AsString, b.AsString);
            case ValueKind.Timestamp:
            case ValueKind.Duration:
                return a._bits.CompareTo(b._bits);
            case ValueKind.Array:
                {
                    var xa = a.AsArray;
                    var ya = b.AsArray;
                    for (int i = 0; i < Math.Min(xa.Length, ya.Length); i++)
                    {
                        int c = CompareTotal(xa[i], ya[i]);
                        if (c != 0) return c;
                    }
                    return xa.Length.CompareTo(ya.Length);
                }
            case ValueKind.Map:
                return a.AsMap.Count.CompareTo(b.AsMap.Count);
            default:
                return a.AsEvent.Timestamp.CompareTo(b.AsEvent.Timestamp);
        }
    }

    /// <summary>Human-readable rendering (strings unquoted), used by <c>to_string</c> and <c>.print</c>.</summary>
    public override string ToString() => Kind switch
    {
        ValueKind.Null => "null",
        ValueKind.Bool => AsBool ? "true" : "false",
        ValueKind.Int => AsInt.ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => FormatFloat(AsFloat),
        ValueKind.String => AsString,
        ValueKind.Timestamp => TimeFormat.FormatTimestamp(AsNanos),
        ValueKind.Duration => TimeFormat.FormatDuration(AsNanos),
        ValueKind.Array => "[" + string.Join(", ", AsArray.Select(v => v.IsString ? "\"" + v.AsString + "\"" : v.ToString())) + "]",
        ValueKind.Map => "{" + string.Join(", ", AsMap.Select(kv => "\"" + kv.Key + "\": " + (kv.Value.IsString ? "\"" + kv.Value.AsString + "\"" : kv.Value.ToString()))) + "}",
        _ => AsEvent.ToString(),
    };

    /// <summary>Shortest round-trip text of a float, always with a dot or exponent (<c>1.0</c>, not <c>1</c>).</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        if (s.IndexOfAny(['.', 'E', 'e']) < 0) s += ".0";
        return s;
    }
}

/// <summary>An insertion-ordered string-keyed map value.</summary>
public sealed class ValueMap : OrderedDictionary<string, Value>
{
    public ValueMap()
        : base(StringComparer.Ordinal)
    {
    }

    public ValueMap(int capacity)
        : base(capacity, StringComparer.Ordinal)
    {
    }

    public bool ContentEquals(ValueMap other)
    {
        if (Count != other.Count) return false;
        foreach (var kv in this)
        {
            if (!other.TryGetValue(kv.Key, out var v) || !kv.Value.Equals(v)) return false;
        }
        return true;
    }
}

/// <summary>Timestamps (ns since the Unix epoch, UTC) and durations (ns) to and from text.</summary>
public static class TimeFormat
{
    public const long NanosPerMicro = 1_000;
    public const long NanosPerMilli = 1_000_000;
    public const long NanosPerSecond = 1_000_000_000;
    public const long NanosPerMinute = 60 * NanosPerSecond;
    public const long NanosPerHour = 60 * NanosPerMinute;
    public const long NanosPerDay = 24 * NanosPerHour;

    /// <summary>Nanoseconds in one duration unit (<c>ns us ms s m h d</c>), 0 for anything else.</summary>
    public static long UnitNanos(ReadOnlySpan<char> unit) => unit switch
    {
        "ns" => 1,
        "us" => NanosPerMicro,
        "ms" => NanosPerMilli,
        "s" => NanosPerSecond,
        "m" => NanosPerMinute,
        "h" => NanosPerHour,
        "d" => NanosPerDay,
        _ => 0,
    };

    /// <summary>RFC 3339 UTC with as many fractional digits as needed (none, 3, 6 or 9): <c>2026-01-23T10:00:00.5Z</c>.</summary>
    public static string FormatTimestamp(long nanos)
    {
        long secs = Math.DivRem(nanos, NanosPerSecond, out long frac);
        if (frac < 0)
        {
            secs -= 1;
            frac += NanosPerSecond;
        }
        DateTime dt;
        try
        {
            dt = DateTime.UnixEpoch.AddSeconds(secs);
        }
        catch (ArgumentOutOfRangeException)
        {
            return nanos < 0 ? "0001-01-01T00:00:00Z" : "9999-12-31T23:59:59Z";
        }
        var head = dt.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        if (frac == 0) return head + "Z";
        string digits;
        if (frac % NanosPerMilli == 0) digits = (frac / NanosPerMilli).ToString("D3", CultureInfo.InvariantCulture);
        else if (frac % NanosPerMicro == 0) digits = (frac / NanosPerMicro).ToString("D6", CultureInfo.InvariantCulture);
        else digits = frac.ToString("D9", CultureInfo.InvariantCulture);
        return head + "." + digits + "Z";
    }

    /// <summary>Parses RFC 3339 / ISO 8601 (<c>2026-01-23</c>, <c>2026-01-23T10:00:00Z</c>, <c>...+02:00</c>) to ns since the epoch.</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> text, out long nanos)
    {
        nanos = 0;
        if (text.Length == 10 && DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day))
        {
            nanos = (day - DateTime.UnixEpoch).Ticks * 100;
            return true;
        }
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dto))
            return false;
        if (text.IndexOf('T') < 0 && text.IndexOf(' ') < 0) return false;
        nanos = (dto.UtcDateTime - DateTime.UnixEpoch).Ticks * 100;
        // DateTimeOffset keeps 100 ns ticks; recover the last two digits of a 9-digit fraction.
        int dot = text.IndexOf('.');
        if (dot > 0)
        {
            int i = dot + 1;
            int n = 0;
            long frac = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                if (n < 9)
                {
                    frac = frac * 10 + (text[i] - '0');
                    n++;
                }
                i++;
            }
            while (n < 9)
            {
                frac *= 10;
                n++;
            }
            nanos = nanos - (nanos % NanosPerSecond + NanosPerSecond) % NanosPerSecond + frac;
        }
        return true;
    }

    /// <summary>A duration in the largest unit that divides it exactly: <c>5m</c>, <c>1500ms</c>, <c>1d</c>.</summary>
    public static string FormatDuration(long nanos)
    {
        if (nanos == 0) return "0s";
        (long, string)[] units = [(NanosPerDay, "d"), (NanosPerHour, "h"), (NanosPerMinute, "m"), (NanosPerSecond, "s"), (NanosPerMilli, "ms"), (NanosPerMicro, "us"), (1, "ns")];
        foreach (var (size, name) in units)
        {
            if (nanos % size == 0) return (nanos / size).ToString(CultureInfo.InvariantCulture) + name;
        }
        return nanos.ToString(CultureInfo.InvariantCulture) + "ns";
    }
}
