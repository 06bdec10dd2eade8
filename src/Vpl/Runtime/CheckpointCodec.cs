using Varpulis.Vpl.Compilation;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// Lossless JSON for values and events inside checkpoints: every kind survives a round trip exactly
/// (integral floats, NaN, timestamps, durations, nested events). Plain JSON where it is unambiguous,
/// a one-key <c>$</c>-object otherwise.
/// </summary>
internal static class CheckpointCodec
{
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

    public static Value DecodeValue(JsonNode? node, TypeRegistry types)
    {
        switch (node)
        {
            case null:
                return Value.Null;
            case JsonArray a:
                {
                    var items = new Value[a.Count];
                    for (int i = 0; i < items.Length; i++) items[i] = DecodeValue(a[i], types);
                    return Value.FromArray(items);
                }
            case JsonObject o:
                {
                    if (o.Count != 1) throw new CheckpointException("invalid encoded value: " + o.ToJsonString());
                    var (key, inner) = o.First();
                    switch (key)
                    {
                        case "$f":
                            {
                                var fv = inner!.AsValue();
                                if (fv.GetValueKind() == JsonValueKind.String)
                                    return Value.FromFloat(double.Parse(fv.GetValue<string>(), CultureInfo.InvariantCulture));
                                return Value.FromFloat(fv.GetValue<double>());
                            }
                        case "$ts":
                            return Value.FromTimestamp((long)inner!);
                        case "$dur":
                            return Value.FromDuration((long)inner!);
                        case "$map":
                            {
                                var m = new ValueMap();
                                foreach (var kv in inner!.AsObject()) m[kv.Key] = DecodeValue(kv.Value, types);
                                return Value.FromMap(m);
                            }
                        case "$event":
                            return Value.FromEvent(DecodeEvent(inner!, types));
                        default:
                            throw new CheckpointException("invalid encoded value key: " + key);
                    }
                }
            default:
                {
                    // Works for parsed documents and for nodes built in memory by CreateCheckpoint alike.
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

    public static Event DecodeEvent(JsonNode node, TypeRegistry types)
    {
        var o = node.AsObject();
        var name = (string?)o["type"] ?? throw new CheckpointException("encoded event without 'type'");
        long ts = (long?)o["ts"] ?? throw new CheckpointException("encoded event without 'ts'");
        var type = types.GetOrAdd(name);
        var values = new List<(int Slot, Value Value)>();
        int max = -1;
        if (o["fields"] is JsonObject fields)
        {
            foreach (var kv in fields)
            {
                int slot = type.GetOrAddSlot(kv.Key);
                if (slot < 0) throw new CheckpointException($"field '{kv.Key}' is not part of event type '{name}'");
                values.Add((slot, DecodeValue(kv.Value, types)));
                max = Math.Max(max, slot);
            }
        }
        var arr = new Value[max + 1];
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
            foreach (var x in a) list.Add(DecodeEvent(x!, types));
        }
        return list;
    }
}
