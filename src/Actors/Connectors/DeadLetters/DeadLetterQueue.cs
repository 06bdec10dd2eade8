using Akka.Actor;
using Akka.Persistence;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Connectors.DeadLetters;

/// <summary>
/// The dead letters of one pipeline and how far its sinks have got (pure state: applied identically from commands
/// and from the journal). Letters keep their id order; ids never repeat. Letters are held as the blocks they were
/// written in (<see cref="DeadLetterLayout"/>: one byte array per write, no object per letter) and decoded when read.
/// </summary>
public sealed class DeadLetterState
{
    private readonly List<Chunk> _chunks = new();

    public long NextId { get; private set; } = 1;

    public long SettledSequenceNr { get; private set; }

    /// <summary>How many letters the DLQ holds.</summary>
    public long Count { get; private set; }

    /// <summary>The size of the blocks held (what a snapshot writes, about).</summary>
    public long Bytes { get; private set; }

    /// <summary>
    /// Whether the DLQ should save a snapshot (after which its journal is deleted): every 1,000 journal events, but a
    /// snapshot copies the whole DLQ, so only once the letters journaled since the last one weigh half of what it would
    /// copy (a large DLQ is not copied again for every thousand small writes: at most about three bytes are written
    /// per byte of letters); after 100,000 events in any case (a journal of many small events is slow to replay).
    /// </summary>
    public static bool SnapshotDue(int eventsSince, long letterBytesSince, long heldBytes)
        => eventsSince >= 100_000 || (eventsSince >= 1000 && letterBytesSince >= heldBytes / 2);

    /// <summary>Every letter, oldest first (decoded block by block as the enumeration goes).</summary>
    public IEnumerable<DeadLetter> Letters => _chunks.SelectMany(c => c.Letters());

    public void Apply(IDeadLetterEvent e)
    {
        switch (e)
        {
            case DeadLetterBlock b:
                Add(b.Block);
                break;
            case DeadLettersAdded a:
                if (a.Letters.Count > 0) Add(DeadLetterLayout.Block(a.Letters));
                break;
            case DeadLettersRemoved r:
                foreach (long id in r.Ids) Remove(id);
                break;
            case DeadLettersPurged p:
                while (_chunks.Count > 0 && _chunks[0].Ids[^1] <= p.ThroughId)
                {
                    Count -= _chunks[0].Live;
                    Bytes -= _chunks[0].Size;
                    _chunks.RemoveAt(0);
                }
                if (_chunks.Count > 0)
                {
                    foreach (long id in _chunks[0].Ids) if (id <= p.ThroughId) Remove(id);
                }
                break;
            case SinkOutputsSettled s:
                SettledSequenceNr = Math.Max(SettledSequenceNr, s.SequenceNr);
                break;
            case DeadLetterSnapshot snap:
                Reset(snap.NextId, snap.SettledSequenceNr);
                if (snap.Letters.Count > 0) Add(DeadLetterLayout.Block(snap.Letters));
                break;
            case DeadLetterBlockSnapshot snap:
                Reset(snap.NextId, snap.SettledSequenceNr);
                foreach (var block in snap.Blocks) Add(block);
                break;
        }
    }

    /// <summary>Which of <paramref name="ids"/> are in the DLQ.</summary>
    public List<long> Present(IEnumerable<long> ids) => ids.Where(id => Find(id) is var (c, i) && c.IsLive(i)).Distinct().ToList();

    /// <summary>Letters <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="limit"/>, oldest first.</summary>
    public List<DeadLetter> Page(long offset, int limit)
    {
        var page = new List<DeadLetter>(Math.Max(0, Math.Min(limit, 1024)));
        foreach (var c in _chunks)
        {
            if (page.Count >= limit) break;
            if (offset >= c.Live)
            {
                offset -= c.Live;
                continue;
            }
            foreach (var l in c.Letters().Skip((int)offset).Take(limit - page.Count)) page.Add(l);
            offset = 0;
        }
        return page;
    }

    /// <summary>The blocks of the live letters (blocks with removed letters are written again without them).</summary>
    public DeadLetterBlockSnapshot Snapshot() => new(NextId, SettledSequenceNr, _chunks.Select(c => c.Compacted()).ToList());

    private void Reset(long nextId, long settled)
    {
        _chunks.Clear();
        Count = 0;
        Bytes = 0;
        NextId = nextId;
        SettledSequenceNr = settled;
    }

