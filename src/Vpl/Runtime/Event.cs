using System.Runtime.CompilerServices;
using System.Text;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// One event: its type (schema), its event time in nanoseconds since the Unix epoch (UTC) and its field
/// values in the slots the type's schema assigns. A slot past the end of <see cref="Fields"/>, or holding
/// <c>null</c>, is a missing field. Events are treated as immutable once handed to an engine.
/// </summary>
public sealed class Event
{
    public Event(EventType type, long timestamp, Value[] fields)
    {
        Type = type;
        Timestamp = timestamp;
        Fields = fields;
    }

    public EventType Type { get; }

    /// <summary>Event time, nanoseconds since 1970-01-01T00:00:00Z.</summary>
    public long Timestamp { get; }

    public Value[] Fields { get; }

    public Value this[int slot]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (uint)slot < (uint)Fields.Length ? Fields[slot] : default;
    }

    /// <summary>Field by name (slow path: a schema lookup).</summary>
    public Value Get(string name) => Type.TryGetSlot(name, out int slot) ? this[slot] : default;

    /// <summary>The present (non-null) fields in slot order.</summary>
    public IEnumerable<KeyValuePair<string, Value>> PresentFields()
    {
        var names = Type.FieldNames;
        for (int i = 0; i < Fields.Length && i < names.Count; i++)
        {
            if (!Fields[i].IsNull) yield return new(names[i], Fields[i]);
        }
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Type.Name).Append(" { ");
        bool first = true;
        foreach (var kv in PresentFields())
        {
            if (!first) sb.Append(", ");
            first = false;
            sb.Append(kv.Key).Append(": ");
            sb.Append(kv.Value.IsString ? "\"" + kv.Value.AsString + "\"" : kv.Value.ToString());
        }
        sb.Append(first ? "}" : " }");
        sb.Append(" @").Append(TimeFormat.FormatTimestamp(Timestamp));
        return sb.ToString();
    }
}

public enum VplTypeKind : byte
{
    Any,
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

/// <summary>A static VPL type: <c>int float bool str timestamp duration [T] {K: V} T?</c>, or <c>Any</c> (dynamic).</summary>
public sealed record VplType(VplTypeKind Kind, VplType? Element = null, VplType? Key = null, bool Nullable = false)
{
    public static readonly VplType Any = new(VplTypeKind.Any, Nullable: true);
    public static readonly VplType NullType = new(VplTypeKind.Null, Nullable: true);
    public static readonly VplType Bool = new(VplTypeKind.Bool);
    public static readonly VplType Int = new(VplTypeKind.Int);
    public static readonly VplType Float = new(VplTypeKind.Float);
    public static readonly VplType String = new(VplTypeKind.String);
    public static readonly VplType Timestamp = new(VplTypeKind.Timestamp);
    public static readonly VplType Duration = new(VplTypeKind.Duration);

    public static VplType ArrayOf(VplType element) => new(VplTypeKind.Array, element);

    public static VplType MapOf(VplType key, VplType value) => new(VplTypeKind.Map, value, key);

    public VplType AsNullable() => Nullable ? this : this with { Nullable = true };

    public bool IsNumeric => Kind is VplTypeKind.Int or VplTypeKind.Float;

    public override string ToString()
    {
        string core = Kind switch
        {
            VplTypeKind.Any => "any",
            VplTypeKind.Null => "null",
            VplTypeKind.Bool => "bool",
            VplTypeKind.Int => "int",
            VplTypeKind.Float => "float",
            VplTypeKind.String => "str",
            VplTypeKind.Timestamp => "timestamp",
            VplTypeKind.Duration => "duration",
            VplTypeKind.Array => "[" + (Element ?? Any) + "]",
            VplTypeKind.Map => "{" + (Key ?? Any) + ": " + (Element ?? Any) + "}",
            _ => "event",
        };
        return Nullable && Kind is not (VplTypeKind.Any or VplTypeKind.Null) ? core + "?" : core;
    }
}

/// <summary>One field of a schema: its name, its slot, and its declared type (<see cref="VplType.Any"/> when undeclared).</summary>
public sealed record FieldInfo(string Name, int Slot, VplType Type);

/// <summary>
/// An event type and its schema. Declared types (<c>event Name: ...</c>) have a fixed field list;
/// undeclared types are open: a field name seen for the first time gets the next slot. Slots are never
/// reused or reordered, so compiled expressions can hold slot numbers. Reads are lock-free.
/// </summary>
public sealed class EventType
{
    private readonly object _gate = new();
    private volatile Snapshot _snapshot;

    private sealed class Snapshot(Dictionary<string, int> slots, List<string> names, List<FieldInfo> fields)
    {
        public readonly Dictionary<string, int> Slots = slots;
        public readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> SpanLookup = slots.GetAlternateLookup<ReadOnlySpan<char>>();
        public readonly List<string> Names = names;
        public readonly List<FieldInfo> Fields = fields;
    }

    internal EventType(int id, string name, bool declared, EventType? baseType, IEnumerable<(string Name, VplType Type)> fields)
    {
        Id = id;
        Name = name;
        IsDeclared = declared;
        BaseType = baseType;
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var infos = new List<FieldInfo>();
        foreach (var (fname, ftype) in fields)
        {
            if (slots.ContainsKey(fname)) continue;
            slots[fname] = names.Count;
            infos.Add(new FieldInfo(fname, names.Count, ftype));
            names.Add(fname);
        }
        _snapshot = new Snapshot(slots, names, infos);
    }

