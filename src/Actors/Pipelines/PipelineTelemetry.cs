using Microsoft.Extensions.Logging;
using Varpulis.Actors.Metrics;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// Per-pipeline measurements: feeds the node's Prometheus metrics after each batch (per-stream deltas of the
/// engine's counters, the engine's per-stream latency samples, type errors) through the pipeline's
/// <see cref="PipelineSeries"/>, and keeps what <c>GET /pipelines/{id}/metrics</c> reports (rate over the last
/// seconds, latency percentiles over the last batches).
/// </summary>
internal sealed class PipelineTelemetry(PipelineSeries series, ILogger log)
{
    /// <summary>The engine times one input event in this many (and the first of each request) for the latency histogram.</summary>
    public const int LatencySampleInterval = 64;

    private const int RateWindowSecs = 10;
    private const int LatencySamples = 1024;

    private readonly long[] _perSecond = new long[RateWindowSecs];
    private readonly long[] _secondOf = new long[RateWindowSecs];
    private readonly double[] _latencyUs = new double[LatencySamples];
    private readonly Dictionary<EventType, long> _byType = new();
    private int _latencyCount;
    private int _latencyNext;
    private long[] _lastIn = [];
    private long[] _lastTypeErrors = [];
    private readonly List<StreamLatencySample> _samples = new();
    private readonly HashSet<string> _typeErrorsLogged = new(StringComparer.Ordinal);
    private long _lastLate;
    private DateTimeOffset _firstRecord = DateTimeOffset.MinValue;

    /// <summary>Aligns the per-stream baselines with an engine (after deploy, reload, restore, recovery).</summary>
    /// <remarks>Streams the engine no longer has lose their series; samples taken meanwhile (a journal replay) are dropped.</remarks>
    public void Reset(Engine engine)
    {
        var stats = engine.GetStreamStats();
        _lastIn = stats.Select(s => s.EventsIn).ToArray();
        _lastTypeErrors = stats.Select(s => s.TypeErrors).ToArray();
        _lastLate = engine.LateEvents;
        series.RetainStreams(stats.Select(s => s.Stream).ToHashSet(StringComparer.Ordinal));
        foreach (var s in stats) series.Stream(s.Stream).ActiveRuns.Set(s.ActiveRuns);
        _samples.Clear();
        engine.DrainLatencySamples(_samples);
        _samples.Clear();
    }

    /// <summary>The pipeline was deleted or left this node: its series leave the scrape.</summary>
    public void RemoveSeries() => series.RemoveAll();

    /// <summary>The engine failed and the pipeline restarts from its journal.</summary>
    public void CountRestart() => series.Restarts.Inc();

    public void Record(IngestOutcome outcome, Engine engine, DateTimeOffset now)
    {
        // Counted by type first, so a labelled child is looked up once per type and request, not once per event.
        CountByType(outcome.AcceptedEvents);
        foreach (var (type, n) in _byType) VarpulisMetrics.EventsTotal.WithLabels(type.Name).Inc(n);

        var stats = engine.GetStreamStats();
        if (_lastIn.Length != stats.Count) Reset(engine);
        for (int i = 0; i < stats.Count; i++)
        {
            var s = stats[i];
            var streamSeries = series.Stream(s.Stream);
            long delta = s.EventsIn - _lastIn[i];
            _lastIn[i] = s.EventsIn;
            if (delta > 0) streamSeries.EventsProcessed.Inc(delta);
            streamSeries.ActiveRuns.Set(s.ActiveRuns);
            long typeErrors = s.TypeErrors - _lastTypeErrors[i];
            _lastTypeErrors[i] = s.TypeErrors;
            if (typeErrors > 0)
            {
                streamSeries.TypeErrors.Inc(typeErrors);
                if (_typeErrorsLogged.Add(s.Stream))
                {
                    log.LogDebug("Pipeline {PipelineId} stream {Stream}: {TypeError}; such values are skipped and counted in varpulis_type_errors_total, this is logged once",
                        series.PipelineId, s.Stream, engine.FirstTypeError(s.Stream));
                }
            }
        }
        // Each stream's own processing time, as the engine sampled it.
        _samples.Clear();
        engine.DrainLatencySamples(_samples);
        foreach (var sample in _samples) series.Stream(sample.Stream).Latency.Observe(sample.Seconds);
        CountByType(outcome.Outputs);
        foreach (var (t, n) in _byType)
        {
            string type = t.Name;
            int hash = type.IndexOf('#');
            series.Stream(hash < 0 ? type : type[..hash]).Outputs(type).Inc(n);
        }
        long late = engine.LateEvents;
        if (late > _lastLate) VarpulisMetrics.LateEvents.Inc(late - _lastLate);
        _lastLate = late;

        long second = now.ToUnixTimeSeconds();
        int slot = (int)(second % RateWindowSecs);
        if (_secondOf[slot] != second)
        {
            _secondOf[slot] = second;
            _perSecond[slot] = 0;
        }
        _perSecond[slot] += outcome.Accepted;
        if (_firstRecord == DateTimeOffset.MinValue) _firstRecord = now;

        _latencyUs[_latencyNext] = outcome.ElapsedMicros / Math.Max(1, outcome.Accepted);
        _latencyNext = (_latencyNext + 1) % LatencySamples;
        if (_latencyCount < LatencySamples) _latencyCount++;
    }

    private void CountByType(IReadOnlyList<Event> events)
    {
        _byType.Clear();
        for (int i = 0; i < events.Count; i++)
        {
            var t = events[i].Type;
            _byType[t] = _byType.GetValueOrDefault(t) + 1;
        }
    }

    /// <summary>Events accepted but not yet confirmed by the journal, shown per stream of the pipeline.</summary>
    public void SetQueue(Engine engine, int pending)
    {
        foreach (var s in engine.Program.Streams) series.Stream(s.Name).QueueSize.Set(pending);
    }

    public PipelineMetrics Snapshot(string pipelineId, Engine engine, DateTimeOffset now)
    {
        long second = now.ToUnixTimeSeconds();
        long events = 0;
        for (int i = 0; i < RateWindowSecs; i++)
        {
            // The current second is still filling: the rate is over the completed seconds of the window.
            if (_secondOf[i] > second - RateWindowSecs && _secondOf[i] < second) events += _perSecond[i];
        }
        double window = _firstRecord == DateTimeOffset.MinValue ? RateWindowSecs
            : Math.Clamp(second - _firstRecord.ToUnixTimeSeconds(), 1, RateWindowSecs - 1);
        double rate = events / window;

        var samples = _latencyUs.AsSpan(0, _latencyCount).ToArray();
        Array.Sort(samples);
        return new PipelineMetrics(
            pipelineId,
            engine.EventsProcessed,
            engine.OutputEventsEmitted,
            Math.Round(rate, 3),
            Math.Round(Percentile(samples, 0.50), 3),
            Math.Round(Percentile(samples, 0.99), 3),
            engine.ActiveRuns,
            engine.LateEvents,
            DlqEvents: 0);
    }

    private static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return 0;
        int idx = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(idx, 0, sorted.Length - 1)];
    }
}