    private void Add(byte[] block)
    {
        var chunk = new Chunk(block, DeadLetterLayout.Ids(block));
        if (chunk.Ids.Length == 0) return;
        _chunks.Add(chunk);
        Count += chunk.Live;
        Bytes += block.Length;
        NextId = Math.Max(NextId, chunk.Ids[^1] + 1);
    }

    private void Remove(long id)
    {
        if (Find(id) is not var (chunk, index) || !chunk.Remove(index)) return;
        Count--;
        if (chunk.Live > 0) return;
        _chunks.Remove(chunk);
        Bytes -= chunk.Size;
    }

    /// <summary>The block holding letter <paramref name="id"/> and its index there (blocks are in id order).</summary>
    private (Chunk Chunk, int Index)? Find(long id)
    {
        int lo = 0, hi = _chunks.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var c = _chunks[mid];
            if (id < c.Ids[0]) hi = mid - 1;
            else if (id > c.Ids[^1]) lo = mid + 1;
            else
            {
                int i = Array.BinarySearch(c.Ids, id);
                return i >= 0 ? (c, i) : null;
            }
        }
        return null;
    }

    /// <summary>One block of letters and which of them have left the DLQ.</summary>
    private sealed class Chunk(byte[] block, long[] ids)
    {
        private bool[]? _removed;

        public long[] Ids { get; } = ids;

        public int Size => block.Length;

        public int Live { get; private set; } = ids.Length;

        public bool IsLive(int index) => _removed is null || !_removed[index];

        public bool Remove(int index)
        {
            if (!IsLive(index)) return false;
            (_removed ??= new bool[Ids.Length])[index] = true;
            Live--;
            return true;
        }

        public IEnumerable<DeadLetter> Letters()
        {
            var letters = DeadLetterLayout.Read(block);
            return _removed is null ? letters : letters.Where((_, i) => !_removed[i]);
        }

        public byte[] Compacted() => _removed is null ? block : DeadLetterLayout.Block(Letters());
    }
}

/// <summary>
/// The dead-letter queue of one pipeline: a persistent actor (journal <c>dlq-&lt;pipeline id&gt;</c>), so dead letters
/// survive <c>kill -9</c> and follow the pipeline when it moves (the pipeline entity hosts it as a child; it
/// recovers wherever the entity starts). Each stored letter is also appended to the node's <c>dlq.jsonl</c>
/// (<see cref="DlqFile"/>), and logged as <c>DLQ write</c> (WARN, at most once per 10 s with the count held back).
/// Serves paging, clearing and the removal of replayed letters; keeps the sinks' settled journal position.
/// </summary>
public sealed class DeadLetterQueue : ReceivePersistentActor
{
    private readonly string _pipelineId;
    private readonly string _pipelineName;
    private readonly DlqFile _file;
    private readonly ILogger _log;
    private readonly LogThrottle _writeLog;
    private readonly DeadLetterState _state = new();
    private readonly DeadLetterBounds? _bounds;
    private const int MaxLettersPerWrite = 20_000;
    private readonly DeadLetterLayout.BlockWriter _block = new();
    private List<(Store Store, IActorRef ReplyTo)> _waiting = new();
    private bool _writing;
    private long _nextId = 1;
    private int _sinceSnapshot;
    private long _bytesSinceSnapshot;
    private bool _deleting;
    private bool _released;

    public DeadLetterQueue(string pipelineId, string pipelineName, DlqFile file, TimeProvider time, ILogger log, DeadLetterBounds? bounds = null)
    {
        _bounds = bounds;
        _pipelineId = pipelineId;
        _pipelineName = pipelineName;
        _file = file;
        _log = log;
        _writeLog = new LogThrottle(TimeSpan.FromSeconds(10), time);

        Recover<SnapshotOffer>(o => _state.Apply((IDeadLetterEvent)o.Snapshot));
        Recover<IDeadLetterEvent>(_state.Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            _nextId = _state.NextId;
            _file.Rewrite(_pipelineId, Lines(_state.Letters));
            ReportCount();
        });

