using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Runtime.Aggregates;
using Varpulis.Vpl.Runtime.Operators;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation;

/// <summary>A compiled expression with its static type and, when it folded, its constant value.</summary>
internal readonly record struct Bound(Eval Eval, VplType Type, Value? Constant = null)
{
    public bool IsConstant => Constant.HasValue;

    public static Bound Const(Value v) => new(_ => v, TypeOf(v), v);

    public static VplType TypeOf(Value v) => v.Kind switch
    {
        ValueKind.Null => VplType.NullType,
        ValueKind.Bool => VplType.Bool,
        ValueKind.Int => VplType.Int,
        ValueKind.Float => VplType.Float,
        ValueKind.String => VplType.String,
        ValueKind.Timestamp => VplType.Timestamp,
        ValueKind.Duration => VplType.Duration,
        ValueKind.Array => VplType.ArrayOf(VplType.Any),
        ValueKind.Map => VplType.MapOf(VplType.String, VplType.Any),
        _ => new VplType(VplTypeKind.Event),
    };
}

/// <summary>Collects the aggregate calls of an <c>.aggregate(...)</c> field; each becomes a slot of <see cref="Frame.Captures"/>.</summary>
internal sealed class AggregateCollector
{
    public List<AggregateCall> Calls { get; } = new();
}

/// <summary>Where an expression is compiled: the row it sees, the function it is in, and whether aggregates are collected.</summary>
internal sealed class ExprContext
{
    public ExprContext(CompileEnv env, RowShape? row)
    {
        Env = env;
        Row = row;
    }

    public CompileEnv Env { get; }

    public RowShape? Row { get; init; }

    public FunctionScope? Function { get; init; }

    public AggregateCollector? Aggregates { get; init; }

    /// <summary>Aliases visible besides the row's (pattern step predicates see the run's captures).</summary>
    public IReadOnlyList<AliasBinding> ExtraAliases { get; init; } = Array.Empty<AliasBinding>();

    /// <summary>Inside a Kleene collection aggregate: this alias name refers to the element being aggregated.</summary>
    public string? ElementAlias { get; init; }

    /// <summary>True for the call directly inside <c>.process(...)</c>, where a function's <c>emit</c> statements have an effect.</summary>
    public bool ProcessCall { get; init; }

    /// <summary>The global being initialized (globals may only read globals declared before them).</summary>
    public GlobalSymbol? Initializing { get; init; }

    public AliasBinding? FindAlias(string name)
    {
        if (ElementAlias == name) return new AliasBinding(name, AliasKind.Element, 0, false, Array.Empty<EventType>());
        foreach (var a in ExtraAliases)
        {
            if (a.Name == name) return a;
        }
        return Row?.FindAlias(name);
    }

    public IEnumerable<AliasBinding> AllAliases => ExtraAliases.Concat(Row?.Aliases ?? Array.Empty<AliasBinding>());
}

/// <summary>
/// Compiles expression syntax into <see cref="Eval"/> closures over schema slots, checking names and types
/// and folding constants. Runs once per deploy; nothing is interpreted per event that could be resolved here.
/// </summary>
internal static class ExpressionCompiler
{
    private const int MaxRange = 1_000_000;

    public static Bound Compile(ExprSyntax expr, ExprContext cx)
    {
        var b = CompileCore(expr, cx);
        return b;
    }

    /// <summary>Compiles a condition (<c>.where</c>, <c>if</c>): reports a statically non-boolean type.</summary>
    public static Bound CompileCondition(ExprSyntax expr, ExprContext cx, string what)
    {
        var b = CompileCore(expr, cx);
        if (b.Type.Kind is not (VplTypeKind.Any or VplTypeKind.Bool or VplTypeKind.Null))
            cx.Env.Error(DiagnosticIds.ConditionNotBool, expr.Span, $"{what} must be a bool, but this expression is {b.Type}");
        return b;
    }

    /// <summary>
    /// Compiles <c>c1 and c2 and ...</c> from its conjuncts without reporting anything: for a condition whose
    /// whole text was compiled (and reported on) already, of which only these conjuncts remain to be evaluated.
    /// </summary>
    public static Eval CompileConjunctsQuietly(IReadOnlyList<ExprSyntax> conjuncts, ExprContext cx)
    {
        var mark = cx.Env.Diagnostics.Mark();
        var parts = conjuncts.Select(c => CompileCore(c, cx).Eval).ToArray();
        cx.Env.Diagnostics.RollBack(mark);
        if (parts.Length == 1) return parts[0];
        return f =>
        {
            for (int i = 0; i < parts.Length; i++)
            {
                if (!parts[i](f).IsTrue) return Value.False;
            }
            return Value.True;
        };
    }

    /// <summary>Compiles and evaluates an expression that must be constant (window sizes, limits).</summary>
    public static Value? CompileConstant(ExprSyntax expr, ExprContext cx, string what)
    {
        int before = cx.Env.Diagnostics.Count;
        var b = CompileCore(expr, cx);
        if (b.Constant is { } v) return v;
        if (cx.Env.Diagnostics.Count == before)
            cx.Env.Error(DiagnosticIds.NotConstant, expr.Span, $"{what} must be a constant");
        return null;
    }

    /// <summary>True when <paramref name="expr"/> mentions the bare name or alias <paramref name="name"/>.</summary>
    public static bool Mentions(ExprSyntax? expr, string name)
        => expr is not null && expr.SelfAndDescendants().Any(x => x is NameExprSyntax n && n.Name == name);

    private static Bound Error(ExprContext cx, string id, TextSpan span, string message, string? hint = null)
    {
        cx.Env.Error(id, span, message, hint);
        return new Bound(static _ => Value.Null, VplType.Any);
    }

