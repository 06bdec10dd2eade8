using Varpulis.Actors.Connectors.Kafka;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Compilation.Connectors;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Connectors;

/// <summary>The highest journaled offset of one Kafka partition read by a pipeline's sources.</summary>
public sealed record KafkaPartitionOffset(string Topic, int Partition, long Offset);

/// <summary>Output events of journal entry <paramref name="SequenceNr"/> that its sinks have not finished with.</summary>
public sealed record UnsettledOutputs(long SequenceNr, IReadOnlyList<SinkRecord> Records);

/// <summary>
/// The connector side of a pipeline's state, without actor machinery (the pipeline entity holds one and applies it
/// identically to live input and to journal replay):
/// <list type="bullet">
/// <item>the sink outputs of the request being processed (the engine's <c>.to</c> calls, routed by <see cref="SinkRouter"/>);</item>
/// <item>the outputs not yet settled (delivered or dead-lettered) by the sinks, by journal sequence number: sent again
/// to the sinks after a restart or a move, kept in snapshots;</item>
/// <item>the Kafka offset ledger: records already journaled are dropped when the broker sends them again.</item>
/// </list>
/// </summary>
public sealed class PipelineConnectorState
{
    private readonly SortedDictionary<long, IReadOnlyList<SinkRecord>> _unsettled = new();
    private SinkRouter? _router;
    private List<SinkRecord>? _pending;

    public KafkaOffsetLedger Ledger { get; } = new();

    /// <summary>Whether the program has connectors at all (the entity then runs <see cref="PipelineConnectors"/>).</summary>
    public bool HasConnectors { get; private set; }

    /// <summary>The bindings of the current program.</summary>
    public IReadOnlyList<ConnectorBinding> Bindings { get; private set; } = Array.Empty<ConnectorBinding>();

    /// <summary>Outputs not settled yet, oldest first.</summary>
    public IEnumerable<UnsettledOutputs> Unsettled => _unsettled.Select(kv => new UnsettledOutputs(kv.Key, kv.Value));

    /// <summary>The program the pipeline runs now (deploy, recovery, reload).</summary>
    public void UseProgram(CompiledProgram program)
    {
        Bindings = program.ConnectorBindings;
        HasConnectors = Bindings.Count > 0;
        _router = Bindings.Any(b => b.Direction == BindingDirection.Sink) ? new SinkRouter(Bindings) : null;
    }

    /// <summary>The engine's <c>.to(connector)</c> call; false when the program has no such sink binding.</summary>
    public bool Route(string stream, string connector, IReadOnlyList<KeyValuePair<string, Value>> args, Event e)
    {
        if (_router is null || !_router.TryRoute(stream, connector, args, e, out var record)) return false;
        (_pending ??= new()).Add(record);
        return true;
    }

    /// <summary>The sink outputs of the request just processed (null when none), and a fresh list for the next one.</summary>
    public List<SinkRecord>? TakePending()
    {
        var p = _pending;
        _pending = null;
        return p;
    }

    /// <summary>Drops the outputs of a request that was not journaled.</summary>
    public void DiscardPending() => _pending = null;

    public void AddUnsettled(long sequenceNr, IReadOnlyList<SinkRecord> records)
    {
        if (records.Count > 0) _unsettled[sequenceNr] = records;
    }

    /// <summary>The sinks have finished with every output through <paramref name="sequenceNr"/>.</summary>
    public void Settle(long sequenceNr)
    {
        while (_unsettled.Count > 0)
        {
            long first = _unsettled.Keys.First();
            if (first > sequenceNr) break;
            _unsettled.Remove(first);
        }
    }

    /// <summary>The sinks have finished with every output of these later entries (an earlier one is still on its way).</summary>
    public void SettleEntries(IEnumerable<long> sequenceNrs)
    {
        foreach (long n in sequenceNrs) _unsettled.Remove(n);
    }

    /// <summary>The Kafka positions of a journaled batch (live and on replay).</summary>
    public void RecordOffsets(IEnumerable<KafkaPartitionOffset> offsets)
        => Ledger.Record(offsets.Select(o => new SourcePosition(o.Topic, o.Partition, o.Offset)));

    /// <summary>The highest Kafka offset per partition among <paramref name="positions"/> (what a batch journals).</summary>
    public static IReadOnlyList<KafkaPartitionOffset> HighestOffsets(IEnumerable<SourcePosition> positions)
    {
        var highest = new Dictionary<(string, int), long>();
        foreach (var p in positions)
        {
            if (p.Partition < 0) continue;
            if (!highest.TryGetValue((p.Topic, p.Partition), out long o) || p.Offset > o) highest[(p.Topic, p.Partition)] = p.Offset;
        }
        return highest.Count == 0 ? Array.Empty<KafkaPartitionOffset>() : highest.Select(kv => new KafkaPartitionOffset(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList();
    }

    public IReadOnlyList<KafkaPartitionOffset>? ExportOffsets()
        => Ledger.Journaled.Count == 0 ? null : Ledger.Journaled.Select(kv => new KafkaPartitionOffset(kv.Key.Topic, kv.Key.Partition, kv.Value)).ToList();

    public IReadOnlyList<UnsettledOutputs>? ExportUnsettled() => _unsettled.Count == 0 ? null : Unsettled.ToList();

    /// <summary>Restores what a snapshot kept.</summary>
    public void Import(IReadOnlyList<KafkaPartitionOffset>? offsets, IReadOnlyList<UnsettledOutputs>? unsettled)
    {
        _unsettled.Clear();
        if (offsets is not null) RecordOffsets(offsets);
        if (unsettled is not null)
        {
            foreach (var u in unsettled) AddUnsettled(u.SequenceNr, u.Records);
        }
    }
}
