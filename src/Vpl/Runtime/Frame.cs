namespace Varpulis.Vpl.Runtime;

/// <summary>A compiled VPL expression: evaluated against a frame, never throws for any data.</summary>
public delegate Value Eval(Frame frame);

/// <summary>
/// What an expression sees while it runs: the current row, the captures of the pattern run being tested,
/// the locals of the function being executed, and the engine's globals. Each operator owns one frame
/// (an engine is single-threaded), so evaluation allocates nothing.
/// </summary>
public sealed class Frame
{
    internal Frame(EngineState state)
    {
        State = state;
    }

    /// <summary>The event (or match/join row) the expression is evaluated on.</summary>
    public Event Row = null!;

    /// <summary>The captured aliases of the pattern run a step predicate is tested against (else null).</summary>
    public Value[]? Captures;

    /// <summary>The element of a Kleene collection being aggregated (<c>sum(t.amount)</c>), else null.</summary>
    public Event? Element;

    /// <summary>Locals and parameters of the user function being executed.</summary>
    public Value[] Locals = Array.Empty<Value>();

    /// <summary>Where <c>emit</c> statements of user functions put their events (set by <c>.process</c>).</summary>
    public List<Event>? Emitted;

    internal readonly EngineState State;

    public Value[] Globals => State.Globals;
}

/// <summary>Engine-instance state shared by every operator and frame of one engine.</summary>
public sealed class EngineState
{
    internal EngineState(Value[] globals, EngineOptions options)
    {
        Globals = globals;
        Options = options;
    }

    /// <summary>Values of top-level <c>const</c>/<c>let</c>/<c>var</c> (vars are checkpointed).</summary>
    public Value[] Globals { get; }

    public EngineOptions Options { get; }

    /// <summary>Nesting of user function calls, bounded so runaway recursion cannot crash the engine.</summary>
    internal int CallDepth;

    /// <summary>Statements the outermost running user-function call may still execute.</summary>
    internal long StepsLeft;

    /// <summary>Runtime faults (function step limit, recursion limit) counted instead of crashing.</summary>
    public long RuntimeFaults;
}
