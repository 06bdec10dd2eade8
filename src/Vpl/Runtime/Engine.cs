using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime;

/// <summary>
/// One running instance of a compiled program: single-threaded and deterministic. Events are processed
/// one at a time in arrival order; event time (the highest timestamp seen, minus the declared
/// out-of-orderness) fires windows, expires pattern runs and confirms absences. Everything one event
/// triggers, including derived streams, completes before the next event starts.
/// </summary>
public sealed class Engine
{
    private readonly StreamRuntime[] _streams;
    private readonly Dictionary<string, StreamRuntime> _streamsByName;
    private InputPort[][] _routes;
    private readonly EngineState _state;
    private readonly List<Operator> _startListeners = new();
    private IOutputSink _sink = NullSink.Instance;
    private bool _started;

    // Latency sampling (EngineOptions.LatencySampleInterval): one input event in N is timed, stream by stream. The
    // stream being charged changes when a port of another stream is entered (an input routed to it, an output fed
    // to a derived stream, a timer of its operators) and changes back when that returns; each switch reads the
    // clock once, so a sampled event costs two clock reads per stream it reaches and the others cost one
    // decrement.
    private readonly int _sampleInterval;
    private int _sampleCountdown = int.MaxValue;
    private StreamRuntime? _charged;
    private long _sampleMark;
    private readonly List<StreamRuntime> _sampleTouched = new();
    private readonly List<StreamLatencySample> _latencySamples = new();

    /// <summary>The most samples kept between two <see cref="DrainLatencySamples"/> calls (older ones stay, newer are dropped).</summary>
    public const int MaxPendingLatencySamples = 8192;

    internal Engine(CompiledProgram program, EngineOptions options)
    {
        Program = program;
        Options = options;
        _state = new EngineState(program.CreateGlobals(), options);
        _sampleInterval = Math.Max(0, options.LatencySampleInterval);
        Timers = new TimerQueue();
        _streams = new StreamRuntime[program.Plans.Count];
        _streamsByName = new Dictionary<string, StreamRuntime>(StringComparer.Ordinal);
        for (int i = 0; i < _streams.Length; i++)
        {
            var plan = program.Plans[i];
            var rt = new StreamRuntime(this, plan) { Frame = new Frame(_state) };
            _streams[i] = rt;
            _streamsByName[plan.Name] = rt;
        }
        foreach (var rt in _streams) rt.Operators = BuildChain(rt);
        CollectStartListeners();

        // Wire sources: event types to ports (routing table), upstream streams to downstream ports.
        var byType = new Dictionary<int, List<InputPort>>();
        var downstream = new Dictionary<StreamRuntime, List<InputPort>>();
        foreach (var rt in _streams)
        {
            foreach (var src in rt.Plan.Sources)
            {
                var port = src.CreatePort(rt);
                port.Owner = rt;
                if (src.EventType is { } t)
                {
                    if (!byType.TryGetValue(t.Id, out var list)) byType[t.Id] = list = new List<InputPort>();
                    list.Add(port);
                }
                else if (src.Upstream is { } up)
                {
                    var upRt = _streamsByName[up.Name];
                    if (!downstream.TryGetValue(upRt, out var list)) downstream[upRt] = list = new List<InputPort>();
                    list.Add(port);
                }
            }
        }
        foreach (var (rt, ports) in downstream)
        {
            // Derived streams are timed on their own only when sampling is on; otherwise the tail calls them directly.
            rt.Downstream = _sampleInterval == 0 ? ports.ToArray() : ports.Select(p => (InputPort)new DownstreamPort(this, p) { Owner = p.Owner }).ToArray();
        }
        int maxId = byType.Count == 0 ? -1 : byType.Keys.Max();
        _routes = new InputPort[maxId + 1][];
        for (int i = 0; i <= maxId; i++) _routes[i] = byType.TryGetValue(i, out var l) ? l.ToArray() : Array.Empty<InputPort>();
    }

    public CompiledProgram Program { get; }

    public EngineOptions Options { get; }

    internal TimerQueue Timers { get; }

    internal EngineState State => _state;

