using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;

namespace Varpulis.Actors.Connectors.DeadLetters;

/// <summary>
/// The compact binary layout of dead letters: what the DLQ journals (<see cref="DeadLetterBlock"/>), snapshots
/// (<see cref="DeadLetterBlockSnapshot"/>) and keeps in memory (<see cref="DeadLetterState"/>). A block holds the letters
/// of one write; the output event is stored as its UTF-8 JSON bytes, and a letter's connector, topic, key and error,
/// which repeat within a block, are written once. In memory a block is one byte array (no object per letter), so a
/// large DLQ costs the garbage collector almost nothing; letters are decoded when they are read (paging, replay).
/// </summary>
public static class DeadLetterLayout
{
    // block v1:    [1][count, 4 LE][letter]*
    // letter:      [id, 8 LE][UTC ticks, 8 LE][offset minutes, 2 LE][connector][topic][key][error][event JSON]
    // string:      [length, 4 LE] then UTF-8; -1 = null, -2 = the same as the previous letter's in the block
    // snapshot v1: [1][next id, 8][settled sequence nr, 8][block count, 4]([block length, 4][block])*
    private const byte Version = 1;
    private const int Null = -1;
    private const int SameAsPrevious = -2;

    /// <summary>Builds one block; reusable (<see cref="Reset"/>) so that its buffer is allocated once.</summary>
    public sealed class BlockWriter
    {
        private readonly ArrayBufferWriter<byte> _w = new(4096);
        private string? _connector;
        private string? _topic;
        private string? _key;
        private string? _error;

        public BlockWriter()
        {
            Reset();
        }

        public int Count { get; private set; }

        public void Reset()
        {
            _w.ResetWrittenCount();
            _w.Write<byte>([Version, 0, 0, 0, 0]);
            Count = 0;
            _connector = _topic = _key = _error = null;
        }

        public void Add(long id, DateTimeOffset timestamp, string connector, string? topic, string? key, string error, ReadOnlySpan<byte> eventJson)
        {
            var head = _w.GetSpan(18);
            BinaryPrimitives.WriteInt64LittleEndian(head, id);
            BinaryPrimitives.WriteInt64LittleEndian(head[8..], timestamp.UtcTicks);
            BinaryPrimitives.WriteInt16LittleEndian(head[16..], (short)timestamp.Offset.TotalMinutes);
            _w.Advance(18);
            bool first = Count == 0;
            WriteString(connector, ref _connector, first);
            WriteString(topic, ref _topic, first);
            WriteString(key, ref _key, first);
            WriteString(error, ref _error, first);
            var body = _w.GetSpan(4 + eventJson.Length);
            BinaryPrimitives.WriteInt32LittleEndian(body, eventJson.Length);
            eventJson.CopyTo(body[4..]);
            _w.Advance(4 + eventJson.Length);
            Count++;
        }

        public void Add(DeadLetter l)
            => Add(l.Id, l.Timestamp, l.Connector, l.Topic, l.Key, l.Error, Encoding.UTF8.GetBytes(l.EventJson));

