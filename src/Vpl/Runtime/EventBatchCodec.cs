using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// A compact binary form of a batch of engine events (for the journal: what was accepted, as the engine holds it, so
/// recovery rebuilds the same events without parsing JSON again). Versioned by its first byte.
/// </summary>
/// <remarks>
/// <para>Layout of version 1 (integers are unsigned LEB128 varints, signed ones zigzag-encoded first):</para>
/// <list type="bullet">
/// <item><c>version</c> (one byte, 1);</item>
/// <item>the type table: a count, then per type its name and the names of its slots 0..n-1 used in the batch (so
/// the batch does not depend on slot numbers: the decoder maps names to its own slots);</item>
/// <item>a count of events, then per event: its type's index in the table, its timestamp as the difference from the
/// previous event's, its field count, and each field value;</item>
/// <item>a value: a tag byte — null, false, true, int (zigzag), float (8 bytes, little-endian), new string (length and
/// UTF-8; it joins the batch's string table), string (index into that table), timestamp and duration (zigzag
/// nanoseconds), array (count and values), map (count, then key string and value per entry), event (type index,
/// timestamp, count and values).</item>
/// </list>
/// <para>Decoding is all or nothing: the bytes are checked completely (bounds, tags, UTF-8, nesting depth, duplicate
/// map keys, the names a declared type does not have, the limits on new types and fields) before the registry is
/// touched or an event is built, and corrupt input gives an error, never an exception. Decoded against the registry of
/// the same compiled program (in the same order, as recovery replays), the events are the same as the encoded ones:
/// same type, timestamp, field array length, slots, value kinds and values. Against another registry the fields are
/// placed by name.</para>
/// </remarks>
public static class EventBatchCodec
{
    /// <summary>The version this codec writes (and the only one it reads).</summary>
    public const byte Version = 1;

    /// <summary>How deep arrays, maps and events may nest inside a field value.</summary>
    public const int MaxDepth = 128;

    private const byte TagNull = 0, TagFalse = 1, TagTrue = 2, TagInt = 3, TagFloat = 4, TagNewString = 5, TagString = 6;
    private const byte TagTimestamp = 7, TagDuration = 8, TagArray = 9, TagMap = 10, TagEvent = 11;

    // ---------------------------------------------------------------- encoding

