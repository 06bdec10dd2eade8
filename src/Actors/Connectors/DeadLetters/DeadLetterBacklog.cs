using Prometheus;

namespace Varpulis.Actors.Connectors.DeadLetters;

/// <summary>
/// The dead letters of one pipeline that its sinks have handed to the DLQ and the DLQ has not journaled yet: they wait
/// in memory (the DLQ's mailbox, its next group write). At <see cref="Limit"/> the pipeline takes no new events (REST
/// ingestion answers 503 <c>unavailable</c>, sources wait before they read more) until the DLQ has caught up, so a DLQ
/// that falls behind cannot make the process grow without bound; letters of events already accepted are still taken
/// (nothing accepted is lost), so the bound can be passed by at most the outputs of the batches in flight.
/// Shared by the pipeline entity (reads) and its sink workers (count) on one node; published as the gauge
/// <c>varpulis_dlq_backlog{pipeline}</c>.
/// </summary>
public sealed class DeadLetterBacklog
{
    private readonly Gauge.Child _gauge;
    private long _count;

    public DeadLetterBacklog(string pipelineId, long limit)
    {
        if (limit <= 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "the DLQ backlog limit must be positive");
        PipelineId = pipelineId;
        Limit = limit;
        _gauge = Gauge.WithLabels(pipelineId);
        _gauge.Set(0);
    }

    /// <summary>The default bound: at a few hundred bytes a letter, some tens of megabytes per pipeline.</summary>
    public const long DefaultLimit = 100_000;

    public static readonly Gauge Gauge = Prometheus.Metrics.CreateGauge(
        "varpulis_dlq_backlog", "Dead letters handed to the DLQ and not yet journaled; at server.dlq_backlog_limit the pipeline takes no new events.",
        new GaugeConfiguration { LabelNames = ["pipeline"] });

    public string PipelineId { get; }

    public long Limit { get; }

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Whether the pipeline must refuse new events now.</summary>
    public bool IsFull => Count >= Limit;

    /// <summary><paramref name="letters"/> handed to the DLQ.</summary>
    public void Handed(int letters)
    {
        Interlocked.Add(ref _count, letters);
        _gauge.Inc(letters);
    }

    /// <summary><paramref name="letters"/> journaled by the DLQ (or given back: the DLQ was released before writing them).</summary>
    public void Written(int letters)
    {
        Interlocked.Add(ref _count, -letters);
        _gauge.Dec(letters);
    }

    /// <summary>The pipeline's connectors stopped: the gauge goes.</summary>
    public void Unpublish() => Gauge.RemoveLabelled(PipelineId);
}
