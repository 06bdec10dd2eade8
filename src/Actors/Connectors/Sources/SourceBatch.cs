using System.Buffers;
using System.Text.Json;
using Varpulis.Vpl.Json;

namespace Varpulis.Actors.Connectors.Sources;

/// <summary>
/// Where a source message came from: the MQTT topic, the Kafka (topic, partition, offset), or the file and the byte
/// offset just after the line. Kafka positions identify a record exactly, so a pipeline can drop a record it has
/// already journaled (<see cref="Kafka.KafkaOffsetLedger"/>).
/// </summary>
public readonly record struct SourcePosition(string Topic, int Partition, long Offset)
{
    /// <summary>For sources without partitions or offsets (MQTT).</summary>
    public static SourcePosition OfTopic(string topic) => new(topic, -1, -1);
}

/// <summary>One message as a source received it, with what its source needs to acknowledge it later.</summary>
public sealed record SourceRecord(ReadOnlyMemory<byte> Payload, SourcePosition Position, object? AckToken = null);

/// <summary>A message the source could not turn into an event (it is acknowledged with its batch).</summary>
public sealed record RejectedMessage(SourcePosition Position, string Error);

/// <summary>
/// A batch of source messages in the pipeline's input format: <see cref="Body"/> is <c>{"events": [...]}</c> as
/// the REST batch API takes it, each event <c>{"event_type", "timestamp"?, "fields"}</c>; <see cref="Positions"/>
/// gives where each event came from, in the same order. Built by <see cref="SourceBatchBuilder"/>.
/// </summary>
public sealed class SourceBatch
{
    private readonly int[] _starts;
    private readonly int[] _lengths;

    internal SourceBatch(string connector, byte[] body, SourcePosition[] positions, int[] starts, int[] lengths, IReadOnlyList<RejectedMessage> rejected, IReadOnlyList<SourceRecord> records)
    {
        Connector = connector;
        Body = body;
        Positions = positions;
        _starts = starts;
        _lengths = lengths;
        Rejected = rejected;
        Records = records;
    }

    public string Connector { get; }

    /// <summary><c>{"events": [...]}</c>, UTF-8.</summary>
    public byte[] Body { get; }

    public int EventCount => Positions.Count;

    public IReadOnlyList<SourcePosition> Positions { get; }

    /// <summary>Messages that were not events (not JSON, not an object, ...): counted and acknowledged, never sent.</summary>
    public IReadOnlyList<RejectedMessage> Rejected { get; }

    /// <summary>Every message of the batch, events and rejected alike, in arrival order: what the source acknowledges.</summary>
    public IReadOnlyList<SourceRecord> Records { get; }

    /// <summary>The JSON of event <paramref name="i"/> inside <see cref="Body"/>.</summary>
    public ReadOnlySpan<byte> EventJson(int i) => Body.AsSpan(_starts[i], _lengths[i]);

    /// <summary>
    /// The batch without the events <paramref name="drop"/> selects (for example Kafka records already journaled);
    /// the same instance when none is dropped.
    /// </summary>
    public SourceBatch Without(Func<SourcePosition, bool> drop)
    {
        var keep = new List<int>(EventCount);
        for (int i = 0; i < EventCount; i++)
        {
            if (!drop(Positions[i])) keep.Add(i);
        }
        if (keep.Count == EventCount) return this;
        var buffer = new ArrayBufferWriter<byte>(Body.Length);
        var starts = new int[keep.Count];
        var lengths = new int[keep.Count];
        var positions = new SourcePosition[keep.Count];
        SourceBatchBuilder.Write(buffer, "{\"events\":["u8);
        for (int k = 0; k < keep.Count; k++)
        {
            if (k > 0) SourceBatchBuilder.Write(buffer, ","u8);
            starts[k] = buffer.WrittenCount;
            lengths[k] = _lengths[keep[k]];
            positions[k] = Positions[keep[k]];
            SourceBatchBuilder.Write(buffer, EventJson(keep[k]));
        }
        SourceBatchBuilder.Write(buffer, "]}"u8);
        return new SourceBatch(Connector, buffer.WrittenSpan.ToArray(), positions, starts, lengths, Rejected, Records);
    }
}

