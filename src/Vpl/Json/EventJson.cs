using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Json;

/// <summary>The JSON layouts of an output event (vpl.md §4.2, rest-api.md).</summary>
public enum OutputShape
{
    /// <summary><c>{"event_type": "X", "timestamp": "&lt;RFC 3339&gt;", "data": {...}}</c> — SSE, simulate output.</summary>
    Data,

    /// <summary><c>{"event_type": "X", "timestamp": "...", "fields": {...}}</c> — the single-event REST response.</summary>
    Fields,

    /// <summary><c>{"event_type": "X", "timestamp": "...", &lt;field&gt;: value, ...}</c> — the batch REST response (compat).
    /// A data field named <c>event_type</c> or <c>timestamp</c> takes the place of the header of that name.</summary>
    Flat,
}

/// <summary>JSON for whole events: output shapes, input payloads and the lossless checkpoint form.</summary>
public static class EventJson
{
    private static readonly JsonEncodedText EventTypeName = JsonEncodedText.Encode("event_type");
    private static readonly JsonEncodedText TimestampName = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText DataName = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText FieldsName = JsonEncodedText.Encode("fields");

    /// <summary>Pre-encoded type and field names per event type (field lists only grow, so a longer list replaces a shorter).</summary>
    private sealed class EncodedNames(JsonEncodedText type, JsonEncodedText[] fields)
    {
        public readonly JsonEncodedText Type = type;
        public readonly JsonEncodedText[] Fields = fields;
    }

    private static readonly ConditionalWeakTable<EventType, EncodedNames> NameCache = new();

    [ThreadStatic]
    private static EventType? t_lastType;

    [ThreadStatic]
    private static EncodedNames? t_lastNames;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    // ---------------------------------------------------------------- output

    /// <summary>Writes an output event in the given shape: fields in slot order, null fields left out.</summary>
    public static void WriteOutput(Utf8JsonWriter writer, Event e, OutputShape shape)
    {
        writer.WriteStartObject();
        var fields = e.Fields;
        var names = Names(e.Type, fields.Length);
        int n = Math.Min(fields.Length, names.Fields.Length);
        if (shape == OutputShape.Flat)
        {
            bool ownType = false, ownTs = false;
            var fieldNames = e.Type.FieldNames;
            for (int i = 0; i < n; i++)
            {
                if (fields[i].IsNull) continue;
                if (fieldNames[i] == "event_type") ownType = true;
                else if (fieldNames[i] == "timestamp") ownTs = true;
            }
            if (!ownType) writer.WriteString(EventTypeName, names.Type);
            if (!ownTs)
            {
                writer.WritePropertyName(TimestampName);
                ValueJson.WriteTimestamp(writer, e.Timestamp);
            }
            WriteFields(writer, names.Fields, fields, n);
        }
        else
        {
            writer.WriteString(EventTypeName, names.Type);
            writer.WritePropertyName(TimestampName);
            ValueJson.WriteTimestamp(writer, e.Timestamp);
            writer.WritePropertyName(shape == OutputShape.Data ? DataName : FieldsName);
            writer.WriteStartObject();
            WriteFields(writer, names.Fields, fields, n);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void WriteFields(Utf8JsonWriter writer, JsonEncodedText[] names, Value[] fields, int n)
    {
        for (int i = 0; i < n; i++)
        {
            if (fields[i].IsNull) continue;
            writer.WritePropertyName(names[i]);
            ValueJson.Write(writer, fields[i]);
        }
    }

    /// <summary>The encoded names of a type, covering at least <paramref name="slots"/> fields when the type has them.</summary>
    private static EncodedNames Names(EventType type, int slots)
    {
        if (ReferenceEquals(t_lastType, type) && t_lastNames!.Fields.Length >= Math.Min(slots, type.FieldCount)) return t_lastNames;
        if (!NameCache.TryGetValue(type, out var names) || names.Fields.Length < Math.Min(slots, type.FieldCount))
        {
            var fieldNames = type.FieldNames;
            var encoded = new JsonEncodedText[fieldNames.Count];
            for (int i = 0; i < encoded.Length; i++) encoded[i] = JsonEncodedText.Encode(fieldNames[i], VplJson.WriterOptions.Encoder);
            names = new EncodedNames(JsonEncodedText.Encode(type.Name, VplJson.WriterOptions.Encoder), encoded);
            NameCache.AddOrUpdate(type, names);
        }
        t_lastType = type;
        t_lastNames = names;
        return names;
    }

    /// <summary>
    /// Appends one event as a JSON line (the JSON text and <c>'\n'</c>) to <paramref name="output"/>, reusing a
    /// per-thread writer.
    /// </summary>
    public static void WriteJsonLine(IBufferWriter<byte> output, Event e, OutputShape shape = OutputShape.Data)
    {
        var writer = t_writer ??= new Utf8JsonWriter(output, VplJson.WriterOptions);
        writer.Reset(output);
        WriteOutput(writer, e, shape);
        writer.Flush();
        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <summary>The <see cref="OutputShape.Data"/> JSON of an event as UTF-8 (no trailing newline).</summary>
    public static byte[] ToJsonLineUtf8(Event e, OutputShape shape = OutputShape.Data) => Render(e, shape).ToArray();

    /// <summary>The <see cref="OutputShape.Data"/> JSON of an event as a string (no trailing newline).</summary>
    public static string ToJsonLine(Event e, OutputShape shape = OutputShape.Data) => Encoding.UTF8.GetString(Render(e, shape));

    private static ReadOnlySpan<byte> Render(Event e, OutputShape shape)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, VplJson.WriterOptions);
        writer.Reset(buffer);
        WriteOutput(writer, e, shape);
        writer.Flush();
        return buffer.WrittenSpan;
    }

    // ---------------------------------------------------------------- input

    /// <summary>
    /// Reads an input event <c>{"event_type": "T", "fields": {...}, "timestamp"?: ...}</c> (<c>data</c> is accepted
    /// for <c>fields</c>) through <paramref name="builder"/>, so declared types are checked and coerced. The event time
    /// is the top-level <c>timestamp</c> (RFC 3339 string or integer epoch milliseconds), else a <c>timestamp</c> in the
    /// fields (which then leaves the data, unless the event type declares a field of that name), else
    /// <paramref name="defaultTimestampNanos"/>. A null timestamp counts as absent. Other top-level properties are errors.
    /// </summary>
    public static bool TryReadInput(JsonElement element, EventBuilder builder, long defaultTimestampNanos, out Event? e, out string? error)
    {
        e = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = "an event must be a JSON object";
            return false;
        }
        JsonElement typeEl = default, fieldsEl = default, tsEl = default;
        bool hasType = false, hasFields = false, hasTs = false;
        string fieldsName = "fields";
        foreach (var p in element.EnumerateObject())
        {
            switch (p.Name)
            {
                case "event_type":
                    if (hasType) return Duplicate(p.Name, out error);
                    typeEl = p.Value;
                    hasType = true;
                    break;
                case "fields":
                case "data":
                    if (hasFields)
                    {
                        error = fieldsName == p.Name ? $"duplicate property '{p.Name}'" : "give either 'fields' or 'data', not both";
                        return false;
                    }
                    fieldsEl = p.Value;
                    fieldsName = p.Name;
                    hasFields = true;
                    break;
                case "timestamp":
                    if (hasTs) return Duplicate(p.Name, out error);
                    tsEl = p.Value;
                    hasTs = true;
                    break;
                default:
                    error = $"unknown property '{ValueJson.Truncate(p.Name)}'; an event has 'event_type', 'fields' (or 'data') and 'timestamp'";
                    return false;
            }
        }
        if (!hasType)
        {
            error = "missing required field 'event_type'";
            return false;
        }
        if (typeEl.ValueKind != JsonValueKind.String || typeEl.GetString() is not { Length: > 0 } typeName)
        {
            error = "'event_type' must be a non-empty string";
            return false;
        }
        if (hasFields && fieldsEl.ValueKind != JsonValueKind.Object)
        {
            error = $"'{fieldsName}' must be an object";
            return false;
        }
        if (!builder.TryBegin(typeName, out error)) return false;

        long ts = defaultTimestampNanos;
        bool tsFromFields = false;
        if (hasTs && tsEl.ValueKind != JsonValueKind.Null)
        {
            if (!TryParseTimestamp(tsEl, out ts, out error)) return false;
        }
        else if (hasFields && fieldsEl.TryGetProperty("timestamp", out var inner) && inner.ValueKind != JsonValueKind.Null)
        {
            if (!TryParseTimestamp(inner, out ts, out error)) return false;
            tsFromFields = true;
        }
        bool dropTsField = tsFromFields && !(builder.CurrentType!.IsDeclared && builder.CurrentType.TryGetSlot("timestamp", out _));

        if (hasFields)
        {
            foreach (var p in fieldsEl.EnumerateObject())
            {
                if (dropTsField && p.Name == "timestamp") continue;
                if (!ValueJson.TryRead(p.Value, out var v, out error))
                {
                    error = $"field '{ValueJson.Truncate(p.Name)}': {error}";
                    return false;
                }
                if (!builder.TrySet(p.Name, v, out error)) return false;
            }
        }
        return builder.TryBuild(ts, out e, out error);
    }

