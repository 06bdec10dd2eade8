using Prometheus;

namespace Varpulis.Actors.Metrics;

/// <summary>
/// The node's Prometheus metrics (operations runbook §6.1). Registered once in the default registry, which also
/// carries the process and .NET runtime metrics; served on <c>--metrics-port</c> when <c>--metrics</c> is set.
/// Series labelled by stream also carry the <c>pipeline</c> label (the pipeline id: stream names repeat across
/// pipelines, names of pipelines may too, ids never do); they are created and removed only through
/// <see cref="PipelineSeries"/>.
/// </summary>
public static class VarpulisMetrics
{
    /// <summary>Histogram buckets of the runbook: 100µs, 500µs, 1ms, 5ms, 10ms, 50ms, 100ms, 500ms, 1s.</summary>
    public static readonly double[] LatencyBuckets = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0];

    public static readonly Counter EventsTotal = Prometheus.Metrics.CreateCounter(
        "varpulis_events_total", "Total events received, by event type.", new CounterConfiguration { LabelNames = ["event_type"] });

    public static readonly Counter EventsProcessed = Prometheus.Metrics.CreateCounter(
        "varpulis_events_processed", "Events processed, by pipeline and stream.", new CounterConfiguration { LabelNames = ["pipeline", "stream"] });

    public static readonly Counter OutputEventsTotal = Prometheus.Metrics.CreateCounter(
        "varpulis_output_events_total", "Output events emitted, by pipeline, stream and type.",
        new CounterConfiguration { LabelNames = ["pipeline", "stream", "event_type"] });

    public static readonly Histogram ProcessingLatency = Prometheus.Metrics.CreateHistogram(
        "varpulis_processing_latency_seconds",
        "Each stream's own processing time of one input event (sampled: the first event of each request and every 64th), by pipeline and stream.",
        new HistogramConfiguration { LabelNames = ["pipeline", "stream"], Buckets = LatencyBuckets });

    public static readonly Gauge StreamQueueSize = Prometheus.Metrics.CreateGauge(
        "varpulis_stream_queue_size", "Events accepted but not yet confirmed by the journal, by pipeline and stream.",
        new GaugeConfiguration { LabelNames = ["pipeline", "stream"] });

    public static readonly Gauge ActiveStreams = Prometheus.Metrics.CreateGauge(
        "varpulis_active_streams", "Number of active stream definitions.");

    public static readonly Gauge ActiveRuns = Prometheus.Metrics.CreateGauge(
        "varpulis_active_runs", "Live pattern runs, by pipeline and stream.", new GaugeConfiguration { LabelNames = ["pipeline", "stream"] });

    public static readonly Counter LateEvents = Prometheus.Metrics.CreateCounter(
        "varpulis_late_events_total", "Events dropped as late (older than watermark minus allowed lateness).");

    public static readonly Gauge Pipelines = Prometheus.Metrics.CreateGauge(
        "varpulis_pipelines", "Pipelines running on this node.");

    public static readonly Counter EventsRejected = Prometheus.Metrics.CreateCounter(
        "varpulis_events_rejected_total", "Input events rejected by schema checks.");

    public static readonly Counter TypeErrors = Prometheus.Metrics.CreateCounter(
        "varpulis_type_errors_total", "Values a numeric aggregate skipped because they were not numbers, by pipeline and stream.",
        new CounterConfiguration { LabelNames = ["pipeline", "stream"] });

    public static readonly Counter PipelineRestarts = Prometheus.Metrics.CreateCounter(
        "varpulis_pipeline_restarts_total", "Times a pipeline restarted from its journal after its engine failed, by pipeline.",
        new CounterConfiguration { LabelNames = ["pipeline"] });

    /// <summary>
    /// Registers every metric now, so that the first scrape shows the unlabelled ones at 0 (<c>varpulis_pipelines 0</c>)
    /// before any pipeline touched them. Called when the node starts.
    /// </summary>
    public static void Initialize() => System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(VarpulisMetrics).TypeHandle);
}
