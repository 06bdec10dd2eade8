using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Json;

/// <summary>
/// The plain JSON codec for <see cref="Value"/> (<see cref="Write"/>/<see cref="TryRead(JsonElement, out Value, out string?)"/>),
/// used for output events and input payloads: timestamps as RFC 3339 strings, durations as integer nanoseconds, NaN
/// and infinities as <c>null</c>; integral floats keep a fraction (<c>100.0</c>). Checkpoints use the lossless codec
/// of <c>Runtime.CheckpointCodec</c>.
/// </summary>
public static class ValueJson
{

    // ---------------------------------------------------------------- plain codec

    /// <summary>Writes a value as plain JSON (see the class summary); an event is written in the <c>data</c> output shape.</summary>
    public static void Write(Utf8JsonWriter writer, Value v)
    {
        switch (v.Kind)
        {
            case ValueKind.Null:
                writer.WriteNullValue();
                break;
            case ValueKind.Bool:
                writer.WriteBooleanValue(v.AsBool);
                break;
            case ValueKind.Int:
                writer.WriteNumberValue(v.AsInt);
                break;
            case ValueKind.Float:
                if (double.IsFinite(v.AsFloat)) WriteFloat(writer, v.AsFloat);
                else writer.WriteNullValue();
                break;
            case ValueKind.String:
                writer.WriteStringValue(v.AsString);
                break;
            case ValueKind.Timestamp:
                WriteTimestamp(writer, v.AsNanos);
                break;
            case ValueKind.Duration:
                writer.WriteNumberValue(v.AsNanos);
                break;
            case ValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in v.AsArray) Write(writer, item);
                writer.WriteEndArray();
                break;
            case ValueKind.Map:
                writer.WriteStartObject();
                foreach (var kv in v.AsMap)
                {
                    writer.WritePropertyName(kv.Key);
                    Write(writer, kv.Value);
                }
                writer.WriteEndObject();
                break;
            default:
                EventJson.WriteOutput(writer, v.AsEvent, OutputShape.Data);
                break;
        }
    }

    /// <summary>A finite float as a JSON number that always reads back as a float: <c>100.0</c>, <c>1.5E+20</c>.</summary>
    public static void WriteFloat(Utf8JsonWriter writer, double d)
    {
        Span<byte> buf = stackalloc byte[40];
        int n;
        // Integral values below 1e15 (prices, volumes) print as their digits plus ".0", exactly as "R" would.
        if (d == Math.Floor(d) && Math.Abs(d) < 1e15 && (d != 0 || !double.IsNegative(d)))
        {
            ((long)d).TryFormat(buf, out n, default, CultureInfo.InvariantCulture);
            buf[n++] = (byte)'.';
            buf[n++] = (byte)'0';
            writer.WriteRawValue(buf[..n], skipInputValidation: true);
            return;
        }
        d.TryFormat(buf, out n, "R", CultureInfo.InvariantCulture);
        if (buf[..n].IndexOfAny((byte)'.', (byte)'E', (byte)'e') < 0)
        {
            buf[n++] = (byte)'.';
            buf[n++] = (byte)'0';
        }
        writer.WriteRawValue(buf[..n], skipInputValidation: true);
    }

    /// <summary>A timestamp as its RFC 3339 string (the text of <see cref="TimeFormat.FormatTimestamp"/>), without allocating.</summary>
    public static void WriteTimestamp(Utf8JsonWriter writer, long nanos)
    {
        Span<byte> buf = stackalloc byte[Rfc3339.MaxLength];
        writer.WriteStringValue(buf[..Rfc3339.Format(nanos, buf)]);
    }

    /// <summary>The plain JSON text of a value.</summary>
    public static string ToJson(Value v)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer, VplJson.WriterOptions)) Write(w, v);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Reads a plain JSON value: an integer literal is an int (beyond 64 bits: a float), any other number a float
    /// (<c>1.0</c> is a float), strings stay strings, arrays and objects become arrays and maps. Nesting deeper than
    /// <see cref="VplJson.MaxValueDepth"/> levels, a key repeated in one object and numbers beyond the float range are
    /// errors.
    /// </summary>
    public static bool TryRead(JsonElement element, out Value value, out string? error) => TryRead(element, 0, out value, out error);

    /// <summary>Throwing variant of <see cref="TryRead(JsonElement, out Value, out string?)"/> (<see cref="JsonException"/>).</summary>
    public static Value Read(JsonElement element)
        => TryRead(element, out var v, out var error) ? v : throw new JsonException(error);

    private static bool TryRead(JsonElement element, int depth, out Value value, out string? error)
    {
        error = null;
        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                value = Value.Null;
                return true;
            case JsonValueKind.True:
                value = Value.True;
                return true;
            case JsonValueKind.False:
                value = Value.False;
                return true;
            case JsonValueKind.String:
                value = Value.FromString(element.GetString());
                return true;
            case JsonValueKind.Number:
                if (element.TryGetInt64(out long l))
                {
                    value = Value.FromInt(l);
                    return true;
                }
                if (element.TryGetDouble(out double d) && double.IsFinite(d))
                {
                    value = Value.FromFloat(d);
                    return true;
                }
                value = Value.Null;
                error = $"number {Truncate(element.GetRawText())} is out of range";
                return false;
            case JsonValueKind.Array:
                {
                    value = Value.Null;
                    if (depth >= VplJson.MaxValueDepth) return TooDeep(out error);
                    var items = new Value[element.GetArrayLength()];
                    int i = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!TryRead(item, depth + 1, out items[i++], out error)) return false;
                    }
                    value = Value.FromArray(items);
                    return true;
                }
            case JsonValueKind.Object:
                {
                    value = Value.Null;
                    if (depth >= VplJson.MaxValueDepth) return TooDeep(out error);
                    var map = new ValueMap();
                    foreach (var p in element.EnumerateObject())
                    {
                        if (!TryRead(p.Value, depth + 1, out var v, out error)) return false;
                        if (!map.TryAdd(p.Name, v)) return DuplicateKey(p.Name, out error);
                    }
                    value = Value.FromMap(map);
                    return true;
                }
            default:
                value = Value.Null;
                error = "expected a JSON value";
                return false;
        }
    }

    /// <summary>
    /// Reads a plain JSON value from a reader positioned on its first token (or before it), leaving the reader on the
    /// value's last token. Same rules as <see cref="TryRead(JsonElement, out Value, out string?)"/>; malformed JSON is
    /// an error too.
    /// </summary>
    public static bool TryRead(ref Utf8JsonReader reader, out Value value, out string? error)
    {
        try
        {
            bool beforeValue = reader.TokenType is JsonTokenType.None or JsonTokenType.PropertyName;
            if (beforeValue && !reader.Read())
            {
                value = Value.Null;
                error = "expected a JSON value";
                return false;
            }
            return TryReadToken(ref reader, 0, out value, out error);
        }
        catch (JsonException ex)
        {
            value = Value.Null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Throwing variant of <see cref="TryRead(ref Utf8JsonReader, out Value, out string?)"/> (<see cref="JsonException"/>).</summary>
    public static Value Read(ref Utf8JsonReader reader)
        => TryRead(ref reader, out var v, out var error) ? v : throw new JsonException(error);

    private static bool TryReadToken(ref Utf8JsonReader reader, int depth, out Value value, out string? error)
    {
        error = null;
        value = Value.Null;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return true;
            case JsonTokenType.True:
                value = Value.True;
                return true;
            case JsonTokenType.False:
                value = Value.False;
                return true;
            case JsonTokenType.String:
                value = Value.FromString(reader.GetString());
                return true;
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out long l))
                {
                    value = Value.FromInt(l);
                    return true;
                }
                if (reader.TryGetDouble(out double d) && double.IsFinite(d))
                {
                    value = Value.FromFloat(d);
                    return true;
                }
                error = $"number {Truncate(System.Text.Encoding.UTF8.GetString(reader.ValueSpan))} is out of range";
                return false;
            case JsonTokenType.StartArray:
                {
                    if (depth >= VplJson.MaxValueDepth) return TooDeep(out error);
                    var items = new List<Value>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (!TryReadToken(ref reader, depth + 1, out var item, out error)) return false;
                        items.Add(item);
                    }
                    value = Value.FromArray(items.ToArray());
                    return true;
                }
            case JsonTokenType.StartObject:
                {
                    if (depth >= VplJson.MaxValueDepth) return TooDeep(out error);
                    var map = new ValueMap();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string name = reader.GetString()!;
                        reader.Read();
                        if (!TryReadToken(ref reader, depth + 1, out var item, out error)) return false;
                        if (!map.TryAdd(name, item)) return DuplicateKey(name, out error);
                    }
                    value = Value.FromMap(map);
                    return true;
                }
            default:
                error = "expected a JSON value";
                return false;
        }
    }

    private static bool DuplicateKey(string name, out string? error)
    {
        error = $"duplicate key '{Truncate(name)}'";
        return false;
    }

    private static bool TooDeep(out string? error)
    {
        error = $"nesting deeper than {VplJson.MaxValueDepth} levels";
        return false;
    }

    internal static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "...";
}
