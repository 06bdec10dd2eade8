using Akka.Actor;
using Akka.Persistence;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Connectors.DeadLetters;

/// <summary>
/// The dead letters of one pipeline and how far its sinks have got (pure state: applied identically from commands
/// and from the journal). Letters keep their id order; ids never repeat.
/// </summary>
public sealed class DeadLetterState
{
    private readonly List<DeadLetter> _letters = new();

    public long NextId { get; private set; } = 1;

    public long SettledSequenceNr { get; private set; }

    public IReadOnlyList<DeadLetter> Letters => _letters;

    public void Apply(IDeadLetterEvent e)
    {
        switch (e)
        {
            case DeadLettersAdded a:
                _letters.AddRange(a.Letters);
                if (a.Letters.Count > 0) NextId = Math.Max(NextId, a.Letters[^1].Id + 1);
                break;
            case DeadLettersRemoved r:
                var ids = r.Ids.ToHashSet();
                _letters.RemoveAll(l => ids.Contains(l.Id));
                break;
            case DeadLettersPurged p:
                _letters.RemoveAll(l => l.Id <= p.ThroughId);
                break;
            case SinkOutputsSettled s:
                SettledSequenceNr = Math.Max(SettledSequenceNr, s.SequenceNr);
                break;
            case DeadLetterSnapshot snap:
                _letters.Clear();
                _letters.AddRange(snap.Letters);
                NextId = snap.NextId;
                SettledSequenceNr = snap.SettledSequenceNr;
                break;
        }
    }

    public DeadLetterSnapshot Snapshot() => new(NextId, SettledSequenceNr, _letters.ToList());
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
    private const int SnapshotEvery = 1000;
    private readonly string _pipelineId;
    private readonly string _pipelineName;
    private readonly DlqFile _file;
    private readonly ILogger _log;
    private readonly LogThrottle _writeLog;
    private readonly DeadLetterState _state = new();
    private int _sinceSnapshot;
    private bool _deleting;
    private bool _released;

    public DeadLetterQueue(string pipelineId, string pipelineName, DlqFile file, TimeProvider time, ILogger log)
    {
        _pipelineId = pipelineId;
        _pipelineName = pipelineName;
        _file = file;
        _log = log;
        _writeLog = new LogThrottle(TimeSpan.FromSeconds(10), time);

        Recover<SnapshotOffer>(o => _state.Apply((DeadLetterSnapshot)o.Snapshot));
        Recover<IDeadLetterEvent>(_state.Apply);
        Recover<RecoveryCompleted>(_ =>
        {
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

    public static Props Props(string pipelineId, string pipelineName, DlqFile file, TimeProvider time, ILogger log)
        => Akka.Actor.Props.Create(() => new DeadLetterQueue(pipelineId, pipelineName, file, time, log));

    // ------------------------------------------------------------------ local messages (never leave the node)

    /// <summary>An event a sink gives up on, before it has an id.</summary>
    public sealed record NewLetter(DateTimeOffset Timestamp, string Connector, string? Topic, string? Key, string Error, string EventJson);

    /// <summary>Stores letters; answered with <see cref="Stored"/> once journaled.</summary>
    public sealed record Store(IReadOnlyList<NewLetter> Letters, long Token);

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

    private void OnStore(Store s)
    {
        long id = _state.NextId;
        var letters = s.Letters.Select(n => new DeadLetter(id++, n.Timestamp, n.Connector, n.Topic, n.Key, n.Error, n.EventJson)).ToList();
        var sender = Sender;
        Persist(new DeadLettersAdded(letters), e =>
        {
            Applied(e);
            _file.Append(Lines(letters));
            sender.Tell(new Stored(s.Token, letters.Count));
            if (_writeLog.ShouldLog(out long held))
            {
                _log.LogWarning("DLQ write: pipeline {PipelineId} ({PipelineName}) sink {Connector}: {Count} events dead-lettered ({Held} more since the last DLQ write line), {Total} in the DLQ; error: {Error}",
                    _pipelineId, _pipelineName, letters[0].Connector, letters.Count, held, _state.Letters.Count, letters[0].Error);
            }
        });
    }

    private void OnRemove(Remove r)
    {
        var wanted = r.Ids.ToHashSet();
        var present = _state.Letters.Where(l => wanted.Contains(l.Id)).Select(l => l.Id).ToList();
        var sender = Sender;
        if (present.Count == 0)
        {
            sender.Tell(new Removed(0, _state.Letters.Count));
            return;
        }
        Persist(new DeadLettersRemoved(present), e =>
        {
            Applied(e);
            _file.Rewrite(_pipelineId, Lines(_state.Letters));
            sender.Tell(new Removed(present.Count, _state.Letters.Count));
        });
    }

    private void OnClear()
    {
        var sender = Sender;
        int count = _state.Letters.Count;
        if (count == 0)
        {
            sender.Tell(new DeadLettersCleared(0));
            return;
        }
        Persist(new DeadLettersPurged(_state.NextId - 1), e =>
        {
            Applied(e);
            _file.Rewrite(_pipelineId, Array.Empty<string>());
            _log.LogInformation("DLQ of pipeline {PipelineId} cleared: {Count} events removed", _pipelineId, count);
            sender.Tell(new DeadLettersCleared(count));
        });
    }

    private DeadLetterPage Page(int offset, int limit)
        => new(_state.Letters.Count, _state.Letters.Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 0, 10_000)).ToList());

    /// <summary>Tells the pipeline (through the connectors) how many events are in the DLQ (<c>dlq_events</c>).</summary>
    private void ReportCount() => Context.Parent.Tell(new DeadLetterCount(_state.Letters.Count));

    private void Applied(IDeadLetterEvent e)
    {
        _state.Apply(e);
        if (e is not SinkOutputsSettled) ReportCount();
        if (++_sinceSnapshot < SnapshotEvery) return;
        _sinceSnapshot = 0;
        SaveSnapshot(_state.Snapshot());
    }

    private IReadOnlyList<string> Lines(IEnumerable<DeadLetter> letters) => letters.Select(l => DlqFile.Render(l, _pipelineId, _pipelineName)).ToList();
}