    /// <summary>Input events processed (routed or not).</summary>
    public long EventsProcessed { get; private set; }

    /// <summary>Output events emitted to the pipeline's output.</summary>
    public long OutputEventsEmitted { get; private set; }

    /// <summary>Events dropped as late (<c>.allowed_lateness</c>).</summary>
    public long LateEvents { get; internal set; }

    /// <summary>The highest event timestamp seen (ns), or <see cref="long.MinValue"/> before the first event.</summary>
    public long MaxTimestamp { get; private set; } = long.MinValue;

    /// <summary>The pipeline's event time that drives windows and deadlines: max timestamp − declared out-of-orderness.</summary>
    public long Watermark { get; private set; } = long.MinValue;

    /// <summary>Runtime faults counted instead of crashing (function step/recursion limits).</summary>
    public long RuntimeFaults => _state.RuntimeFaults;

    /// <summary>True while a sampled event is processed (ports and timers charge their stream).</summary>
    internal bool Sampling { get; private set; }

    /// <summary>Processes one input event; outputs go to <paramref name="sink"/>.</summary>
    public void Process(Event e, IOutputSink sink)
    {
        _sink = sink;
        if (_sampleInterval > 0) _sampleCountdown = 1;
        try
        {
            ProcessOne(e);
        }
        finally
        {
            _sink = NullSink.Instance;
        }
    }

    /// <summary>Processes events in order; outputs go to <paramref name="sink"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Process(IReadOnlyList<Event> events, IOutputSink sink)
    {
        _sink = sink;
        if (_sampleInterval > 0) _sampleCountdown = 1;
        try
        {
            for (int i = 0; i < events.Count; i++) ProcessOne(events[i]);
        }
        finally
        {
            _sink = NullSink.Instance;
        }
    }

