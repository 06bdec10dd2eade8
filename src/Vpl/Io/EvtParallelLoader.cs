using System.Buffers;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Io;

/// <summary>
/// Reads a whole <c>.evt</c> input into a <see cref="PackedEventList"/> on several threads (<c>simulate --preload
/// --workers N</c>): the input is cut into blocks at line ends, the blocks are parsed on the thread pool, and their
/// events are appended in input order. The list ends up holding exactly what one <see cref="EvtReader"/> reads from the
/// same input (same events, order, offsets and type numbering), and a malformed line throws the same
/// <see cref="EvtFormatException"/> (the first one in the input, with its line number).
/// </summary>
/// <remarks>
/// <para>Types and fields are numbered in the order the input first uses them. So that the numbering does not depend
/// on which thread gets there first, blocks are parsed in parallel with the registry frozen: a block that needs a type
/// or field the registry does not hold yet is parsed again, when its turn comes, on the calling thread with the
/// registry open (the first block always is: it meets the input's types). Blocks parsed with the registry frozen only
/// looked up what already existed, and slots are never renumbered, so their events are the same as in order.</para>
/// <para>A <c>BATCH</c> offset carries over to later lines. A block is parsed assuming offset 0 where it starts; when it
/// inherits another one, the events that took it (before the block's first <c>BATCH</c> line, without <c>@</c>) get
/// their timestamps and offsets moved by the difference (or the block is parsed again, with the right offset, when
/// that would overflow or the block has a malformed line).</para>
/// <para>Skipping malformed lines (<see cref="EvtReaderOptions.SkipInvalid"/>) is not supported here: read in order.</para>
/// </remarks>
public static class EvtParallelLoader
{
    /// <summary>How many bytes of input a block holds at least (up to its last line end).</summary>
    public const int BlockBytes = 1 << 20;

