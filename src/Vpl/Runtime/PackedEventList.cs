using System.Runtime.CompilerServices;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// An append-only list of parsed events kept in columns (type, timestamp, field values in one pooled value array per
/// chunk) instead of one <see cref="Event"/> object and one field array per event. Holding a million events this way
/// costs about 20 bytes plus 16 per field each, and the garbage collector sees a few large arrays instead of two
/// million small objects that every collection would have to mark and promote. <see cref="Materialize"/> rebuilds
/// the exact events a reader would have built (same type, timestamp and field array), so an engine fed from this
/// list behaves as if fed the events directly. Not thread-safe.
/// </summary>
public sealed class PackedEventList
{
    private const int ChunkBits = 14;
    private const int ChunkEvents = 1 << ChunkBits;

    private sealed class Chunk(int valueCapacity)
    {
        public readonly EventType[] Types = new EventType[ChunkEvents];
        public readonly long[] Timestamps = new long[ChunkEvents];
        // Ends[i] is the end of event i's values in Values; event i starts where event i-1 ended.
        public readonly int[] Ends = new int[ChunkEvents];
        public Value[] Values = new Value[valueCapacity];
        public int Count;
        public int ValueCount;
    }

    private readonly List<Chunk> _chunks = new();
    private Chunk? _tail;
    private int _tailIndex = -1;

    public int Count { get; private set; }

    /// <summary>Appends an event: its type, its timestamp and its field array as <see cref="Event.Fields"/> would hold it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(EventType type, long timestamp, ReadOnlySpan<Value> fields)
    {
        ArgumentNullException.ThrowIfNull(type);
        var c = _tail;
        if (c is null || c.Count == ChunkEvents)
        {
            _tailIndex++;
            if (_tailIndex < _chunks.Count)
            {
                // A chunk kept by Clear: its arrays are used again.
                c = _chunks[_tailIndex];
            }
            else
            {
                // A new chunk's value pool starts at the size the previous one ended with: files repeat their shapes.
                c = new Chunk(c is null ? ChunkEvents * 2 : Math.Max(c.ValueCount, 1024));
                _chunks.Add(c);
            }
            _tail = c;
        }
        int end = c.ValueCount + fields.Length;
        if (end > c.Values.Length) Array.Resize(ref c.Values, Math.Max(end, c.Values.Length + (c.Values.Length >> 2)));
        fields.CopyTo(c.Values.AsSpan(c.ValueCount));
        c.Types[c.Count] = type;
        c.Timestamps[c.Count] = timestamp;
        c.Ends[c.Count] = end;
        c.ValueCount = end;
        c.Count++;
        Count++;
    }

    /// <summary>Appends an event object's content.</summary>
    public void Add(Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Add(e.Type, e.Timestamp, e.Fields);
    }

    /// <summary>Removes all events, keeping the arrays for the events added next (a list reused for block after block).</summary>
    public void Clear()
    {
        for (int i = 0; i <= _tailIndex && i < _chunks.Count; i++)
        {
            var c = _chunks[i];
            c.Count = 0;
            c.ValueCount = 0;
        }
        _tail = null;
        _tailIndex = -1;
        Count = 0;
    }

    /// <summary>Appends all events of <paramref name="other"/>, in order (their values are copied).</summary>
    public void AddRange(PackedEventList other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int k = 0; k <= other._tailIndex; k++)
        {
            var c = other._chunks[k];
            int from = 0;
            for (int i = 0; i < c.Count; i++)
            {
                int to = c.Ends[i];
                Add(c.Types[i], c.Timestamps[i], c.Values.AsSpan(from, to - from));
                from = to;
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="delta"/> to the timestamps of the events at <paramref name="indices"/>; false (and nothing
    /// changed) when a timestamp would leave the range of a long.
    /// </summary>
    internal bool TryShiftTimestamps(List<int> indices, long delta)
    {
        foreach (int index in indices)
        {
            var c = ChunkOf(index, out int i);
            long old = c.Timestamps[i];
            long ts = unchecked(old + delta);
            if (((old ^ ts) & (delta ^ ts)) < 0) return false;
        }
        foreach (int index in indices)
        {
            var c = ChunkOf(index, out int i);
            c.Timestamps[i] += delta;
        }
        return true;
    }

    /// <summary>Field <paramref name="slot"/> of event <paramref name="index"/> as <see cref="Event"/>'s indexer gives it, without building the event.</summary>
    public Value FieldAt(int index, int slot)
    {
        var c = ChunkOf(index, out int i);
        int start = i == 0 ? 0 : c.Ends[i - 1];
        return (uint)slot < (uint)(c.Ends[i] - start) ? c.Values[start + slot] : default;
    }

    /// <summary>Builds the events at <paramref name="indices"/> (the first <paramref name="count"/>) into <paramref name="into"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MaterializeAt(int[] indices, int count, List<Event> into)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(into);
        for (int k = 0; k < count; k++) into.Add(Materialize(indices[k]));
    }

    /// <summary>The type of event <paramref name="index"/>, without building the event.</summary>
    public EventType TypeAt(int index)
    {
        var c = ChunkOf(index, out int i);
        return c.Types[i];
    }

    /// <summary>Builds event <paramref name="index"/>: a new <see cref="Event"/> with its own field array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Event Materialize(int index)
    {
        var c = ChunkOf(index, out int i);
        int start = i == 0 ? 0 : c.Ends[i - 1];
        int length = c.Ends[i] - start;
        var values = length == 0 ? Array.Empty<Value>() : c.Values.AsSpan(start, length).ToArray();
        return new Event(c.Types[i], c.Timestamps[i], values);
    }

    /// <summary>Builds events <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 into <paramref name="into"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MaterializeRange(int start, int count, List<Event> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if ((uint)start > (uint)Count || (uint)count > (uint)(Count - start)) throw new ArgumentOutOfRangeException(nameof(count));
        while (count > 0)
        {
            var c = _chunks[start >> ChunkBits];
            int i = start & (ChunkEvents - 1);
            int n = Math.Min(count, c.Count - i);
            var types = c.Types;
            var stamps = c.Timestamps;
            var ends = c.Ends;
            var values = c.Values;
            int from = i == 0 ? 0 : ends[i - 1];
            for (int k = i; k < i + n; k++)
            {
                int to = ends[k];
                var fields = to == from ? Array.Empty<Value>() : values.AsSpan(from, to - from).ToArray();
                into.Add(new Event(types[k], stamps[k], fields));
                from = to;
            }
            start += n;
            count -= n;
        }
    }

    private Chunk ChunkOf(int index, out int inChunk)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        inChunk = index & (ChunkEvents - 1);
        return _chunks[index >> ChunkBits];
    }
}