    private static Bound CompileCore(ExprSyntax expr, ExprContext cx)
    {
        switch (expr)
        {
            case IntLiteralSyntax i:
                return Bound.Const(Value.FromInt(i.Value));
            case FloatLiteralSyntax f:
                return Bound.Const(Value.FromFloat(f.Value));
            case StringLiteralSyntax s:
                return Bound.Const(Value.FromString(s.Value));
            case DurationLiteralSyntax d:
                return Bound.Const(Value.FromDuration(d.Nanoseconds));
            case TimestampLiteralSyntax t:
                return Bound.Const(Value.FromTimestamp(t.Nanoseconds));
            case BoolLiteralSyntax b:
                return Bound.Const(Value.FromBool(b.Value));
            case NullLiteralSyntax:
                return Bound.Const(Value.Null);
            case ErrorExprSyntax:
                return new Bound(static _ => Value.Null, VplType.Any);
            case NameExprSyntax n:
                return CompileName(n, cx);
            case MemberExprSyntax m:
                return CompileMember(m, cx);
            case IndexExprSyntax ix:
                return CompileIndex(ix, cx);
            case SliceExprSyntax sl:
                return CompileSlice(sl, cx);
            case CallExprSyntax c:
                return CompileCall(c, cx);
            case UnaryExprSyntax u:
                return CompileUnary(u, cx);
            case BinaryExprSyntax b:
                return CompileBinary(b, cx);
            case RangeExprSyntax r:
                return CompileRange(r, cx);
            case ConditionalExprSyntax c:
                {
                    var cond = CompileCondition(c.Condition, cx, "the condition of 'if'");
                    var then = CompileCore(c.Then, cx);
                    var els = CompileCore(c.Else, cx);
                    if (cond.Constant is { } cv) return cv.IsTrue ? then : els;
                    Eval ce = cond.Eval, te = then.Eval, ee = els.Eval;
                    return new Bound(f => ce(f).IsTrue ? te(f) : ee(f), Unify(then.Type, els.Type));
                }
            case LambdaExprSyntax l:
                return Error(cx, DiagnosticIds.LambdaNotAllowed, l.Span, "lambda expressions are not supported here: no built-in function takes a function argument",
                    "declare a function with 'fn' and call it");
            case ArrayExprSyntax a:
                {
                    var items = a.Items.Select(i => CompileCore(i, cx)).ToArray();
                    if (items.All(i => i.IsConstant)) return Bound.Const(Value.FromArray(items.Select(i => i.Constant!.Value).ToArray()));
                    var evals = items.Select(i => i.Eval).ToArray();
                    return new Bound(f =>
                    {
                        var arr = new Value[evals.Length];
                        for (int k = 0; k < arr.Length; k++) arr[k] = evals[k](f);
                        return Value.FromArray(arr);
                    }, VplType.ArrayOf(VplType.Any));
                }
            case MapExprSyntax m:
                {
                    var keys = m.Entries.Select(e => e.Key).ToArray();
                    var vals = m.Entries.Select(e => CompileCore(e.Value, cx)).ToArray();
                    if (vals.All(v => v.IsConstant))
                    {
                        var map = new ValueMap();
                        for (int k = 0; k < keys.Length; k++) map[keys[k]] = vals[k].Constant!.Value;
                        return Bound.Const(Value.FromMap(map));
                    }
                    var evals = vals.Select(v => v.Eval).ToArray();
                    return new Bound(f =>
                    {
                        var map = new ValueMap(keys.Length);
                        for (int k = 0; k < keys.Length; k++) map[keys[k]] = evals[k](f);
                        return Value.FromMap(map);
                    }, VplType.MapOf(VplType.String, VplType.Any));
                }
            default:
                return Error(cx, DiagnosticIds.UnknownName, expr.Span, "unsupported expression");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Names

    private static Bound CompileName(NameExprSyntax n, ExprContext cx)
    {
        string name = n.Name;
        if (cx.Function is { } fn && fn.TryResolve(name, out int slot, out _))
            return new Bound(f => f.Locals[slot], VplType.Any);

        if (cx.FindAlias(name) is { } alias)
            return new Bound(alias.Access(), alias.IsKleene ? VplType.ArrayOf(new VplType(VplTypeKind.Event)) : new VplType(VplTypeKind.Event));

        if (cx.Env.Globals.TryGetValue(name, out var g)) return CompileGlobal(g, n.Span, cx);

        if (cx.Row is { } row)
        {
            if (row.Composite) return CompileCompositeField(name, n.Span, row, cx);
            if (row.AllDeclared)
            {
                var types = new List<VplType>();
                foreach (var t in row.Types)
                {
                    var fi = t.GetField(name);
                    if (fi is null && name != "timestamp")
                    {
                        return Error(cx, DiagnosticIds.UnknownField, n.Span, $"event type '{t.Name}' has no field '{name}'",
                            NameSuggester.DidYouMean(name, t.FieldNames.Concat(cx.AllAliases.Select(a => a.Name)).Concat(cx.Env.Globals.Keys)));
                    }
                    types.Add(fi?.Type ?? VplType.Timestamp);
                }
                var acc = new FieldAccessor(name);
                return new Bound(f => acc.Get(f.Row), types.Count == 1 ? types[0] : VplType.Any);
            }
            var dyn = new FieldAccessor(name);
            return new Bound(f => dyn.Get(f.Row), KnownFieldType(row.Types, name));
        }

        var candidates = (cx.Function?.VisibleNames ?? Enumerable.Empty<string>()).Concat(cx.Env.Globals.Keys).Concat(cx.AllAliases.Select(a => a.Name));
        return Error(cx, DiagnosticIds.UnknownName, n.Span, $"unknown name '{name}'", NameSuggester.DidYouMean(name, candidates));
    }

    private static VplType KnownFieldType(IReadOnlyList<EventType> types, string name)
    {
        VplType? result = null;
        foreach (var t in types)
        {
            var fi = t.GetField(name);
            var ft = fi?.Type ?? VplType.Any;
            result = result is null ? ft : Unify(result, ft);
        }
        return result ?? VplType.Any;
    }

    private static Bound CompileGlobal(GlobalSymbol g, TextSpan span, ExprContext cx)
    {
        if (cx.Initializing is { } init && g.Slot >= init.Slot)
            return Error(cx, DiagnosticIds.InvalidInitializer, span, $"'{g.Name}' is used before it is initialized",
                "a global can only read globals declared above it");
        if (g.Kind != ConstKind.Var && g.Constant is { } v) return Bound.Const(v);
        int slot = g.Slot;
        if (g.Kind == ConstKind.Var || cx.Initializing is not null)
            return new Bound(f => f.Globals[slot], g.Type);
        return new Bound(f => f.Globals[slot], g.Type);
    }

    /// <summary>A bare field on a match or join row: the first alias whose event has it (a Kleene alias: its last event).</summary>
    private static Bound CompileCompositeField(string name, TextSpan span, RowShape row, ExprContext cx)
    {
        // `a_f` (compat): alias a, field f.
        foreach (var a in row.Aliases.OrderByDescending(a => a.Name.Length))
        {
            if (name.Length > a.Name.Length + 1 && name.StartsWith(a.Name + "_", StringComparison.Ordinal)
                && !row.Aliases.Any(x => x.Types.Any(t => t.GetField(name) is not null)))
            {
                string field = name[(a.Name.Length + 1)..];
                var acc0 = new FieldAccessor(field);
                var get = a.Access();
                return new Bound(f => acc0.Member(get(f)), VplType.Any);
            }
        }
        if (row.Aliases.Count > 0 && row.Aliases.All(a => a.Types.Count > 0 && a.Types.All(t => t.IsDeclared))
            && !row.Aliases.Any(a => a.Types.Any(t => t.GetField(name) is not null)) && name != "timestamp")
        {
            return Error(cx, DiagnosticIds.UnknownField, span, $"no event of this match has a field '{name}'",
                NameSuggester.DidYouMean(name, row.Aliases.SelectMany(a => a.Types.SelectMany(t => t.FieldNames)).Concat(row.Aliases.Select(a => a.Name))));
        }
        var acc = new FieldAccessor(name);
        var getters = row.Aliases.Select(a => a.Access()).ToArray();
        if (getters.Length == 0) return new Bound(f => acc.Get(f.Row), VplType.Any);
        return new Bound(f =>
        {
            for (int i = 0; i < getters.Length; i++)
            {
                var v = acc.Member(getters[i](f));
                if (!v.IsNull) return v;
            }
            return Value.Null;
        }, VplType.Any);
    }

    private static Bound CompileMember(MemberExprSyntax m, ExprContext cx)
    {
        string member = m.Member.Text;
        // alias.field: check declared schemas.
        if (m.Target is NameExprSyntax tn && !(cx.Function?.TryResolve(tn.Name, out _, out _) ?? false) && cx.FindAlias(tn.Name) is { } alias)
        {
            if (alias.Types.Count > 0 && alias.Types.All(t => t.IsDeclared) && member != "timestamp")
            {
                foreach (var t in alias.Types)
                {
                    if (t.GetField(member) is null)
                        return Error(cx, DiagnosticIds.UnknownField, m.Member.Span, $"event type '{t.Name}' (alias '{alias.Name}') has no field '{member}'",
                            NameSuggester.DidYouMean(member, t.FieldNames));
                }
            }
            var acc = new FieldAccessor(member);
            var type = alias.Types.Count == 1 ? alias.Types[0].GetField(member)?.Type ?? VplType.Any : VplType.Any;
            if (alias.Kind == AliasKind.Self) return new Bound(f => acc.Get(f.Row), type);
            if (alias.Kind == AliasKind.Element) return new Bound(f => acc.Get(f.Element), type);
            var get = alias.Access();
            return new Bound(f => acc.Member(get(f)), type);
        }
        var target = CompileCore(m.Target, cx);
        var accessor = new FieldAccessor(member);
        var te = target.Eval;
        if (target.Constant is { } c) return Bound.Const(accessor.Member(c));
        return new Bound(f => accessor.Member(te(f)), VplType.Any);
    }

    private static Bound CompileIndex(IndexExprSyntax ix, ExprContext cx)
    {
        var target = CompileCore(ix.Target, cx);
        var index = CompileCore(ix.Index, cx);
        Eval te = target.Eval, ie = index.Eval;
        Bound result = new(f => IndexValue(te(f), ie(f)), VplType.Any);
        return Fold(result, target, index);
    }

    internal static Value IndexValue(Value target, Value index)
    {
        if (target.IsArray && index.IsInt)
        {
            var a = target.AsArray;
            long i = index.AsInt;
            if (i < 0) i += a.Length;
            return i >= 0 && i < a.Length ? a[i] : Value.Null;
        }
        if (target.IsString && index.IsInt)
        {
            var s = target.AsString;
            long i = index.AsInt;
            if (i < 0) i += s.Length;
            return i >= 0 && i < s.Length ? Value.FromString(s[(int)i].ToString()) : Value.Null;
        }
        if (target.IsMap && index.IsString) return target.AsMap.TryGetValue(index.AsString, out var v) ? v : Value.Null;
        return Value.Null;
    }

    private static Bound CompileSlice(SliceExprSyntax sl, ExprContext cx)
    {
        var target = CompileCore(sl.Target, cx);
        Eval te = target.Eval;
        Eval? se = sl.Start is null ? null : CompileCore(sl.Start, cx).Eval;
        Eval? ee = sl.End is null ? null : CompileCore(sl.End, cx).Eval;
        return new Bound(f =>
        {
            var t = te(f);
            int len = t.IsArray ? t.AsArray.Length : t.IsString ? t.AsString.Length : -1;
            if (len < 0) return Value.Null;
            long start = 0, end = len;
            if (se is not null)
            {
                var v = se(f);
                if (!v.IsInt) return Value.Null;
                start = v.AsInt;
            }
            if (ee is not null)
            {
                var v = ee(f);
                if (!v.IsInt) return Value.Null;
                end = v.AsInt;
            }
            if (start < 0) start = Math.Max(0, start + len);
            if (end < 0) end = Math.Max(0, end + len);
            start = Math.Min(start, len);
            end = Math.Clamp(end, start, len);
            return t.IsArray
                ? Value.FromArray(t.AsArray[(int)start..(int)end])
                : Value.FromString(t.AsString[(int)start..(int)end]);
        }, target.Type);
    }

    // ------------------------------------------------------------------------------------------
    // Operators

    private static Bound CompileUnary(UnaryExprSyntax u, ExprContext cx)
    {
        var operand = CompileCore(u.Operand, cx);
        Eval oe = operand.Eval;
        if (u.Op == UnaryOp.Not)
        {
            if (operand.Type.Kind is not (VplTypeKind.Any or VplTypeKind.Bool or VplTypeKind.Null))
                cx.Env.Error(DiagnosticIds.TypeMismatch, u.Span, $"'not' needs a bool, but its operand is {operand.Type}");
            return Fold(new Bound(f => ValueOps.Not(oe(f)), VplType.Bool), operand);
        }
        if (operand.Type.Kind is VplTypeKind.Bool or VplTypeKind.String or VplTypeKind.Timestamp or VplTypeKind.Array or VplTypeKind.Map)
            cx.Env.Error(DiagnosticIds.TypeMismatch, u.Span, $"unary '-' cannot be applied to {operand.Type}");
        return Fold(new Bound(f => ValueOps.Negate(oe(f)), operand.Type), operand);
    }

    /// <summary>Chains longer than this are evaluated by a loop instead of nested closures.</summary>
    private const int NestedChainLimit = 8;

    /// <summary>
    /// A chain of binary operators (<c>a + b - c</c>, <c>x == 1 or x == 2 or ...</c>) is a left spine as deep as it
    /// is long (the parser does not count it as nesting): it is compiled bottom-up in a loop, and a long one is
    /// evaluated as a fold, so neither compiling nor evaluating recurses per element.
    /// </summary>
    private static Bound CompileBinary(BinaryExprSyntax top, ExprContext cx)
    {
        var spine = new List<BinaryExprSyntax>();
        ExprSyntax e = top;
        while (e is BinaryExprSyntax b)
        {
            spine.Add(b);
            e = b.Left;
        }
        var acc = CompileCore(e, cx);
        int n = spine.Count;
        var rights = n > NestedChainLimit ? new Eval[n] : null;
        Eval start = acc.Eval;
        int from = n - 1; // the fold applies spine[from] .. spine[0] to start
        for (int i = n - 1; i >= 0; i--)
        {
            var right = CompileCore(spine[i].Right, cx);
            acc = CombineBinary(spine[i], acc, right, cx);
            if (rights is null) continue;
            rights[i] = right.Eval;
            if (acc.IsConstant)
            {
                start = acc.Eval;
                from = i - 1;
            }
        }
        if (rights is null || acc.IsConstant) return acc;
        if (from == n - 1 && AllowList(e, spine, cx) is { } allowed) return new Bound(allowed, acc.Type);
        var ops = spine.Select(b => b.Op).ToArray();
        return new Bound(f =>
        {
            var v = start(f);
            for (int i = from; i >= 0; i--) v = Apply(ops[i], v, rights[i], f);
            return v;
        }, acc.Type);
    }

    /// <summary>One step of a chain's fold: <c>v op right</c>, short-circuiting like the nested form.</summary>
    private static Value Apply(BinaryOp op, Value v, Eval right, Frame f) => op switch
    {
        BinaryOp.And => v.IsTrue && right(f).IsTrue ? Value.True : Value.False,
        BinaryOp.Or => v.IsTrue || right(f).IsTrue ? Value.True : Value.False,
        BinaryOp.Coalesce => v.IsNull ? right(f) : v,
        BinaryOp.Add => ValueOps.Add(v, right(f)),
        BinaryOp.Subtract => ValueOps.Subtract(v, right(f)),
        BinaryOp.Multiply => ValueOps.Multiply(v, right(f)),
        BinaryOp.Divide => ValueOps.Divide(v, right(f)),
        BinaryOp.Modulo => ValueOps.Modulo(v, right(f)),
        BinaryOp.Power => ValueOps.Power(v, right(f)),
        BinaryOp.Equal => ValueOps.Equal(v, right(f)),
        BinaryOp.NotEqual => ValueOps.NotEqual(v, right(f)),
        BinaryOp.Less => ValueOps.Less(v, right(f)),
        BinaryOp.LessOrEqual => ValueOps.LessOrEqual(v, right(f)),
        BinaryOp.Greater => ValueOps.Greater(v, right(f)),
        BinaryOp.GreaterOrEqual => ValueOps.GreaterOrEqual(v, right(f)),
        BinaryOp.In => ValueOps.In(v, right(f)),
        BinaryOp.NotIn => ValueOps.NotIn(v, right(f)),
        _ => Value.Null,
    };

    /// <summary>
    /// <c>k == c1 or k == c2 or ...</c> with one field path k and literals c: an allow-list, evaluated as one
    /// read of k and a set lookup (<c>==</c> is <see cref="Value.Equals(Value)"/>, so the set agrees with it).
    /// </summary>
    private static Eval? AllowList(ExprSyntax leaf, List<BinaryExprSyntax> spine, ExprContext cx)
    {
        if (spine.Any(b => b.Op != BinaryOp.Or)) return null;
        var set = new HashSet<Value>();
        string? path = null;
        ExprSyntax? key = null;
        foreach (var term in spine.Select(b => b.Right).Append(leaf))
        {
            if (term is not BinaryExprSyntax { Op: BinaryOp.Equal } eq) return null;
            ExprSyntax k;
            if (LiteralValue(eq.Right) is { } r)
            {
                k = eq.Left;
                set.Add(r);
            }
            else if (LiteralValue(eq.Left) is { } l)
            {
                k = eq.Right;
                set.Add(l);
            }
            else
            {
                return null;
            }
            if (PathText(k) is not { } p || (path is not null && p != path)) return null;
            path = p;
            key = k;
        }
        // Reported on already, with the whole chain.
        var mark = cx.Env.Diagnostics.Mark();
        var ke = CompileCore(key!, cx).Eval;
        cx.Env.Diagnostics.RollBack(mark);
        return f => set.Contains(ke(f)) ? Value.True : Value.False;
    }

    private static Value? LiteralValue(ExprSyntax e) => e switch
    {
        IntLiteralSyntax i => Value.FromInt(i.Value),
        FloatLiteralSyntax f => Value.FromFloat(f.Value),
        StringLiteralSyntax s => Value.FromString(s.Value),
        BoolLiteralSyntax b => Value.FromBool(b.Value),
        UnaryExprSyntax { Op: UnaryOp.Negate, Operand: IntLiteralSyntax i } when i.Value != long.MinValue => Value.FromInt(-i.Value),
        UnaryExprSyntax { Op: UnaryOp.Negate, Operand: FloatLiteralSyntax f } => Value.FromFloat(-f.Value),
        _ => null,
    };

    /// <summary><c>a</c>, <c>a.b.c</c>: a name read through member accesses (no calls, no side effects); null otherwise.</summary>
    private static string? PathText(ExprSyntax e) => e switch
    {
        NameExprSyntax n => n.Name,
        MemberExprSyntax { NullSafe: false } m when PathText(m.Target) is { } t => t + "." + m.Member.Text,
        _ => null,
    };

    /// <summary>Checks and builds <c>left op right</c> from its compiled operands.</summary>
    private static Bound CombineBinary(BinaryExprSyntax b, Bound left, Bound right, ExprContext cx)
    {
        Eval le = left.Eval, re = right.Eval;
        switch (b.Op)
        {
            case BinaryOp.And:
                CheckBool(cx, b.Left, left, "and");
                CheckBool(cx, b.Right, right, "and");
                return Fold(new Bound(f => le(f).IsTrue && re(f).IsTrue ? Value.True : Value.False, VplType.Bool), left, right);
            case BinaryOp.Or:
                CheckBool(cx, b.Left, left, "or");
                CheckBool(cx, b.Right, right, "or");
                return Fold(new Bound(f => le(f).IsTrue || re(f).IsTrue ? Value.True : Value.False, VplType.Bool), left, right);
            case BinaryOp.Coalesce:
                return Fold(new Bound(f =>
                {
                    var v = le(f);
                    return v.IsNull ? re(f) : v;
                }, Unify(left.Type, right.Type)), left, right);
        }
        CheckOperands(cx, b, left.Type, right.Type);
        VplType type = ResultType(b.Op, left.Type, right.Type);
        Eval eval = b.Op switch
        {
            BinaryOp.Add => f => ValueOps.Add(le(f), re(f)),
            BinaryOp.Subtract => f => ValueOps.Subtract(le(f), re(f)),
            BinaryOp.Multiply => f => ValueOps.Multiply(le(f), re(f)),
            BinaryOp.Divide => f => ValueOps.Divide(le(f), re(f)),
            BinaryOp.Modulo => f => ValueOps.Modulo(le(f), re(f)),
            BinaryOp.Power => f => ValueOps.Power(le(f), re(f)),
            BinaryOp.Equal => f => ValueOps.Equal(le(f), re(f)),
            BinaryOp.NotEqual => f => ValueOps.NotEqual(le(f), re(f)),
            BinaryOp.Less => CompareWithConstant(left, right, BinaryOp.Less) ?? (f => ValueOps.Less(le(f), re(f))),
            BinaryOp.LessOrEqual => CompareWithConstant(left, right, BinaryOp.LessOrEqual) ?? (f => ValueOps.LessOrEqual(le(f), re(f))),
            BinaryOp.Greater => CompareWithConstant(left, right, BinaryOp.Greater) ?? (f => ValueOps.Greater(le(f), re(f))),
            BinaryOp.GreaterOrEqual => CompareWithConstant(left, right, BinaryOp.GreaterOrEqual) ?? (f => ValueOps.GreaterOrEqual(le(f), re(f))),
            BinaryOp.In => f => ValueOps.In(le(f), re(f)),
            BinaryOp.NotIn => f => ValueOps.NotIn(le(f), re(f)),
            _ => static _ => Value.Null,
        };
        return Fold(new Bound(eval, type), left, right);
    }

    /// <summary>Fast path for the most common filter shape: a field compared with a numeric constant.</summary>
    private static Eval? CompareWithConstant(Bound left, Bound right, BinaryOp op)
    {
        if (left.IsConstant || right.Constant is not { } c || !c.TryGetDouble(out double k)) return null;
        Eval le = left.Eval;
        Value cv = c;
        return op switch
        {
            BinaryOp.Less => f =>
            {
                var v = le(f);
                return v.IsFloat ? Value.FromBool(v.AsFloat < k) : ValueOps.Less(v, cv);
            },
            BinaryOp.LessOrEqual => f =>
            {
                var v = le(f);
                return v.IsFloat ? Value.FromBool(v.AsFloat <= k) : ValueOps.LessOrEqual(v, cv);
            },
            BinaryOp.Greater => f =>
            {
                var v = le(f);
                return v.IsFloat ? Value.FromBool(v.AsFloat > k) : ValueOps.Greater(v, cv);
            },
            _ => f =>
            {
                var v = le(f);
                return v.IsFloat ? Value.FromBool(v.AsFloat >= k) : ValueOps.GreaterOrEqual(v, cv);
            },
        };
    }

    private static void CheckBool(ExprContext cx, ExprSyntax syntax, Bound b, string op)
    {
        if (b.Type.Kind is not (VplTypeKind.Any or VplTypeKind.Bool or VplTypeKind.Null))
            cx.Env.Error(DiagnosticIds.TypeMismatch, syntax.Span, $"'{op}' needs bool operands, but this one is {b.Type}");
    }

    private static string OpText(BinaryOp op) => op switch
    {
        BinaryOp.Add => "+",
        BinaryOp.Subtract => "-",
        BinaryOp.Multiply => "*",
        BinaryOp.Divide => "/",
        BinaryOp.Modulo => "%",
        BinaryOp.Power => "**",
        BinaryOp.Equal => "==",
        BinaryOp.NotEqual => "!=",
        BinaryOp.Less => "<",
        BinaryOp.LessOrEqual => "<=",
        BinaryOp.Greater => ">",
        BinaryOp.GreaterOrEqual => ">=",
        BinaryOp.In => "in",
        BinaryOp.NotIn => "not in",
        BinaryOp.And => "and",
        BinaryOp.Or => "or",
        _ => "??",
    };

    private static void CheckOperands(ExprContext cx, BinaryExprSyntax b, VplType l, VplType r)
    {
        if (l.Kind is VplTypeKind.Any or VplTypeKind.Null || r.Kind is VplTypeKind.Any or VplTypeKind.Null) return;
        bool ok = b.Op switch
        {
            BinaryOp.Add => (l.IsNumeric && r.IsNumeric) || (l.Kind == VplTypeKind.String && r.Kind == VplTypeKind.String)
                || (l.Kind == VplTypeKind.Array && r.Kind == VplTypeKind.Array) || IsTimeArithmetic(l, r, true),
            BinaryOp.Subtract => (l.IsNumeric && r.IsNumeric) || IsTimeArithmetic(l, r, false)
                || (l.Kind == VplTypeKind.Timestamp && r.Kind == VplTypeKind.Timestamp),
            BinaryOp.Multiply or BinaryOp.Divide => (l.IsNumeric && r.IsNumeric) || (l.Kind == VplTypeKind.Duration && r.IsNumeric)
                || (b.Op == BinaryOp.Divide && l.Kind == VplTypeKind.Duration && r.Kind == VplTypeKind.Duration),
            BinaryOp.Modulo or BinaryOp.Power => l.IsNumeric && r.IsNumeric,
            BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual =>
                (l.IsNumeric && r.IsNumeric) || l.Kind == r.Kind && l.Kind is VplTypeKind.String or VplTypeKind.Timestamp or VplTypeKind.Duration,
            BinaryOp.In or BinaryOp.NotIn => r.Kind is VplTypeKind.Array or VplTypeKind.Map or VplTypeKind.String,
            _ => true,
        };
        if (!ok)
            cx.Env.Error(DiagnosticIds.TypeMismatch, b.Span, $"operator '{OpText(b.Op)}' cannot be applied to {l} and {r}");
    }

    private static bool IsTimeArithmetic(VplType l, VplType r, bool add)
        => (l.Kind == VplTypeKind.Timestamp && r.Kind == VplTypeKind.Duration)
        || (add && l.Kind == VplTypeKind.Duration && r.Kind == VplTypeKind.Timestamp)
        || (l.Kind == VplTypeKind.Duration && r.Kind == VplTypeKind.Duration);

    private static VplType ResultType(BinaryOp op, VplType l, VplType r)
    {
        switch (op)
        {
            case BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater
                or BinaryOp.GreaterOrEqual or BinaryOp.In or BinaryOp.NotIn:
                return VplType.Bool;
            case BinaryOp.Subtract when l.Kind == VplTypeKind.Timestamp && r.Kind == VplTypeKind.Timestamp:
                return VplType.Duration;
            case BinaryOp.Add or BinaryOp.Subtract when l.Kind == VplTypeKind.Timestamp || r.Kind == VplTypeKind.Timestamp:
                return VplType.Timestamp;
            case BinaryOp.Divide when l.Kind == VplTypeKind.Duration && r.Kind == VplTypeKind.Duration:
                return VplType.Float;
            case BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply or BinaryOp.Divide when l.Kind == VplTypeKind.Duration:
                return VplType.Duration;
            case BinaryOp.Add when l.Kind == VplTypeKind.String && r.Kind == VplTypeKind.String:
                return VplType.String;
            case BinaryOp.Power when l.Kind == VplTypeKind.Int && r.Kind == VplTypeKind.Int:
                return VplType.Any; // int, or float for a negative exponent
        }
        if (l.Kind == VplTypeKind.Float || r.Kind == VplTypeKind.Float)
            return (l.IsNumeric || l.Kind == VplTypeKind.Any) && (r.IsNumeric || r.Kind == VplTypeKind.Any) ? VplType.Float : VplType.Any;
        return VplType.Any;
    }

    private static Bound CompileRange(RangeExprSyntax r, ExprContext cx)
    {
        var s = CompileCore(r.Start, cx);
        var e = CompileCore(r.End, cx);
        Eval se = s.Eval, ee = e.Eval;
        bool inclusive = r.Inclusive;
        return Fold(new Bound(f => MakeRange(se(f), ee(f), inclusive), VplType.ArrayOf(VplType.Int)), s, e);
    }

    internal static Value MakeRange(Value start, Value end, bool inclusive)
    {
        if (!start.IsInt || !end.IsInt) return Value.Null;
        long a = start.AsInt, b = end.AsInt;
        if (inclusive)
        {
            if (b == long.MaxValue) return Value.Null;
            b++;
        }
        if (b <= a) return Value.FromArray(Array.Empty<Value>());
        if (b - a > MaxRange) return Value.Null;
        var arr = new Value[b - a];
        for (long i = 0; i < arr.Length; i++) arr[i] = Value.FromInt(a + i);
        return Value.FromArray(arr);
    }

    // ------------------------------------------------------------------------------------------
    // Calls

    private static Bound CompileCall(CallExprSyntax c, ExprContext cx)
    {
        string name = c.Function.Text;
        var args = c.Args;
        foreach (var a in args)
        {
            if (a.Name is not null && !cx.Env.Functions.ContainsKey(name))
            {
                cx.Env.Error(DiagnosticIds.InvalidArguments, a.Name.Span, $"'{name}' does not take named arguments");
                return new Bound(static _ => Value.Null, VplType.Any);
            }
        }

        if (name == "now")
        {
            if (args.Count != 0) return Error(cx, DiagnosticIds.WrongArity, c.Span, "'now' takes no arguments");
            return new Bound(f => f.Row is { } r ? Value.FromTimestamp(r.Timestamp) : Value.Null, VplType.Timestamp);
        }

        // .aggregate(...) context: aggregate functions reduce the window batch.
        if (cx.Aggregates is { } collector && AggregateFunctions.TryGet(name, out var aggFn) && IsAggregateUse(name, args.Count))
            return CompileAggregateCall(c, aggFn, collector, cx);

        // Aggregates over a Kleene alias: sum(t.amount), count(t), avg(t.price * 2)...
        if (args.Count >= 1 && cx.Aggregates is null && AggregateFunctions.TryGet(name, out var kfn) && IsAggregateUse(name, args.Count)
            && cx.AllAliases.FirstOrDefault(a => a.IsKleene && Mentions(args[0].Value, a.Name)) is { } kleene)
        {
            return CompileCollectionAggregate(c, kfn, kleene, cx);
        }

        if (cx.Env.Functions.TryGetValue(name, out var fn)) return CompileUserCall(c, fn, cx);

        if (Builtins.TryGet(name, out var builtin))
        {
            if (args.Count < builtin.MinArgs || args.Count > builtin.MaxArgs)
            {
                string expected = builtin.MinArgs == builtin.MaxArgs ? $"{builtin.MinArgs}" : builtin.MaxArgs == int.MaxValue ? $"at least {builtin.MinArgs}" : $"{builtin.MinArgs} to {builtin.MaxArgs}";
                return Error(cx, DiagnosticIds.WrongArity, c.Span, $"'{name}' takes {expected} argument{(expected == "1" ? "" : "s")}, but {args.Count} {(args.Count == 1 ? "was" : "were")} given");
            }
            var bound = args.Select(a => CompileCore(a.Value, cx)).ToArray();
            var evals = bound.Select(b => b.Eval).ToArray();
            var invoke = builtin.Invoke;
            Bound result;
            if (evals.Length == 1)
            {
                var e0 = evals[0];
                result = new Bound(f => invoke([e0(f)]), BuiltinType(name));
            }
            else
            {
                result = new Bound(f =>
                {
                    var vals = new Value[evals.Length];
                    for (int i = 0; i < vals.Length; i++) vals[i] = evals[i](f);
                    return invoke(vals);
                }, BuiltinType(name));
            }
            return Fold(result, bound);
        }

        if (AggregateFunctions.TryGet(name, out _))
            return Error(cx, DiagnosticIds.AggregateNotAllowed, c.Function.Span,
                $"aggregate function '{name}' is only allowed in .aggregate(...) or over a Kleene alias (e.g. {name}(t.price) with '-> all T as t')");

        var candidates = Builtins.Names.Concat(AggregateFunctions.Names).Concat(cx.Env.Functions.Keys).Append("now");
        return Error(cx, DiagnosticIds.UnknownFunction, c.Function.Span, $"unknown function '{name}'", NameSuggester.DidYouMean(name, candidates));
    }

    /// <summary>min/max with several arguments are scalar functions; with one they aggregate.</summary>
    private static bool IsAggregateUse(string name, int argCount) => name switch
    {
        "min" or "max" => argCount <= 1,
        "ema" or "percentile" => argCount == 2,
        "count" => argCount <= 1,
        _ => argCount == 1,
    };

    private static Bound CompileAggregateCall(CallExprSyntax c, AggregateFunction fn, AggregateCollector collector, ExprContext cx)
    {
        var args = c.Args;
        if (args.Count < fn.MinArgs || args.Count > fn.MaxArgs)
            return Error(cx, DiagnosticIds.WrongArity, c.Span, $"aggregate '{fn.Name}' takes {(fn.MinArgs == fn.MaxArgs ? fn.MinArgs.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{fn.MinArgs} to {fn.MaxArgs}")} argument(s), but {args.Count} were given");
        Eval? arg = null;
        if (args.Count >= 1)
        {
            var inner = new ExprContext(cx.Env, cx.Row) { Function = cx.Function, ExtraAliases = cx.ExtraAliases };
            if (ContainsAggregate(args[0].Value))
                return Error(cx, DiagnosticIds.AggregateNotAllowed, args[0].Value.Span, "aggregate functions cannot be nested");
            arg = CompileCore(args[0].Value, inner).Eval;
        }
        var consts = new List<Value>();
        for (int i = 1; i < args.Count; i++)
        {
            var v = CompileConstant(args[i].Value, cx, $"argument {i + 1} of '{fn.Name}'");
            if (v is null) return new Bound(static _ => Value.Null, VplType.Any);
            consts.Add(v.Value);
        }
        try
        {
            fn.Create(consts.ToArray());
        }
        catch (ArgumentException ex)
        {
            return Error(cx, DiagnosticIds.InvalidValue, c.Span, ex.Message);
        }
        int slot = collector.Calls.Count;
        collector.Calls.Add(new AggregateCall(fn, consts.ToArray(), arg));
        return new Bound(f => f.Captures![slot], AggregateType(fn.Name));
    }

    /// <summary>True when an aggregate call is reached through calls, members, operators and conditionals (not inside brackets or literals).</summary>
    private static bool ContainsAggregate(ExprSyntax e)
    {
        var stack = new Stack<ExprSyntax>();
        stack.Push(e);
        while (stack.Count > 0)
        {
            var x = stack.Pop();
            if (x is CallExprSyntax c && AggregateFunctions.TryGet(c.Function.Text, out _) && IsAggregateUse(c.Function.Text, c.Args.Count) && !Builtins.TryGet(c.Function.Text, out _))
                return true;
            if (x is CallExprSyntax or MemberExprSyntax or BinaryExprSyntax or UnaryExprSyntax or ConditionalExprSyntax)
            {
                foreach (var child in x.Children()) stack.Push(child);
            }
        }
        return false;
    }

    /// <summary><c>sum(t.amount)</c> over the events a Kleene alias collected: the argument sees each event as <c>t</c>.</summary>
    private static Bound CompileCollectionAggregate(CallExprSyntax c, AggregateFunction fn, AliasBinding kleene, ExprContext cx)
    {
        var args = c.Args;
        var collection = kleene.Access();
        var inner = new ExprContext(cx.Env, cx.Row) { Function = cx.Function, ExtraAliases = cx.ExtraAliases, ElementAlias = kleene.Name };
        // count(t) / len(t): the number of collected events.
        if (args[0].Value is NameExprSyntax only && only.Name == kleene.Name && fn.Name == "count")
        {
            return new Bound(f =>
            {
                var v = collection(f);
                return v.IsArray ? Value.FromInt(v.AsArray.Length) : v.IsNull ? Value.FromInt(0) : Value.FromInt(1);
            }, VplType.Int);
        }
        var arg = CompileCore(args[0].Value, inner).Eval;
        var consts = new List<Value>();
        for (int i = 1; i < args.Count; i++)
        {
            var v = CompileConstant(args[i].Value, cx, $"argument {i + 1} of '{fn.Name}'");
            if (v is null) return new Bound(static _ => Value.Null, VplType.Any);
            consts.Add(v.Value);
        }
        var constArgs = consts.ToArray();
        try
        {
            fn.Create(constArgs);
        }
        catch (ArgumentException ex)
        {
            return Error(cx, DiagnosticIds.InvalidValue, c.Span, ex.Message);
        }
        return new Bound(f =>
        {
            var v = collection(f);
            var agg = fn.Create(constArgs);
            var saved = f.Element;
            try
            {
                if (v.IsArray)
                {
                    foreach (var item in v.AsArray)
                    {
                        f.Element = item.IsEvent ? item.AsEvent : null;
                        agg.Add(arg(f));
                    }
                }
                else if (v.IsEvent)
                {
                    f.Element = v.AsEvent;
                    agg.Add(arg(f));
                }
            }
            finally
            {
                f.Element = saved;
            }
            return agg.Result();
        }, AggregateType(fn.Name));
    }

    private static Bound CompileUserCall(CallExprSyntax c, FunctionSymbol fn, ExprContext cx)
    {
        var args = c.Args;
        if (args.Any(a => a.Name is not null))
        {
            var first = args.First(a => a.Name is not null);
            return Error(cx, DiagnosticIds.InvalidArguments, first.Name!.Span, $"function '{fn.Name}' takes positional arguments only");
        }
        if (args.Count != fn.Arity)
            return Error(cx, DiagnosticIds.WrongArity, c.Span, $"function '{fn.Name}' takes {fn.Arity} argument{(fn.Arity == 1 ? "" : "s")}, but {args.Count} {(args.Count == 1 ? "was" : "were")} given");
        if (fn.Emits && !cx.ProcessCall)
            cx.Env.Warning(DiagnosticIds.EmitOutsideProcess, c.Function.Span,
                $"function '{fn.Name}' emits events, but called here its events go nowhere", "call it with .process(...) to output its events");
        var argCx = cx.ProcessCall ? new ExprContext(cx.Env, cx.Row) { Function = cx.Function, ExtraAliases = cx.ExtraAliases, ElementAlias = cx.ElementAlias } : cx;
        var evals = args.Select(a => CompileCore(a.Value, argCx).Eval).ToArray();
        var symbol = fn;
        return new Bound(f =>
        {
            var body = symbol.Body;
            if (body is null) return Value.Null;
            var callee = new Frame(f.State)
            {
                Row = f.Row,
                Locals = new Value[Math.Max(1, symbol.LocalCount)],
                Emitted = f.Emitted,
            };
            for (int i = 0; i < evals.Length; i++) callee.Locals[i + 1] = evals[i](f);
            return body(callee);
        }, fn.ReturnType);
    }

    private static VplType BuiltinType(string name) => name switch
    {
        "len" or "to_int" => VplType.Int,
        "to_float" or "sqrt" or "log" or "log10" or "exp" or "sin" or "cos" or "tan" or "pow" => VplType.Float,
        "lower" or "upper" or "trim" or "replace" or "substring" or "to_string" or "type_of" or "join" => VplType.String,
        "starts_with" or "ends_with" or "contains" or "is_null" => VplType.Bool,
        "timestamp" => VplType.Timestamp,
        "split" or "sort" or "reverse" or "keys" or "values" or "range" => VplType.ArrayOf(VplType.Any),
        _ => VplType.Any,
    };

    private static VplType AggregateType(string name) => name switch
    {
        "count" or "count_distinct" => VplType.Int,
        "avg" or "stddev" or "ema" => VplType.Float,
        _ => VplType.Any,
    };

    // ------------------------------------------------------------------------------------------
    // Helpers

    public static VplType Unify(VplType a, VplType b)
    {
        if (a == b) return a;
        if (a.Kind == VplTypeKind.Null) return b.AsNullable();
        if (b.Kind == VplTypeKind.Null) return a.AsNullable();
        if (a.IsNumeric && b.IsNumeric) return VplType.Float;
        return VplType.Any;
    }

    /// <summary>Evaluates at compile time when every input is constant.</summary>
    private static Bound Fold(Bound result, params Bound[] inputs)
    {
        foreach (var i in inputs)
        {
            if (!i.IsConstant) return result;
        }
        try
        {
            var v = result.Eval(FoldFrame);
            return new Bound(_ => v, result.Type.Kind == VplTypeKind.Any ? Bound.TypeOf(v) : result.Type, v);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return result;
        }
    }

    private static readonly Frame FoldFrame = new(new EngineState(Array.Empty<Value>(), EngineOptions.Default));
}
