using Prometheus;

namespace Varpulis.Actors.Metrics;

/// <summary>
/// Every Prometheus series of one pipeline on this node (those with a <c>pipeline</c> label, always the first label),
/// looked up through here and removed together: when the pipeline is deleted or its entity stops on this node
/// (shutdown, or a move to another node), its gauges and counters disappear from the scrape instead of staying at
/// their last value. A restart of the entity after an engine failure keeps them (the new instance finds the same
/// series). Not thread-safe: one entity uses it.
/// </summary>
public sealed class PipelineSeries(string pipelineId)
{
    /// <summary>The families labelled by pipeline (first label) and, all but the restart counter, stream (second label).</summary>
    private static readonly Collector[] Families =
    [
        VarpulisMetrics.EventsProcessed, VarpulisMetrics.OutputEventsTotal, VarpulisMetrics.ProcessingLatency,
        VarpulisMetrics.StreamQueueSize, VarpulisMetrics.ActiveRuns, VarpulisMetrics.TypeErrors, VarpulisMetrics.PipelineRestarts,
    ];

    private readonly Dictionary<string, StreamSeries> _streams = new(StringComparer.Ordinal);

    public string PipelineId { get; } = pipelineId;

    /// <summary>The series of one stream of this pipeline.</summary>
    public StreamSeries Stream(string stream)
    {
        if (!_streams.TryGetValue(stream, out var s))
        {
            s = new StreamSeries(PipelineId, stream);
            _streams[stream] = s;
        }
        return s;
    }

    /// <summary><c>varpulis_pipeline_restarts_total{pipeline}</c>.</summary>
    public Counter.Child Restarts => VarpulisMetrics.PipelineRestarts.WithLabels(PipelineId);

    /// <summary>Removes the series of streams the pipeline no longer has (after a reload or a restore).</summary>
    public void RetainStreams(IReadOnlyCollection<string> streams)
    {
        Remove(labels => labels.Length >= 2 && !streams.Contains(labels[1]));
        foreach (var gone in _streams.Keys.Where(k => !streams.Contains(k)).ToList()) _streams.Remove(gone);
    }

    /// <summary>Removes every series of the pipeline from the registry.</summary>
    public void RemoveAll()
    {
        Remove(_ => true);
        _streams.Clear();
    }

    private void Remove(Func<string[], bool> which)
    {
        foreach (var family in Families)
        {
            switch (family)
            {
                case Counter c:
                    foreach (var labels in Mine(c.GetAllLabelValues(), which)) c.RemoveLabelled(labels);
                    break;
                case Gauge g:
                    foreach (var labels in Mine(g.GetAllLabelValues(), which)) g.RemoveLabelled(labels);
                    break;
                case Histogram h:
                    foreach (var labels in Mine(h.GetAllLabelValues(), which)) h.RemoveLabelled(labels);
                    break;
            }
        }
    }

    private List<string[]> Mine(IEnumerable<string[]> all, Func<string[], bool> which)
        => all.Where(l => l.Length > 0 && l[0] == PipelineId && which(l)).ToList();
}

/// <summary>The series of one stream of one pipeline; children are looked up once and kept.</summary>
public sealed class StreamSeries
{
    private readonly string _pipeline;
    private readonly string _stream;
    private readonly Dictionary<string, Counter.Child> _outputs = new(StringComparer.Ordinal);
    private Counter.Child? _typeErrors;

    internal StreamSeries(string pipeline, string stream)
    {
        _pipeline = pipeline;
        _stream = stream;
        EventsProcessed = VarpulisMetrics.EventsProcessed.WithLabels(pipeline, stream);
        Latency = VarpulisMetrics.ProcessingLatency.WithLabels(pipeline, stream);
        QueueSize = VarpulisMetrics.StreamQueueSize.WithLabels(pipeline, stream);
        ActiveRuns = VarpulisMetrics.ActiveRuns.WithLabels(pipeline, stream);
    }

    public Counter.Child EventsProcessed { get; }

    public Histogram.Child Latency { get; }

    public Gauge.Child QueueSize { get; }

    public Gauge.Child ActiveRuns { get; }

    /// <summary><c>varpulis_type_errors_total{pipeline,stream}</c> (created on the first error).</summary>
    public Counter.Child TypeErrors => _typeErrors ??= VarpulisMetrics.TypeErrors.WithLabels(_pipeline, _stream);

    /// <summary><c>varpulis_output_events_total{pipeline,stream,event_type}</c>.</summary>
    public Counter.Child Outputs(string eventType)
    {
        if (!_outputs.TryGetValue(eventType, out var c))
        {
            c = VarpulisMetrics.OutputEventsTotal.WithLabels(_pipeline, _stream, eventType);
            _outputs[eventType] = c;
        }
        return c;
    }
}
