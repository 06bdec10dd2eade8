using Varpulis.Actors.Connectors.Sources;

namespace Varpulis.Actors.Connectors.Kafka;

/// <summary>
/// The highest journaled offset per (topic, partition) of a pipeline's Kafka sources. A record at or below it was
/// journaled already (it comes again after a crash between the journal write and the offset commit) and is
/// dropped, so the pipeline counts each record once. Pure state: the pipeline journals <see cref="Record"/>'s input
/// with each batch and rebuilds the ledger on recovery.
/// </summary>
public sealed class KafkaOffsetLedger
{
    private readonly Dictionary<(string Topic, int Partition), long> _journaled = new();

    public IReadOnlyDictionary<(string Topic, int Partition), long> Journaled => _journaled;

    public bool IsDuplicate(SourcePosition p)
        => p.Partition >= 0 && _journaled.TryGetValue((p.Topic, p.Partition), out long last) && p.Offset <= last;

    /// <summary>The batch without the records already journaled.</summary>
    public SourceBatch Filter(SourceBatch batch) => batch.Without(IsDuplicate);

    /// <summary>Notes the positions of a journaled batch.</summary>
    public void Record(IEnumerable<SourcePosition> positions)
    {
        foreach (var p in positions)
        {
            if (p.Partition < 0) continue;
            var key = (p.Topic, p.Partition);
            if (!_journaled.TryGetValue(key, out long last) || p.Offset > last) _journaled[key] = p.Offset;
        }
    }
}
