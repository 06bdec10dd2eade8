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

    internal Engine(CompiledProgram program, EngineOptions options)
    {
        Program = program;
        Options = options;
        _state = new EngineState(program.CreateGlobals(), options);
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
        foreach (var (rt, ports) in downstream) rt.Downstream = ports.ToArray();
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

    /// <summary>Processes one input event; outputs go to <paramref name="sink"/>.</summary>
    public void Process(Event e, IOutputSink sink)
    {
        _sink = sink;
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
    public void Process(IReadOnlyList<Event> events, IOutputSink sink)
    {
        _sink = sink;
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
            for (int i = 0; i < ports.Length; i++) ports[i].Accept(e);
        }
        // A late event may have (re)opened state that is already due.
        if (Watermark != long.MinValue && Timers.HasDue(Watermark)) Timers.RunDue(Watermark);
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
            list.Add(new StreamStats(s.Plan.Name, s.EventsIn, s.EventsOut, s.LateEvents, runs));
        }
        return list;
    }

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
        int version = 1;
        if (checkpoint["version"] is JsonNode v)
        {
            if (!v.AsValue().TryGetValue(out version)) throw new CheckpointException("checkpoint 'version' must be an integer");
        }
        if (version > CheckpointVersion)
            throw new CheckpointException($"checkpoint version {version} is newer than this engine supports (max {CheckpointVersion})");
        if (version < 1) throw new CheckpointException($"invalid checkpoint version {version}");
        if (checkpoint["streams"] is not JsonObject streams) throw new CheckpointException("checkpoint has no 'streams' object");

        // Decode everything first so a bad document leaves the engine untouched.
        var restored = new List<string>();
        var reset = new List<string>();
        var pending = new List<(StreamRuntime Stream, int Index, JsonNode State)>();
        var counters = new List<(StreamRuntime Stream, long In, long Out, long Late)>();
        foreach (var s in _streams)
        {
            if (streams[s.Plan.Name] is not JsonObject saved || (string?)saved["shape"] != s.Plan.Shape)
            {
                reset.Add(s.Plan.Name);
                continue;
            }
            var ops = saved["operators"] as JsonArray ?? new JsonArray();
            bool ok = true;
            var mine = new List<(StreamRuntime, int, JsonNode)>();
            foreach (var node in ops)
            {
                if (node is not JsonObject o || o["index"] is null || o["kind"] is null)
                {
                    ok = false;
                    break;
                }
                int idx = (int)o["index"]!;
                if (idx < 0 || idx >= s.Operators.Length || s.Operators[idx].StateKind != (string?)o["kind"])
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
            counters.Add((s, (long?)saved["events_in"] ?? 0, (long?)saved["events_out"] ?? 0, (long?)saved["late_events"] ?? 0));
            restored.Add(s.Plan.Name);
        }

        // Build fresh chains for every stream (no stale state survives), load them, and only then swap
        // them in, so a document that fails to load leaves the engine as it was.
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

        Timers.Clear();
        for (int i = 0; i < _streams.Length; i++)
        {
            _streams[i].Operators = chains[i];
            _streams[i].EventsIn = _streams[i].EventsOut = _streams[i].LateEvents = 0;
        }
        CollectStartListeners();
        foreach (var (s, i, o, l) in counters)
        {
            s.EventsIn = i;
            s.EventsOut = o;
            s.LateEvents = l;
        }
        EventsProcessed = (long?)checkpoint["events_processed"] ?? 0;
        OutputEventsEmitted = (long?)checkpoint["output_events_emitted"] ?? 0;
        LateEvents = (long?)checkpoint["late_events"] ?? 0;
        MaxTimestamp = (long?)checkpoint["max_timestamp"] ?? long.MinValue;
        Watermark = (long?)checkpoint["watermark"] ?? long.MinValue;
        _started = (bool?)checkpoint["started"] ?? (MaxTimestamp != long.MinValue);
        foreach (var (slot, value) in globalValues) _state.Globals[slot] = value;
        foreach (var s in _streams)
        {
            foreach (var op in s.Operators) op.AfterRestore();
        }
        return new RestoreReport(EventsProcessed, restored, reset);
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

/// <summary>Counters of one stream.</summary>
public sealed record StreamStats(string Stream, long EventsIn, long EventsOut, long LateEvents, long ActiveRuns);

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
