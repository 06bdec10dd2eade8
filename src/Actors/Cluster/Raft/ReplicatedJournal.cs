using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// The journal of the coordinator singletons (directory, cluster manager, pipeline groups, leadership) on raft
/// coordinators with the embedded journal: each persistence id is one replicated record
/// (<c>journal/PERSISTENCE_ID</c>: its events since the last snapshot and its highest sequence number) written to a
/// majority of the coordinators' data directories before the write is confirmed (<see cref="CoordinatorStateReplication"/>).
/// The singletons snapshot and delete their events regularly, so a record stays small. A recovery reads a majority and
/// takes the newest copy, then writes it back under this coordinator's generation (older writers are refused from then
/// on). A write that no majority stores is rejected: the actor goes on without the event and the request fails.
/// </summary>
public sealed class ReplicatedJournal : AsyncWriteJournal
{
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(120);

    private readonly CoordinatorStateReplication _replication = CoordinatorStateReplication.Get(Context.System);
    private readonly Akka.Serialization.Serialization _serialization = Context.System.Serialization;
    private readonly Dictionary<string, JournalRecord> _records = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public static string KeyOf(string persistenceId) => "journal/" + persistenceId;

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync();
        try
        {
            var results = ImmutableList.CreateBuilder<Exception?>();
            foreach (var write in messages)
            {
                try
                {
                    var current = await RecordAsync(write.PersistenceId);
                    var next = current.Append((IImmutableList<IPersistentRepresentation>)write.Payload);
                    await _replication.WriteAsync(KeyOf(write.PersistenceId), next.Encode(_serialization));
                    _records[write.PersistenceId] = next;
                    results.Add(null);
                }
                catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or System.Runtime.Serialization.SerializationException)
                {
                    results.Add(ex);
                }
            }
            return results.ToImmutable();
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync();
        try
        {
            var next = (await RecordAsync(persistenceId)).DeleteTo(toSequenceNr);
            await _replication.WriteAsync(KeyOf(persistenceId), next.Encode(_serialization));
            _records[persistenceId] = next;
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        // The start of every recovery: read a majority, then claim the record under this coordinator's generation.
        await _gate.WaitAsync();
        try
        {
            var (_, data) = await _replication.ReadAsync(KeyOf(persistenceId), RecoveryDeadline);
            var record = JournalRecord.Decode(data, _serialization);
            await _replication.WriteAsync(KeyOf(persistenceId), record.Encode(_serialization));
            _records[persistenceId] = record;
            return record.HighestSequenceNr;
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max, Action<IPersistentRepresentation> recoveryCallback)
    {
        JournalRecord record;
        await _gate.WaitAsync();
        try
        {
            record = await RecordAsync(persistenceId);
        }
        finally
        {
            _gate.Release();
        }
        long n = 0;
        foreach (var e in record.Events)
        {
            if (e.SequenceNr < fromSequenceNr || e.SequenceNr > toSequenceNr) continue;
            if (n++ >= max) break;
            recoveryCallback(e);
        }
    }

    private async Task<JournalRecord> RecordAsync(string persistenceId)
    {
        if (_records.TryGetValue(persistenceId, out var r)) return r;
        var (_, data) = await _replication.ReadAsync(KeyOf(persistenceId), RecoveryDeadline);
        r = JournalRecord.Decode(data, _serialization);
        _records[persistenceId] = r;
        return r;
    }
}

/// <summary>One persistence id's events (each in Akka.Persistence's own message format) and its highest sequence number.</summary>
public sealed record JournalRecord(long HighestSequenceNr, IReadOnlyList<IPersistentRepresentation> Events)
{
    public static readonly JournalRecord Empty = new(0, []);

    public JournalRecord Append(IEnumerable<IPersistentRepresentation> events)
    {
        var list = Events.ToList();
        foreach (var e in events) list.Add(e);
        return new JournalRecord(Math.Max(HighestSequenceNr, list.Count == 0 ? 0 : list.Max(e => e.SequenceNr)), list);
    }

    public JournalRecord DeleteTo(long toSequenceNr) => this with { Events = Events.Where(e => e.SequenceNr > toSequenceNr).ToList() };

    public byte[] Encode(Akka.Serialization.Serialization serialization)
    {
        var serializer = serialization.FindSerializerForType(typeof(Persistent));
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(1);
            w.Write(HighestSequenceNr);
            w.Write(Events.Count);
            foreach (var e in Events)
            {
                var bytes = serializer.ToBinary(e);
                w.Write(bytes.Length);
                w.Write(bytes);
            }
        }
        return ms.ToArray();
    }

    public static JournalRecord Decode(byte[] data, Akka.Serialization.Serialization serialization)
    {
        if (data.Length == 0) return Empty;
        var serializer = serialization.FindSerializerForType(typeof(Persistent));
        using var r = new BinaryReader(new MemoryStream(data));
        if (r.ReadInt32() != 1) throw new System.Runtime.Serialization.SerializationException("unknown coordinator journal record format");
        long highest = r.ReadInt64();
        int count = r.ReadInt32();
        var events = new List<IPersistentRepresentation>(count);
        for (int i = 0; i < count; i++)
        {
            var bytes = r.ReadBytes(r.ReadInt32());
            events.Add((IPersistentRepresentation)serializer.FromBinary(bytes, typeof(Persistent)));
        }
        return new JournalRecord(highest, events);
    }
}