        Command<Store>(s => !_released, OnStore);
        Command<GetDeadLetters>(q => Sender.Tell(Page(q.Offset, q.Limit)));
        Command<TakeForReplay>(t => Sender.Tell(new ReplayCandidates(_state.Letters
            .Where(l => t.Connector is null || l.Connector == t.Connector).Take(Math.Max(0, t.Limit)).ToList())));
        Command<Remove>(OnRemove);
        Command<ClearDeadLetters>(_ => OnClear());
        Command<Settle>(s =>
        {
            if (s.SequenceNr <= _state.SettledSequenceNr) return;
            Persist(new SinkOutputsSettled(s.SequenceNr), Applied);
        });
        Command<GetSinkProgress>(_ => Sender.Tell(new SinkProgress(_state.SettledSequenceNr)));
        // Released (the pipeline moved or was deleted): nothing more is written here. A letter refused now stays
        // unsettled in the pipeline, which sends it again wherever it runs next.
        Command<Store>(_ => _released, _ => { });
        Command<Release>(r =>
        {
            _released = true;
            // Letters not written yet are not acknowledged: they stay unsettled in the pipeline.
            _waiting = new();
            _file.Rewrite(_pipelineId, Array.Empty<string>());
            if (!r.DeleteJournal)
            {
                Context.Stop(Self);
                return;
            }
            _deleting = true;
            DeleteMessages(long.MaxValue);
            DeleteSnapshots(SnapshotSelectionCriteria.Latest);
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.LogWarning(f.Cause, "DLQ snapshot cleanup of pipeline {PipelineId} failed", _pipelineId));
        Command<SaveSnapshotFailure>(f => _log.LogWarning(f.Cause, "DLQ snapshot of pipeline {PipelineId} failed", _pipelineId));
        Command<DeleteMessagesSuccess>(_ =>
        {
            if (_deleting) Context.Stop(Self);
        });
        Command<DeleteMessagesFailure>(f =>
        {
            _log.LogWarning(f.Cause, "DLQ journal cleanup of pipeline {PipelineId} failed", _pipelineId);
            if (_deleting) Context.Stop(Self);
        });
    }

    public override string PersistenceId => "dlq-" + _pipelineId;

    /// <summary>The DLQ of one pipeline; it tells <paramref name="bounds"/> (the pipeline's) how many letters it holds.</summary>
    public static Props Props(string pipelineId, string pipelineName, DlqFile file, TimeProvider time, ILogger log, DeadLetterBounds? bounds = null)
        => Akka.Actor.Props.Create(() => new DeadLetterQueue(pipelineId, pipelineName, file, time, log, bounds));

    // ------------------------------------------------------------------ local messages (never leave the node)

    /// <summary>
    /// Stores output events a sink gives up on (at <paramref name="Timestamp"/>, for <paramref name="Error"/>); answered
    /// with <see cref="Stored"/> once journaled.
    /// </summary>
    public sealed record Store(IReadOnlyList<SinkRecord> Records, DateTimeOffset Timestamp, string Error, long Token);

    public sealed record Stored(long Token, int Count);

    /// <summary>The oldest letters (of one connector, or all) for a replay.</summary>
    public sealed record TakeForReplay(string? Connector, int Limit);

    public sealed record ReplayCandidates(IReadOnlyList<DeadLetter> Letters);

    /// <summary>Removes delivered letters; answered with <see cref="Removed"/>.</summary>
    public sealed record Remove(IReadOnlyList<long> Ids);

    public sealed record Removed(int Count, long Remaining);

    /// <summary>The pipeline's outputs through <paramref name="SequenceNr"/> have left its sinks for good.</summary>
    public sealed record Settle(long SequenceNr);

    /// <summary>
    /// The pipeline leaves this node (hand-off: its lines leave the node's file, the queue stops, its journal stays) or
    /// is deleted (<paramref name="DeleteJournal"/>: the journal goes too).
    /// </summary>
    public sealed record Release(bool DeleteJournal = false);

    // ------------------------------------------------------------------ commands

    /// <summary>
    /// Letters wait here while a write is in flight and leave together in the next one (group commit): one journal
    /// write (one block) and one file append per group, however many sinks and batches they came from. Each sender
    /// hears <see cref="Stored"/> only once its letters are journaled.
    /// </summary>
    private void OnStore(Store s)
    {
        _waiting.Add((s, Sender));
        if (!_writing) WriteWaiting();
    }