    /// <summary>
    /// An input timestamp: an RFC 3339 string or an integer number of epoch milliseconds. The error quotes the
    /// offending text: <c>invalid timestamp 'yesterday': expected RFC 3339 or epoch milliseconds</c>.
    /// </summary>
    public static bool TryParseTimestamp(JsonElement element, out long nanos, out string? error)
    {
        error = null;
        nanos = 0;
        if (element.ValueKind == JsonValueKind.String)
        {
            string s = element.GetString()!;
            if (EventBuilder.TryParseTimestamp(s, out nanos)) return true;
            // A well-formed date the engine cannot represent (nanoseconds since 1970 in 64 bits) is out of range.
            if (DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out _))
            {
                return OutOfRange("'" + ValueJson.Truncate(s) + "'", out error);
            }
            return BadTimestamp(s, out error);
        }
        if (element.ValueKind == JsonValueKind.Number)
        {
            if (element.TryGetInt64(out long ms))
            {
                if (ValueOps.TryMul(ms, TimeFormat.NanosPerMilli, out nanos)) return true;
                return OutOfRange(ms.ToString(System.Globalization.CultureInfo.InvariantCulture), out error);
            }
            var raw = element.GetRawText();
            if (raw.TrimStart('-').All(char.IsAsciiDigit)) return OutOfRange(ValueJson.Truncate(raw), out error);
        }
        return BadTimestamp(element.GetRawText(), out error);
    }

    /// <summary>The timestamps an event may have, in both input forms (event time is nanoseconds since 1970 in 64 bits).</summary>
    public const string TimestampRange =
        "timestamps go from 1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z (epoch milliseconds -9223372036854 to 9223372036854)";

    private static bool OutOfRange(string text, out string? error)
    {
        error = $"timestamp {text} is out of range: {TimestampRange}";
        return false;
    }

    private static bool BadTimestamp(string text, out string? error)
    {
        error = $"invalid timestamp '{ValueJson.Truncate(text)}': expected RFC 3339 or epoch milliseconds";
        return false;
    }

    private static bool Duplicate(string name, out string? error)
    {
        error = $"duplicate property '{name}'";
        return false;
    }
}
