using Prometheus;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Connectors.DeadLetters;

/// <summary>
/// The two bounds on what the DLQ of one pipeline holds in memory; at either, the pipeline takes no new events (REST
/// ingestion answers 503 <c>unavailable</c>, sources offer their batch again later) and says why (<see cref="Refusal"/>):
/// <list type="bullet">
/// <item>the <b>backlog</b>: letters its sinks have handed to the DLQ and the DLQ has not journaled yet (its mailbox,
/// its next group write), at most <see cref="BacklogLimit"/> (<c>server.dlq_backlog_limit</c>); it drains by itself
/// once the journal has caught up;</item>
/// <item>the letters the DLQ <b>holds</b> (journaled, kept until replayed or cleared), at most <see cref="MaxHeld"/>
/// (<c>server.dlq_max_events</c>); only a replay or a clear brings it back under.</item>
/// </list>
/// Letters of events already accepted are still taken (nothing accepted is lost), so either count can pass its bound by
/// the outputs of the batches in flight. Shared on one node by the pipeline entity (reads), its sink workers (count the
/// backlog) and its DLQ (sets what it holds); published as the gauges <c>varpulis_dlq_backlog{pipeline}</c> and
/// <c>varpulis_dlq_held_events{pipeline}</c>.
/// </summary>
public sealed class DeadLetterBounds
{
    private readonly Gauge.Child _backlogGauge;
    private readonly Gauge.Child _heldGauge;
    private long _backlog;
    private long _held;

    public DeadLetterBounds(string pipelineId, long backlogLimit, long maxHeld)
    {
        if (backlogLimit <= 0) throw new ArgumentOutOfRangeException(nameof(backlogLimit), backlogLimit, "the DLQ backlog limit must be positive");
        if (maxHeld <= 0) throw new ArgumentOutOfRangeException(nameof(maxHeld), maxHeld, "the DLQ's maximum of events must be positive");
        PipelineId = pipelineId;
        BacklogLimit = backlogLimit;
        MaxHeld = maxHeld;
        _backlogGauge = BacklogGauge.WithLabels(pipelineId);
        _backlogGauge.Set(0);
        _heldGauge = HeldGauge.WithLabels(pipelineId);
        _heldGauge.Set(0);
    }

    /// <summary>The default backlog bound: at a few hundred bytes a letter, some tens of megabytes per pipeline.</summary>
    public const long DefaultBacklogLimit = 100_000;

    /// <summary>The default bound on the letters a DLQ holds: at 150 to 300 bytes a letter, 150 to 300 MB per pipeline.</summary>
    public const long DefaultMaxHeld = 1_000_000;

    public static readonly Gauge BacklogGauge = Prometheus.Metrics.CreateGauge(
        "varpulis_dlq_backlog", "Dead letters handed to the DLQ and not yet journaled; at server.dlq_backlog_limit the pipeline takes no new events.",
        new GaugeConfiguration { LabelNames = ["pipeline"] });

    public static readonly Gauge HeldGauge = Prometheus.Metrics.CreateGauge(
        "varpulis_dlq_held_events", "Dead letters the DLQ holds (until replayed or cleared); at server.dlq_max_events the pipeline takes no new events.",
        new GaugeConfiguration { LabelNames = ["pipeline"] });

    public string PipelineId { get; }

    public long BacklogLimit { get; }

    public long MaxHeld { get; }

    /// <summary>Letters handed to the DLQ and not journaled yet.</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    /// <summary>Letters the DLQ holds (as it last said).</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Why the pipeline must refuse new events now (null: it takes them).</summary>
    public PipelineError? Refusal()
    {
        long held = Held;
        if (held >= MaxHeld) return PipelineError.DeadLetterQueueFull(PipelineId, held, MaxHeld);
        if (Backlog >= BacklogLimit) return PipelineError.DeadLetterBacklogFull(PipelineId, BacklogLimit);
        return null;
    }

    /// <summary><paramref name="letters"/> handed to the DLQ.</summary>
    public void Handed(int letters)
    {
        Interlocked.Add(ref _backlog, letters);
        _backlogGauge.Inc(letters);
    }

    /// <summary><paramref name="letters"/> journaled by the DLQ (or given back: the DLQ was released before writing them).</summary>
    public void Written(int letters)
    {
        Interlocked.Add(ref _backlog, -letters);
        _backlogGauge.Dec(letters);
    }

    /// <summary>The DLQ holds <paramref name="letters"/> now (after a write, a removal, a clear, its recovery).</summary>
    public void Hold(long letters)
    {
        Interlocked.Exchange(ref _held, letters);
        _heldGauge.Set(letters);
    }

    /// <summary>The pipeline's connectors stopped: the gauges go.</summary>
    public void Unpublish()
    {
        BacklogGauge.RemoveLabelled(PipelineId);
        HeldGauge.RemoveLabelled(PipelineId);
    }
}
