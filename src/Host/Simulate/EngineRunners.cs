using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Host.Simulate;

/// <summary>Runs one or several engines over batches of events.</summary>
internal interface IEngineRunner : IDisposable
{
    void Process(List<Event> batch);

    /// <summary>
    /// Processes events <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1 of a preloaded
    /// list (which must not change while the runner may still read it: until <see cref="Drain"/>). Parallel runners
    /// build each partition's events on its worker.
    /// </summary>
    void ProcessRange(PackedEventList events, int start, int count);

    /// <summary>Waits until every batch handed in so far is processed.</summary>
    void Drain();

    /// <summary>End of input: event time to +∞.</summary>
    void Finish();

    long EventsProcessed { get; }

    long OutputEvents { get; }

    IEnumerable<StreamStats> StreamStats { get; }

    JsonObject CreateCheckpoint();

    RestoreReport Restore(JsonObject checkpoint);

    void FlushOutput();
}

/// <summary>One engine on the caller's thread.</summary>
internal sealed class SingleEngineRunner(Engine engine, OutputBuffer output) : IEngineRunner
{
    private readonly List<Event> _batch = new();

    public void Process(List<Event> batch) => engine.Process(batch, output);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ProcessRange(PackedEventList events, int start, int count)
    {
        _batch.Clear();
        events.MaterializeRange(start, count, _batch);
        engine.Process(_batch, output);
        _batch.Clear();
    }

    public void Drain()
    {
    }

    public void Finish() => engine.Finish(output);

    public long EventsProcessed => engine.EventsProcessed;

    public long OutputEvents => output.Count;

    public IEnumerable<StreamStats> StreamStats => engine.GetStreamStats();

    public JsonObject CreateCheckpoint() => engine.CreateCheckpoint();

    public RestoreReport Restore(JsonObject checkpoint) => engine.Restore(checkpoint);

    public void FlushOutput() => output.Flush();

    public void Dispose() => output.Flush();
}

/// <summary>
/// N engines on N threads; events go to a worker by the hash of the partition key field (or round-robin by
/// batch for stateless programs), so every partition's events are processed in order by one engine.
/// </summary>
internal sealed class ParallelEngineRunner : IEngineRunner
{
    private readonly Worker[] _workers;
    private readonly string? _keyField;
    private int _roundRobin;
    private EventType? _lastType;
    private int _lastSlot = -1;

    private sealed class Worker
    {
        public required Engine Engine { get; init; }

        public required OutputBuffer Output { get; init; }

        public BlockingCollection<Work> Queue { get; } = new(boundedCapacity: 16);

        /// <summary>The worker's own list for the events it builds from a preloaded list.</summary>
        public readonly List<Event> Built = new();

        public Thread Thread { get; set; } = null!;

        public Exception? Fault { get; set; }

        public int Pending;

        public readonly ManualResetEventSlim Idle = new(true);
    }

    public ParallelEngineRunner(IReadOnlyList<Engine> engines, OutputWriter writer, string? keyField)
    {
        _keyField = keyField;
        _workers = engines.Select(e => new Worker { Engine = e, Output = writer.CreateBuffer() }).ToArray();
        foreach (var w in _workers)
        {
            var worker = w;
            w.Thread = new Thread(() => Loop(worker)) { IsBackground = true, Name = "simulate-worker" };
            w.Thread.Start();
        }
    }

    /// <summary>
    /// What a worker is handed: a batch of events, or events of a preloaded list to build first (those at
    /// <see cref="Indices"/>, or the range from <see cref="Start"/>), so that building them is shared by the workers.
    /// </summary>
    private sealed record Work(List<Event>? Batch, PackedEventList? Source, int[]? Indices, int Start, int Count);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop(Worker w)
    {
        foreach (var work in w.Queue.GetConsumingEnumerable())
        {
            try
            {
                if (w.Fault is null)
                {
                    if (work.Batch is { } batch)
                    {
                        w.Engine.Process(batch, w.Output);
                    }
                    else
                    {
                        w.Built.Clear();
                        if (work.Indices is { } indices) work.Source!.MaterializeAt(indices, work.Count, w.Built);
                        else work.Source!.MaterializeRange(work.Start, work.Count, w.Built);
                        w.Engine.Process(w.Built, w.Output);
                        w.Built.Clear();
                    }
                }
            }
            catch (Exception ex)
            {
                w.Fault = ex;
            }
            if (Interlocked.Decrement(ref w.Pending) == 0) w.Idle.Set();
        }
    }

    private void Enqueue(Worker w, Work work)
    {
        w.Idle.Reset();
        Interlocked.Increment(ref w.Pending);
        w.Queue.Add(work);
    }