    private void WriteWaiting()
    {
        if (_waiting.Count == 0)
        {
            _writing = false;
            return;
        }
        _writing = true;
        // One write takes whole requests up to about MaxLettersPerWrite letters (the block and the lines stay bounded).
        int take = 0, letters = 0;
        while (take < _waiting.Count && (take == 0 || letters + _waiting[take].Store.Records.Count <= MaxLettersPerWrite))
            letters += _waiting[take++].Store.Records.Count;
        var waiting = _waiting.GetRange(0, take);
        _waiting.RemoveRange(0, take);
        _block.Reset();
        int bytes = 0;
        foreach (var (store, _) in waiting)
        {
            foreach (var r in store.Records) bytes += r.Json.Length;
        }
        // A line is the event and about 200 bytes around it (sized up front: no growing and copying).
        var lines = _file.Lines(_pipelineId, _pipelineName, bytes + (letters * (256 + _pipelineId.Length + _pipelineName.Length)));
        foreach (var (store, _) in waiting)
        {
            foreach (var r in store.Records)
            {
                long id = _nextId++;
                _block.Add(id, store.Timestamp, r.Connector, r.Topic, r.Key, store.Error, r.Json);
                lines.Add(id, store.Timestamp, r.Connector, store.Error, r.Json);
            }
        }
        PersistAsync(new DeadLetterBlock(_block.ToArray()), e =>
        {
            Applied(e);
            if (!_released) _file.Append(lines);
            foreach (var (store, replyTo) in waiting) replyTo.Tell(new Stored(store.Token, store.Records.Count));
            if (letters > 0 && _writeLog.ShouldLog(out long held))
            {
                var first = waiting.First(w => w.Store.Records.Count > 0).Store;
                _log.LogWarning("DLQ write: pipeline {PipelineId} ({PipelineName}) sink {Connector}: {Count} events dead-lettered ({Held} more since the last DLQ write line), {Total} in the DLQ; error: {Error}",
                    _pipelineId, _pipelineName, first.Records[0].Connector, letters, held, _state.Count, first.Error);
            }
            if (_released) _writing = false;
            else WriteWaiting();
        });
    }

    private void OnRemove(Remove r)
    {
        var present = _state.Present(r.Ids);
        var sender = Sender;
        if (present.Count == 0)
        {
            sender.Tell(new Removed(0, _state.Count));
            return;
        }
        Persist(new DeadLettersRemoved(present), e =>
        {
            Applied(e);
            _file.Rewrite(_pipelineId, Lines(_state.Letters));
            sender.Tell(new Removed(present.Count, _state.Count));
        });
    }

    private void OnClear()
    {
        var sender = Sender;
        long count = _state.Count;
        if (count == 0)
        {
            sender.Tell(new DeadLettersCleared(0));
            return;
        }
        // Letters still being written keep their place (their ids are above the purge).
        Persist(new DeadLettersPurged(_state.NextId - 1), e =>
        {
            Applied(e);
            _file.Rewrite(_pipelineId, Lines(_state.Letters));
            _log.LogInformation("DLQ of pipeline {PipelineId} cleared: {Count} events removed", _pipelineId, count);
            sender.Tell(new DeadLettersCleared(count));
        });
    }

    private DeadLetterPage Page(int offset, int limit) => new(_state.Count, _state.Page(Math.Max(0, offset), Math.Clamp(limit, 0, 10_000)));

    /// <summary>
    /// Tells the pipeline how many events are in the DLQ: its bounds at once (at <c>server.dlq_max_events</c> it takes no
    /// new events), its metrics through the connectors (<c>dlq_events</c>).
    /// </summary>
    private void ReportCount()
    {
        _bounds?.Hold(_state.Count);
        Context.Parent.Tell(new DeadLetterCount(_state.Count));
    }

    private void Applied(IDeadLetterEvent e)
    {
        _state.Apply(e);
        if (e is not SinkOutputsSettled) ReportCount();
        if (e is DeadLetterBlock b) _bytesSinceSnapshot += b.Block.Length;
        if (!DeadLetterState.SnapshotDue(++_sinceSnapshot, _bytesSinceSnapshot, _state.Bytes)) return;
        _sinceSnapshot = 0;
        _bytesSinceSnapshot = 0;
        SaveSnapshot(_state.Snapshot());
    }

    private IReadOnlyList<string> Lines(IEnumerable<DeadLetter> letters) => letters.Select(l => DlqFile.Render(l, _pipelineId, _pipelineName)).ToList();
}
