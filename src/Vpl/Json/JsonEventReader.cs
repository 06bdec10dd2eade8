using System.Text.Json;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Json;

/// <summary>One rejected event of a batch request: its index in <c>events</c> and why.</summary>
public readonly record struct JsonEventError(int Index, string Error);

/// <summary>
/// Reads an ingestion request body — one event <c>{"event_type", "fields"?, "timestamp"?}</c>, or a batch
/// <c>{"events": [...]}</c> — straight from its UTF-8 bytes with <see cref="Utf8JsonReader"/> into engine events,
/// without a <see cref="JsonDocument"/> and without a string per field name when the schema is known. It accepts,
/// builds and rejects exactly what <see cref="EventJson.TryReadInput"/> does over a parsed document (the same events,
/// the same per-event errors, the same request errors, and the same changes to the type registry), which a
/// differential test checks over valid and hostile bodies. Not thread-safe: one reader per pipeline.
/// </summary>
/// <remarks>
/// <para>How: a fast path reads each event in one pass for the common case — the type exists, it is given before
/// <c>fields</c>, field names are known slots, values fit their fields. Anything else (an error, a type or field not
/// seen before, a <c>timestamp</c> inside <c>fields</c>, escaped names) sends that one event to the slow path, which
/// parses the event's own bytes into a small document and calls <see cref="EventJson.TryReadInput"/> itself, so the
/// rare cases share today's code and wording. Before the slow path may change the registry (a new type or field),
/// the whole body is checked once (syntax and envelope), because a body the document path rejects as a whole must
/// leave the registry as it was.</para>
/// <para>Request errors (the body as a whole is refused; nothing is accepted): the body's encoding problem
/// (<see cref="JsonText.FindEncodingProblem"/>: not UTF-8, an unpaired surrogate escape); <c>invalid JSON: ...</c> in
/// <see cref="JsonText.Describe"/>'s words; for a single event, any event error; for a batch, the envelope errors
/// <c>a batch must be a JSON object {"events": [...]}</c>, <c>unknown property 'x'; a batch is {"events": [...]}</c>,
/// <c>missing required field 'events'</c>, <c>'events' must be an array</c>.</para>
/// </remarks>
public sealed class JsonEventReader
{
    private const int CachedFieldPositions = 64;

    private readonly EventBuilder _builder;
    private readonly Utf8StringInterner _strings = new();
    private readonly Dictionary<EventType, FieldCache> _fieldCaches = new(ReferenceEqualityComparer.Instance);
    private byte[]? _lastTypeName;
    private EventType? _lastType;
    private bool _validated;

    /// <summary>Per event type: the field name last seen at each position and its slot.</summary>
    private sealed class FieldCache
    {
        public byte[]?[] Names = new byte[]?[8];
        public int[] Slots = new int[8];
    }

    public JsonEventReader(TypeRegistry types)
    {
        ArgumentNullException.ThrowIfNull(types);
        _builder = new EventBuilder(types);
    }

    public JsonEventReader(EventBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _builder = builder;
    }

    /// <summary>Events read through the document path so far (a new type or field, an error, an unusual layout).</summary>
    public long SlowPathEvents { get; private set; }

    /// <summary>The builder the events go through (its limits apply).</summary>
    public EventBuilder Builder => _builder;