    private void ProcessOne(Event e)
    {
        if (--_sampleCountdown == 0) ProcessSampled(e);
        else ProcessCore(e);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProcessCore(Event e)
    {
        EventsProcessed++;
        long ts = e.Timestamp;
        if (!_started) Start(ts);
        if (ts > MaxTimestamp)
        {
            MaxTimestamp = ts;
            long wm = ts - Program.OutOfOrderness;
            if (wm > Watermark)
            {
                Watermark = wm;
                if (Timers.HasDue(wm)) Timers.RunDue(wm);
            }
        }
        int id = e.Type.Id;
        if ((uint)id < (uint)_routes.Length)
        {
            var ports = _routes[id];
            if (!Sampling)
            {
                for (int i = 0; i < ports.Length; i++) ports[i].Accept(e);
            }
            else
            {
                for (int i = 0; i < ports.Length; i++) AcceptSampled(ports[i], e);
            }
        }
        // A late event may have (re)opened state that is already due.
        if (Watermark != long.MinValue && Timers.HasDue(Watermark)) Timers.RunDue(Watermark);
    }

    private void ProcessSampled(Event e)
    {
        if (_sampleInterval == 0)
        {
            _sampleCountdown = int.MaxValue;
            ProcessCore(e);
            return;
        }
        _sampleCountdown = _sampleInterval;
        Sampling = true;
        _charged = null;
        _sampleMark = Stopwatch.GetTimestamp();
        try
        {
            ProcessCore(e);
        }
        finally
        {
            Sampling = false;
            _charged = null;
            foreach (var s in _sampleTouched)
            {
                if (_latencySamples.Count < MaxPendingLatencySamples) _latencySamples.Add(new StreamLatencySample(s.Plan.Name, s.SampleTicks));
                s.SampleTicks = 0;
                s.SampleTouched = false;
            }
            _sampleTouched.Clear();
        }
    }

    /// <summary>Feeds a port during a sampled event, charging the time to the port's stream.</summary>
    internal void AcceptSampled(InputPort port, Event e)
    {
        var previous = ChargeTo(port.Owner);
        port.Accept(e);
        ChargeTo(previous);
    }

    /// <summary>Runs a timer callback during a sampled event, charging the time to the operator's stream.</summary>
    internal void OnTimeSampled(Operator op, long due, long now)
    {
        var previous = ChargeTo(op.Stream);
        op.OnTime(due, now);
        ChargeTo(previous);
    }

    /// <summary>Charges the time since the last switch to the current stream, then makes <paramref name="next"/> current.</summary>
    private StreamRuntime? ChargeTo(StreamRuntime? next)
    {
        long now = Stopwatch.GetTimestamp();
        var previous = _charged;
        if (previous is not null) previous.SampleTicks += now - _sampleMark;
        _sampleMark = now;
        _charged = next;
        if (next is { SampleTouched: false })
        {
            next.SampleTouched = true;
            _sampleTouched.Add(next);
        }
        return previous;
    }

    /// <summary>
    /// Moves the latency samples taken since the last call into <paramref name="into"/>: for each sampled input event,
    /// one sample per stream it reached, that stream's own processing time (see <see cref="EngineOptions.LatencySampleInterval"/>).
    /// </summary>
    public void DrainLatencySamples(List<StreamLatencySample> into)
    {
        into.AddRange(_latencySamples);
        _latencySamples.Clear();
    }

    private void Start(long firstTimestamp)
    {
        _started = true;
        foreach (var op in _startListeners) ((IStartListener)op).OnStart(firstTimestamp);
    }

    /// <summary>
    /// Moves event time forward without an event (e.g. a source's idle timeout). Fires what is due;
    /// never moves time backwards.
    /// </summary>
    public void AdvanceTime(long eventTime, IOutputSink sink)
    {
        _sink = sink;
        try
        {
            if (eventTime > MaxTimestamp) MaxTimestamp = eventTime;
            long wm = eventTime - Program.OutOfOrderness;
            if (wm > Watermark)
            {
                Watermark = wm;
                Timers.RunDue(wm);
            }
        }
        finally
        {
            _sink = NullSink.Instance;
        }
    }

    /// <summary>
    /// End of input (vpl.md §7): event time goes to +∞, so open time and session windows fire, absence
    /// patterns whose deadline is open confirm, and live runs expire. Timer sources stop.
    /// </summary>
    public void Finish(IOutputSink sink)
    {
        _sink = sink;
        try
        {
            Watermark = long.MaxValue;
            Timers.RunDue(long.MaxValue);
        }
        finally
        {
            _sink = NullSink.Instance;
        }
    }

    internal void EmitOutput(Event output)
    {
        OutputEventsEmitted++;
        _sink.OnOutput(output);
    }

    /// <summary>Per-stream counters, in declaration order.</summary>
    public IReadOnlyList<StreamStats> GetStreamStats()
    {
        var list = new List<StreamStats>(_streams.Length);
        foreach (var s in _streams)
        {
            long runs = 0;
            foreach (var op in s.Operators)
            {
                if (op is IRunInspector ri) runs += ri.LiveRuns;
            }
            list.Add(new StreamStats(s.Plan.Name, s.EventsIn, s.EventsOut, s.LateEvents, runs, s.TypeErrors));
        }
        return list;
    }

    /// <summary>What the first skipped non-numeric value of a stream's aggregates was (null: none, or no such stream).</summary>
    public string? FirstTypeError(string stream) => _streamsByName.GetValueOrDefault(stream)?.FirstTypeError;

    /// <summary>Run-budget and Kleene-cap counters of every pattern stream that keeps runs, in declaration order.</summary>
    public IReadOnlyList<Patterns.PatternStats> GetPatternStats()
    {
        var list = new List<Patterns.PatternStats>();
        foreach (var s in _streams)
        {
            foreach (var op in s.Operators)
            {
                if (op is Patterns.IPatternCounters c) list.Add(new Patterns.PatternStats(s.Plan.Name, c.LiveRuns, c.RunsRefused, c.RunsEvicted, c.KleeneLimitHits));
            }
        }
        return list;
    }

    /// <summary>The runtime of a stream by name (pattern streams that share work reach each other's state through it).</summary>
    internal StreamRuntime? FindStream(string name) => _streamsByName.GetValueOrDefault(name);

    /// <summary>Live pattern runs over all streams.</summary>
    public long ActiveRuns
    {
        get
        {
            long n = 0;
            foreach (var s in _streams)
            {
                foreach (var op in s.Operators)
                {
                    if (op is IRunInspector ri) n += ri.LiveRuns;
                }
            }
            return n;
        }
    }

    /// <summary>The live partial matches of a pattern stream (at most <paramref name="limit"/>), or null when the stream does not exist.</summary>
    public IReadOnlyList<RunInfo>? ListRuns(string stream, int limit)
    {
        if (!_streamsByName.TryGetValue(stream, out var rt)) return null;
        var result = new List<RunInfo>();
        foreach (var op in rt.Operators)
        {
            if (op is IRunInspector ri) result.AddRange(ri.ListRuns(limit - result.Count));
            if (result.Count >= limit) break;
        }
        return result;
    }

    /// <summary>Live runs per partition of a pattern stream, largest first (top <paramref name="top"/>).</summary>
    public IReadOnlyList<KeyValuePair<Value, long>>? CountRunsByPartition(string stream, int top)
    {
        if (!_streamsByName.TryGetValue(stream, out var rt)) return null;
        var counts = new Dictionary<Value, long>();
        foreach (var op in rt.Operators)
        {
            if (op is not IRunInspector ri) continue;
            foreach (var (k, n) in ri.CountByPartition())
                counts[k] = counts.GetValueOrDefault(k) + n;
        }
        return counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, ValueTotalComparer.Instance).Take(top).ToList();
    }