/// <summary>
/// Turns broker messages into the pipeline's input format. A message is a JSON object with the event type in
/// <c>event_type</c> (or <c>type</c>; else the binding's type), the fields at the top level or under <c>fields</c>
/// or <c>data</c>, and an optional <c>timestamp</c> (RFC 3339 or epoch ms, checked by the pipeline).
/// </summary>
public static class SourceBatchBuilder
{
    /// <summary>Builds a batch from <paramref name="records"/>; <paramref name="defaultType"/> gives the binding's event type for a message's position.</summary>
    public static SourceBatch Build(string connector, IReadOnlyList<SourceRecord> records, Func<SourcePosition, string?> defaultType)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, records.Count * 128));
        var starts = new List<int>(records.Count);
        var lengths = new List<int>(records.Count);
        var positions = new List<SourcePosition>(records.Count);
        List<RejectedMessage>? rejected = null;
        var scratch = new ArrayBufferWriter<byte>(256);
        using var writer = new Utf8JsonWriter(scratch, new JsonWriterOptions { Encoder = VplJson.WriterOptions.Encoder, SkipValidation = true });
        Write(buffer, "{\"events\":["u8);
        foreach (var r in records)
        {
            scratch.ResetWrittenCount();
            writer.Reset(scratch);
            if (!TryNormalize(r.Payload.Span, defaultType(r.Position), writer, out var error))
            {
                (rejected ??= new()).Add(new RejectedMessage(r.Position, error!));
                continue;
            }
            writer.Flush();
            if (positions.Count > 0) Write(buffer, ","u8);
            starts.Add(buffer.WrittenCount);
            lengths.Add(scratch.WrittenCount);
            Write(buffer, scratch.WrittenSpan);
            positions.Add(r.Position);
        }
        Write(buffer, "]}"u8);
        return new SourceBatch(connector, buffer.WrittenSpan.ToArray(), positions.ToArray(), starts.ToArray(), lengths.ToArray(),
            (IReadOnlyList<RejectedMessage>?)rejected ?? Array.Empty<RejectedMessage>(), records);
    }

    /// <summary>
    /// Writes one message as <c>{"event_type": T, "timestamp": ..., "fields": {...}}</c>; false with the reason
    /// when the message is not an event.
    /// </summary>
    public static bool TryNormalize(ReadOnlySpan<byte> payload, string? defaultType, Utf8JsonWriter writer, out string? error)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 64 });
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            error = $"not JSON (at byte {ex.BytePositionInLine ?? 0})";
            return false;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "a message must be a JSON object";
                return false;
            }
            JsonElement? typeEl = null, aliasEl = null, tsEl = null, fieldsEl = null;
            string? fieldsName = null;
            int others = 0;
            string? firstOther = null;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "event_type":
                        typeEl = p.Value;
                        break;
                    case "type":
                        aliasEl = p.Value;
                        break;
                    case "timestamp":
                        tsEl = p.Value;
                        break;
                    case "fields" or "data" when p.Value.ValueKind == JsonValueKind.Object:
                        if (fieldsEl is not null)
                        {
                            error = "give either 'fields' or 'data', not both";
                            return false;
                        }
                        fieldsEl = p.Value;
                        fieldsName = p.Name;
                        break;
                    default:
                        others++;
                        firstOther ??= p.Name;
                        break;
                }
            }
            // With event_type present, a 'type' property is an ordinary field.
            bool typeIsField = typeEl is not null && aliasEl is not null;
            var typeSource = typeEl ?? aliasEl;
            string? type;
            if (typeSource is { } t)
            {
                if (t.ValueKind != JsonValueKind.String || t.GetString() is not { Length: > 0 } s)
                {
                    error = $"'{(typeEl is not null ? "event_type" : "type")}' must be a non-empty string";
                    return false;
                }
                type = s;
            }
            else
            {
                type = defaultType;
            }
            if (type is null)
            {
                error = "no 'event_type' (or 'type') and the binding reads no single type";
                return false;
            }
            if (fieldsEl is not null && (others > 0 || typeIsField))
            {
                var name = firstOther ?? "type";
                error = $"unexpected property '{(name.Length > 40 ? name[..40] + "..." : name)}' beside '{fieldsName}'";
                return false;
            }
            writer.WriteStartObject();
            writer.WriteString("event_type", type);
            if (tsEl is { } ts && ts.ValueKind != JsonValueKind.Null)
            {
                writer.WritePropertyName("timestamp");
                ts.WriteTo(writer);
            }
            writer.WritePropertyName("fields");
            writer.WriteStartObject();
            if (fieldsEl is { } f)
            {
                foreach (var p in f.EnumerateObject()) p.WriteTo(writer);
            }
            else
            {
                foreach (var p in root.EnumerateObject())
                {
                    if (p.Name is "event_type" or "timestamp" || (p.Name == "type" && !typeIsField)) continue;
                    p.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
            error = null;
            return true;
        }
    }

    /// <summary>
    /// A batch body (<c>{"events": [...]}</c>, event <c>i</c> read from <paramref name="positions"/>[i]) without the
    /// events whose position <paramref name="drop"/> selects; the same array when none is dropped. For the receiver of a
    /// batch, which has its body and positions but not the <see cref="SourceBatch"/>.
    /// </summary>
    public static byte[] Without(byte[] body, IReadOnlyList<SourcePosition> positions, Func<SourcePosition, bool> drop, out IReadOnlyList<SourcePosition> kept)
    {
        kept = positions;
        if (!positions.Any(drop)) return body;
        var keptList = new List<SourcePosition>(positions.Count);
        var buffer = new ArrayBufferWriter<byte>(body.Length);
        Write(buffer, "{\"events\":["u8);
        using (var doc = JsonDocument.Parse(body))
        {
            int i = 0;
            foreach (var e in doc.RootElement.GetProperty("events").EnumerateArray())
            {
                if (i >= positions.Count) throw new ArgumentException($"the body has more events than the {positions.Count} positions", nameof(positions));
                var p = positions[i++];
                if (drop(p)) continue;
                if (keptList.Count > 0) Write(buffer, ","u8);
                keptList.Add(p);
                using var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = VplJson.WriterOptions.Encoder, SkipValidation = true });
                e.WriteTo(w);
            }
        }
        Write(buffer, "]}"u8);
        kept = keptList;
        return buffer.WrittenSpan.ToArray();
    }

    internal static void Write(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer.GetSpan(bytes.Length));
        buffer.Advance(bytes.Length);
    }
}
