using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// The lossless JSON of values and events inside checkpoints: every kind survives a round trip exactly. Plain
/// JSON where it is unambiguous (null, bool, int, non-integral float, string, array); a one-key object
/// otherwise: <c>{"$f": 2}</c> (an integral float) or <c>{"$f": "NaN"}</c>, <c>{"$ts": ns}</c>, <c>{"$dur": ns}</c>,
/// <c>{"$map": {...}}</c>, <c>{"$event": {"type", "ts", "fields"}}</c>. Works on documents parsed from text and on
/// the node trees <see cref="Engine.CreateCheckpoint"/> builds in memory alike. Decoding a document that was not
/// written by this codec fails with a <see cref="CheckpointException"/> naming what is wrong.
/// </summary>
internal static class CheckpointCodec
{
    /// <summary>Nesting of values (arrays, maps, events) a checkpoint may hold.</summary>
    public const int MaxDepth = 64;

    public static JsonNode? EncodeValue(Value v)
    {
        switch (v.Kind)
        {
            case ValueKind.Null:
                return null;
            case ValueKind.Bool:
                return JsonValue.Create(v.AsBool);
            case ValueKind.Int:
                return JsonValue.Create(v.AsInt);
            case ValueKind.Float:
                {
                    double d = v.AsFloat;
                    if (double.IsFinite(d) && d != Math.Floor(d)) return JsonValue.Create(d);
                    return new JsonObject { ["$f"] = double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)) };
                }
            case ValueKind.String:
                return JsonValue.Create(v.AsString);
            case ValueKind.Timestamp:
                return new JsonObject { ["$ts"] = v.AsNanos };
            case ValueKind.Duration:
                return new JsonObject { ["$dur"] = v.AsNanos };
            case ValueKind.Array:
                {
                    var a = new JsonArray();
                    foreach (var x in v.AsArray) a.Add(EncodeValue(x));
                    return a;
                }
            case ValueKind.Map:
                {
                    var m = new JsonObject();
                    foreach (var kv in v.AsMap) m[kv.Key] = EncodeValue(kv.Value);
                    return new JsonObject { ["$map"] = m };
                }
            default:
                return new JsonObject { ["$event"] = EncodeEvent(v.AsEvent) };
        }
    }

    public static Value DecodeValue(JsonNode? node, TypeRegistry types) => DecodeValue(node, types, 0);

    private static Value DecodeValue(JsonNode? node, TypeRegistry types, int depth)
    {
        if (depth > MaxDepth) throw new CheckpointException($"checkpoint values are nested deeper than {MaxDepth} levels");
        switch (node)
        {
            case null:
                return Value.Null;
            case JsonArray a:
                {
                    var items = new Value[a.Count];
                    for (int i = 0; i < items.Length; i++) items[i] = DecodeValue(a[i], types, depth + 1);
                    return Value.FromArray(items);
                }
            case JsonObject o:
                {
                    if (o.Count != 1) throw new CheckpointException("a checkpoint value object must have exactly one tag ($f, $ts, $dur, $map or $event)");
                    var (key, inner) = o.First();
                    switch (key)
                    {
                        case "$f":
                            return Value.FromFloat(FloatOf(inner));
                        case "$ts":
                            return Value.FromTimestamp(IntegerOf(inner, "$ts"));
                        case "$dur":
                            return Value.FromDuration(IntegerOf(inner, "$dur"));
                        case "$map":
                            {
                                if (inner is not JsonObject entries) throw new CheckpointException("'$map' must be an object");
                                var m = new ValueMap();
                                foreach (var kv in entries) m[kv.Key] = DecodeValue(kv.Value, types, depth + 1);
                                return Value.FromMap(m);
                            }
                        case "$event":
                            return Value.FromEvent(DecodeEvent(inner, types, depth + 1));
                        default:
                            throw new CheckpointException($"unknown value tag '{key}'");
                    }
                }
            default:
                {
                    var v = node.AsValue();
                    switch (v.GetValueKind())
                    {
                        case JsonValueKind.True:
                            return Value.True;
                        case JsonValueKind.False:
                            return Value.False;
                        case JsonValueKind.String:
                            return Value.FromString(v.GetValue<string>());
                        case JsonValueKind.Number:
                            if (v.TryGetValue(out long l)) return Value.FromInt(l);
                            if (v.TryGetValue(out int i)) return Value.FromInt(i);
                            return Value.FromFloat(v.GetValue<double>());
                        default:
                            return Value.Null;
                    }
                }
        }
    }

    private static double FloatOf(JsonNode? node)
    {
        if (node is JsonValue v)
        {
            var kind = v.GetValueKind();
            if (kind == JsonValueKind.Number) return v.GetValue<double>();
            if (kind == JsonValueKind.String)
            {
                switch (v.GetValue<string>())
                {
                    case "NaN":
                        return double.NaN;
                    case "Infinity":
                        return double.PositiveInfinity;
                    case "-Infinity":
                        return double.NegativeInfinity;
                }
            }
        }
        throw new CheckpointException("'$f' must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
    }

    private static long IntegerOf(JsonNode? node, string what)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (v.TryGetValue(out long l)) return l;
            if (v.TryGetValue(out int i)) return i;
        }
        throw new CheckpointException($"'{what}' must be an integer number of nanoseconds");
    }

    public static JsonObject EncodeEvent(Event e)
    {
        var fields = new JsonObject();
        var names = e.Type.FieldNames;
        for (int i = 0; i < e.Fields.Length && i < names.Count; i++)
        {
            if (!e.Fields[i].IsNull) fields[names[i]] = EncodeValue(e.Fields[i]);
        }
        return new JsonObject { ["type"] = e.Type.Name, ["ts"] = e.Timestamp, ["fields"] = fields };
    }

    public static Event DecodeEvent(JsonNode node, TypeRegistry types) => DecodeEvent(node, types, 0);

    private static Event DecodeEvent(JsonNode? node, TypeRegistry types, int depth)
    {
        const string Shape = "a checkpoint event must be {\"type\": string, \"ts\": integer, \"fields\": object}";
        if (node is not JsonObject o || o["type"] is not JsonValue tv || tv.GetValueKind() != JsonValueKind.String || o["ts"] is not JsonValue tsv
            || tsv.GetValueKind() != JsonValueKind.Number || o["fields"] is not JsonObject fields)
            throw new CheckpointException(Shape);
        var name = tv.GetValue<string>();
        long ts = IntegerOf(tsv, "ts");
        var type = types.GetOrAdd(name);
        var values = new List<(int Slot, Value Value)>();
        int max = -1;
        foreach (var kv in fields)
        {
            int slot = type.GetOrAddSlot(kv.Key);
            if (slot < 0) throw new CheckpointException($"unknown field '{kv.Key}' for event type '{name}' in checkpoint");
            values.Add((slot, DecodeValue(kv.Value, types, depth + 1)));
            max = Math.Max(max, slot);
        }
        var arr = max < 0 ? Array.Empty<Value>() : new Value[max + 1];
        foreach (var (slot, v) in values) arr[slot] = v;
        return new Event(type, ts, arr);
    }

    public static JsonArray EncodeEvents(IEnumerable<Event> events)
    {
        var a = new JsonArray();
        foreach (var e in events) a.Add(EncodeEvent(e));
        return a;
    }

    public static List<Event> DecodeEvents(JsonNode? node, TypeRegistry types)
    {
        var list = new List<Event>();
        if (node is JsonArray a)
        {
            foreach (var x in a) list.Add(DecodeEvent(x, types, 0));
        }
        return list;
    }
}
