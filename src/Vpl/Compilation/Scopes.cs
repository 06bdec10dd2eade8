using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation;

/// <summary>How an alias (<c>as a</c>, a join input, a pattern step) reaches its event at run time.</summary>
internal enum AliasKind
{
    /// <summary>The row itself (<c>Tick as t .where(t.price > 1)</c>).</summary>
    Self,

    /// <summary>A slot of a composite row (match or join rows hold one event, or an array of events, per alias).</summary>
    RowSlot,

    /// <summary>A slot of <see cref="Frame.Captures"/>: the captures of the pattern run a step predicate is tested against.</summary>
    Capture,

    /// <summary>The element of a Kleene collection being aggregated (<c>sum(t.amount)</c>): <see cref="Frame.Element"/>.</summary>
    Element,
}

/// <summary>An alias visible to expressions.</summary>
internal sealed record AliasBinding(string Name, AliasKind Kind, int Slot, bool IsKleene, IReadOnlyList<EventType> Types)
{
    /// <summary>Evaluates to the aliased event (or, for a Kleene alias, the array of collected events).</summary>
    public Eval Access() => Kind switch
    {
        AliasKind.Self => static f => Value.FromEvent(f.Row),
        AliasKind.RowSlot => RowSlotAccess(Slot),
        AliasKind.Capture => CaptureAccess(Slot),
        _ => static f => Value.FromEvent(f.Element),
    };

    private static Eval RowSlotAccess(int slot) => f => f.Row[slot];

    private static Eval CaptureAccess(int slot) => f => f.Captures is { } c && (uint)slot < (uint)c.Length ? c[slot] : Value.Null;
}

/// <summary>
/// What rows look like at one point of a stream: the event types they may have (for field checks) and
/// the aliases in scope. Composite rows (pattern matches, joins) resolve bare field names through their
/// aliases, first alias first.
/// </summary>
internal sealed class RowShape
{
    public RowShape(IReadOnlyList<EventType> types, IReadOnlyList<AliasBinding>? aliases = null, bool composite = false)
    {
        Types = types;
        Aliases = aliases ?? Array.Empty<AliasBinding>();
        Composite = composite;
    }

    public IReadOnlyList<EventType> Types { get; }

    public IReadOnlyList<AliasBinding> Aliases { get; }

    public bool Composite { get; }

    public AliasBinding? FindAlias(string name)
    {
        foreach (var a in Aliases)
        {
            if (a.Name == name) return a;
        }
        return null;
    }

    public static RowShape Of(EventType type) => new([type]);

    public RowShape WithAliases(IReadOnlyList<AliasBinding> aliases) => new(Types, aliases, Composite);

    /// <summary>True when every possible row type is declared (so unknown field names are errors).</summary>
    public bool AllDeclared => Types.Count > 0 && Types.All(t => t.IsDeclared);
}

/// <summary>A top-level <c>const</c>, <c>let</c> or <c>var</c>.</summary>
internal sealed class GlobalSymbol(string name, ConstKind kind, int slot, TextSpan span)
{
    public string Name { get; } = name;

    public ConstKind Kind { get; } = kind;

    public int Slot { get; } = slot;

    public TextSpan Span { get; } = span;

    public VplType Type { get; set; } = VplType.Any;

    /// <summary>The value, once evaluated at load time (consts and lets are folded into expressions).</summary>
    public Value? Constant { get; set; }

    public bool Initialized { get; set; }
}

/// <summary>A user function (<c>fn</c>); its body is compiled after every signature is known, so functions can call each other.</summary>
internal sealed class FunctionSymbol(FunctionDeclSyntax syntax)
{
    public FunctionDeclSyntax Syntax { get; } = syntax;

    public string Name => Syntax.Name.Text;

    public int Arity => Syntax.Parameters.Count;

    public VplType ReturnType { get; set; } = VplType.Any;

    /// <summary>Locals including parameters; slot 0 holds the return value.</summary>
    public int LocalCount { get; set; }

    public Func<Frame, Value>? Body { get; set; }

    /// <summary>Field names of the events its <c>emit</c> statements build, in first-seen order.</summary>
    public List<string> EmittedFields { get; } = new();

    public bool Emits { get; set; }

    public bool AssignsGlobals { get; set; }
}

/// <summary>Locals of the function being compiled.</summary>
internal sealed class FunctionScope
{
    private readonly List<Dictionary<string, (int Slot, bool Mutable)>> _blocks = new() { new() };

    public FunctionScope(FunctionSymbol function)
    {
        Function = function;
        NextSlot = 1; // slot 0: return value
    }

    public FunctionSymbol Function { get; }

    public int NextSlot { get; private set; }

    public int LoopDepth { get; set; }

    public void PushBlock() => _blocks.Add(new());

    public void PopBlock() => _blocks.RemoveAt(_blocks.Count - 1);

    public int Declare(string name, bool mutable)
    {
        int slot = NextSlot++;
        _blocks[^1][name] = (slot, mutable);
        return slot;
    }

    public bool TryResolve(string name, out int slot, out bool mutable)
    {
        for (int i = _blocks.Count - 1; i >= 0; i--)
        {
            if (_blocks[i].TryGetValue(name, out var s))
            {
                slot = s.Slot;
                mutable = s.Mutable;
                return true;
            }
        }
        slot = -1;
        mutable = false;
        return false;
    }

    public IEnumerable<string> VisibleNames => _blocks.SelectMany(b => b.Keys);
}
