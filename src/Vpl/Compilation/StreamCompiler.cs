using Varpulis.Vpl.Compilation.Connectors;
using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Runtime.Operators;
using Varpulis.Vpl.Runtime.Windows;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation;

/// <summary>
/// Compiles one <c>stream</c> statement into a <see cref="StreamPlan"/>: resolves its source, checks every
/// operator and its arguments, and produces the operator factories in written order.
/// </summary>
internal sealed class StreamCompiler
{
    public const long DefaultJoinWindow = 60 * TimeFormat.NanosPerSecond;

    private static readonly string[] KnownOperators =
    [
        "where", "filter", "select", "partition_by", "window", "aggregate", "having", "distinct", "limit", "first",
        "emit", "to", "print", "log", "process", "within", "not", "trend_aggregate", "watermark", "allowed_lateness",
        "context", "strict", "stam", "budget", "on",
    ];

    private readonly StreamDeclSyntax _decl;
    private readonly CompileEnv _env;
    private readonly string _name;
    private readonly List<Func<StreamRuntime, Operator>> _ops = new();
    private readonly List<SourceBinding> _sources = new();
    private readonly List<string> _inputTypes = new();
    private RowShape _shape = new(Array.Empty<EventType>());
    private KeySelector? _partition;
    private string[]? _partitionNames;
    private string[]? _planPartition;
    // _windowPending / _aggregatePending: a window / aggregate since the last .emit/.select (the "two windows" rule).
    // _batched / _batchedTime: rows currently travel in window batches (they do until an aggregate or .process).
    private bool _windowPending;
    private bool _aggregatePending;
    private bool _batched;
    private bool _batchedTime;
    private KeySelector? _windowPartition;
    private bool _producesOutput;
    private bool _stateful;
    private bool _sawStatefulBeforePartition;
    private bool _isPattern;
    private IReadOnlySet<ExprSyntax>? _correlated;
    private long? _lateness;
    private int _internalTypeCounter;

    private StreamCompiler(StreamDeclSyntax decl, CompileEnv env)
    {
        _decl = decl;
        _env = env;
        _name = decl.Name.Text;
    }

    public static StreamPlan? Compile(StreamDeclSyntax decl, int index, CompileEnv env)
    {
        var c = new StreamCompiler(decl, env);
        int errorsBefore = env.Diagnostics.Items.Count(d => d.IsError);
        var remaining = c.CompileSource();
        if (remaining is null) return null;
        foreach (var op in remaining.Where(o => o.Name.Text == "allowed_lateness")) c.CompileLateness(op);
        foreach (var op in remaining) c.CompileOperator(op);
        env.StreamShapes[c._name] = c._shape;
        if (env.Diagnostics.Items.Count(d => d.IsError) > errorsBefore) return null;
        var ops = c._ops.ToArray();
        return new StreamPlan
        {
            Name = c._name,
            Index = index,
            Shape = CanonicalText.Of(decl),
            ProducesOutput = c._producesOutput,
            Sources = c._sources.ToArray(),
            BuildOperators = rt => ops.Select(f => f(rt)).ToArray(),
            AllowedLateness = c._lateness,
            IsPattern = c._isPattern,
            InputTypeNames = c._inputTypes.Distinct().ToArray(),
            PartitionKey = c._planPartition,
            IsStateless = !c._stateful,
        };
    }

    private static Frame NewFrame(StreamRuntime rt) => new(rt.Engine.State);

    private ExprContext Cx() => new(_env, _shape);

    // ------------------------------------------------------------------------------------------
    // Sources

    /// <summary>Sets up the source; returns the operators still to compile, or null when the stream cannot be compiled.</summary>
    private IReadOnlyList<OperatorSyntax>? CompileSource()
    {
        switch (_decl.Source)
        {
            case NamedSourceSyntax n when _env.IsPatternName(n.Name.Text):
                return CompilePattern(null, _env.PatternDecls[n.Name.Text]);
            case NamedSourceSyntax n:
                CompileNamedSource(n);
                return _decl.Operators;
            case SequenceSourceSyntax seq:
                return CompilePattern(seq, null);
            case MergeSourceSyntax m:
                CompileMerge(m);
                return _decl.Operators;
            case JoinSourceSyntax j:
                return CompileJoin(j);
            case TimerSourceSyntax t:
                CompileTimer(t);
                return _decl.Operators;
            default:
                return null;
        }
    }

