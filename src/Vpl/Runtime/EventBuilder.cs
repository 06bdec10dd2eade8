using System.Globalization;
using System.Runtime.CompilerServices;
using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// Builds events from external input (JSON, <c>.evt</c> files, connectors) with the schema checks of vpl.md §2:
/// an undeclared type is created open and takes any field and value; a declared type rejects unknown fields
/// (with a did-you-mean), coerces <c>int → float</c>, integral <c>float → int</c>, RFC 3339 strings and epoch
/// milliseconds to timestamps, and reports a missing non-optional field. Reusable: <c>TryBegin</c>, any number
/// of <c>TrySet</c>, <c>TryBuild</c>; a failed call leaves the event unfinished and the next <c>TryBegin</c>
/// starts over. Not thread-safe.
/// </summary>
/// <remarks>
/// Decisions: setting the same field twice is an error (<c>duplicate field 'x' for event type 'T'</c>); a duration
/// field accepts an int (nanoseconds, the JSON encoding of durations) or a string like <c>"500ms"</c>; a string
/// into a timestamp field must be RFC 3339; type and field names are limited to <see cref="MaxNameLength"/>
/// characters, and open types to <see cref="MaxFieldsPerOpenType"/> fields and the registry to
/// <see cref="MaxTypes"/> types, so hostile input cannot grow schemas without bound.
/// </remarks>
public sealed class EventBuilder
{
    public const int MaxNameLength = 256;

    private readonly TypeRegistry _types;
    private readonly Dictionary<string, EventType> _typeCache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EventType>.AlternateLookup<ReadOnlySpan<char>> _typeLookup;
    private EventType? _type;
    private Value[] _scratch = new Value[16];
    private int[] _setMark = new int[16];
    private int _mark = 1;
    private int _max = -1;