    /// <summary>
    /// Reads one request body. A single-event body (<paramref name="isBatch"/> false) adds its event to
    /// <paramref name="accepted"/> or returns its error as the request error. A batch adds each valid event to
    /// <paramref name="accepted"/> and each invalid one to <paramref name="errors"/>. Returns the request error, or null;
    /// after a request error <paramref name="accepted"/> and <paramref name="errors"/> are as they were.
    /// Events without a timestamp get <paramref name="ingestTimeNanos"/>.
    /// </summary>
    public string? Read(ReadOnlySpan<byte> body, bool isBatch, long ingestTimeNanos, List<Event> accepted, List<JsonEventError> errors)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(errors);
        int acceptedBefore = accepted.Count, errorsBefore = errors.Count;
        _validated = false;
        // Text that is not UTF-8, or an unpaired surrogate escape, is a bad request, never an engine failure.
        string? requestError = JsonText.FindEncodingProblem(body, "request body");
        if (requestError is not null) return requestError;
        try
        {
            requestError = isBatch ? ReadBatch(body, ingestTimeNanos, accepted, errors) : ReadSingle(body, ingestTimeNanos, accepted);
        }
        catch (JsonException ex)
        {
            requestError = "invalid JSON: " + JsonText.Describe(ex, body);
        }
        if (requestError is not null)
        {
            accepted.RemoveRange(acceptedBefore, accepted.Count - acceptedBefore);
            errors.RemoveRange(errorsBefore, errors.Count - errorsBefore);
        }
        return requestError;
    }

    // ---------------------------------------------------------------- bodies

    private string? ReadSingle(ReadOnlySpan<byte> body, long ingestTime, List<Event> accepted)
    {
        var reader = new Utf8JsonReader(body, VplJson.ReaderOptions);
        reader.Read();
        int start = (int)reader.TokenStartIndex;
        Event? e = null;
        bool fast = reader.TokenType == JsonTokenType.StartObject && TryReadFast(ref reader, ingestTime, out e);
        SkipRestOfValue(ref reader, 0);
        int end = (int)reader.BytesConsumed;
        // At the end of the body only white space may follow (the reader throws on anything else).
        reader.Read();
        if (fast)
        {
            accepted.Add(e!);
            return null;
        }
        if (ValidateOnce(body, isBatch: false) is { } invalid) return invalid;
        if (!ReadSlow(body[start..end], ingestTime, out e, out var error)) return error ?? "invalid event";
        accepted.Add(e!);
        return null;
    }

    private string? ReadBatch(ReadOnlySpan<byte> body, long ingestTime, List<Event> accepted, List<JsonEventError> errors)
    {
        var reader = new Utf8JsonReader(body, VplJson.ReaderOptions);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject) return EnvelopeError(body);
        bool found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (found || !reader.ValueTextEquals("events"u8)) return EnvelopeError(body);
            found = true;
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray) return EnvelopeError(body);
            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                int start = (int)reader.TokenStartIndex;
                int depth = reader.CurrentDepth;
                Event? e = null;
                bool fast = reader.TokenType == JsonTokenType.StartObject && TryReadFast(ref reader, ingestTime, out e);
                SkipRestOfValue(ref reader, depth);
                if (fast)
                {
                    accepted.Add(e!);
                }
                else
                {
                    if (ValidateOnce(body, isBatch: true) is { } invalid) return invalid;
                    if (ReadSlow(body[start..(int)reader.BytesConsumed], ingestTime, out e, out var error)) accepted.Add(e!);
                    else errors.Add(new JsonEventError(index, error ?? "invalid event"));
                }
                index++;
            }
        }
        reader.Read();
        return found ? null : EnvelopeError(body);
    }

    /// <summary>
    /// The request error of a batch whose envelope is wrong, as the document path reports it: the whole body is read
    /// first (a syntax error anywhere wins), then the envelope is checked in document order.
    /// </summary>
    private static string EnvelopeError(ReadOnlySpan<byte> body) => CheckBody(body, isBatch: true) ?? "invalid batch";

    /// <summary>Checks the whole body once per request before anything may change the type registry.</summary>
    private string? ValidateOnce(ReadOnlySpan<byte> body, bool isBatch)
    {
        if (_validated) return null;
        var error = CheckBody(body, isBatch);
        _validated = error is null;
        return error;
    }

    /// <summary>Syntax of the whole body, then (for a batch) the envelope: the request error, or null.</summary>
    private static string? CheckBody(ReadOnlySpan<byte> body, bool isBatch)
    {
        try
        {
            var reader = new Utf8JsonReader(body, VplJson.ReaderOptions);
            reader.Read();
            var rootKind = reader.TokenType;
            var check = reader;
            check.Skip();
            check.Read();
            if (!isBatch) return null;
            if (rootKind != JsonTokenType.StartObject) return "a batch must be a JSON object {\"events\": [...]}";
            bool found = false;
            JsonTokenType eventsKind = JsonTokenType.None;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (found || !reader.ValueTextEquals("events"u8))
                    return $"unknown property '{ValueJson.Truncate(reader.GetString()!)}'; a batch is {{\"events\": [...]}}";
                found = true;
                reader.Read();
                eventsKind = reader.TokenType;
                reader.Skip();
            }
            if (!found) return "missing required field 'events'";
            return eventsKind == JsonTokenType.StartArray ? null : "'events' must be an array";
        }
        catch (JsonException ex)
        {
            return "invalid JSON: " + JsonText.Describe(ex, body);
        }
    }

    /// <summary>
    /// Moves the reader to the last token of the value that starts at <paramref name="depth"/> (the value's own
    /// token when it is a scalar, its end token when it is an object or array), from wherever the fast path stopped
    /// inside it. The only tokens at that depth are the value's first and last.
    /// </summary>
    private static void SkipRestOfValue(ref Utf8JsonReader reader, int depth)
    {
        while (true)
        {
            if (reader.CurrentDepth == depth && reader.TokenType != JsonTokenType.PropertyName)
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                return;
            }
            if (!reader.Read()) return;
        }
    }

    /// <summary>The document path for one event: its own bytes parsed and read by <see cref="EventJson.TryReadInput"/>.</summary>
    private bool ReadSlow(ReadOnlySpan<byte> eventBytes, long ingestTime, out Event? e, out string? error)
    {
        SlowPathEvents++;
        using var doc = JsonDocument.Parse(eventBytes.ToArray(), VplJson.DocumentOptions);
        return EventJson.TryReadInput(doc.RootElement, _builder, ingestTime, out e, out error);
    }

    // ---------------------------------------------------------------- the fast path

    /// <summary>
    /// Reads the event object the reader is on, in one pass, when it takes only the common path. False (the reader
    /// somewhere inside the object) when anything needs the slow path; nothing in the registry has changed then.
    /// </summary>
    private bool TryReadFast(ref Utf8JsonReader reader, long ingestTime, out Event? e)
    {
        e = null;
        int depth = reader.CurrentDepth;
        EventType? type = null;
        bool hasTs = false, tsGiven = false, hasFields = false;
        long ts = ingestTime;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped) return false;
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("event_type"u8))
            {
                if (type is not null || reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped) return false;
                type = LookupType(reader.ValueSpan);
                if (type is null) return false;
                _builder.Begin(type);
            }
            else if (name.SequenceEqual("timestamp"u8))
            {
                if (hasTs) return false;
                hasTs = true;
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (!TryTimestamp(ref reader, out ts)) return false;
                tsGiven = true;
            }
            else if (name.SequenceEqual("fields"u8) || name.SequenceEqual("data"u8))
            {
                // Fields need the type first; a timestamp inside them is the slow path's business unless the
                // top-level one was already given.
                if (hasFields || type is null || reader.TokenType != JsonTokenType.StartObject) return false;
                hasFields = true;
                if (!TryReadFields(ref reader, type, tsGiven)) return false;
            }
            else
            {
                return false;
            }
        }
        if (type is null || reader.CurrentDepth != depth) return false;
        if (!_builder.TryBuild(ts, out e, out _))
        {
            e = null;
            return false;
        }
        return true;
    }

    private EventType? LookupType(ReadOnlySpan<byte> utf8Name)
    {
        if (_lastTypeName is not null && utf8Name.SequenceEqual(_lastTypeName)) return _lastType;
        if (utf8Name.IsEmpty || utf8Name.Length > EventBuilder.MaxNameLength) return null;
        Span<char> chars = stackalloc char[utf8Name.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(utf8Name, chars, out _, out int n, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done) return null;
        if (!_builder.Types.TryGet(new string(chars[..n]), out var type)) return null;
        _lastTypeName = utf8Name.ToArray();
        _lastType = type;
        return type;
    }

    private static bool TryTimestamp(ref Utf8JsonReader reader, out long nanos)
    {
        nanos = 0;
        if (reader.TokenType == JsonTokenType.Number)
            return reader.TryGetInt64(out long ms) && ValueOps.TryMul(ms, TimeFormat.NanosPerMilli, out nanos);
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.ValueSpan.Length > 64) return false;
        Span<char> chars = stackalloc char[64];
        var status = System.Text.Unicode.Utf8.ToUtf16(reader.ValueSpan, chars, out _, out int n, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done && EventBuilder.TryParseTimestamp(chars[..n], out nanos);
    }

    private bool TryReadFields(ref Utf8JsonReader reader, EventType type, bool tsGiven)
    {
        if (!_fieldCaches.TryGetValue(type, out var cache))
        {
            cache = new FieldCache();
            _fieldCaches[type] = cache;
        }
        int index = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped) return false;
            int slot = FieldSlot(reader.ValueSpan, type, cache, index, tsGiven);
            if (slot < 0) return false;
            reader.Read();
            if (!TryReadValue(ref reader, 0, out var v)) return false;
            if (!_builder.TrySetSlot(slot, v, out _)) return false;
            index++;
        }
        return true;
    }

    private static int FieldSlot(ReadOnlySpan<byte> name, EventType type, FieldCache cache, int index, bool tsGiven)
    {
        // A timestamp inside the fields may be the event time (and then leave the data): the slow path decides.
        if (!tsGiven && name.SequenceEqual("timestamp"u8)) return -1;
        if (index < cache.Names.Length && cache.Names[index] is { } cached && name.SequenceEqual(cached)) return cache.Slots[index];
        if (name.IsEmpty || name.Length > EventBuilder.MaxNameLength) return -1;
        Span<char> chars = stackalloc char[name.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(name, chars, out _, out int n, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done || !type.TryGetSlot(chars[..n], out int slot)) return -1;
        if (index < CachedFieldPositions)
        {
            if (index >= cache.Names.Length)
            {
                int size = Math.Min(CachedFieldPositions, Math.Max(index + 1, cache.Names.Length * 2));
                Array.Resize(ref cache.Names, size);
                Array.Resize(ref cache.Slots, size);
            }
            cache.Names[index] = name.ToArray();
            cache.Slots[index] = slot;
        }
        return slot;
    }

    /// <summary>A value as <see cref="ValueJson.TryRead(JsonElement, out Value, out string?)"/> reads it; false on anything it would reject.</summary>
    private bool TryReadValue(ref Utf8JsonReader reader, int depth, out Value value)
    {
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
                return false;
            case JsonTokenType.String:
                return TryReadString(ref reader, out value);
            case JsonTokenType.StartArray:
                {
                    if (depth >= VplJson.MaxValueDepth) return false;
                    var items = new List<Value>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (!TryReadValue(ref reader, depth + 1, out var item)) return false;
                        items.Add(item);
                    }
                    value = Value.FromArray(items.ToArray());
                    return true;
                }
            case JsonTokenType.StartObject:
                {
                    if (depth >= VplJson.MaxValueDepth) return false;
                    var map = new ValueMap();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (!TryGetString(ref reader, out string? key)) return false;
                        reader.Read();
                        if (!TryReadValue(ref reader, depth + 1, out var item) || !map.TryAdd(key!, item)) return false;
                    }
                    value = Value.FromMap(map);
                    return true;
                }
            default:
                return false;
        }
    }

    /// <summary>A string value; short unescaped ones are shared through the interner (one string per distinct text).</summary>
    private bool TryReadString(ref Utf8JsonReader reader, out Value value)
    {
        value = Value.Null;
        var raw = reader.ValueSpan;
        if (!reader.ValueIsEscaped && raw.Length <= Utf8StringInterner.MaxKeyBytes)
        {
            if (_strings.TryGet(raw, out string s, out int slot))
            {
                value = Value.FromString(s);
                return true;
            }
            if (!TryGetString(ref reader, out var text)) return false;
            _strings.Store(slot, raw, text!);
            value = Value.FromString(text);
            return true;
        }
        if (!TryGetString(ref reader, out var str)) return false;
        value = Value.FromString(str);
        return true;
    }

    /// <summary>The token's text; false for text the document path could not turn into a string (invalid UTF-8).</summary>
    private static bool TryGetString(ref Utf8JsonReader reader, out string? s)
    {
        try
        {
            s = reader.GetString();
            return s is not null;
        }
        catch (InvalidOperationException)
        {
            s = null;
            return false;
        }
    }
}