    private IReadOnlyList<OperatorSyntax>? CompilePattern(SequenceSourceSyntax? seq, PatternDeclSyntax? named)
    {
        _isPattern = true;
        _stateful = true;
        var result = Patterns.PatternCompiler.Compile(new PatternRequest(_decl, seq, named, _decl.Operators, _env));
        if (result is null) return null;
        _sources.AddRange(result.Sources);
        foreach (var s in result.Sources)
        {
            if (s.EventType is { } t) _inputTypes.Add(t.Name);
        }
        var create = result.CreateOperator;
        _ops.Add(create);
        _shape = result.OutputShape;
        _planPartition = result.PartitionKey?.ToArray();
        _correlated = result.CorrelatedConjuncts;
        return result.RemainingOperators;
    }

    /// <summary>Resolves a source name to an event type or a stream (for merge and join inputs).</summary>
    private (EventType? Type, StreamPlan? Upstream, RowShape Shape)? ResolveInput(NameSyntax name)
    {
        if (_env.IsStreamName(name.Text))
        {
            if (!_env.Plans.TryGetValue(name.Text, out var plan)) return null; // upstream failed to compile
            return (null, plan, _env.StreamShapes[name.Text]);
        }
        if (_env.IsPatternName(name.Text))
        {
            _env.Error(DiagnosticIds.InvalidSource, name.Span, $"pattern '{name.Text}' cannot be used here; use it as the source of its own stream");
            return null;
        }
        var type = ResolveEventType(name);
        _inputTypes.Add(type.Name);
        return (type, null, RowShape.Of(type));
    }

    private EventType ResolveEventType(NameSyntax name)
    {
        if (!_env.DeclaredEvents.ContainsKey(name.Text))
        {
            // Only names long enough for a suggestion to mean something, and never the stream itself.
            var candidates = _env.StreamDecls.Keys.Concat(_env.PatternDecls.Keys).Concat(_env.DeclaredEvents.Keys).Where(c => c != _name);
            if (name.Text.Length >= 4 && NameSuggester.Suggest(name.Text, candidates, name.Text.Length >= 8 ? 2 : 1) is { } s && s != name.Text)
            {
                _env.Warning(DiagnosticIds.PossibleTypo, name.Span,
                    $"'{name.Text}' is not a declared event type, stream or pattern; it is read as an undeclared event type",
                    $"did you mean '{s}'?");
            }
        }
        return _env.Types.GetOrAdd(name.Text);
    }

    private void CompileNamedSource(NamedSourceSyntax n)
    {
        var input = ResolveInput(n.Name);
        if (input is null)
        {
            _shape = new RowShape(Array.Empty<EventType>());
            return;
        }
        var (type, upstream, shape) = input.Value;
        _sources.Add(new SourceBinding(type, upstream, rt => new HeadPort(rt)));
        _shape = shape;
        if (n.Alias is { } alias)
        {
            if (shape.FindAlias(alias.Text) is not null)
                _env.Error(DiagnosticIds.DuplicateAlias, alias.Span, $"alias '{alias.Text}' is already defined");
            _shape = shape.WithAliases(shape.Aliases.Append(new AliasBinding(alias.Text, AliasKind.Self, 0, false, shape.Types)).ToArray());
        }
        if (n.From is { } from)
        {
            if (upstream is not null)
            {
                _env.Error(DiagnosticIds.InvalidSource, from.Span, $"'.from' reads events of a type from a connector; '{n.Name.Text}' is a stream");
                return;
            }
            ConnectorCompiler.Bind(_env, _name, type!.Name, BindingDirection.Source, from.Connector, from.Args);
        }
    }

    private void CompileMerge(MergeSourceSyntax m)
    {
        var types = new List<EventType>();
        foreach (var input in m.Inputs)
        {
            var resolved = ResolveInput(input.Source);
            if (resolved is null) continue;
            var (type, upstream, shape) = resolved.Value;
            types.AddRange(shape.Types);
            var filters = new List<Eval>();
            foreach (var op in input.Operators)
            {
                if (op.Name.Text is "where" or "filter" && op.Args.Count == 1 && op.Args[0].Name is null)
                {
                    filters.Add(ExpressionCompiler.CompileCondition(op.Args[0].Value, new ExprContext(_env, shape), $"the '.{op.Name.Text}' condition").Eval);
                }
                else
                {
                    _env.Error(DiagnosticIds.InvalidArguments, op.Span, $"merge inputs take only '.where(condition)' filters, not '.{op.Name.Text}'",
                        "apply other operators after merge(...)");
                }
            }
            var arr = filters.ToArray();
            _sources.Add(new SourceBinding(type, upstream, arr.Length == 0 ? rt => new HeadPort(rt) : rt => new FilteredPort(rt, arr)));
        }
        _shape = new RowShape(types.Distinct().ToArray());
        _ops.Add(_ => new PassOperator());
    }