        /// <summary>The block written so far (a new array).</summary>
        public byte[] ToArray()
        {
            var bytes = _w.WrittenSpan.ToArray();
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), Count);
            return bytes;
        }

        private void WriteString(string? value, ref string? previous, bool first)
        {
            if (value is null)
            {
                WriteInt32(_w, Null);
            }
            else if (!first && string.Equals(value, previous, StringComparison.Ordinal))
            {
                WriteInt32(_w, SameAsPrevious);
            }
            else
            {
                var span = _w.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
                int n = Encoding.UTF8.GetBytes(value, span[4..]);
                BinaryPrimitives.WriteInt32LittleEndian(span, n);
                _w.Advance(4 + n);
            }
            previous = value;
        }
    }

    /// <summary>One block holding <paramref name="letters"/>.</summary>
    public static byte[] Block(IEnumerable<DeadLetter> letters)
    {
        var w = new BlockWriter();
        foreach (var l in letters) w.Add(l);
        return w.ToArray();
    }

    /// <summary>The letters of a block, in order.</summary>
    public static List<DeadLetter> Read(byte[] block)
    {
        var r = new Reader(block);
        int count = r.Start();
        var letters = new List<DeadLetter>(count);
        string? connector = null, topic = null, key = null, error = null;
        for (int i = 0; i < count; i++)
        {
            long id = r.Int64();
            long ticks = r.Int64();
            short offsetMinutes = r.Int16();
            connector = r.String(connector) ?? throw new SerializationException("dead letter without a connector");
            topic = r.String(topic);
            key = r.String(key);
            error = r.String(error) ?? throw new SerializationException("dead letter without an error");
            int n = r.Int32();
            if (n < 0) throw new SerializationException("dead letter without an event");
            string eventJson = Encoding.UTF8.GetString(r.Take(n));
            var timestamp = new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
            letters.Add(new DeadLetter(id, timestamp, connector, topic, key, error, eventJson));
        }
        return letters;
    }

    /// <summary>The ids of a block's letters, in order, without decoding the rest.</summary>
    public static long[] Ids(byte[] block)
    {
        var r = new Reader(block);
        var ids = new long[r.Start()];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = r.Int64();
            r.Take(10);
            for (int s = 0; s < 5; s++)
            {
                int n = r.Int32();
                if (n > 0) r.Take(n);
            }
        }
        return ids;
    }

    internal static byte[] Write(DeadLetterBlockSnapshot s)
    {
        var w = new ArrayBufferWriter<byte>(21 + s.Blocks.Sum(b => 4 + b.Length));
        w.Write([Version]);
        WriteInt64(w, s.NextId);
        WriteInt64(w, s.SettledSequenceNr);
        WriteInt32(w, s.Blocks.Count);
        foreach (var b in s.Blocks)
        {
            WriteInt32(w, b.Length);
            w.Write(b);
        }
        return w.WrittenSpan.ToArray();
    }

    internal static DeadLetterBlockSnapshot ReadSnapshot(byte[] bytes)
    {
        var r = new Reader(bytes);
        if (r.Byte() != Version) throw new SerializationException("unknown DLQ snapshot layout");
        long nextId = r.Int64();
        long settled = r.Int64();
        int count = r.Int32();
        if (count < 0) throw new SerializationException("negative DLQ block count");
        var blocks = new List<byte[]>(count);
        for (int i = 0; i < count; i++) blocks.Add(r.Take(r.Int32()).ToArray());
        return new DeadLetterBlockSnapshot(nextId, settled, blocks);
    }

    private static void WriteInt32(ArrayBufferWriter<byte> w, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), value);
        w.Advance(4);
    }

    private static void WriteInt64(ArrayBufferWriter<byte> w, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), value);
        w.Advance(8);
    }

    private ref struct Reader(byte[] bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _pos;

        /// <summary>Reads a block's header; its letter count.</summary>
        public int Start()
        {
            if (Byte() != Version) throw new SerializationException("unknown dead letter block layout");
            int count = Int32();
            return count >= 0 ? count : throw new SerializationException("negative dead letter count");
        }

        public byte Byte() => Take(1)[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public short Int16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

        public string? String(string? previous)
        {
            int n = Int32();
            return n switch
            {
                Null => null,
                SameAsPrevious => previous ?? throw new SerializationException("dead letter field refers to a previous letter that has none"),
                < 0 => throw new SerializationException($"bad string length {n} in a dead letter"),
                _ => Encoding.UTF8.GetString(Take(n)),
            };
        }

        public ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || _pos + n > _bytes.Length) throw new SerializationException("truncated dead letter payload");
            var s = _bytes.Slice(_pos, n);
            _pos += n;
            return s;
        }
    }
}
