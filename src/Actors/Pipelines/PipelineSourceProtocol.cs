using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Varpulis.Actors.Connectors;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// Where a journaled batch (<see cref="EventBatchAccepted.Source"/>) came from when one of the pipeline's source
/// connectors read it: the connector and the highest Kafka offset per partition it holds (none for MQTT and files).
/// Journaling the offsets with the events, in one write, is what lets a restarted pipeline drop the records Kafka sends
/// again, so that each record counts once.
/// </summary>
public sealed record SourceOrigin(string Connector, IReadOnlyList<KafkaPartitionOffset> Offsets);

/// <summary>
/// A batch read by one of the pipeline's source connectors as journals before <see cref="EventBatchAccepted"/> with a
/// <see cref="SourceOrigin"/> hold it: the batch body (<c>{"events": [...]}</c>, replayed through the same code as the
/// REST batch API), its ingestion time, and the highest Kafka offset per partition it holds. No longer written; still read.
/// </summary>
public sealed record SourceEventsAccepted(long IngestTimeNanos, string Connector, byte[] Body, IReadOnlyList<KafkaPartitionOffset> Offsets) : IPipelineEvent
{
    // [1][ingest time, 8 LE][connector length, 4][connector][offset count, 4]([topic length, 4][topic][partition, 4][offset, 8])*[body]
    internal static byte[] Write(SourceEventsAccepted e)
    {
        int size = 1 + 8 + 4 + Encoding.UTF8.GetByteCount(e.Connector) + 4;
        foreach (var o in e.Offsets) size += 4 + Encoding.UTF8.GetByteCount(o.Topic) + 12;
        var bytes = new byte[size + e.Body.Length];
        var span = bytes.AsSpan();
        span[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], e.IngestTimeNanos);
        int pos = 9;
        pos += WriteString(span[pos..], e.Connector);
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], e.Offsets.Count);
        pos += 4;
        foreach (var o in e.Offsets)
        {
            pos += WriteString(span[pos..], o.Topic);
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], o.Partition);
            BinaryPrimitives.WriteInt64LittleEndian(span[(pos + 4)..], o.Offset);
            pos += 12;
        }
        e.Body.CopyTo(span[pos..]);
        return bytes;
    }

    internal static SourceEventsAccepted Read(byte[] bytes)
    {
        try
        {
            var span = bytes.AsSpan();
            if (span[0] != 1) throw new SerializationException("invalid SourceEventsAccepted payload");
            long time = BinaryPrimitives.ReadInt64LittleEndian(span[1..]);
            int pos = 9;
            var connector = ReadString(span, ref pos);
            int count = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            pos += 4;
            var offsets = new List<KafkaPartitionOffset>(Math.Min(count, 1024));
            for (int i = 0; i < count; i++)
            {
                var topic = ReadString(span, ref pos);
                offsets.Add(new KafkaPartitionOffset(topic, BinaryPrimitives.ReadInt32LittleEndian(span[pos..]), BinaryPrimitives.ReadInt64LittleEndian(span[(pos + 4)..])));
                pos += 12;
            }
            return new SourceEventsAccepted(time, connector, span[pos..].ToArray(), offsets);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new SerializationException("truncated SourceEventsAccepted payload: " + ex.Message);
        }
    }

    private static int WriteString(Span<byte> span, string s)
    {
        int n = Encoding.UTF8.GetBytes(s, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, n);
        return 4 + n;
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int pos)
    {
        int n = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
        var s = Encoding.UTF8.GetString(span.Slice(pos + 4, n));
        pos += 4 + n;
        return s;
    }
}