    private IReadOnlyList<OperatorSyntax>? CompileJoin(JoinSourceSyntax j)
    {
        _stateful = true;
        var ops = _decl.Operators;
        if (ops.Count == 0 || ops[0].Name.Text != "on" || ops[0].Args.Count != 1)
        {
            _env.Error(DiagnosticIds.InvalidJoin, j.Span, "join(...) needs '.on(A.key == B.key)' as its first operator");
            return null;
        }
        if (j.Inputs.Count < 2)
        {
            _env.Error(DiagnosticIds.InvalidJoin, j.Span, "join(...) needs at least two inputs");
            return null;
        }
        var names = j.Inputs.Select(i => i.Text).ToArray();
        if (names.Distinct().Count() != names.Length)
        {
            _env.Error(DiagnosticIds.InvalidJoin, j.Span, "join inputs must be different");
            return null;
        }
        var inputs = new List<(EventType? Type, StreamPlan? Upstream, RowShape Shape)>();
        foreach (var i in j.Inputs)
        {
            var r = ResolveInput(i);
            if (r is null) return null;
            inputs.Add(r.Value);
        }

        // .on: a conjunction of equalities between input fields; every input needs exactly one key.
        var keyExprs = new ExprSyntax?[names.Length];
        var residual = new List<ExprSyntax>();
        foreach (var conj in ops[0].Args[0].Value.Conjuncts())
        {
            if (conj is BinaryExprSyntax { Op: BinaryOp.Equal } eq && InputOf(eq.Left, names) is int li && InputOf(eq.Right, names) is int ri && li != ri)
            {
                if (!AssignKey(keyExprs, li, eq.Left) || !AssignKey(keyExprs, ri, eq.Right))
                {
                    _env.Error(DiagnosticIds.InvalidJoin, conj.Span, "each join input must be keyed by a single expression");
                    return null;
                }
            }
            else
            {
                residual.Add(conj);
            }
        }
        for (int i = 0; i < names.Length; i++)
        {
            if (keyExprs[i] is null)
            {
                _env.Error(DiagnosticIds.InvalidJoin, ops[0].Span, $"'.on' does not give a key for join input '{names[i]}'", $"add an equality such as {names[i]}.key == {names[(i + 1) % names.Length]}.key");
                return null;
            }
        }
        var keyEvals = new Eval[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            var shape = inputs[i].Shape.WithAliases([new AliasBinding(names[i], AliasKind.Self, 0, false, inputs[i].Shape.Types)]);
            keyEvals[i] = ExpressionCompiler.Compile(keyExprs[i]!, new ExprContext(_env, shape)).Eval;
        }

        int next = 1;
        long window = DefaultJoinWindow;
        if (ops.Count > 1 && ops[1].Name.Text == "window")
        {
            if (ops[1].Args.Count == 1 && ops[1].Args[0].Name is null
                && ExpressionCompiler.CompileConstant(ops[1].Args[0].Value, new ExprContext(_env, null), "the join window") is { } w)
            {
                if (!w.IsDuration || w.AsNanos < 0)
                    _env.Error(DiagnosticIds.InvalidValue, ops[1].Args[0].Span, "the join window must be a non-negative duration, e.g. .window(5s)");
                else window = w.AsNanos;
            }
            else if (!(ops[1].Args.Count == 1 && ops[1].Args[0].Name is null))
            {
                _env.Error(DiagnosticIds.InvalidArguments, ops[1].Span, "a join window takes one duration: .window(5s)");
            }
            next = 2;
        }

        var rowType = _env.Types.DefineOpen($"{_name}#join", names);
        var aliases = names.Select((n, i) => new AliasBinding(n, AliasKind.RowSlot, rowType.GetOrAddSlot(n), false, inputs[i].Shape.Types)).ToArray();
        _shape = new RowShape([rowType], aliases, composite: true);
        for (int i = 0; i < names.Length; i++)
        {
            int side = i;
            _sources.Add(new SourceBinding(inputs[i].Type, inputs[i].Upstream, rt => new JoinPort(rt, side)));
        }
        var evals = keyEvals;
        long win = window;
        _ops.Add(rt => new JoinOperator(NewFrame(rt), evals, win, rowType, _lateness));
        foreach (var r in residual)
        {
            var pred = ExpressionCompiler.CompileCondition(r, Cx(), "the '.on' condition").Eval;
            _ops.Add(rt => new WhereOperator(NewFrame(rt), pred));
        }
        return ops.Skip(next).ToArray();
    }

