using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Io;

public sealed partial class EvtReader
{
    private const string UnknownSyntax = "unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object";
    private const string TrailingText = "unexpected text after the event; a comment starts with '#'";
    private const string BadBatch = "BATCH expects a non-negative integer (ms)";
    private const string BadOffset = "'@' expects a non-negative offset like 500, 500ms, 2s or 1m";
    private const int CachedFieldPositions = 64;

    /// <summary>Per event type: the type, its name bytes, and the last field name seen at each position with its slot.</summary>
    private sealed class TypeCache(EventType type, byte[] name)
    {
        public readonly EventType Type = type;
        public readonly byte[] Name = name;
        public byte[]?[] FieldNames = new byte[]?[8];
        public int[] FieldSlots = new int[8];
        public int[]? PositionalSlots;
    }

    private readonly Dictionary<string, TypeCache> _typeCaches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TypeCache>.AlternateLookup<ReadOnlySpan<char>> _typeLookup;
    private readonly TypeCache?[] _recentTypes = new TypeCache?[8];
    private int _recentNext;
    private TypeCache? _lastType;

    private int _errPos;
    private string? _errMessage;

    private bool Fail(int pos, string message)
    {
        _errPos = pos;
        _errMessage = message;
        return false;
    }

    /// <summary>Parses one line: an event (<paramref name="e"/> set), or a blank/comment/BATCH line (<paramref name="e"/> null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseLine(ReadOnlySpan<byte> line, out Event? e, out long offset)
    {
        e = null;
        offset = _batchOffsetNanos;
        _tookStartOffset = false;
        int pos = SkipWs(line, 0);
        if (pos == line.Length || IsCommentStart(line, pos)) return true;
        if (line[pos] == (byte)'@')
        {
            if (!ParseAtOffset(line, ref pos, out offset)) return false;
            pos = SkipWs(line, pos);
            if (pos == line.Length || IsCommentStart(line, pos)) return Fail(pos, "expected an event after the '@' offset");
        }
        else if (IsBatchDirective(line, pos))
        {
            SawBatch = true;
            return ParseBatch(line, pos + 5);
        }
        else if (!SawBatch)
        {
            _tookStartOffset = true;
        }
        long ts = _options.BaseTimeNanos + offset;
        if (((_options.BaseTimeNanos ^ ts) & (offset ^ ts)) < 0) return Fail(pos, "event time out of range");
        return line[pos] == (byte)'{' ? ParseJsonLine(line, pos, ts, out e) : ParseEventLine(line, pos, ts, out e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsBatchDirective(ReadOnlySpan<byte> line, int pos)
    {
        if (!line[pos..].StartsWith("BATCH"u8)) return false;
        int after = pos + 5;
        if (after == line.Length) return true;
        if (!IsWs(line[after]) && line[after] != (byte)'#') return false;
        int next = SkipWs(line, after);
        return next == line.Length || (line[next] != (byte)'{' && line[next] != (byte)'(');
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseBatch(ReadOnlySpan<byte> line, int pos)
    {
        pos = SkipWs(line, pos);
        int numStart = pos;
        if (!TryParseUnsigned(line, ref pos, out long ms) || !ValueOps.TryMul(ms, TimeFormat.NanosPerMilli, out long nanos)) return Fail(numStart, BadBatch);
        int end = SkipWs(line, pos);
        if (end < line.Length && !IsCommentStart(line, end)) return Fail(numStart, BadBatch);
        _batchOffsetNanos = nanos;
        return true;
    }

    private bool ParseAtOffset(ReadOnlySpan<byte> line, ref int pos, out long offset)
    {
        int at = pos;
        pos++;
        offset = 0;
        if (!TryParseUnsigned(line, ref pos, out long n)) return Fail(at, BadOffset);
        long unit = TimeFormat.NanosPerMilli;
        var rest = line[pos..];
        if (rest.StartsWith("ms"u8))
        {
            pos += 2;
        }
        else if (rest.StartsWith("s"u8))
        {
            unit = TimeFormat.NanosPerSecond;
            pos++;
        }
        else if (rest.StartsWith("m"u8))
        {
            unit = TimeFormat.NanosPerMinute;
            pos++;
        }
        if (pos < line.Length && !IsWs(line[pos])) return Fail(at, BadOffset);
        if (!ValueOps.TryMul(n, unit, out offset)) return Fail(at, BadOffset);
        return true;
    }

    /// <summary>Digits only, at most 18 of them (so the value fits in a long).</summary>
    private static bool TryParseUnsigned(ReadOnlySpan<byte> line, ref int pos, out long value)
    {
        value = 0;
        int start = pos;
        while (pos < line.Length && IsDigit(line[pos]))
        {
            if (pos - start >= 18) return false;
            value = (value * 10) + (line[pos] - (byte)'0');
            pos++;
        }
        return pos > start;
    }

    // ---------------------------------------------------------------- brace and positional events

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseEventLine(ReadOnlySpan<byte> line, int pos, long ts, out Event? e)
    {
        e = null;
        int typeStart = pos;
        if (!IsIdentStart(line[pos])) return Fail(pos, Unexpected(line, pos, UnknownSyntax));
        int typeEnd = ScanIdent(line, pos);
        pos = SkipWs(line, typeEnd);
        if (pos == line.Length || (line[pos] != (byte)'{' && line[pos] != (byte)'(')) return Fail(pos, Unexpected(line, pos, UnknownSyntax));
        var tc = GetTypeCache(line[typeStart..typeEnd], typeStart);
        if (tc is null) return false;
        _builder.Begin(tc.Type);
        bool ok = line[pos] == (byte)'{' ? ParseBraceFields(line, ref pos, tc) : ParsePositional(line, ref pos, tc);
        if (!ok) return false;
        int end = SkipWs(line, pos);
        if (end < line.Length && !IsCommentStart(line, end)) return Fail(end, Unexpected(line, end, TrailingText));
        if (_pack is not null)
        {
            if (!_builder.TryBuild(ts, _pack, out var packError)) return Fail(typeStart, packError!);
            _packed = true;
            return true;
        }
        if (!_builder.TryBuild(ts, out e, out var error)) return Fail(typeStart, error!);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseBraceFields(ReadOnlySpan<byte> line, ref int pos, TypeCache tc)
    {
        pos++;
        int index = 0;
        while (true)
        {
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected '}' to close the event");
            byte c = line[pos];
            if (c == (byte)'}')
            {
                pos++;
                return true;
            }
            int nameStart = pos;
            int slot;
            if (IsIdentStart(c))
            {
                // Fast path: the same name as last time at this position (one comparison, no scan).
                var names = tc.FieldNames;
                if (index < names.Length && names[index] is { } cached && line[pos..].StartsWith(cached)
                    && (pos + cached.Length == line.Length || !IsIdentPart(line[pos + cached.Length])))
                {
                    slot = tc.FieldSlots[index];
                    pos += cached.Length;
                }
                else
                {
                    int nameEnd = ScanIdent(line, pos);
                    slot = ResolveField(tc, index, line[nameStart..nameEnd], nameStart);
                    pos = nameEnd;
                }
            }
            else if (c == (byte)'"' || c == (byte)'\'')
            {
                if (!ParseString(line, ref pos, out string name)) return false;
                slot = ResolveFieldName(name, nameStart);
            }
            else
            {
                return Fail(pos, Unexpected(line, pos, "expected a field name"));
            }
            if (slot < 0) return false;
            pos = SkipWs(line, pos);
            if (pos == line.Length || line[pos] != (byte)':') return Fail(pos, Unexpected(line, pos, "expected ':' after field name"));
            pos = SkipWs(line, pos + 1);
            int valueStart = pos;
            if (!ParseValue(line, ref pos, 0, out var v)) return false;
            if (!_builder.TrySetSlot(slot, v, out var error)) return Fail(valueStart, error!);
            index++;
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected '}' to close the event");
            if (line[pos] == (byte)',')
            {
                pos++;
                continue;
            }
            if (line[pos] == (byte)'}')
            {
                pos++;
                return true;
            }
            return Fail(pos, Unexpected(line, pos, "expected ',' or '}' after field value"));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParsePositional(ReadOnlySpan<byte> line, ref int pos, TypeCache tc)
    {
        pos++;
        int index = 0;
        while (true)
        {
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected ')' to close the event");
            if (line[pos] == (byte)')')
            {
                pos++;
                return true;
            }
            int valueStart = pos;
            if (!ParseValue(line, ref pos, 0, out var v)) return false;
            int slot = PositionalSlot(tc, index, valueStart);
            if (slot < 0) return false;
            if (!_builder.TrySetSlot(slot, v, out var error)) return Fail(valueStart, error!);
            index++;
            pos = SkipWs(line, pos);
            if (pos == line.Length) return Fail(pos, "expected ')' to close the event");
            if (line[pos] == (byte)',')
            {
                pos++;
                continue;
            }
            if (line[pos] == (byte)')')
            {
                pos++;
                return true;
            }
            return Fail(pos, Unexpected(line, pos, "expected ',' or ')' after value"));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private TypeCache? GetTypeCache(ReadOnlySpan<byte> name, int namePos)
    {
        var last = _lastType;
        if (last is not null && name.SequenceEqual(last.Name)) return last;
        foreach (var recent in _recentTypes)
        {
            if (recent is not null && name.SequenceEqual(recent.Name))
            {
                _lastType = recent;
                return recent;
            }
        }
        if (name.Length > EventBuilder.MaxNameLength)
        {
            Fail(namePos, $"event type name longer than {EventBuilder.MaxNameLength} characters");
            return null;
        }
        Span<char> chars = stackalloc char[name.Length];
        Ascii.ToUtf16(name, chars, out _);
        if (!_typeLookup.TryGetValue(chars, out var tc))
        {
            if (!_builder.TryBegin(chars, out var error))
            {
                Fail(namePos, error!);
                return null;
            }
            tc = new TypeCache(_builder.CurrentType!, name.ToArray());
            if (_typeCaches.Count < 4096) _typeCaches[tc.Type.Name] = tc;
        }
        _recentTypes[_recentNext++ & (_recentTypes.Length - 1)] = tc;
        _lastType = tc;
        return tc;
    }

    /// <summary>The slot of an identifier field name: the cached slot when this position saw the same name last time.</summary>
    private int ResolveField(TypeCache tc, int index, ReadOnlySpan<byte> name, int namePos)
    {
        if (index < tc.FieldNames.Length && tc.FieldNames[index] is { } cached && name.SequenceEqual(cached)) return tc.FieldSlots[index];
        if (name.Length > EventBuilder.MaxNameLength)
        {
            Fail(namePos, $"field name longer than {EventBuilder.MaxNameLength} characters");
            return -1;
        }
        Span<char> chars = stackalloc char[name.Length];
        Ascii.ToUtf16(name, chars, out _);
        int slot = _builder.ResolveSlot(chars, out var error);
        if (slot < 0)
        {
            Fail(namePos, error!);
            return -1;
        }
        if (index < CachedFieldPositions)
        {
            if (index >= tc.FieldNames.Length)
            {
                int size = Math.Min(CachedFieldPositions, Math.Max(index + 1, tc.FieldNames.Length * 2));
                Array.Resize(ref tc.FieldNames, size);
                Array.Resize(ref tc.FieldSlots, size);
            }
            tc.FieldNames[index] = name.ToArray();
            tc.FieldSlots[index] = slot;
        }
        return slot;
    }

    private int ResolveFieldName(string name, int namePos)
    {
        int slot = _builder.ResolveSlot(name, out var error);
        if (slot < 0) Fail(namePos, error!);
        return slot;
    }

    /// <summary>Positional value <paramref name="index"/>: the declared field in that position, or <c>field_i</c> of an open type.</summary>
    private int PositionalSlot(TypeCache tc, int index, int valuePos)
    {
        var type = tc.Type;
        if (type.IsDeclared)
        {
            if (index < type.FieldCount) return index;
            Fail(valuePos, $"too many values for event type '{type.Name}' (it declares {type.FieldCount} fields)");
            return -1;
        }
        var slots = tc.PositionalSlots;
        if (slots is not null && index < slots.Length && slots[index] > 0) return slots[index] - 1;
        int slot = _builder.ResolveSlot("field_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), out var error);
        if (slot < 0)
        {
            Fail(valuePos, error!);
            return -1;
        }
        if (index < CachedFieldPositions)
        {
            if (slots is null || index >= slots.Length) Array.Resize(ref tc.PositionalSlots, Math.Min(CachedFieldPositions, index + 8));
            tc.PositionalSlots![index] = slot + 1;
        }
        return slot;
    }

    // ---------------------------------------------------------------- JSON events

    private bool ParseJsonLine(ReadOnlySpan<byte> line, int pos, long ts, out Event? e)
    {
        e = null;
        var reader = new Utf8JsonReader(line[pos..], VplJson.ReaderOptions);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            return Fail(pos + (int)(ex.BytePositionInLine ?? 0), "invalid JSON: " + StripJsonPosition(ex.Message));
        }
        using (doc)
        {
            int end = SkipWs(line, pos + (int)reader.BytesConsumed);
            if (end < line.Length && !IsCommentStart(line, end)) return Fail(end, Unexpected(line, end, TrailingText));
            if (!EventJson.TryReadInput(doc.RootElement, _builder, ts, out e, out var error)) return Fail(pos, error!);
            if (_pack is not null)
            {
                _pack.Add(e!);
                e = null;
                _packed = true;
            }
            return true;
        }
    }

    private static string StripJsonPosition(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at < 0 ? message : message[..at]).TrimEnd();
    }

    // ---------------------------------------------------------------- characters

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWs(ReadOnlySpan<byte> line, int pos)
    {
        while (pos < line.Length && IsWs(line[pos])) pos++;
        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWs(byte b) => b == (byte)' ' || b == (byte)'\t';

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsIdentStart(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a' || b == (byte)'_';

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsIdentPart(byte b) => IsIdentStart(b) || IsDigit(b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanIdent(ReadOnlySpan<byte> line, int pos)
    {
        pos++;
        while (pos < line.Length && IsIdentPart(line[pos])) pos++;
        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsCommentStart(ReadOnlySpan<byte> line, int pos)
        => line[pos] == (byte)'#' || (line[pos] == (byte)'/' && pos + 1 < line.Length && line[pos + 1] == (byte)'/');

    /// <summary>The message for an unexpected byte: control characters and invalid UTF-8 are named as such.</summary>
    private static string Unexpected(ReadOnlySpan<byte> line, int pos, string expected)
    {
        if (pos >= line.Length) return expected;
        byte b = line[pos];
        if (b < 0x20 || b == 0x7F) return $"unexpected control character U+{b:X4}";
        if (b >= 0x80 && Rune.DecodeFromUtf8(line[pos..], out _, out _) != System.Buffers.OperationStatus.Done) return "invalid UTF-8";
        return expected;
    }
}
