using System.Runtime.CompilerServices;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Compilation;

/// <summary>
/// Reads a named field from events of any type with a one-entry inline cache (type → slot), so a field
/// of a dynamically typed stream costs one reference compare and an array read. The cache entry is an
/// immutable object swapped atomically, so one accessor may serve engines on several threads.
/// A missing field is null; the name <c>timestamp</c>, when the event has no such field, is its event time.
/// </summary>
internal sealed class FieldAccessor(string name)
{
    private const int Timestamp = -2;

    private sealed class Cache(EventType type, int slot, int fieldCount)
    {
        public readonly EventType Type = type;
        public readonly int Slot = slot;
        public readonly int FieldCount = fieldCount;
    }

    private Cache? _cache;

    public string Name { get; } = name;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Value Get(Event? e)
    {
        if (e is null) return Value.Null;
        var c = _cache;
        if (c is not null && ReferenceEquals(c.Type, e.Type) && c.Slot >= 0) return e[c.Slot];
        return Slow(e, c);
    }

    private Value Slow(Event e, Cache? c)
    {
        var type = e.Type;
        if (c is null || !ReferenceEquals(c.Type, type) || c.FieldCount != type.FieldCount)
        {
            int slot = type.TryGetSlot(Name, out int s) ? s : Name == "timestamp" ? Timestamp : -1;
            c = new Cache(type, slot, type.FieldCount);
            _cache = c;
        }
        return c.Slot switch
        {
            >= 0 => e[c.Slot],
            Timestamp => Value.FromTimestamp(e.Timestamp),
            _ => Value.Null,
        };
    }

    /// <summary>
    /// Member access on a value: an event's field; on an array (a Kleene alias) the field of its last
    /// element (MATCH_RECOGNIZE convention); on a map the entry; otherwise null.
    /// </summary>
    public Value Member(Value target)
    {
        while (true)
        {
            if (target.IsEvent) return Get(target.AsEvent);
            if (target.IsArray)
            {
                var a = target.AsArray;
                if (a.Length == 0) return Value.Null;
                target = a[^1];
                continue;
            }
            if (target.IsMap) return target.AsMap.TryGetValue(Name, out var v) ? v : Value.Null;
            return Value.Null;
        }
    }
}
