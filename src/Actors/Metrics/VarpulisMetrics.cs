using Prometheus;

namespace Varpulis.Actors.Metrics;

/// <summary>
/// The node's Prometheus metrics (operations runbook §6.1). Registered once in the default registry, which also
/// carries the process and .NET runtime metrics; served on <c>--metrics-port</c> when <c>--metrics</c> is set.
/// </summary>
public static class VarpulisMetrics
{
    /// <summary>Histogram buckets of the runbook: 100µs, 500µs, 1ms, 5ms, 10ms, 50ms, 100ms, 500ms, 1s.</summary>
    public static readonly double[] LatencyBuckets = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0];

    public static readonly Counter EventsTotal = Prometheus.Metrics.CreateCounter(
        "varpulis_events_total", "Total events received, by event type.", new CounterConfiguration { LabelNames = ["event_type"] });

    public static readonly Counter EventsProcessed = Prometheus.Metrics.CreateCounter(
        "varpulis_events_processed", "Events processed, by stream name.", new CounterConfiguration { LabelNames = ["stream"] });

    public static readonly Counter OutputEventsTotal = Prometheus.Metrics.CreateCounter(
        "varpulis_output_events_total", "Output events emitted, by stream and type.", new CounterConfiguration { LabelNames = ["stream", "event_type"] });

    public static readonly Histogram ProcessingLatency = Prometheus.Metrics.CreateHistogram(
        "varpulis_processing_latency_seconds", "Per-event processing latency, by stream.",
        new HistogramConfiguration { LabelNames = ["stream"], Buckets = LatencyBuckets });

    public static readonly Gauge StreamQueueSize = Prometheus.Metrics.CreateGauge(
        "varpulis_stream_queue_size", "Events accepted but not yet confirmed by the journal, per stream.",
        new GaugeConfiguration { LabelNames = ["stream"] });

    public static readonly Gauge ActiveStreams = Prometheus.Metrics.CreateGauge(
        "varpulis_active_streams", "Number of active stream definitions.");

    public static readonly Gauge ActiveRuns = Prometheus.Metrics.CreateGauge(
        "varpulis_active_runs", "Live pattern runs, by stream.", new GaugeConfiguration { LabelNames = ["stream"] });

    public static readonly Counter LateEvents = Prometheus.Metrics.CreateCounter(
        "varpulis_late_events_total", "Events dropped as late (older than watermark minus allowed lateness).");

    public static readonly Gauge Pipelines = Prometheus.Metrics.CreateGauge(
        "varpulis_pipelines", "Pipelines running on this node.");

    public static readonly Counter EventsRejected = Prometheus.Metrics.CreateCounter(
        "varpulis_events_rejected_total", "Input events rejected by schema checks.");
}