    /// <summary>Dense id within its <see cref="TypeRegistry"/>, used for routing.</summary>
    public int Id { get; }

    public string Name { get; }

    /// <summary>Declared with <c>event Name: ...</c>: fixed fields, values checked and coerced at ingestion.</summary>
    public bool IsDeclared { get; }

    public EventType? BaseType { get; }

    public int FieldCount => _snapshot.Names.Count;

    public IReadOnlyList<string> FieldNames => _snapshot.Names;

    public IReadOnlyList<FieldInfo> Fields => _snapshot.Fields;

    public bool TryGetSlot(string name, out int slot) => _snapshot.Slots.TryGetValue(name, out slot);

    public bool TryGetSlot(ReadOnlySpan<char> name, out int slot) => _snapshot.SpanLookup.TryGetValue(name, out slot);

    public FieldInfo? GetField(string name) => TryGetSlot(name, out int slot) ? _snapshot.Fields[slot] : null;

    /// <summary>
    /// The slot of a field, adding it to an open schema when new. Declared schemas never grow:
    /// returns -1 for an unknown field of a declared type.
    /// </summary>
    public int GetOrAddSlot(string name)
    {
        if (_snapshot.Slots.TryGetValue(name, out int slot)) return slot;
        if (IsDeclared) return -1;
        lock (_gate)
        {
            var snap = _snapshot;
            if (snap.Slots.TryGetValue(name, out slot)) return slot;
            var slots = new Dictionary<string, int>(snap.Slots, StringComparer.Ordinal);
            var names = new List<string>(snap.Names);
            var fields = new List<FieldInfo>(snap.Fields);
            slot = names.Count;
            slots[name] = slot;
            names.Add(name);
            fields.Add(new FieldInfo(name, slot, VplType.Any));
            _snapshot = new Snapshot(slots, names, fields);
            return slot;
        }
    }

    /// <summary>Span variant of <see cref="GetOrAddSlot(string)"/>; allocates the name only when it is new.</summary>
    public int GetOrAddSlot(ReadOnlySpan<char> name)
    {
        if (_snapshot.SpanLookup.TryGetValue(name, out int slot)) return slot;
        return GetOrAddSlot(name.ToString());
    }

    /// <summary>True when this type is <paramref name="other"/> or extends it.</summary>
    public bool IsA(EventType other)
    {
        for (var t = this; t is not null; t = t.BaseType)
        {
            if (ReferenceEquals(t, other)) return true;
        }
        return false;
    }

    public override string ToString() => Name;
}

/// <summary>
/// The event types of one compiled program, by name and by dense id. Types never seen at compile time
/// (dynamically typed input) are added on first use. Thread-safe; reads are lock-free.
/// </summary>
public sealed class TypeRegistry
{
    private readonly object _gate = new();
    private volatile EventType[] _byId = Array.Empty<EventType>();
    private volatile Dictionary<string, EventType> _byName = new(StringComparer.Ordinal);

    public int Count => _byId.Length;

    public EventType this[int id] => _byId[id];

    public IReadOnlyList<EventType> All => _byId;

    public bool TryGet(string name, out EventType type) => _byName.TryGetValue(name, out type!);

    /// <summary>Gets a type by name, creating an open (undeclared) type when it does not exist yet.</summary>
    public EventType GetOrAdd(string name)
    {
        if (_byName.TryGetValue(name, out var t)) return t;
        return Add(name, declared: false, null, Array.Empty<(string, VplType)>());
    }

    /// <summary>Declares a type with a fixed schema (compile time). Fields of <paramref name="baseType"/> come first.</summary>
    public EventType Declare(string name, EventType? baseType, IEnumerable<(string Name, VplType Type)> fields)
    {
        var all = new List<(string, VplType)>();
        if (baseType is not null) all.AddRange(baseType.Fields.Select(f => (f.Name, f.Type)));
        all.AddRange(fields);
        return Add(name, declared: true, baseType, all);
    }

    /// <summary>An open type whose first slots are the given fields (stream output types, aggregate results).</summary>
    public EventType DefineOpen(string name, IEnumerable<string> fields)
        => Add(name, declared: false, null, fields.Select(f => (f, VplType.Any)));

    private EventType Add(string name, bool declared, EventType? baseType, IEnumerable<(string, VplType)> fields)
    {
        lock (_gate)
        {
            if (_byName.TryGetValue(name, out var existing))
            {
                if (!declared && existing.IsDeclared == declared)
                {
                    foreach (var (f, _) in fields) existing.GetOrAddSlot(f);
                }
                return existing;
            }
            var t = new EventType(_byId.Length, name, declared, baseType, fields);
            var ids = new EventType[_byId.Length + 1];
            Array.Copy(_byId, ids, _byId.Length);
            ids[^1] = t;
            var names = new Dictionary<string, EventType>(_byName, StringComparer.Ordinal) { [name] = t };
            _byId = ids;
            _byName = names;
            return t;
        }
    }
}