    // ------------------------------------------------------------------------------------------
    // Checkpoints (vpl.md §9)

    /// <summary>The checkpoint format version this engine writes and the newest it reads.</summary>
    public const int CheckpointVersion = 1;

    /// <summary>Captures the complete state of this engine as a JSON document.</summary>
    public JsonObject CreateCheckpoint()
    {
        var streams = new JsonObject();
        foreach (var s in _streams)
        {
            var ops = new JsonArray();
            for (int i = 0; i < s.Operators.Length; i++)
            {
                var op = s.Operators[i];
                if (op.StateKind is not { } kind) continue;
                ops.Add(new JsonObject
                {
                    ["index"] = i,
                    ["kind"] = kind,
                    ["state"] = op.SaveState(),
                });
            }
            streams[s.Plan.Name] = new JsonObject
            {
                ["shape"] = s.Plan.Shape,
                ["events_in"] = s.EventsIn,
                ["events_out"] = s.EventsOut,
                ["late_events"] = s.LateEvents,
                ["operators"] = ops,
            };
        }
        var globals = new JsonObject();
        foreach (var (name, slot) in Program.CheckpointedGlobals)
            globals[name] = CheckpointCodec.EncodeValue(_state.Globals[slot]);
        return new JsonObject
        {
            ["version"] = CheckpointVersion,
            ["events_processed"] = EventsProcessed,
            ["output_events_emitted"] = OutputEventsEmitted,
            ["late_events"] = LateEvents,
            ["max_timestamp"] = MaxTimestamp,
            ["watermark"] = Watermark,
            ["started"] = _started,
            ["globals"] = globals,
            ["streams"] = streams,
        };
    }

    /// <summary>
    /// Replaces this engine's state with a checkpoint. Streams whose name and shape match are restored;
    /// the others start empty. Throws <see cref="CheckpointException"/> for a document this engine cannot read
    /// (in which case the engine's state is unchanged).
    /// </summary>
    public RestoreReport Restore(JsonObject checkpoint)
    {
        // Decode everything first so a bad document leaves the engine untouched; whatever a malformed document makes
        // the decoding throw (a string where a number belongs, a number too large) is a CheckpointException.
        Decoded d;
        try
        {
            d = Decode(checkpoint);
        }
        catch (Exception ex) when (ex is not CheckpointException and not OutOfMemoryException)
        {
            throw new CheckpointException("checkpoint could not be read: " + ex.Message, ex);
        }

        Timers.Clear();
        for (int i = 0; i < _streams.Length; i++)
        {
            _streams[i].Operators = d.Chains[i];
            _streams[i].EventsIn = _streams[i].EventsOut = _streams[i].LateEvents = 0;
        }
        CollectStartListeners();
        foreach (var (s, i, o, l) in d.Counters)
        {
            s.EventsIn = i;
            s.EventsOut = o;
            s.LateEvents = l;
        }
        EventsProcessed = d.EventsProcessed;
        OutputEventsEmitted = d.OutputEventsEmitted;
        LateEvents = d.LateEvents;
        MaxTimestamp = d.MaxTimestamp;
        Watermark = d.Watermark;
        _started = d.Started;
        foreach (var (slot, value) in d.Globals) _state.Globals[slot] = value;
        foreach (var s in _streams)
        {
            foreach (var op in s.Operators) op.AfterRestore();
        }
        return new RestoreReport(EventsProcessed, d.Restored, d.Reset);
    }