    private void Enqueue(Worker w, List<Event> batch) => Enqueue(w, new Work(batch, null, null, 0, batch.Count));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ProcessRange(PackedEventList events, int start, int count)
    {
        if (_keyField is null)
        {
            Enqueue(_workers[_roundRobin++ % _workers.Length], new Work(null, events, null, start, count));
            return;
        }
        var parts = new int[_workers.Length][];
        var counts = new int[_workers.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = new int[count];
        for (int i = start; i < start + count; i++)
        {
            var type = events.TypeAt(i);
            if (!ReferenceEquals(type, _lastType) || _lastSlot < 0)
            {
                _lastType = type;
                _lastSlot = type.TryGetSlot(_keyField, out int slot) ? slot : -1;
            }
            var key = _lastSlot >= 0 ? events.FieldAt(i, _lastSlot) : default;
            int w = (key.GetHashCode() & int.MaxValue) % parts.Length;
            parts[w][counts[w]++] = i;
        }
        for (int i = 0; i < parts.Length; i++)
        {
            if (counts[i] > 0) Enqueue(_workers[i], new Work(null, events, parts[i], 0, counts[i]));
        }
    }

    public void Process(List<Event> batch)
    {
        if (_keyField is null)
        {
            Enqueue(_workers[_roundRobin++ % _workers.Length], new List<Event>(batch));
            return;
        }
        var parts = new List<Event>[_workers.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = new List<Event>(batch.Count / parts.Length + 16);
        foreach (var e in batch)
        {
            // The key's slot per event type, looked up once per type rather than by name per event.
            if (!ReferenceEquals(e.Type, _lastType) || _lastSlot < 0)
            {
                _lastType = e.Type;
                _lastSlot = e.Type.TryGetSlot(_keyField, out int slot) ? slot : -1;
            }
            var key = _lastSlot >= 0 ? e[_lastSlot] : default;
            int h = key.GetHashCode() & int.MaxValue;
            parts[h % parts.Length].Add(e);
        }
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].Count > 0) Enqueue(_workers[i], parts[i]);
        }
    }

    public void Drain()
    {
        foreach (var w in _workers) w.Idle.Wait();
        foreach (var w in _workers)
        {
            if (w.Fault is { } ex) throw new InvalidOperationException("a worker failed: " + ex.Message, ex);
        }
    }

    public void Finish()
    {
        Drain();
        Parallel.ForEach(_workers, w => w.Engine.Finish(w.Output));
    }

    public long EventsProcessed => _workers.Sum(w => w.Engine.EventsProcessed);

    public long OutputEvents => _workers.Sum(w => w.Output.Count);

    public IEnumerable<StreamStats> StreamStats =>
        _workers.SelectMany(w => w.Engine.GetStreamStats())
            .GroupBy(s => s.Stream)
            .Select(g => new StreamStats(g.Key, g.Sum(s => s.EventsIn), g.Sum(s => s.EventsOut), g.Sum(s => s.LateEvents), g.Sum(s => s.ActiveRuns)));

    public JsonObject CreateCheckpoint()
    {
        Drain();
        var arr = new JsonArray();
        foreach (var w in _workers) arr.Add(w.Engine.CreateCheckpoint());
        return new JsonObject { ["partition_key"] = _keyField, ["workers"] = arr };
    }

    public RestoreReport Restore(JsonObject checkpoint)
    {
        if (checkpoint["workers"] is not JsonArray arr || arr.Count != _workers.Length || (string?)checkpoint["partition_key"] != _keyField)
            throw new CheckpointException($"the checkpoint was written by a different worker setup; rerun with the same --workers and partition key");
        RestoreReport? last = null;
        long events = 0;
        for (int i = 0; i < _workers.Length; i++)
        {
            last = _workers[i].Engine.Restore((JsonObject)arr[i]!);
            events += last.EventsRestored;
        }
        return last! with { EventsRestored = events };
    }

    public void FlushOutput()
    {
        Drain();
        foreach (var w in _workers) w.Output.Flush();
    }

    public void Dispose()
    {
        foreach (var w in _workers) w.Queue.CompleteAdding();
        foreach (var w in _workers)
        {
            w.Thread.Join();
            w.Output.Flush();
            w.Idle.Dispose();
            w.Queue.Dispose();
        }
    }
}

/// <summary>Chooses single or parallel execution for a compiled program.</summary>
internal static class EngineRunnerFactory
{
    public static (IEngineRunner Runner, string? Note) Create(
        Func<TypeRegistry, CompiledProgram?> compile, CompiledProgram first, int workers, string? partitionBy, OutputWriter writer, EngineOptions options)
    {
        if (workers <= 1) return (new SingleEngineRunner(first.CreateEngine(options), writer.CreateBuffer()), null);
        var p = first.Partitioning;
        string? key;
        if (!p.CanSplit)
            return (new SingleEngineRunner(first.CreateEngine(options), writer.CreateBuffer()), $"Running on 1 worker: the program cannot be split safely ({p.Reason}).");
        if (partitionBy is not null && p.KeyField is not null && partitionBy != p.KeyField)
            return (new SingleEngineRunner(first.CreateEngine(options), writer.CreateBuffer()),
                $"Running on 1 worker: --partition-by {partitionBy} differs from the program's partition key '{p.KeyField}'.");
        key = partitionBy ?? p.KeyField;
        var engines = new List<Engine> { first.CreateEngine(options) };
        for (int i = 1; i < workers; i++)
        {
            var again = compile(first.Types) ?? throw new InvalidOperationException("recompilation failed");
            engines.Add(again.CreateEngine(options));
        }
        string how = key is null ? "batches distributed round-robin (stateless program)" : $"partitioned by '{key}'";
        return (new ParallelEngineRunner(engines, writer, key), $"Running on {workers} workers, {how}.");
    }
}