    /// <summary>Encodes the events as one batch.</summary>
    public static byte[] Encode(IReadOnlyList<Event> events)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (events.Count * 32));
        Encode(events, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes the events as one batch into <paramref name="output"/>.</summary>
    public static void Encode(IReadOnlyList<Event> events, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(output);
        var enc = new Encoder();
        foreach (var e in events) enc.Collect(e, 0);
        var w = new Writer(output);
        w.Byte(Version);
        w.UInt((ulong)enc.Types.Count);
        for (int t = 0; t < enc.Types.Count; t++)
        {
            var type = enc.Types[t];
            w.Text(type.Name);
            int slots = enc.SlotCounts[t];
            w.UInt((ulong)slots);
            var names = type.FieldNames;
            for (int i = 0; i < slots; i++) w.Text(names[i]);
        }
        w.UInt((ulong)events.Count);
        long previous = 0;
        foreach (var e in events)
        {
            w.UInt((ulong)enc.TypeIndex[e.Type]);
            w.Int(unchecked(e.Timestamp - previous));
            previous = e.Timestamp;
            w.UInt((ulong)e.Fields.Length);
            foreach (var v in e.Fields) enc.WriteValue(ref w, v);
        }
        w.Flush();
    }

    /// <summary>The types of a batch and, per type, how many of its slots the batch uses.</summary>
    private sealed class Encoder
    {
        public readonly List<EventType> Types = new();
        public readonly List<int> SlotCounts = new();
        public readonly Dictionary<EventType, int> TypeIndex = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);

        public void Collect(Event e, int depth)
        {
            if (depth > MaxDepth) throw new ArgumentException($"event values nest deeper than {MaxDepth} levels");
            if (e.Fields.Length > e.Type.FieldCount)
                throw new ArgumentException($"an event of type '{e.Type.Name}' has {e.Fields.Length} fields but its type names {e.Type.FieldCount}");
            if (!TypeIndex.TryGetValue(e.Type, out int t))
            {
                t = Types.Count;
                TypeIndex[e.Type] = t;
                Types.Add(e.Type);
                SlotCounts.Add(0);
            }
            if (e.Fields.Length > SlotCounts[t]) SlotCounts[t] = e.Fields.Length;
            foreach (var v in e.Fields) CollectValue(v, depth + 1);
        }

        private void CollectValue(Value v, int depth)
        {
            if (depth > MaxDepth) throw new ArgumentException($"event values nest deeper than {MaxDepth} levels");
            switch (v.Kind)
            {
                case ValueKind.Array:
                    foreach (var item in v.AsArray) CollectValue(item, depth + 1);
                    break;
                case ValueKind.Map:
                    foreach (var kv in v.AsMap) CollectValue(kv.Value, depth + 1);
                    break;
                case ValueKind.Event:
                    Collect(v.AsEvent, depth + 1);
                    break;
            }
        }

        public void WriteValue(ref Writer w, Value v)
        {
            switch (v.Kind)
            {
                case ValueKind.Null:
                    w.Byte(TagNull);
                    break;
                case ValueKind.Bool:
                    w.Byte(v.AsBool ? TagTrue : TagFalse);
                    break;
                case ValueKind.Int:
                    w.Byte(TagInt);
                    w.Int(v.AsInt);
                    break;
                case ValueKind.Float:
                    w.Byte(TagFloat);
                    w.Fixed64(BitConverter.DoubleToInt64Bits(v.AsFloat));
                    break;
                case ValueKind.String:
                    WriteString(ref w, v.AsString);
                    break;
                case ValueKind.Timestamp:
                    w.Byte(TagTimestamp);
                    w.Int(v.AsNanos);
                    break;
                case ValueKind.Duration:
                    w.Byte(TagDuration);
                    w.Int(v.AsNanos);
                    break;
                case ValueKind.Array:
                    {
                        var items = v.AsArray;
                        w.Byte(TagArray);
                        w.UInt((ulong)items.Length);
                        foreach (var item in items) WriteValue(ref w, item);
                        break;
                    }
                case ValueKind.Map:
                    {
                        var map = v.AsMap;
                        w.Byte(TagMap);
                        w.UInt((ulong)map.Count);
                        foreach (var kv in map)
                        {
                            WriteString(ref w, kv.Key);
                            WriteValue(ref w, kv.Value);
                        }
                        break;
                    }
                default:
                    {
                        var e = v.AsEvent;
                        w.Byte(TagEvent);
                        w.UInt((ulong)TypeIndex[e.Type]);
                        w.Int(e.Timestamp);
                        w.UInt((ulong)e.Fields.Length);
                        foreach (var f in e.Fields) WriteValue(ref w, f);
                        break;
                    }
            }
        }

        private void WriteString(ref Writer w, string s)
        {
            if (_strings.TryGetValue(s, out int index))
            {
                w.Byte(TagString);
                w.UInt((ulong)index);
                return;
            }
            _strings[s] = _strings.Count;
            w.Byte(TagNewString);
            w.Text(s);
        }
    }

    /// <summary>Appends to a buffer writer through spans of at least 16 bytes.</summary>
    private ref struct Writer(IBufferWriter<byte> output)
    {
        private Span<byte> _span;
        private int _pos;

        private Span<byte> Room(int bytes)
        {
            if (_span.Length - _pos < bytes)
            {
                Flush();
                _span = output.GetSpan(Math.Max(bytes, 512));
            }
            return _span[_pos..];
        }

        public void Flush()
        {
            if (_pos > 0) output.Advance(_pos);
            _span = default;
            _pos = 0;
        }

        public void Byte(byte b)
        {
            Room(1)[0] = b;
            _pos++;
        }

        public void UInt(ulong v)
        {
            var s = Room(10);
            int n = 0;
            while (v >= 0x80)
            {
                s[n++] = (byte)(v | 0x80);
                v >>= 7;
            }
            s[n++] = (byte)v;
            _pos += n;
        }

        public void Int(long v) => UInt((ulong)((v << 1) ^ (v >> 63)));

        public void Fixed64(long v)
        {
            BinaryPrimitives.WriteInt64LittleEndian(Room(8), v);
            _pos += 8;
        }

        public void Text(string s)
        {
            int n = Encoding.UTF8.GetByteCount(s);
            UInt((ulong)n);
            if (n <= 4096)
            {
                _pos += Encoding.UTF8.GetBytes(s, Room(n));
                return;
            }
            Flush();
            output.Write(Encoding.UTF8.GetBytes(s));
        }
    }

    // ---------------------------------------------------------------- decoding

    /// <summary>
    /// Decodes a batch into events of <paramref name="types"/>, appended to <paramref name="into"/>. On corrupt or
    /// incompatible bytes returns false with an error, and neither the registry nor <paramref name="into"/> changed.
    /// New types and new fields of open types are added (at most <paramref name="maxTypes"/> types in the registry
    /// and <paramref name="maxFieldsPerOpenType"/> fields per open type, as for input events).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, TypeRegistry types, List<Event> into, out string? error,
        int maxTypes = 10_000, int maxFieldsPerOpenType = 1024)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(into);
        var r = new Reader(bytes);
        if (!r.TryByte(out byte version)) return Fail("empty batch", out error);
        if (version != Version) return Fail($"unsupported event batch version {version} (this build reads version {Version})", out error);
        if (!ReadTypeTable(ref r, out var table, out error)) return false;
        if (!Plan(table, types, maxTypes, maxFieldsPerOpenType, out error)) return false;
        int eventsStart = r.Position;

        // First pass: check every byte without building anything.
        if (!ReadEvents(ref r, table, null, build: false, out error)) return false;
        if (!r.AtEnd) return Fail($"{r.Remaining} unexpected bytes after the last event", out error);

        // Second pass: the bytes are sound, so resolve the types (this may add types and fields) and build.
        foreach (var entry in table) entry.Resolve(types);
        var r2 = new Reader(bytes);
        r2.Skip(eventsStart);
        var built = new List<Event>();
        ReadEvents(ref r2, table, built, build: true, out _);
        into.AddRange(built);
        error = null;
        return true;
    }

    private static bool Fail(string message, out string? error)
    {
        error = message;
        return false;
    }

    /// <summary>One type of the batch: its name, its slot names, and once resolved the registry type and slot map.</summary>
    private sealed class TypeEntry(string name, string[] slotNames)
    {
        public readonly string Name = name;
        public readonly string[] SlotNames = slotNames;
        public EventType? Type;
        public int[] Map = [];
        public bool Identity;

        public void Resolve(TypeRegistry types)
        {
            Type = types.TryGet(Name, out var existing) ? existing : types.GetOrAdd(Name);
            Map = new int[SlotNames.Length];
            Identity = true;
            for (int i = 0; i < SlotNames.Length; i++)
            {
                int slot = Type.TryGetSlot(SlotNames[i], out int s) ? s : Type.GetOrAddSlot(SlotNames[i]);
                Map[i] = slot;
                Identity &= slot == i;
            }
        }
    }

    private static bool ReadTypeTable(ref Reader r, out TypeEntry[] table, out string? error)
    {
        table = [];
        if (!r.TryCount(out int count, 1)) return Fail("corrupt type table", out error);
        table = new TypeEntry[count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int t = 0; t < count; t++)
        {
            if (!r.TryText(out string? name, out error)) return false;
            if (name!.Length is 0 or > EventBuilder.MaxNameLength) return Fail($"bad event type name in the type table (entry {t})", out error);
            if (!seen.Add(name)) return Fail($"event type '{name}' appears twice in the type table", out error);
            if (!r.TryCount(out int slots, 1)) return Fail($"corrupt slot list of event type '{name}'", out error);
            var names = new string[slots];
            var slotSeen = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < slots; i++)
            {
                if (!r.TryText(out names[i]!, out error)) return false;
                if (names[i].Length is 0 or > EventBuilder.MaxNameLength) return Fail($"bad field name in event type '{name}' (slot {i})", out error);
                if (!slotSeen.Add(names[i])) return Fail($"field '{names[i]}' appears twice in event type '{name}'", out error);
            }
            table[t] = new TypeEntry(name, names);
        }
        error = null;
        return true;
    }

    /// <summary>Checks, without changing anything, that the registry can take the batch's types and fields.</summary>
    private static bool Plan(TypeEntry[] table, TypeRegistry types, int maxTypes, int maxFields, out string? error)
    {
        int newTypes = 0;
        foreach (var entry in table)
        {
            if (!types.TryGet(entry.Name, out var type))
            {
                newTypes++;
                if (entry.SlotNames.Length > maxFields) return Fail($"too many fields for event type '{entry.Name}' (limit {maxFields})", out error);
                continue;
            }
            int added = 0;
            foreach (var name in entry.SlotNames)
            {
                if (type.TryGetSlot(name, out _)) continue;
                if (type.IsDeclared) return Fail($"event type '{entry.Name}' has no field '{name}'", out error);
                added++;
            }
            if (added > 0 && type.FieldCount + added > maxFields) return Fail($"too many fields for event type '{entry.Name}' (limit {maxFields})", out error);
        }
        if (newTypes > 0 && types.Count + newTypes > maxTypes) return Fail($"too many event types (limit {maxTypes})", out error);
        error = null;
        return true;
    }

    private static bool ReadEvents(ref Reader r, TypeEntry[] table, List<Event>? into, bool build, out string? error)
    {
        var strings = new List<string>();
        if (!r.TryCount(out int count, 3)) return Fail("corrupt event count", out error);
        long previous = 0;
        for (int i = 0; i < count; i++)
        {
            if (!r.TryUInt(out ulong t) || t >= (ulong)table.Length) return Fail($"event {i}: bad type index", out error);
            if (!r.TryInt(out long delta)) return Fail($"event {i}: corrupt timestamp", out error);
            long ts = unchecked(previous + delta);
            previous = ts;
            if (!ReadFields(ref r, table[(int)t], ts, table, strings, build, 0, out var e, out error))
            {
                error = $"event {i}: {error}";
                return false;
            }
            into?.Add(e!);
        }
        error = null;
        return true;
    }

    private static bool ReadFields(ref Reader r, TypeEntry entry, long ts, TypeEntry[] table, List<string> strings, bool build, int depth, out Event? e, out string? error)
    {
        e = null;
        if (!r.TryCount(out int n, 1) || n > entry.SlotNames.Length) return Fail($"bad field count for event type '{entry.Name}'", out error);
        var values = build ? (n == 0 ? Array.Empty<Value>() : new Value[n]) : null;
        for (int k = 0; k < n; k++)
        {
            if (!ReadValue(ref r, table, strings, build, depth + 1, out var v, out error)) return false;
            if (values is not null) values[k] = v;
        }
        if (build) e = Place(entry, ts, values!);
        error = null;
        return true;
    }

    /// <summary>The event with its values in the registry's slots: as encoded when the slots are the same.</summary>
    private static Event Place(TypeEntry entry, long ts, Value[] values)
    {
        if (entry.Identity) return new Event(entry.Type!, ts, values);
        int max = -1;
        for (int k = 0; k < values.Length; k++)
        {
            if (!values[k].IsNull && entry.Map[k] > max) max = entry.Map[k];
        }
        var placed = max < 0 ? Array.Empty<Value>() : new Value[max + 1];
        for (int k = 0; k < values.Length; k++)
        {
            if (!values[k].IsNull) placed[entry.Map[k]] = values[k];
        }
        return new Event(entry.Type!, ts, placed);
    }

    private static bool ReadValue(ref Reader r, TypeEntry[] table, List<string> strings, bool build, int depth, out Value v, out string? error)
    {
        v = Value.Null;
        error = null;
        if (depth > MaxDepth) return Fail($"values nest deeper than {MaxDepth} levels", out error);
        if (!r.TryByte(out byte tag)) return Fail("truncated value", out error);
        switch (tag)
        {
            case TagNull:
                return true;
            case TagFalse:
                v = Value.False;
                return true;
            case TagTrue:
                v = Value.True;
                return true;
            case TagInt:
            case TagTimestamp:
            case TagDuration:
                {
                    if (!r.TryInt(out long x)) return Fail("corrupt integer", out error);
                    v = tag == TagInt ? Value.FromInt(x) : tag == TagTimestamp ? Value.FromTimestamp(x) : Value.FromDuration(x);
                    return true;
                }
            case TagFloat:
                {
                    if (!r.TryFixed64(out long bits)) return Fail("truncated float", out error);
                    v = Value.FromFloat(BitConverter.Int64BitsToDouble(bits));
                    return true;
                }
            case TagNewString:
            case TagString:
                {
                    if (!ReadString(ref r, tag, strings, out string? s, out error)) return false;
                    v = Value.FromString(s);
                    return true;
                }
            case TagArray:
                {
                    if (!r.TryCount(out int n, 1)) return Fail("bad array length", out error);
                    var items = build ? (n == 0 ? Array.Empty<Value>() : new Value[n]) : null;
                    for (int i = 0; i < n; i++)
                    {
                        if (!ReadValue(ref r, table, strings, build, depth + 1, out var item, out error)) return false;
                        if (items is not null) items[i] = item;
                    }
                    if (build) v = Value.FromArray(items);
                    return true;
                }
            case TagMap:
                {
                    if (!r.TryCount(out int n, 2)) return Fail("bad map size", out error);
                    var map = new ValueMap(n);
                    for (int i = 0; i < n; i++)
                    {
                        if (!r.TryByte(out byte keyTag) || (keyTag != TagNewString && keyTag != TagString)) return Fail("a map key must be a string", out error);
                        if (!ReadString(ref r, keyTag, strings, out string? key, out error)) return false;
                        if (!ReadValue(ref r, table, strings, build, depth + 1, out var item, out error)) return false;
                        if (!map.TryAdd(key!, item)) return Fail($"duplicate map key '{(key!.Length <= 64 ? key : key[..64] + "...")}'", out error);
                    }
                    if (build) v = Value.FromMap(map);
                    return true;
                }
            case TagEvent:
                {
                    if (!r.TryUInt(out ulong t) || t >= (ulong)table.Length) return Fail("bad type index of an event value", out error);
                    if (!r.TryInt(out long ts)) return Fail("corrupt timestamp of an event value", out error);
                    if (!ReadFields(ref r, table[(int)t], ts, table, strings, build, depth, out var e, out error)) return false;
                    if (build) v = Value.FromEvent(e);
                    return true;
                }
            default:
                return Fail($"unknown value tag {tag}", out error);
        }
    }

    private static bool ReadString(ref Reader r, byte tag, List<string> strings, out string? s, out string? error)
    {
        s = null;
        if (tag == TagString)
        {
            if (!r.TryUInt(out ulong index) || index >= (ulong)strings.Count) return Fail("bad string reference", out error);
            s = strings[(int)index];
            error = null;
            return true;
        }
        if (!r.TryText(out s, out error)) return false;
        strings.Add(s!);
        return true;
    }

    /// <summary>Bounds-checked reads over the batch bytes.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _pos;

        public readonly int Position => _pos;

        public readonly int Remaining => _bytes.Length - _pos;

        public readonly bool AtEnd => _pos == _bytes.Length;

        public void Skip(int n) => _pos += n;

        public bool TryByte(out byte b)
        {
            if (_pos >= _bytes.Length)
            {
                b = 0;
                return false;
            }
            b = _bytes[_pos++];
            return true;
        }

        public bool TryUInt(out ulong v)
        {
            v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _bytes.Length) return false;
                byte b = _bytes[_pos++];
                if (shift == 63 && b > 1) return false;
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return true;
            }
            return false;
        }

        public bool TryInt(out long v)
        {
            bool ok = TryUInt(out ulong u);
            v = (long)(u >> 1) ^ -(long)(u & 1);
            return ok;
        }

        /// <summary>A count of items each taking at least <paramref name="minBytes"/> bytes: never more than the bytes left allow.</summary>
        public bool TryCount(out int n, int minBytes)
        {
            n = 0;
            if (!TryUInt(out ulong v) || v > (ulong)(Remaining / minBytes)) return false;
            n = (int)v;
            return true;
        }

        public bool TryFixed64(out long v)
        {
            v = 0;
            if (Remaining < 8) return false;
            v = BinaryPrimitives.ReadInt64LittleEndian(_bytes.Slice(_pos, 8));
            _pos += 8;
            return true;
        }

        public bool TryText(out string? s, out string? error)
        {
            s = null;
            if (!TryUInt(out ulong n) || n > (ulong)Remaining) return Fail("truncated string", out error);
            var utf8 = _bytes.Slice(_pos, (int)n);
            if (!Utf8.IsValid(utf8)) return Fail("invalid UTF-8 in a string", out error);
            s = Encoding.UTF8.GetString(utf8);
            _pos += (int)n;
            error = null;
            return true;
        }
    }
}