    /// <summary>The join input an expression is about: <c>A.f</c> → A.</summary>
    private static int? InputOf(ExprSyntax e, string[] names)
    {
        var root = e;
        while (root is MemberExprSyntax m) root = m.Target;
        if (root is not NameExprSyntax n || ReferenceEquals(root, e)) return null;
        int i = Array.IndexOf(names, n.Name);
        return i >= 0 ? i : null;
    }

    private static bool AssignKey(ExprSyntax?[] keys, int i, ExprSyntax e)
    {
        if (keys[i] is null)
        {
            keys[i] = e;
            return true;
        }
        return CanonicalExpr(keys[i]!) == CanonicalExpr(e);
    }

    private static string CanonicalExpr(ExprSyntax e) => e switch
    {
        MemberExprSyntax m => CanonicalExpr(m.Target) + "." + m.Member.Text,
        NameExprSyntax n => n.Name,
        _ => e.ToString(),
    };

    private void CompileTimer(TimerSourceSyntax t)
    {
        _stateful = true;
        var cx = new ExprContext(_env, null);
        long period = 0, delay;
        if (ExpressionCompiler.CompileConstant(t.Period, cx, "the timer period") is { } p)
        {
            if (!p.IsDuration || p.AsNanos <= 0) _env.Error(DiagnosticIds.InvalidValue, t.Period.Span, "the timer period must be a positive duration, e.g. timer(5s)");
            else period = p.AsNanos;
        }
        delay = period;
        if (t.InitialDelay is { } d && ExpressionCompiler.CompileConstant(d, cx, "initial_delay") is { } dv)
        {
            if (!dv.IsDuration || dv.AsNanos < 0) _env.Error(DiagnosticIds.InvalidValue, d.Span, "initial_delay must be a non-negative duration");
            else delay = dv.AsNanos;
        }
        var type = _env.Types.DefineOpen($"Timer_{_name}", ["timestamp"]);
        _shape = RowShape.Of(type);
        _ops.Add(_ => new TimerSourceOperator(period, delay, type));
    }

    // ------------------------------------------------------------------------------------------
    // Operators

