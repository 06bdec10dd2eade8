using System.Buffers;
using System.Runtime.CompilerServices;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Io;

/// <summary>
/// Streams events out of a <c>.evt</c> file (vpl.md §8). Parses UTF-8 bytes in place from one pooled buffer, so
/// memory does not depend on the file size; per event it allocates only the <see cref="Event"/> and its field array
/// (short strings are interned, field slots are cached per type and position).
/// </summary>
/// <remarks>
/// <para>Grammar, one line at a time (leading and trailing spaces and tabs ignored):</para>
/// <list type="bullet">
/// <item>blank; a comment starting with <c>#</c> or <c>//</c>;</item>
/// <item><c>BATCH n</c>: the current offset becomes n milliseconds (sticky);</item>
/// <item><c>[@offset] Type { field: value, ... }</c>; <c>[@offset] Type(value, ...)</c>; <c>[@offset] {"event_type": ...}</c>
/// (a JSON event as the REST API takes it), each optionally followed by a <c>#</c> or <c>//</c> comment.
/// <c>@offset</c> is an integer with unit <c>ms</c>, <c>s</c> or <c>m</c> (none = ms) and applies to its line only.</item>
/// </list>
/// <para>Decisions where the spec is silent: a trailing comma before <c>}</c>, <c>)</c> or <c>]</c> is allowed; field
/// names and map keys are identifiers or quoted strings; a duplicate field or map key is an error; positional values
/// of a <b>declared</b> type fill its declared fields in order (too many values is an error), those of an undeclared
/// type go to <c>field_0</c>, <c>field_1</c>...; a number token that is not a complete number (<c>10.0.0.1</c>,
/// <c>5s</c>) is a bare word, so a string; a float literal beyond the float range is an error; a UTF-8 byte-order
/// mark at the start is skipped; lines end at <c>\n</c> (a preceding <c>\r</c> is dropped) and may be at most
/// <see cref="MaxLineBytes"/> bytes long.</para>
/// <para>After an <see cref="EvtFormatException"/> the reader is positioned after the bad line, so reading may go on.</para>
/// </remarks>
public sealed partial class EvtReader : IDisposable
{
    /// <summary>The longest line accepted, in bytes (without its line terminator).</summary>
    public const int MaxLineBytes = 1 << 20;

    /// <summary>How many skipped-line errors <see cref="SkippedErrors"/> keeps.</summary>
    public const int MaxErrorsKept = 100;

    private const int BufferSize = MaxLineBytes + (64 << 10);

    private readonly Stream _stream;
    private readonly EvtReaderOptions _options;
    private readonly EventBuilder _builder;
    private readonly List<EvtFormatError> _skippedErrors = new();
    private byte[] _buf;
    private int _pos;
    private int _end;
    private bool _eof;
    private bool _bomChecked;
    private bool _disposed;
    private int _line;
    private long _batchOffsetNanos;
    private PackedEventList? _pack;
    private bool _packed;

    public EvtReader(Stream stream, TypeRegistry types, EvtReaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(options);
        _stream = stream;
        _options = options;
        _builder = new EventBuilder(types);
        _buf = ArrayPool<byte>.Shared.Rent(BufferSize);
        _typeLookup = _typeCaches.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>
    /// Sets up a reader of one block of a larger input (<see cref="EvtParallelLoader"/>): the lines before it (for line
    /// numbers), whether it starts the input (a byte-order mark is skipped only there), the <c>BATCH</c> offset in force
    /// where it starts, and whether the type registry is frozen (see <see cref="EventBuilder.RegistryFrozen"/>).
    /// </summary>
    internal void StartBlock(int linesBefore, bool startOfInput, long batchOffsetNanos, bool freezeRegistry)
    {
        _line = linesBefore;
        _bomChecked = !startOfInput;
        _batchOffsetNanos = batchOffsetNanos;
        _builder.RegistryFrozen = freezeRegistry;
        StartOffsetEvents = new List<int>();
    }

    /// <summary>The <c>BATCH</c> offset in force after the lines read so far.</summary>
    internal long BatchOffsetNanos => _batchOffsetNanos;

    /// <summary>A <c>BATCH</c> line was read.</summary>
    internal bool SawBatch { get; private set; }

    /// <summary>
    /// After <see cref="StartBlock"/>: the indices (in the packed list read into) of the events that took the offset the
    /// block started with (no <c>@</c> offset, before any <c>BATCH</c> line of the block).
    /// </summary>
    internal List<int>? StartOffsetEvents { get; private set; }

    private bool _tookStartOffset;

    /// <summary>A line needed a type or field the frozen registry does not hold.</summary>
    internal bool RefusedRegistryChange => _builder.RefusedRegistryChange;

    /// <summary>Lines consumed so far (blank, comment and skipped lines included).</summary>
    public long LinesRead => _line;

    /// <summary>Malformed lines skipped (with <see cref="EvtReaderOptions.SkipInvalid"/>).</summary>
    public int SkippedLines { get; private set; }

    /// <summary>The first <see cref="MaxErrorsKept"/> skipped lines' errors.</summary>
    public IReadOnlyList<EvtFormatError> SkippedErrors => _skippedErrors;

    /// <summary>
    /// Reads the next event; false at the end of the input. <paramref name="offsetNanos"/> is the line's replay
    /// offset (its <c>@</c> offset, else the current <c>BATCH</c> offset) for wall-clock pacing. Throws
    /// <see cref="EvtFormatException"/> on a malformed line unless <see cref="EvtReaderOptions.SkipInvalid"/>.
    /// </summary>
    public bool TryRead(out Event? e, out long offsetNanos)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _pack = null;
        return Next(out e, out offsetNanos);
    }

