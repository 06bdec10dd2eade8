using Akka.Persistence;
using Akka.Persistence.Snapshot;

namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// The snapshot store beside <see cref="ReplicatedJournal"/>: each persistence id's latest snapshot is one replicated
/// record (<c>snapshot/PERSISTENCE_ID</c>) on a majority of the coordinators' data directories.
/// </summary>
public sealed class ReplicatedSnapshotStore : SnapshotStore
{
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(120);

    private readonly CoordinatorStateReplication _replication = CoordinatorStateReplication.Get(Context.System);
    private readonly Akka.Serialization.Serialization _serialization = Context.System.Serialization;
    private readonly Dictionary<string, SnapshotRecord?> _records = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public static string KeyOf(string persistenceId) => "snapshot/" + persistenceId;

    protected override async Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync();
        try
        {
            var (_, data) = await _replication.ReadAsync(KeyOf(persistenceId), RecoveryDeadline);
            var record = SnapshotRecord.Decode(data);
            // Claim the record under this coordinator's generation (see ReplicatedJournal).
            await _replication.WriteAsync(KeyOf(persistenceId), SnapshotRecord.Encode(record));
            _records[persistenceId] = record;
            if (record is null || record.SequenceNr > criteria.MaxSequenceNr || record.Timestamp > criteria.MaxTimeStamp
                || record.SequenceNr < criteria.MinSequenceNr || record.Timestamp < criteria.MinTimestamp) return null;
            var snapshot = _serialization.Deserialize(record.Payload, record.SerializerId, record.Manifest);
            return new SelectedSnapshot(new SnapshotMetadata(persistenceId, record.SequenceNr, record.Timestamp), snapshot);
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken)
    {
        var serializer = _serialization.FindSerializerFor(snapshot);
        var record = new SnapshotRecord(metadata.SequenceNr, metadata.Timestamp, serializer.Identifier,
            Akka.Serialization.Serialization.ManifestFor(serializer, snapshot), serializer.ToBinary(snapshot));
        await _gate.WaitAsync();
        try
        {
            await _replication.WriteAsync(KeyOf(metadata.PersistenceId), SnapshotRecord.Encode(record));
            _records[metadata.PersistenceId] = record;
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override Task DeleteAsync(SnapshotMetadata metadata, CancellationToken cancellationToken)
        => DeleteWhereAsync(metadata.PersistenceId, r => r.SequenceNr == metadata.SequenceNr);

    protected override Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
        => DeleteWhereAsync(persistenceId, r => r.SequenceNr <= criteria.MaxSequenceNr && r.Timestamp <= criteria.MaxTimeStamp
            && r.SequenceNr >= criteria.MinSequenceNr && r.Timestamp >= criteria.MinTimestamp);

    private async Task DeleteWhereAsync(string persistenceId, Func<SnapshotRecord, bool> match)
    {
        await _gate.WaitAsync();
        try
        {
            if (!_records.TryGetValue(persistenceId, out var record))
            {
                record = SnapshotRecord.Decode((await _replication.ReadAsync(KeyOf(persistenceId), RecoveryDeadline)).Data);
            }
            if (record is null || !match(record)) return;
            await _replication.WriteAsync(KeyOf(persistenceId), SnapshotRecord.Encode(null));
            _records[persistenceId] = null;
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>A persistence id's latest snapshot: its sequence number, time, and the payload as its serializer wrote it.</summary>
public sealed record SnapshotRecord(long SequenceNr, DateTime Timestamp, int SerializerId, string Manifest, byte[] Payload)
{
    /// <summary>No snapshot: an empty record.</summary>
    public static byte[] Encode(SnapshotRecord? r)
    {
        if (r is null) return [];
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(1);
            w.Write(r.SequenceNr);
            w.Write(r.Timestamp.ToUniversalTime().Ticks);
            w.Write(r.SerializerId);
            w.Write(r.Manifest);
            w.Write(r.Payload.Length);
            w.Write(r.Payload);
        }
        return ms.ToArray();
    }

    public static SnapshotRecord? Decode(byte[] data)
    {
        if (data.Length == 0) return null;
        using var r = new BinaryReader(new MemoryStream(data));
        if (r.ReadInt32() != 1) throw new System.Runtime.Serialization.SerializationException("unknown coordinator snapshot record format");
        long seq = r.ReadInt64();
        var ts = new DateTime(r.ReadInt64(), DateTimeKind.Utc);
        int serializerId = r.ReadInt32();
        string manifest = r.ReadString();
        var payload = r.ReadBytes(r.ReadInt32());
        return new SnapshotRecord(seq, ts, serializerId, manifest, payload);
    }
}