    private void CompileOperator(OperatorSyntax op)
    {
        string name = op.Name.Text;
        switch (name)
        {
            case "where" or "filter":
                {
                    if (!OnePositional(op)) return;
                    var condition = op.Args[0].Value;
                    var pred = ExpressionCompiler.CompileCondition(condition, Cx(), $"the '.{name}' condition").Eval;
                    if (_correlated is { Count: > 0 } moved && condition.Conjuncts().Any(moved.Contains))
                    {
                        // The pattern's steps check these conjuncts already (vpl.md §5.1): filter the matches on the rest.
                        var rest = condition.Conjuncts().Where(c => !moved.Contains(c)).ToList();
                        if (rest.Count == 0) return;
                        pred = ExpressionCompiler.CompileConjunctsQuietly(rest, Cx());
                    }
                    _ops.Add(rt => new WhereOperator(NewFrame(rt), pred));
                    return;
                }
            case "having":
                {
                    if (!_aggregatePending)
                        _env.Error(DiagnosticIds.HavingWithoutAggregate, op.Span, "'.having' filters aggregate results and needs a preceding '.aggregate(...)'", "use '.where(...)' to filter events");
                    if (!OnePositional(op)) return;
                    var pred = ExpressionCompiler.CompileCondition(op.Args[0].Value, Cx(), "the '.having' condition").Eval;
                    _ops.Add(rt => new WhereOperator(NewFrame(rt), pred));
                    return;
                }
            case "select":
                CompileProjection(op, _env.Types.DefineOpen($"{_name}#select{_internalTypeCounter++}", ProjectionNames(op)), isEmit: false);
                return;
            case "emit":
                CompileProjection(op, _env.Types.DefineOpen(_name, ProjectionNames(op)), isEmit: true);
                return;
            case "partition_by":
                CompilePartitionBy(op);
                return;
            case "window":
                CompileWindow(op);
                return;
            case "aggregate":
                CompileAggregate(op);
                return;
            case "distinct":
                {
                    if (op.Args.Count > 1 || op.Args.Any(a => a.Name is not null))
                    {
                        _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.distinct' takes at most one expression: .distinct() or .distinct(field)");
                        return;
                    }
                    MarkStateful();
                    Eval? key = op.Args.Count == 1 ? ExpressionCompiler.Compile(op.Args[0].Value, Cx()).Eval : null;
                    var partition = _partition;
                    _ops.Add(rt => new DistinctOperator(NewFrame(rt), key, partition, rt.Engine.Options.DistinctCapacity));
                    return;
                }
            case "limit" or "first":
                {
                    long n = 1;
                    if (name == "limit")
                    {
                        if (!OnePositional(op)) return;
                        var v = ExpressionCompiler.CompileConstant(op.Args[0].Value, new ExprContext(_env, null), "the limit");
                        if (v is null) return;
                        if (!v.Value.IsInt || v.Value.AsInt < 0)
                        {
                            _env.Error(DiagnosticIds.InvalidValue, op.Args[0].Span, "the limit must be a non-negative integer");
                            return;
                        }
                        n = v.Value.AsInt;
                    }
                    else if (op.Args.Count != 0)
                    {
                        _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.first()' takes no arguments", "use .limit(n) for the first n events");
                        return;
                    }
                    MarkStateful();
                    var partition = _partition;
                    _ops.Add(rt => new LimitOperator(NewFrame(rt), n, partition));
                    return;
                }
            case "to":
                {
                    if (op.Args.Count == 0 || op.Args[0].Name is not null || op.Args[0].Value is not NameExprSyntax conn)
                    {
                        _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.to' needs a connector name first: .to(Connector, key: value)");
                        return;
                    }
                    var args = ConnectorCompiler.Bind(_env, _name, null, BindingDirection.Sink, new NameSyntax(conn.Name, conn.Span), op.Args.Skip(1));
                    if (args is null) return;
                    string cname = conn.Name;
                    _ops.Add(_ => new ToOperator(cname, args));
                    return;
                }
            case "print":
                {
                    var evals = op.Args.Select(a => ExpressionCompiler.Compile(a.Value, Cx()).Eval).ToArray();
                    _ops.Add(rt => new PrintOperator(NewFrame(rt), evals));
                    return;
                }
            case "log":
                CompileLog(op);
                return;
            case "process":
                CompileProcess(op);
                return;
            case "watermark":
                {
                    if (op.Args.Count != 1 || op.Args[0].Name?.Text != "out_of_order")
                    {
                        _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.watermark' takes one argument: .watermark(out_of_order: 5s)");
                        return;
                    }
                    if (DurationArg(op.Args[0], "out_of_order", allowZero: true) is long d) _env.OutOfOrderness = Math.Max(_env.OutOfOrderness, d);
                    return;
                }
            case "allowed_lateness":
                return; // read before the other operators: it applies to the whole stream
            case "context":
                {
                    if (!OnePositional(op) || op.Args[0].Value is not NameExprSyntax ctx)
                    {
                        if (op.Args.Count == 1) _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.context' takes a context name: .context(fast)");
                        return;
                    }
                    if (!_env.Contexts.Contains(ctx.Name))
                        _env.Error(DiagnosticIds.UnknownContext, ctx.Span, $"unknown context '{ctx.Name}'", NameSuggester.DidYouMean(ctx.Name, _env.Contexts) ?? $"declare it with: context {ctx.Name}");
                    return;
                }
            case "on":
                _env.Error(DiagnosticIds.InvalidJoin, op.Span, "'.on' is only valid directly after join(...)");
                return;
            default:
                if (PatternOperators.Names.Contains(name))
                {
                    _env.Error(DiagnosticIds.PatternOperatorWithoutPattern, op.Name.Span,
                        $"'.{name}' is only valid on a pattern stream (a sequence 'A as a -> B ...' or a named pattern)");
                    return;
                }
                _env.Error(DiagnosticIds.UnknownOperator, op.Name.Span, $"unknown operator '.{name}'",
                    NameSuggester.DidYouMean(name, KnownOperators));
                return;
        }
    }