    /// <summary>A checkpoint read into fresh operator chains and values, not yet applied.</summary>
    private sealed record Decoded(
        Operator[][] Chains,
        List<(StreamRuntime Stream, long In, long Out, long Late)> Counters,
        List<(int Slot, Value Value)> Globals,
        List<string> Restored,
        List<string> Reset,
        long EventsProcessed,
        long OutputEventsEmitted,
        long LateEvents,
        long MaxTimestamp,
        long Watermark,
        bool Started);

    private Decoded Decode(JsonObject checkpoint)
    {
        int version = 1;
        if (checkpoint["version"] is JsonNode v)
        {
            if (v is not JsonValue value || !value.TryGetValue(out version)) throw new CheckpointException("checkpoint 'version' must be an integer");
        }
        if (version > CheckpointVersion)
            throw new CheckpointException($"checkpoint version {version} is newer than this engine supports (max {CheckpointVersion})");
        if (version < 1) throw new CheckpointException($"invalid checkpoint version {version}");
        if (checkpoint["streams"] is not JsonObject streams) throw new CheckpointException("checkpoint has no 'streams' object");

        var restored = new List<string>();
        var reset = new List<string>();
        var pending = new List<(StreamRuntime Stream, int Index, JsonNode State)>();
        var counters = new List<(StreamRuntime Stream, long In, long Out, long Late)>();
        foreach (var s in _streams)
        {
            if (streams[s.Plan.Name] is not JsonObject saved || (saved["shape"] as JsonValue)?.GetValueKind() != System.Text.Json.JsonValueKind.String
                || (string?)saved["shape"] != s.Plan.Shape)
            {
                reset.Add(s.Plan.Name);
                continue;
            }
            var ops = saved["operators"] as JsonArray ?? new JsonArray();
            bool ok = true;
            var mine = new List<(StreamRuntime, int, JsonNode)>();
            foreach (var node in ops)
            {
                if (node is not JsonObject o || o["index"] is not JsonValue indexValue || !indexValue.TryGetValue(out int idx) || o["kind"] is not JsonValue kind
                    || kind.GetValueKind() != System.Text.Json.JsonValueKind.String)
                {
                    ok = false;
                    break;
                }
                if (idx < 0 || idx >= s.Operators.Length || s.Operators[idx].StateKind != (string?)kind)
                {
                    ok = false;
                    break;
                }
                mine.Add((s, idx, o["state"] ?? new JsonObject()));
            }
            if (!ok)
            {
                reset.Add(s.Plan.Name);
                continue;
            }
            pending.AddRange(mine);
            counters.Add((s, Long(saved, "events_in", 0), Long(saved, "events_out", 0), Long(saved, "late_events", 0)));
            restored.Add(s.Plan.Name);
        }

        // Fresh chains for every stream (no stale state survives), loaded here and swapped in by the caller.
        var chains = new Operator[_streams.Length][];
        for (int i = 0; i < _streams.Length; i++) chains[i] = BuildChain(_streams[i]);
        try
        {
            foreach (var (s, idx, state) in pending) chains[Array.IndexOf(_streams, s)][idx].LoadState(state);
        }
        catch (Exception ex) when (ex is not CheckpointException)
        {
            throw new CheckpointException("checkpoint state could not be read: " + ex.Message, ex);
        }
        var globalValues = new List<(int Slot, Value Value)>();
        try
        {
            if (checkpoint["globals"] is JsonObject globals)
            {
                foreach (var (name, slot) in Program.CheckpointedGlobals)
                {
                    if (globals[name] is JsonNode g) globalValues.Add((slot, CheckpointCodec.DecodeValue(g, Program.Types)));
                }
            }
        }
        catch (Exception ex) when (ex is not CheckpointException)
        {
            throw new CheckpointException("checkpoint globals could not be read: " + ex.Message, ex);
        }
        long maxTimestamp = Long(checkpoint, "max_timestamp", long.MinValue);
        bool? started = checkpoint["started"] is JsonNode st ? (st is JsonValue sv && sv.TryGetValue(out bool b) ? b : throw new CheckpointException("checkpoint 'started' must be true or false")) : null;
        return new Decoded(chains, counters, globalValues, restored, reset,
            Long(checkpoint, "events_processed", 0), Long(checkpoint, "output_events_emitted", 0), Long(checkpoint, "late_events", 0),
            maxTimestamp, Long(checkpoint, "watermark", long.MinValue), started ?? (maxTimestamp != long.MinValue));
    }