    public EventBuilder(TypeRegistry types)
    {
        _types = types;
        _typeLookup = _typeCache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The most fields an open (undeclared) type may grow to through this builder.</summary>
    public int MaxFieldsPerOpenType { get; set; } = 1024;

    /// <summary>The most event types the registry may hold before this builder refuses to create another.</summary>
    public int MaxTypes { get; set; } = 10_000;

    public TypeRegistry Types => _types;

    /// <summary>
    /// When set, a type or field the registry does not hold yet is refused (with <see cref="RegistryFrozenError"/>)
    /// instead of added, and <see cref="RefusedRegistryChange"/> is set: readers working in parallel leave the
    /// registry's numbering to the one reader that goes through the input in order (<see cref="Io.EvtParallelLoader"/>).
    /// </summary>
    internal bool RegistryFrozen { get; set; }

    /// <summary>A type or field was refused because <see cref="RegistryFrozen"/> is set.</summary>
    internal bool RefusedRegistryChange { get; private set; }

    internal const string RegistryFrozenError = "the type registry is frozen";

    /// <summary>The type of the event being built, after a successful <c>TryBegin</c>.</summary>
    public EventType? CurrentType => _type;

    /// <summary>Starts an event of the named type, creating it (open) when the registry does not know it.</summary>
    public bool TryBegin(string typeName, out string? error) => TryBegin(typeName.AsSpan(), out error);

    /// <summary>Span overload of <see cref="TryBegin(string, out string?)"/>; allocates only for a type name not seen before.</summary>
    public bool TryBegin(ReadOnlySpan<char> typeName, out string? error)
    {
        _type = null;
        Clear();
        if (typeName.IsEmpty)
        {
            error = "event type name must not be empty";
            return false;
        }
        if (typeName.Length > MaxNameLength)
        {
            error = $"event type name longer than {MaxNameLength} characters";
            return false;
        }
        if (!_typeLookup.TryGetValue(typeName, out var type))
        {
            string name = typeName.ToString();
            if (!_types.TryGet(name, out type))
            {
                if (RegistryFrozen)
                {
                    RefusedRegistryChange = true;
                    error = RegistryFrozenError;
                    return false;
                }
                if (_types.Count >= MaxTypes)
                {
                    error = $"too many event types (limit {MaxTypes}); cannot add '{name}'";
                    return false;
                }
                type = _types.GetOrAdd(name);
            }
            if (_typeCache.Count < MaxTypes) _typeCache[name] = type;
        }
        _type = type;
        error = null;
        return true;
    }

    /// <summary>UTF-8 overload of <see cref="TryBegin(string, out string?)"/>.</summary>
    public bool TryBegin(ReadOnlySpan<byte> utf8TypeName, out string? error)
    {
        if (utf8TypeName.Length > MaxNameLength * 3)
        {
            _type = null;
            error = $"event type name longer than {MaxNameLength} characters";
            return false;
        }
        Span<char> chars = stackalloc char[utf8TypeName.Length];
        if (!TryDecode(utf8TypeName, chars, out int n))
        {
            _type = null;
            error = "event type name is not valid UTF-8";
            return false;
        }
        return TryBegin(chars[..n], out error);
    }

    /// <summary>Starts an event of a known type (the fast path of readers that cache types).</summary>
    public void Begin(EventType type)
    {
        _type = type;
        Clear();
    }

    /// <summary>
    /// The slot of a field of the current type: an existing slot, a new slot for an open type, or -1 with an error
    /// (unknown field of a declared type, with a did-you-mean; too many fields; a name too long).
    /// </summary>
    public int ResolveSlot(ReadOnlySpan<char> field, out string? error)
    {
        var type = _type;
        if (type is null)
        {
            error = "no event started";
            return -1;
        }
        if (type.TryGetSlot(field, out int slot))
        {
            error = null;
            return slot;
        }
        if (field.IsEmpty)
        {
            error = "field name must not be empty";
            return -1;
        }
        if (type.IsDeclared)
        {
            string name = field.ToString();
            var hint = NameSuggester.DidYouMean(name, type.FieldNames);
            error = $"unknown field '{name}' for event type '{type.Name}'" + (hint is null ? string.Empty : $" ({hint})");
            return -1;
        }
        if (field.Length > MaxNameLength)
        {
            error = $"field name longer than {MaxNameLength} characters";
            return -1;
        }
        if (type.FieldCount >= MaxFieldsPerOpenType)
        {
            error = $"too many fields for event type '{type.Name}' (limit {MaxFieldsPerOpenType}); cannot add '{field}'";
            return -1;
        }
        if (RegistryFrozen)
        {
            RefusedRegistryChange = true;
            error = RegistryFrozenError;
            return -1;
        }
        error = null;
        return type.GetOrAddSlot(field);
    }

    /// <summary>Sets a field by name (see <see cref="ResolveSlot"/> and <see cref="TrySetSlot"/>).</summary>
    public bool TrySet(ReadOnlySpan<char> field, Value v, out string? error)
    {
        int slot = ResolveSlot(field, out error);
        return slot >= 0 && TrySetSlot(slot, v, out error);
    }

    /// <summary>Sets a field by its UTF-8 name.</summary>
    public bool TrySet(ReadOnlySpan<byte> utf8Field, Value v, out string? error)
    {
        if (utf8Field.Length > MaxNameLength * 3)
        {
            error = $"field name longer than {MaxNameLength} characters";
            return false;
        }
        Span<char> chars = stackalloc char[utf8Field.Length];
        if (!TryDecode(utf8Field, chars, out int n))
        {
            error = "field name is not valid UTF-8";
            return false;
        }
        return TrySet(chars[..n], v, out error);
    }

    /// <summary>
    /// Sets the field in <paramref name="slot"/> of the current type. For a declared type the value is checked
    /// against the field's type and coerced; an explicit <c>null</c> for a non-optional field is an error.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TrySetSlot(int slot, Value v, out string? error)
    {
        var type = _type;
        if (type is null)
        {
            error = "no event started";
            return false;
        }
        if (slot < 0 || slot >= type.FieldCount)
        {
            error = $"no slot {slot} in event type '{type.Name}'";
            return false;
        }
        if (slot >= _scratch.Length) Grow(slot + 1);
        if (_setMark[slot] == _mark)
        {
            error = $"duplicate field '{type.FieldNames[slot]}' for event type '{type.Name}'";
            return false;
        }
        if (type.IsDeclared)
        {
            var info = type.Fields[slot];
            if (info.Type.Kind != VplTypeKind.Any)
            {
                if (v.IsNull && !info.Type.Nullable)
                {
                    error = $"missing field '{info.Name}' for event type '{type.Name}'";
                    return false;
                }
                if (!TryCoerce(v, info.Type, info.Name, type.Name, out v, out error)) return false;
            }
        }
        _setMark[slot] = _mark;
        _scratch[slot] = v;
        // A null is a missing field: it does not make the field array longer.
        if (slot > _max && !v.IsNull) _max = slot;
        error = null;
        return true;
    }

    /// <summary>
    /// Finishes the event: checks that every non-optional field of a declared type is present, then allocates the
    /// field array once, sized to the highest slot set. The builder is reset either way.
    /// </summary>
    public bool TryBuild(long timestampNanos, out Event? e, out string? error)
    {
        e = null;
        if (!TryComplete(out var type, out error)) return false;
        var values = _max < 0 ? Array.Empty<Value>() : new Value[_max + 1];
        if (_max >= 0) _scratch.AsSpan(0, _max + 1).CopyTo(values);
        e = new Event(type, timestampNanos, values);
        _type = null;
        Clear();
        return true;
    }

    /// <summary>
    /// Finishes the event like <see cref="TryBuild(long, out Event?, out string?)"/> but appends it to
    /// <paramref name="into"/> instead of allocating it (the same type, timestamp and field values).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryBuild(long timestampNanos, PackedEventList into, out string? error)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (!TryComplete(out var type, out error)) return false;
        into.Add(type, timestampNanos, _scratch.AsSpan(0, _max + 1));
        _type = null;
        Clear();
        return true;
    }