    private void CompileLateness(OperatorSyntax op)
    {
        if (!OnePositional(op)) return;
        if (DurationArg(op.Args[0], "the allowed lateness", allowZero: true) is long d) _lateness = d;
    }

    private void MarkStateful()
    {
        _stateful = true;
        if (_partition is null) _sawStatefulBeforePartition = true;
        else if (!_sawStatefulBeforePartition && !_isPattern) _planPartition ??= _partitionNames;
    }

    private bool OnePositional(OperatorSyntax op)
    {
        if (op.Args.Count == 1 && op.Args[0].Name is null) return true;
        _env.Error(DiagnosticIds.InvalidArguments, op.Span, $"'.{op.Name.Text}' takes exactly one argument");
        return false;
    }

    private long? DurationArg(ArgumentSyntax a, string what, bool allowZero)
    {
        var v = ExpressionCompiler.CompileConstant(a.Value, new ExprContext(_env, null), what);
        if (v is null) return null;
        if (!v.Value.IsDuration || v.Value.AsNanos < 0 || (!allowZero && v.Value.AsNanos == 0))
        {
            _env.Error(DiagnosticIds.InvalidValue, a.Value.Span, $"{what} must be a {(allowZero ? "non-negative" : "positive")} duration (e.g. 5s)");
            return null;
        }
        return v.Value.AsNanos;
    }

    private static string? NameOf(ArgumentSyntax a) => a.Name?.Text ?? a.Value switch
    {
        NameExprSyntax n => n.Name,
        MemberExprSyntax m => m.Member.Text,
        _ => null,
    };

    private static string[] ProjectionNames(OperatorSyntax op) => op.Args.Select(NameOf).Where(n => n is not null).Distinct().ToArray()!;

    private void CompileProjection(OperatorSyntax op, EventType type, bool isEmit)
    {
        var names = new List<string>();
        var evals = new List<Eval>();
        var slots = new List<int>();
        foreach (var a in op.Args)
        {
            var n = NameOf(a);
            if (n is null)
            {
                _env.Error(DiagnosticIds.InvalidArguments, a.Span, $"'.{op.Name.Text}' arguments need a name: write 'name: expression'");
                continue;
            }
            if (names.Contains(n))
            {
                _env.Error(DiagnosticIds.DuplicateName, a.Span, $"field '{n}' appears twice in '.{op.Name.Text}'");
                continue;
            }
            names.Add(n);
            evals.Add(ExpressionCompiler.Compile(a.Value, Cx()).Eval);
            slots.Add(type.GetOrAddSlot(n));
        }
        var evalArr = evals.ToArray();
        var slotArr = slots.ToArray();
        int width = slotArr.Length == 0 ? 0 : slotArr.Max() + 1;
        bool dense = slotArr.Select((s, i) => s == i).All(x => x);
        if (dense) _ops.Add(rt => new ProjectOperator(NewFrame(rt), type, evalArr));
        else _ops.Add(rt => new SlotProjectOperator(NewFrame(rt), type, evalArr, slotArr, width));
        _shape = RowShape.Of(type);
        _windowPending = false;
        _aggregatePending = false;
        if (isEmit) _producesOutput = true;
    }

    private void CompilePartitionBy(OperatorSyntax op)
    {
        if (op.Args.Count == 0)
        {
            _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.partition_by' needs at least one field");
            return;
        }
        var names = new List<string>();
        var evals = new List<Eval>();
        foreach (var a in op.Args)
        {
            var n = a.Name is null ? NameOf(a) : null;
            if (n is null)
            {
                _env.Error(DiagnosticIds.InvalidArguments, a.Span, "'.partition_by' takes field names, e.g. .partition_by(symbol) or .partition_by(a.user)");
                continue;
            }
            names.Add(n);
            evals.Add(ExpressionCompiler.Compile(a.Value, Cx()).Eval);
        }
        _partitionNames = names.ToArray();
        _partition = new KeySelector(_partitionNames, evals.ToArray());
    }