    /// <summary>An integer member of a checkpoint object (absent or null: <paramref name="absent"/>).</summary>
    private static long Long(JsonObject o, string name, long absent)
    {
        var node = o[name];
        if (node is null) return absent;
        if (node is JsonValue v && v.TryGetValue(out long l)) return l;
        throw new CheckpointException($"checkpoint '{name}' must be an integer");
    }

    private static Operator[] BuildChain(StreamRuntime rt)
    {
        var ops = new List<Operator>(rt.Plan.BuildOperators(rt)) { new StreamTail() };
        for (int i = 0; i < ops.Count; i++)
        {
            ops[i].Stream = rt;
            ops[i].Order = ((long)rt.Plan.Index << 20) + i;
            if (i + 1 < ops.Count) ops[i].Next = ops[i + 1];
        }
        return ops.ToArray();
    }

    private void CollectStartListeners()
    {
        _startListeners.Clear();
        foreach (var s in _streams)
        {
            foreach (var op in s.Operators)
            {
                if (op is IStartListener) _startListeners.Add(op);
            }
        }
    }

    private sealed class NullSink : IOutputSink
    {
        public static readonly NullSink Instance = new();

        public void OnOutput(Event output)
        {
        }
    }
}

/// <summary>Counters of one stream. <paramref name="TypeErrors"/>: values its numeric aggregates skipped as not numbers.</summary>
public sealed record StreamStats(string Stream, long EventsIn, long EventsOut, long LateEvents, long ActiveRuns, long TypeErrors = 0);

/// <summary>One stream's own processing time for one sampled input event, in <see cref="Stopwatch"/> ticks.</summary>
public readonly record struct StreamLatencySample(string Stream, long Ticks)
{
    public double Seconds => Ticks / (double)Stopwatch.Frequency;
}

/// <summary>What a restore did: which streams got their state back and which started empty.</summary>
public sealed record RestoreReport(long EventsRestored, IReadOnlyList<string> RestoredStreams, IReadOnlyList<string> ResetStreams);

/// <summary>A checkpoint document this engine cannot read.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string message)
        : base(message)
    {
    }

    public CheckpointException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>Operators that need the first event's time (timer sources).</summary>
internal interface IStartListener
{
    void OnStart(long firstTimestamp);
}

/// <summary>One live partial match of a pattern stream.</summary>
public sealed record RunInfo(
    string Stream,
    Value Partition,
    int StepReached,
    string NextStep,
    IReadOnlyList<KeyValuePair<string, Value>> Captures,
    long StartedAt,
    long? Deadline);

/// <summary>Operators holding pattern runs (implemented by the pattern operators).</summary>
internal interface IRunInspector
{
    long LiveRuns { get; }

    IEnumerable<RunInfo> ListRuns(int limit);

    IEnumerable<KeyValuePair<Value, long>> CountByPartition();
}

/// <summary>Orders values with <see cref="Value.CompareTotal"/>.</summary>
public sealed class ValueTotalComparer : IComparer<Value>
{
    public static readonly ValueTotalComparer Instance = new();

    public int Compare(Value x, Value y) => Value.CompareTotal(x, y);
}