    /// <summary>Checks that an event was started and that every non-optional field of a declared type is present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryComplete(out EventType type, out string? error)
    {
        type = _type!;
        if (type is null)
        {
            error = "no event started";
            return false;
        }
        if (type.IsDeclared)
        {
            var fields = type.Fields;
            for (int i = 0; i < fields.Count; i++)
            {
                var f = fields[i];
                if (f.Type.Nullable || f.Type.Kind == VplTypeKind.Any) continue;
                if (i > _max || _scratch[i].IsNull)
                {
                    error = $"missing field '{f.Name}' for event type '{type.Name}'";
                    _type = null;
                    Clear();
                    return false;
                }
            }
        }
        error = null;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Clear()
    {
        if (_max >= 0) _scratch.AsSpan(0, _max + 1).Clear();
        _max = -1;
        if (++_mark == int.MaxValue)
        {
            Array.Clear(_setMark);
            _mark = 1;
        }
    }

    private void Grow(int needed)
    {
        int size = Math.Max(needed, _scratch.Length * 2);
        Array.Resize(ref _scratch, size);
        Array.Resize(ref _setMark, size);
    }

    private static bool TryDecode(ReadOnlySpan<byte> utf8, Span<char> chars, out int written)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(utf8, chars, out _, out written, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done;
    }

    // ---------------------------------------------------------------- type checks

    /// <summary>
    /// Checks <paramref name="v"/> against a declared type and coerces it: int → float, integral float → int, RFC 3339
    /// string or epoch-ms int → timestamp, int nanoseconds or <c>"500ms"</c> → duration; arrays and maps element-wise.
    /// </summary>
    public static bool TryCoerce(Value v, VplType type, string path, string typeName, out Value result, out string? error)
    {
        result = v;
        error = null;
        if (v.IsNull)
        {
            if (type.Nullable || type.Kind is VplTypeKind.Any or VplTypeKind.Null) return true;
            return Fail(v, type, path, typeName, out error);
        }
        switch (type.Kind)
        {
            case VplTypeKind.Any:
                return true;
            case VplTypeKind.Bool:
                return v.IsBool || Fail(v, type, path, typeName, out error);
            case VplTypeKind.String:
                return v.IsString || Fail(v, type, path, typeName, out error);
            case VplTypeKind.Int:
                if (v.IsInt) return true;
                if (v.IsFloat)
                {
                    double d = v.AsFloat;
                    if (d == Math.Floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
                    {
                        result = Value.FromInt((long)d);
                        return true;
                    }
                }
                return Fail(v, type, path, typeName, out error);
            case VplTypeKind.Float:
                if (v.IsFloat) return true;
                if (v.IsInt)
                {
                    result = Value.FromFloat(v.AsInt);
                    return true;
                }
                return Fail(v, type, path, typeName, out error);
            case VplTypeKind.Timestamp:
                if (v.IsTimestamp) return true;
                if (v.IsString && TryParseTimestamp(v.AsString, out long ts))
                {
                    result = Value.FromTimestamp(ts);
                    return true;
                }
                if (v.IsInt && ValueOps.TryMul(v.AsInt, TimeFormat.NanosPerMilli, out long fromMs))
                {
                    result = Value.FromTimestamp(fromMs);
                    return true;
                }
                return Fail(v, type, path, typeName, out error);
            case VplTypeKind.Duration:
                if (v.IsDuration) return true;
                if (v.IsInt)
                {
                    result = Value.FromDuration(v.AsInt);
                    return true;
                }
                if (v.IsString && TryParseDuration(v.AsString, out long dur))
                {
                    result = Value.FromDuration(dur);
                    return true;
                }
                return Fail(v, type, path, typeName, out error);
            case VplTypeKind.Array:
                return v.IsArray ? TryCoerceArray(v.AsArray, type, path, typeName, out result, out error) : Fail(v, type, path, typeName, out error);
            case VplTypeKind.Map:
                return v.IsMap ? TryCoerceMap(v.AsMap, type, path, typeName, out result, out error) : Fail(v, type, path, typeName, out error);
            case VplTypeKind.Event:
                return v.IsEvent || Fail(v, type, path, typeName, out error);
            default:
                return Fail(v, type, path, typeName, out error);
        }
    }

    private static bool TryCoerceArray(Value[] items, VplType type, string path, string typeName, out Value result, out string? error)
    {
        var elemType = type.Element ?? VplType.Any;
        result = Value.FromArray(items);
        error = null;
        if (elemType.Kind == VplTypeKind.Any) return true;
        Value[]? copy = null;
        for (int i = 0; i < items.Length; i++)
        {
            if (!TryCoerce(items[i], elemType, path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", typeName, out var c, out error)) return false;
            if (copy is null && Changed(c, items[i])) copy = (Value[])items.Clone();
            if (copy is not null) copy[i] = c;
        }
        if (copy is not null) result = Value.FromArray(copy);
        return true;
    }

    private static bool TryCoerceMap(ValueMap map, VplType type, string path, string typeName, out Value result, out string? error)
    {
        var valueType = type.Element ?? VplType.Any;
        result = Value.FromMap(map);
        error = null;
        if (valueType.Kind == VplTypeKind.Any) return true;
        ValueMap? copy = null;
        foreach (var kv in map)
        {
            if (!TryCoerce(kv.Value, valueType, path + "[\"" + kv.Key + "\"]", typeName, out var c, out error)) return false;
            if (copy is null && Changed(c, kv.Value))
            {
                copy = new ValueMap(map.Count);
                foreach (var prior in map)
                {
                    if (prior.Key == kv.Key) break;
                    copy.Add(prior.Key, prior.Value);
                }
            }
            copy?.Add(kv.Key, c);
        }
        if (copy is not null) result = Value.FromMap(copy);
        return true;
    }

    /// <summary>True when coercion produced a different value than it was given (a new kind or a rebuilt container).</summary>
    private static bool Changed(Value coerced, Value original) =>
        coerced.Kind != original.Kind
        || (coerced.IsArray && !ReferenceEquals(coerced.AsArray, original.AsArray))
        || (coerced.IsMap && !ReferenceEquals(coerced.AsMap, original.AsMap));

    private static bool Fail(Value v, VplType type, string path, string typeName, out string? error)
    {
        error = $"field '{path}' of '{typeName}' expects {type}, got {Describe(v)}";
        return false;
    }

    /// <summary>A value for an error message: its kind and, for scalars, its text (<c>float 2.5</c>, <c>str "abc"</c>).</summary>
    public static string Describe(Value v)
    {
        switch (v.Kind)
        {
            case ValueKind.Null:
                return "null";
            case ValueKind.String:
                {
                    var s = v.AsString;
                    return s.Length <= 40 ? $"str \"{s}\"" : $"str \"{s[..40]}...\"";
                }
            case ValueKind.Array:
            case ValueKind.Map:
                return ValueOps.TypeName(v);
            case ValueKind.Event:
                return "event " + v.AsEvent.Type.Name;
            default:
                return ValueOps.TypeName(v) + " " + v.ToString();
        }
    }

    /// <summary>
    /// Parses an RFC 3339 timestamp with <see cref="TimeFormat.TryParseTimestamp"/>, rejecting dates whose nanoseconds do
    /// not fit in 64 bits (before 1677-09-21 or after 2262-04-11), which that parser would wrap around. The form nearly
    /// every client sends, <c>YYYY-MM-DDTHH:MM:SS[.fffffff]Z</c> in years 1700–2200, is read directly (the same value
    /// the general parser gives it, checked by a differential test); anything else takes the general parser.
    /// </summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> text, out long nanos)
    {
        if (TryParseUtcTimestamp(text, out nanos)) return true;
        if (!TimeFormat.TryParseTimestamp(text, out nanos)) return false;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dto))
        {
            long ticks = (dto.UtcDateTime - DateTime.UnixEpoch).Ticks;
            if (ticks <= long.MinValue / 100 || ticks >= long.MaxValue / 100)
            {
                nanos = 0;
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// <c>YYYY-MM-DDTHH:MM:SS</c>, then an optional fraction of 1 to 7 digits (exact in 100 ns ticks, as the general
    /// parser holds it), then <c>Z</c>; year 1700–2200, a real calendar date, hour 0–23, minute and second 0–59. False
    /// for anything else (which the general parser then reads or refuses).
    /// </summary>
    private static bool TryParseUtcTimestamp(ReadOnlySpan<char> t, out long nanos)
    {
        nanos = 0;
        if (t.Length < 20 || t.Length > 28 || t[^1] != 'Z' || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
            return false;
        if (!Digits(t, 0, 4, out int year) || !Digits(t, 5, 2, out int month) || !Digits(t, 8, 2, out int day)
            || !Digits(t, 11, 2, out int hour) || !Digits(t, 14, 2, out int minute) || !Digits(t, 17, 2, out int second))
            return false;
        if (year < 1700 || year > 2200 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
            return false;
        long fraction = 0;
        if (t.Length > 20)
        {
            int digits = t.Length - 21;
            if (t[19] != '.' || digits < 1 || !Digits(t, 20, digits, out int f)) return false;
            fraction = f;
            for (int i = digits; i < 9; i++) fraction *= 10;
        }
        else if (t[19] != 'Z')
        {
            return false;
        }
        long ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks - DateTime.UnixEpoch.Ticks;
        nanos = ticks * 100 + fraction;
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> t, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            int d = t[i] - '0';
            if ((uint)d > 9) return false;
            value = (value * 10) + d;
        }
        return true;
    }

    /// <summary>Parses a duration literal: an optional '-', digits and a unit <c>ns us ms s m h d</c> (<c>"500ms"</c>, <c>"5m"</c>).</summary>
    public static bool TryParseDuration(ReadOnlySpan<char> text, out long nanos)
    {
        nanos = 0;
        text = text.Trim();
        bool negative = text.StartsWith("-");
        if (negative) text = text[1..];
        int digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
        if (digits == 0) return false;
        if (!long.TryParse(text[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return false;
        long unit = TimeFormat.UnitNanos(text[digits..]);
        if (unit == 0 || !ValueOps.TryMul(n, unit, out nanos)) return false;
        if (negative) nanos = -nanos;
        return true;
    }
}