    private void CompileWindow(OperatorSyntax op)
    {
        if (_windowPending)
        {
            _env.Error(DiagnosticIds.DuplicateWindow, op.Name.Span, "a second '.window' needs an '.emit' or '.select' between the two windows");
            return;
        }
        // Even an invalid window counts as one, so later operators are not blamed for its absence.
        var partition = _partition;
        MarkStateful();
        _windowPending = true;
        _batched = true;
        _batchedTime = false;
        _windowPartition = partition;
        var cx = new ExprContext(_env, null);
        ArgumentSyntax? positional = op.Args.FirstOrDefault(a => a.Name is null);
        var named = op.Args.Where(a => a.Name is not null).ToDictionary(a => a.Name!.Text, a => a);
        foreach (var k in named.Keys)
        {
            if (k is not ("sliding" or "session"))
            {
                _env.Error(DiagnosticIds.InvalidArguments, named[k].Name!.Span, $"unknown window argument '{k}'", NameSuggester.DidYouMean(k, ["sliding", "session"]));
                return;
            }
        }
        if (op.Args.Count(a => a.Name is null) > 1)
        {
            _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.window' takes one size: .window(100), .window(5m), .window(5m, sliding: 1m) or .window(session: 30s)");
            return;
        }
        if (named.TryGetValue("session", out var sessionArg))
        {
            if (positional is not null || named.Count != 1)
            {
                _env.Error(DiagnosticIds.InvalidArguments, op.Span, "a session window takes only the gap: .window(session: 30s)");
                return;
            }
            if (DurationArg(sessionArg, "the session gap", allowZero: false) is not long gap) return;
            _batchedTime = true;
            _ops.Add(rt => new SessionWindowOperator(NewFrame(rt), gap, partition));
            return;
        }
        if (positional is null)
        {
            _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.window' needs a size: .window(100) or .window(5m)");
            return;
        }
        var size = ExpressionCompiler.CompileConstant(positional.Value, cx, "the window size");
        if (size is null) return;
        Value? slide = null;
        if (named.TryGetValue("sliding", out var slideArg))
        {
            slide = ExpressionCompiler.CompileConstant(slideArg.Value, cx, "the window slide");
            if (slide is null) return;
        }
        if (size.Value.IsInt)
        {
            if (size.Value.AsInt <= 0 || size.Value.AsInt > int.MaxValue)
            {
                _env.Error(DiagnosticIds.InvalidValue, positional.Value.Span, "a count window needs a positive number of events");
                return;
            }
            int n = (int)size.Value.AsInt;
            int m = 0;
            if (slide is { } s)
            {
                if (!s.IsInt || s.AsInt <= 0 || s.AsInt > int.MaxValue)
                {
                    _env.Error(DiagnosticIds.InvalidValue, slideArg!.Value.Span, "the slide of a count window must be a positive number of events");
                    return;
                }
                m = (int)s.AsInt;
            }
            _ops.Add(rt => new CountWindowOperator(NewFrame(rt), n, m, partition));
            return;
        }
        if (size.Value.IsDuration)
        {
            long d = size.Value.AsNanos;
            if (d <= 0)
            {
                _env.Error(DiagnosticIds.InvalidValue, positional.Value.Span, "a time window needs a positive duration");
                return;
            }
            long sl = d;
            if (slide is { } s)
            {
                if (!s.IsDuration || s.AsNanos <= 0)
                {
                    _env.Error(DiagnosticIds.InvalidValue, slideArg!.Value.Span, "the slide of a time window must be a positive duration");
                    return;
                }
                sl = s.AsNanos;
            }
            _batchedTime = true;
            long late = _lateness ?? 0;
            _ops.Add(rt => new TimeWindowOperator(NewFrame(rt), d, sl, late, partition));
            return;
        }
        _env.Error(DiagnosticIds.InvalidValue, positional.Value.Span, "the window size must be a number of events (100) or a duration (5m)");
    }

