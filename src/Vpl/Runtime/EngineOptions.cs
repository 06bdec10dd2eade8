namespace Varpulis.Vpl.Runtime;

/// <summary>Limits and host callbacks of one engine instance.</summary>
public sealed class EngineOptions
{
    /// <summary>Live pattern runs per stream before the run budget refuses or evicts (vpl.md §5.6).</summary>
    public int MaxRunsPerStream { get; init; } = 100_000;

    /// <summary>Events a Kleene step of one run may collect (vpl.md §5.2).</summary>
    public int MaxKleeneEvents { get; init; } = 10_000;

    /// <summary>Keys remembered by <c>.distinct</c> per partition (LRU).</summary>
    public int DistinctCapacity { get; init; } = 100_000;

    /// <summary>Statements one user-function call may execute before it is stopped (a runaway loop is a fault, not a hang).</summary>
    public int MaxFunctionSteps { get; init; } = 1_000_000;

    /// <summary>
    /// Latency sampling (<see cref="Engine.DrainLatencySamples"/>): the first input event of each
    /// <see cref="Engine.Process(IReadOnlyList{Event}, IOutputSink)"/> call and every Nth event after it are timed, each
    /// stream on its own (the time of the streams it feeds is not its own). 0 (the default): off, nothing is timed.
    /// </summary>
    public int LatencySampleInterval { get; init; }

    /// <summary>Receives <c>.to</c>, <c>.print</c> and <c>.log</c> side effects and engine notices. Null: side effects are dropped.</summary>
    public IEngineHost? Host { get; init; }

    public static EngineOptions Default { get; } = new();
}

/// <summary>
/// The engine's window on its host: sinks, debug output and notices. Called synchronously on the
/// engine's thread; implementations must not block for long (buffer and hand off).
/// </summary>
public interface IEngineHost
{
    /// <summary><c>.to(Connector, key: value, ...)</c>: deliver <paramref name="e"/> to a declared connector.</summary>
    void Send(string stream, string connector, IReadOnlyList<KeyValuePair<string, Value>> args, Event e);

    /// <summary><c>.print(...)</c></summary>
    void Print(string stream, string text);

    /// <summary><c>.log(level: ..., message: ...)</c></summary>
    void Log(string stream, string level, string message, Event e);

    /// <summary>
    /// A cap was hit or a runtime fault happened (run budget, Kleene limit, function step limit).
    /// <paramref name="code"/> is stable (<c>run_budget</c>, <c>kleene_limit</c>, <c>function_fault</c>).
    /// </summary>
    void Notice(string stream, string code, string message);
}

/// <summary>Receives the output events of a pipeline (events built by <c>.emit</c> or <c>.process</c>).</summary>
public interface IOutputSink
{
    void OnOutput(Event output);
}

/// <summary>An output sink that keeps the events in a list.</summary>
public sealed class ListOutputSink : IOutputSink
{
    public List<Event> Events { get; } = new();

    public void OnOutput(Event output) => Events.Add(output);
}

/// <summary>An output sink that only counts.</summary>
public sealed class CountingOutputSink : IOutputSink
{
    public long Count { get; private set; }

    public void OnOutput(Event output) => Count++;
}

/// <summary>An output sink that calls a delegate.</summary>
public sealed class DelegateOutputSink(Action<Event> onOutput) : IOutputSink
{
    public void OnOutput(Event output) => onOutput(output);
}