    /// <summary>
    /// Reads <paramref name="stream"/> to its end into <paramref name="into"/> (and each event's replay offset into
    /// <paramref name="offsets"/> when given), parsing up to <paramref name="threads"/> blocks at once, each of at least
    /// <paramref name="blockBytes"/> bytes.
    /// </summary>
    public static void Load(Stream stream, TypeRegistry types, EvtReaderOptions options, int threads, PackedEventList into, List<long>? offsets, int blockBytes = BlockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockBytes, 1);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(into);
        if (options.SkipInvalid) throw new ArgumentException("skipping invalid lines needs one reader going through the input in order", nameof(options));
        var cutter = new BlockCutter(stream, blockBytes);
        // Each block's events go into a list taken from here and given back once appended: the lists' arrays (large
        // objects) are used again instead of being allocated per block for the garbage collector.
        var lists = new System.Collections.Concurrent.ConcurrentBag<PackedEventList>();
        var pending = new Queue<Block>();
        long batchOffset = 0;
        int linesBefore = 0;
        bool first = true;
        try
        {
            while (true)
            {
                while (pending.Count <= threads && cutter.Next() is { } block)
                {
                    block.LinesBefore = linesBefore;
                    block.StartOfInput = first;
                    linesBefore += block.Lines;
                    if (first)
                    {
                        // The first block meets the input's types: parsed at once, in order, with the registry open.
                        block.Done = Parse(block, types, options, offsets is not null, 0, freeze: false, lists);
                        first = false;
                    }
                    else
                    {
                        var b = block;
                        b.Task = Task.Run(() => Parse(b, types, options, offsets is not null, 0, freeze: true, lists));
                    }
                    pending.Enqueue(block);
                }
                if (pending.Count == 0) break;
                var head = pending.Dequeue();
                var r = head.Done ?? head.Task!.GetAwaiter().GetResult();
                long shift = batchOffset - r.StartBatchOffset;
                if (r.RefusedRegistryChange || (shift != 0 && (r.Error is not null || !r.Events!.TryShiftTimestamps(r.StartOffsetEvents!, shift))))
                {
                    Recycle(r, lists);
                    r = Parse(head, types, options, offsets is not null, batchOffset, freeze: false, lists);
                }
                else if (shift != 0 && r.Offsets is not null)
                {
                    foreach (int i in r.StartOffsetEvents!) r.Offsets[i] = batchOffset;
                }
                head.Release();
                if (r.Error is not null) throw r.Error;
                into.AddRange(r.Events!);
                if (offsets is not null) offsets.AddRange(r.Offsets!);
                Recycle(r, lists);
                if (r.SawBatch) batchOffset = r.EndBatchOffset;
            }
        }
        finally
        {
            // Blocks still being parsed when a malformed line ends the load: waited for, so their buffers go back.
            foreach (var b in pending)
            {
                try
                {
                    b.Task?.Wait();
                }
                catch (AggregateException)
                {
                    // Their outcome no longer matters: the input failed before them.
                }
                b.Release();
            }
        }
    }

    private static void Recycle(Result r, System.Collections.Concurrent.ConcurrentBag<PackedEventList> lists)
    {
        if (r.Events is null) return;
        r.Events.Clear();
        lists.Add(r.Events);
        r.Events = null;
    }

    private static Result Parse(Block block, TypeRegistry types, EvtReaderOptions options, bool withOffsets, long startBatchOffset, bool freeze,
        System.Collections.Concurrent.ConcurrentBag<PackedEventList> lists)
    {
        var blockOptions = new EvtReaderOptions { BaseTimeNanos = options.BaseTimeNanos, Path = options.Path };
        using var reader = new EvtReader(new MemoryStream(block.Data, 0, block.Length, writable: false), types, blockOptions);
        reader.StartBlock(block.LinesBefore, block.StartOfInput, startBatchOffset, freeze);
        if (!lists.TryTake(out var events)) events = new PackedEventList();
        var offsets = withOffsets ? new List<long>() : null;
        try
        {
            while (reader.ReadBatch(events, offsets, int.MaxValue) > 0)
            {
            }
        }
        catch (EvtFormatException ex)
        {
            events.Clear();
            lists.Add(events);
            if (reader.RefusedRegistryChange) return new Result { RefusedRegistryChange = true };
            return new Result { Error = ex };
        }
        return new Result
        {
            Events = events,
            Offsets = offsets,
            StartBatchOffset = startBatchOffset,
            StartOffsetEvents = reader.StartOffsetEvents,
            SawBatch = reader.SawBatch,
            EndBatchOffset = reader.BatchOffsetNanos,
        };
    }

    private sealed class Result
    {
        public PackedEventList? Events;
        public List<long>? Offsets;
        public EvtFormatException? Error;
        public bool RefusedRegistryChange;
        public long StartBatchOffset;
        public List<int>? StartOffsetEvents;
        public bool SawBatch;
        public long EndBatchOffset;
    }

    private sealed class Block(byte[] data, int length, int lines)
    {
        public byte[] Data { get; private set; } = data;
        public int Length { get; } = length;
        public int Lines { get; } = lines;
        public int LinesBefore;
        public bool StartOfInput;
        public Task<Result>? Task;
        public Result? Done;

        public void Release()
        {
            if (Data.Length == 0) return;
            ArrayPool<byte>.Shared.Return(Data);
            Data = Array.Empty<byte>();
        }
    }

    /// <summary>Cuts the input into blocks of at least <see cref="BlockBytes"/> bytes ending at a line end (the last one at the input's end).</summary>
    private sealed class BlockCutter(Stream stream, int blockBytes)
    {
        private byte[] _carry = Array.Empty<byte>();
        private int _carryLength;
        private bool _eof;

        public Block? Next()
        {
            if (_eof && _carryLength == 0) return null;
            var data = ArrayPool<byte>.Shared.Rent(Math.Max(blockBytes, _carryLength + (blockBytes / 2)));
            _carry.AsSpan(0, _carryLength).CopyTo(data);
            int length = _carryLength;
            int searchFrom = length;
            while (true)
            {
                while (!_eof && length < data.Length)
                {
                    int read = stream.Read(data, length, data.Length - length);
                    if (read <= 0) _eof = true;
                    else length += read;
                }
                int cut = data.AsSpan(searchFrom, length - searchFrom).LastIndexOf((byte)'\n');
                if (cut >= 0 || _eof || length > 2 * (EvtReader.MaxLineBytes + blockBytes))
                {
                    // At the input's end the rest is the last block; a line far longer than a reader accepts is cut
                    // anyway (its block reports it as too long, which ends the load before the next block counts).
                    int end = cut >= 0 ? searchFrom + cut + 1 : length;
                    _carryLength = length - end;
                    if (_carry.Length < _carryLength) _carry = new byte[Math.Max(_carryLength, 64 << 10)];
                    data.AsSpan(end, _carryLength).CopyTo(_carry);
                    if (end == 0)
                    {
                        ArrayPool<byte>.Shared.Return(data);
                        return null;
                    }
                    return new Block(data, end, data.AsSpan(0, end).Count((byte)'\n'));
                }
                // No line end yet: a long line; read on into a larger buffer.
                var larger = ArrayPool<byte>.Shared.Rent(data.Length * 2);
                data.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(data);
                data = larger;
                searchFrom = length;
            }
        }
    }
}