    private void CompileAggregate(OperatorSyntax op)
    {
        if (_aggregatePending)
        {
            _env.Error(DiagnosticIds.DuplicateWindow, op.Name.Span, "a second '.aggregate' needs an '.emit' or '.select' in between");
            return;
        }
        if (op.Args.Count == 0 || op.Args.Any(a => a.Name is null))
        {
            _env.Error(DiagnosticIds.InvalidArguments, op.Span, "'.aggregate' takes named aggregates: .aggregate(total: sum(price), n: count())");
            return;
        }
        if (!_batched)
            _env.Warning(DiagnosticIds.AggregateWithoutWindow, op.Name.Span, "'.aggregate' without a '.window' aggregates each event on its own", "add a window, e.g. .window(1m)");
        MarkStateful();
        var collector = new AggregateCollector();
        var cx = new ExprContext(_env, _shape) { Aggregates = collector };
        var names = new List<string>();
        var evals = new List<Eval>();
        foreach (var a in op.Args)
        {
            if (names.Contains(a.Name!.Text))
            {
                _env.Error(DiagnosticIds.DuplicateName, a.Span, $"aggregate field '{a.Name.Text}' appears twice");
                continue;
            }
            names.Add(a.Name.Text);
            evals.Add(ExpressionCompiler.Compile(a.Value, cx).Eval);
        }
        var fieldNames = new List<string>(names);
        var keyNames = _partitionNames ?? Array.Empty<string>();
        var keySlots = new int[keyNames.Length];
        for (int i = 0; i < keyNames.Length; i++)
        {
            if (fieldNames.Contains(keyNames[i])) keySlots[i] = -1;
            else
            {
                keySlots[i] = fieldNames.Count;
                fieldNames.Add(keyNames[i]);
            }
        }
        int startSlot = -1, endSlot = -1;
        if (_batched && _batchedTime)
        {
            startSlot = fieldNames.Count;
            fieldNames.Add("window_start");
            endSlot = fieldNames.Count;
            fieldNames.Add("window_end");
        }
        var type = _env.Types.DefineOpen($"{_name}#agg{_internalTypeCounter++}", fieldNames);
        var calls = collector.Calls.ToArray();
        var evalArr = evals.ToArray();
        var partition = _partition;
        // A partition declared after the window (or a window without one) regroups each batch by key.
        bool regroup = partition is not null && _batched && !ReferenceEquals(partition, _windowPartition);
        _ops.Add(rt => new AggregateOperator(NewFrame(rt), calls, evalArr, type, partition, keySlots, startSlot, endSlot, regroup));
        _shape = RowShape.Of(type);
        _aggregatePending = true;
        _batched = false;
        _batchedTime = false;
    }

    private void CompileLog(OperatorSyntax op)
    {
        string level = "info";
        Eval? message = null;
        foreach (var a in op.Args)
        {
            switch (a.Name?.Text)
            {
                case "level":
                    {
                        var v = ExpressionCompiler.CompileConstant(a.Value, new ExprContext(_env, null), "the log level");
                        if (v is { IsString: true } s && s.AsString is "trace" or "debug" or "info" or "warn" or "warning" or "error") level = s.AsString == "warning" ? "warn" : s.AsString;
                        else if (v is not null) _env.Error(DiagnosticIds.InvalidValue, a.Value.Span, "the log level must be one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"");
                        break;
                    }
                case "message":
                case null:
                    message = ExpressionCompiler.Compile(a.Value, Cx()).Eval;
                    break;
                default:
                    _env.Error(DiagnosticIds.InvalidArguments, a.Name.Span, $"unknown '.log' argument '{a.Name.Text}'", "use .log(level: \"info\", message: \"...\")");
                    break;
            }
        }
        var lv = level;
        _ops.Add(rt => new LogOperator(NewFrame(rt), lv, message));
    }

    private void CompileProcess(OperatorSyntax op)
    {
        if (!OnePositional(op)) return;
        if (op.Args[0].Value is not CallExprSyntax call || !_env.Functions.TryGetValue(call.Function.Text, out var fn))
        {
            _env.Error(DiagnosticIds.InvalidArguments, op.Args[0].Span, "'.process' takes a call of a declared function: .process(f(args))");
            return;
        }
        if (!fn.Emits)
            _env.Warning(DiagnosticIds.NoEffect, op.Span, $"function '{fn.Name}' has no 'emit' statement, so '.process' drops every event");
        var eval = ExpressionCompiler.Compile(call, new ExprContext(_env, _shape) { ProcessCall = true }).Eval;
        if (fn.AssignsGlobals) MarkStateful();
        var type = _env.Types.DefineOpen(_name, fn.EmittedFields);
        _ops.Add(rt => new ProcessOperator(NewFrame(rt), eval, type));
        _shape = RowShape.Of(type);
        _windowPending = false;
        _aggregatePending = false;
        _batched = false;
        _batchedTime = false;
        _producesOutput = true;
    }
}