    /// <summary>The next event line: built as an object, or appended to <see cref="_pack"/> when set (then <paramref name="e"/> is null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Next(out Event? e, out long offsetNanos)
    {
        while (true)
        {
            int kind = NextLine(out int start, out int length);
            if (kind == NoLine)
            {
                e = null;
                offsetNanos = _batchOffsetNanos;
                return false;
            }
            _line++;
            if (kind == TooLongLine)
            {
                Report(1, $"line is longer than {MaxLineBytes} bytes");
                continue;
            }
            var line = new ReadOnlySpan<byte>(_buf, start, length);
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            _sp = 0;
            _packed = false;
            if (ParseLine(line, out e, out offsetNanos))
            {
                if (_packed && _tookStartOffset) StartOffsetEvents?.Add(_pack!.Count - 1);
                if (e is not null || _packed) return true;
                continue;
            }
            Report(ColumnOf(line, _errPos), _errMessage!);
        }
    }

    /// <summary>
    /// Reads up to <paramref name="max"/> events into <paramref name="into"/> (and their offsets into
    /// <paramref name="offsets"/> when given); returns how many were read, 0 at the end of the input.
    /// </summary>
    public int ReadBatch(List<Event> into, List<long>? offsets, int max)
    {
        ArgumentNullException.ThrowIfNull(into);
        int n = 0;
        while (n < max && TryRead(out var e, out long offset))
        {
            into.Add(e!);
            offsets?.Add(offset);
            n++;
        }
        return n;
    }

    /// <summary>
    /// Reads up to <paramref name="max"/> events into a <see cref="PackedEventList"/> without building event objects
    /// (and their offsets into <paramref name="offsets"/> when given); returns how many were read, 0 at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int ReadBatch(PackedEventList into, List<long>? offsets, int max)
    {
        ArgumentNullException.ThrowIfNull(into);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _pack = into;
        try
        {
            int n = 0;
            while (n < max && Next(out _, out long offset))
            {
                offsets?.Add(offset);
                n++;
            }
            return n;
        }
        finally
        {
            _pack = null;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = Array.Empty<byte>();
        if (!_options.LeaveOpen) _stream.Dispose();
    }

    private void Report(int column, string message)
    {
        var error = new EvtFormatError(_options.Path, _line, column, message);
        if (!_options.SkipInvalid) throw new EvtFormatException(error);
        SkippedLines++;
        if (_skippedErrors.Count < MaxErrorsKept) _skippedErrors.Add(error);
    }

    /// <summary>1-based column of a byte offset: the characters (UTF-8 sequences) before it, plus one.</summary>
    private static int ColumnOf(ReadOnlySpan<byte> line, int bytePos)
    {
        bytePos = Math.Clamp(bytePos, 0, line.Length);
        int col = 1;
        foreach (byte b in line[..bytePos])
        {
            if ((b & 0xC0) != 0x80) col++;
        }
        return col;
    }

    // ---------------------------------------------------------------- lines

    private const int NoLine = 0;
    private const int OneLine = 1;
    private const int TooLongLine = 2;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int NextLine(out int start, out int length)
    {
        if (!_bomChecked) SkipByteOrderMark();
        while (true)
        {
            var pending = new ReadOnlySpan<byte>(_buf, _pos, _end - _pos);
            int nl = pending.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                start = _pos;
                length = nl;
                _pos += nl + 1;
                return LineKind(pending[..nl]);
            }
            if (pending.Length > MaxLineBytes + 1)
            {
                SkipRestOfLine();
                start = length = 0;
                return TooLongLine;
            }
            if (_eof)
            {
                start = _pos;
                length = pending.Length;
                _pos = _end;
                return length == 0 ? NoLine : LineKind(pending);
            }
            Fill();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LineKind(ReadOnlySpan<byte> line)
    {
        int n = line.Length;
        if (n > 0 && line[n - 1] == (byte)'\r') n--;
        return n > MaxLineBytes ? TooLongLine : OneLine;
    }

    /// <summary>Moves the unread bytes to the front of the buffer and reads more after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Fill()
    {
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buf, _pos, _buf, 0, _end - _pos);
            _end -= _pos;
            _pos = 0;
        }
        int read = _stream.Read(_buf, _end, BufferSize - _end);
        if (read <= 0) _eof = true;
        else _end += read;
    }

    /// <summary>Discards the rest of an over-long line without holding it in memory.</summary>
    private void SkipRestOfLine()
    {
        while (true)
        {
            _pos = _end = 0;
            Fill();
            if (_eof) return;
            int nl = new ReadOnlySpan<byte>(_buf, 0, _end).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                _pos = nl + 1;
                return;
            }
        }
    }

    private void SkipByteOrderMark()
    {
        while (_end - _pos < 3 && !_eof) Fill();
        if (_end - _pos >= 3 && _buf[_pos] == 0xEF && _buf[_pos + 1] == 0xBB && _buf[_pos + 2] == 0xBF) _pos += 3;
        _bomChecked = true;
    }
}
