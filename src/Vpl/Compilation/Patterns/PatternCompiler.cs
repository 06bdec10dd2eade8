using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Runtime.Patterns;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation.Patterns;

/// <summary>Compiles the SASE+ pattern part of a pattern stream (vpl.md §5).</summary>
internal static class PatternCompiler
{
    /// <summary>Most linear alternatives a named pattern may expand into (<c>OR</c>, <c>AND</c>, <c>?</c>, <c>*</c>).</summary>
    public const int MaxAlternatives = 64;

    public static PatternResult? Compile(PatternRequest request) => new PatternCompilation(request).Compile();
}

/// <summary>One linear alternative: its positive steps (with their aliases) and its negations (with the position they guard).</summary>
internal sealed class AltModel
{
    public List<(PatternItemSyntax Item, string Alias)> Steps { get; } = new();

    /// <summary>NOT items of a <c>SEQ</c>: active while the run has bound exactly <c>Pos</c> steps.</summary>
    public List<(PatternItemSyntax Item, int Pos)> Nots { get; } = new();

    public bool Absence => Nots.Any(n => n.Pos == Steps.Count);
}

/// <summary>The state of compiling one pattern stream.</summary>
internal sealed partial class PatternCompilation
{
    private static readonly HashSet<string> StatefulAfter = new(StringComparer.Ordinal) { "window", "aggregate", "distinct", "limit", "first" };

    private readonly PatternRequest _req;
    private readonly CompileEnv _env;
    private readonly string _stream;

    private long _within = long.MaxValue;
    private bool _strict;
    private bool _stam;
    private bool _evict;
    private readonly List<NotOperatorSyntax> _nots = new();
    private OperatorSyntax? _trend;
    private string[]? _partitionNames;
    private readonly List<OperatorSyntax> _remaining = new();
    private readonly List<OperatorSyntax> _beforeTrend = new();

    private readonly List<AltModel> _alts = new();
    private readonly Dictionary<string, int> _slotOf = new(StringComparer.Ordinal);
    private readonly List<string> _slotNames = new();
    private readonly List<bool> _slotKleene = new();
    private readonly List<List<EventType>> _slotTypes = new();
    private readonly Dictionary<PatternItemSyntax, Eval?> _predicates = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<PatternItemSyntax, bool> _failed = new(ReferenceEqualityComparer.Instance);
    private AliasBinding[] _captureAliases = Array.Empty<AliasBinding>();
    private int _errorsAtStart;

    public PatternCompilation(PatternRequest request)
    {
        _req = request;
        _env = request.Env;
        _stream = request.Stream.Name.Text;
    }

    private bool NewErrors => _env.Diagnostics.Items.Count(d => d.IsError) > _errorsAtStart;

    public PatternResult? Compile()
    {
        _errorsAtStart = _env.Diagnostics.Items.Count(d => d.IsError);
        if (_req.Named is { } named)
        {
            if (named.Within is { } w && ConstantDuration(w, "the pattern's 'within'") is long d) _within = d;
            if (named.PartitionBy.Count > 0) _partitionNames = named.PartitionBy.Select(n => n.Text).ToArray();
        }
        GatherOperators();
        if (_req.Sequence is { } seq) BuildInline(seq);
        else if (_req.Named is { } np) BuildNamed(np);
        if (_alts.Count == 0) return null;
        AssignAliases();
        CheckPartitionFields();
        CheckReferences();
        CompilePredicates();
        if (NewErrors) return null;
        CorrelateTrailingWhere();
        return _trend is not null ? CompileTrend() : CompileSequence();
    }

    // ------------------------------------------------------------------------------------------
    // Operators

    private void GatherOperators()
    {
        var ops = _req.Operators;
        for (int i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            switch (op.Name.Text)
            {
                case "within":
                    if (op.Args.Count != 1 || op.Args[0].Name is not null)
                    {
                        _env.Error(DiagnosticIds.InvalidPatternOperator, op.Span, "'.within' takes one duration: .within(30s)");
                        break;
                    }
                    if (ConstantDuration(op.Args[0].Value, "the '.within' deadline") is long d)
                        _within = d; // repeated .within: the last one wins
                    break;
                case "not":
                    if (op is NotOperatorSyntax not) _nots.Add(not);
                    else _env.Error(DiagnosticIds.InvalidPatternOperator, op.Span, "'.not' takes an event type and an optional condition: .not(Cancel where id == a.id)");
                    break;
                case "strict" or "stam":
                    if (op.Args.Count != 0) _env.Error(DiagnosticIds.InvalidPatternOperator, op.Span, $"'.{op.Name.Text}()' takes no arguments");
                    if (op.Name.Text == "strict") _strict = true;
                    else _stam = true;
                    if (_strict && _stam)
                        _env.Error(DiagnosticIds.InvalidPatternOperator, op.Span, "'.strict()' and '.stam()' exclude each other", "keep one selection mode");
                    break;
                case "budget":
                    if (op.Args.Count == 1 && op.Args[0].Name is null && op.Args[0].Value is NameExprSyntax { Name: "evict_oldest" or "refuse" } policy)
                        _evict = policy.Name == "evict_oldest";
                    else
                        _env.Error(DiagnosticIds.InvalidPatternOperator, op.Span, "'.budget' takes a policy: .budget(evict_oldest) or .budget(refuse)");
                    break;
                case "trend_aggregate":
                    if (_trend is not null) _env.Error(DiagnosticIds.InvalidTrendAggregate, op.Name.Span, "a stream has at most one '.trend_aggregate'");
                    _trend = op;
                    break;
                case "partition_by":
                    {
                        var names = op.Args.Select(a => a.Name is null ? a.Value switch
                        {
                            NameExprSyntax n => n.Name,
                            MemberExprSyntax m => m.Member.Text,
                            _ => null,
                        } : null).ToArray();
                        if (names.Length == 0 || names.Any(n => n is null))
                        {
                            _env.Error(DiagnosticIds.InvalidPatternOperator, op.Span, "'.partition_by' takes field names, e.g. .partition_by(user)");
                            break;
                        }
                        _partitionNames = names!;
                        // Runs are kept per key wherever it is written; later windows and aggregates are partitioned too.
                        if (ops.Skip(i + 1).Any(o => StatefulAfter.Contains(o.Name.Text))) _remaining.Add(op);
                        break;
                    }
                default:
                    if (_trend is null) _beforeTrend.Add(op);
                    _remaining.Add(op);
                    break;
            }
        }
    }

    private long? ConstantDuration(ExprSyntax e, string what)
    {
        var v = ExpressionCompiler.CompileConstant(e, new ExprContext(_env, null), what);
        if (v is null) return null;
        if (!v.Value.IsDuration || v.Value.AsNanos <= 0)
        {
            _env.Error(DiagnosticIds.InvalidPatternOperator, e.Span, $"{what} must be a positive duration, e.g. 30s");
            return null;
        }
        return v.Value.AsNanos;
    }

    // ------------------------------------------------------------------------------------------
    // Alternatives

    private void BuildInline(SequenceSourceSyntax seq)
    {
        var alt = new AltModel();
        foreach (var item in seq.Steps) alt.Steps.Add((item, ""));
        _alts.Add(alt);
    }

    private void BuildNamed(PatternDeclSyntax named)
    {
        var expanded = Expand(named.Pattern);
        if (expanded is null) return;
        foreach (var items in expanded)
        {
            var alt = new AltModel();
            foreach (var item in items)
            {
                if (item.Negated)
                {
                    if (alt.Steps.Count == 0)
                    {
                        _env.Error(DiagnosticIds.InvalidPattern, item.Span, "a pattern cannot start with NOT: there is no run yet for it to stop",
                            "write the event that starts the pattern first: SEQ(A, NOT B, C)");
                        return;
                    }
                    alt.Nots.Add((item, alt.Steps.Count));
                }
                else
                {
                    alt.Steps.Add((item, ""));
                }
            }
            if (alt.Steps.Count == 0) continue; // e.g. the empty branch of `A?` alone
            if (!_alts.Any(a => SameItems(a, alt))) _alts.Add(alt);
        }
        if (_alts.Count == 0)
            _env.Error(DiagnosticIds.InvalidPattern, named.Pattern.Span, "this pattern matches no event", "a pattern needs at least one event that is not optional");
    }

    private static bool SameItems(AltModel a, AltModel b)
        => a.Steps.Count == b.Steps.Count && a.Nots.Count == b.Nots.Count
            && a.Steps.Zip(b.Steps).All(p => ReferenceEquals(p.First.Item, p.Second.Item))
            && a.Nots.Zip(b.Nots).All(p => ReferenceEquals(p.First.Item, p.Second.Item) && p.First.Pos == p.Second.Pos);

    /// <summary>Expands a named-pattern expression into linear sequences of items (quantifiers One and Plus only, NOT items in place).</summary>
    private List<List<PatternItemSyntax>>? Expand(PatternExprSyntax p)
    {
        switch (p)
        {
            case PatternItemSyntax item when item.Negated:
                if (item.Quantifier != Quantifier.One)
                {
                    _env.Error(DiagnosticIds.InvalidPattern, item.Span, "NOT takes a single event type, without a quantifier", "SEQ(A, NOT B, C)");
                    return null;
                }
                return [[item]];
            case PatternItemSyntax item:
                return item.Quantifier switch
                {
                    Quantifier.Optional => [[item with { Quantifier = Quantifier.One }], []],
                    Quantifier.Star => [[item with { Quantifier = Quantifier.Plus }], []],
                    _ => [[item]],
                };
            case SeqPatternSyntax seq:
                {
                    var acc = new List<List<PatternItemSyntax>> { new() };
                    foreach (var part in seq.Items)
                    {
                        var sub = Expand(part);
                        if (sub is null) return null;
                        var next = new List<List<PatternItemSyntax>>();
                        foreach (var a in acc)
                        {
                            foreach (var b in sub) next.Add([.. a, .. b]);
                        }
                        if (!CheckSize(next.Count, seq.Span)) return null;
                        acc = next;
                    }
                    return acc;
                }
            case OrPatternSyntax or:
                {
                    var l = Expand(or.Left);
                    var r = Expand(or.Right);
                    if (l is null || r is null) return null;
                    if (!CheckSize(l.Count + r.Count, or.Span)) return null;
                    return [.. l, .. r];
                }
            case AndPatternSyntax and:
                {
                    // Both, in any order, different events: either side completes, then the other.
                    var l = Expand(and.Left);
                    var r = Expand(and.Right);
                    if (l is null || r is null) return null;
                    if (!CheckSize(2 * l.Count * r.Count, and.Span)) return null;
                    var result = new List<List<PatternItemSyntax>>();
                    foreach (var a in l)
                    {
                        foreach (var b in r) result.Add([.. a, .. b]);
                    }
                    foreach (var b in r)
                    {
                        foreach (var a in l) result.Add([.. b, .. a]);
                    }
                    return result;
                }
            default:
                return null;
        }
    }

    private bool CheckSize(int n, TextSpan span)
    {
        if (n <= PatternCompiler.MaxAlternatives) return true;
        _env.Error(DiagnosticIds.PatternTooLarge, span, $"this pattern expands into more than {PatternCompiler.MaxAlternatives} alternatives",
            "split it into several patterns, or use fewer '?', '*', OR and AND");
        return false;
    }

    // ------------------------------------------------------------------------------------------
    // Aliases

    private EventType TypeOf(PatternItemSyntax item)
    {
        var name = item.EventType;
        if (_env.IsStreamName(name.Text) || _env.IsPatternName(name.Text))
        {
            _env.Error(DiagnosticIds.InvalidPattern, name.Span, $"'{name.Text}' is a {(_env.IsStreamName(name.Text) ? "stream" : "pattern")}; pattern steps match event types",
                "use an event type in each step");
            _failed[item] = true;
        }
        else if (!_env.DeclaredEvents.ContainsKey(name.Text))
        {
            var candidates = _env.DeclaredEvents.Keys;
            if (NameSuggester.Suggest(name.Text, candidates) is { } s && s != name.Text)
                _env.Warning(DiagnosticIds.PossibleTypo, name.Span, $"'{name.Text}' is not a declared event type; it is read as an undeclared event type", $"did you mean '{s}'?");
        }
        return _env.Types.GetOrAdd(name.Text);
    }

    private void AssignAliases()
    {
        var explicitNames = new HashSet<string>(_alts.SelectMany(a => a.Steps).Where(s => s.Item.Alias is not null).Select(s => s.Item.Alias!.Text), StringComparer.Ordinal);
        var typeCache = new Dictionary<PatternItemSyntax, EventType>(ReferenceEqualityComparer.Instance);
        foreach (var alt in _alts)
        {
            var seen = new Dictionary<string, PatternItemSyntax>(StringComparer.Ordinal);
            for (int i = 0; i < alt.Steps.Count; i++)
            {
                var item = alt.Steps[i].Item;
                if (!typeCache.TryGetValue(item, out var type)) typeCache[item] = type = TypeOf(item);
                string alias;
                if (item.Alias is { } a)
                {
                    alias = a.Text;
                    if (seen.TryGetValue(alias, out var other) && !ReferenceEquals(other, item))
                    {
                        _env.Error(DiagnosticIds.DuplicatePatternAlias, a.Span, $"alias '{alias}' names two steps of this pattern", "give each step its own alias");
                        _failed[item] = true;
                    }
                }
                else
                {
                    // Implicit alias: the event type's name when that is unambiguous, else a hidden one (bare fields still resolve).
                    bool unique = alt.Steps.Count(s => s.Item.EventType.Text == item.EventType.Text) == 1 && !explicitNames.Contains(item.EventType.Text);
                    alias = unique ? item.EventType.Text : $"#{item.EventType.Text}{i}";
                }
                seen[alias] = item;
                alt.Steps[i] = (item, alias);
                bool kleene = item.Quantifier == Quantifier.Plus;
                if (_slotOf.TryGetValue(alias, out int slot))
                {
                    if (_slotKleene[slot] != kleene)
                    {
                        _env.Error(DiagnosticIds.KleeneAliasMisuse, item.Alias?.Span ?? item.Span, $"alias '{alias}' names a Kleene step in one branch and a single event in another",
                            "use different aliases");
                        _failed[item] = true;
                    }
                    if (!_slotTypes[slot].Contains(type)) _slotTypes[slot].Add(type);
                }
                else
                {
                    _slotOf[alias] = _slotNames.Count;
                    _slotNames.Add(alias);
                    _slotKleene.Add(kleene);
                    _slotTypes.Add([type]);
                }
            }
        }
        _captureAliases = _slotNames.Select((n, i) => new AliasBinding(n, AliasKind.Capture, i, _slotKleene[i], _slotTypes[i])).ToArray();
    }

    private EventType StepType(PatternItemSyntax item) => _env.Types.GetOrAdd(item.EventType.Text);

    /// <summary>Every declared step type must have the partition key fields (a negated type may lack them: null partition).</summary>
    private void CheckPartitionFields()
    {
        if (_partitionNames is null) return;
        var span = _req.Operators.LastOrDefault(o => o.Name.Text == "partition_by")?.Span ?? _req.Named?.Span ?? _req.Stream.Span;
        foreach (var item in _alts.SelectMany(a => a.Steps).Select(s => s.Item).Distinct(ReferenceEqualityComparer.Instance).Cast<PatternItemSyntax>())
        {
            var type = StepType(item);
            if (!type.IsDeclared) continue;
            foreach (var key in _partitionNames)
            {
                if (type.GetField(key) is null)
                    _env.Error(DiagnosticIds.InvalidPatternOperator, span, $"event type '{type.Name}' has no field '{key}' to partition its runs by",
                        NameSuggester.DidYouMean(key, type.FieldNames));
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Reference checks: unknown alias, alias used before it is bound, Kleene alias misuse

    private void CheckReferences()
    {
        var checkedItems = new HashSet<PatternItemSyntax>(ReferenceEqualityComparer.Instance);
        foreach (var alt in _alts)
        {
            foreach (var (item, _) in alt.Steps.Concat(alt.Nots.Select(n => (n.Item, ""))))
            {
                if (!checkedItems.Add(item) || item.Predicate is null || _failed.ContainsKey(item)) continue;
                CheckPredicate(item);
            }
        }
        foreach (var not in _nots)
        {
            if (not.Predicate is not null) CheckAliasNames(not.Predicate, _env.Types.GetOrAdd(not.EventType.Text), null);
        }
        foreach (var op in _remaining)
        {
            foreach (var a in op.Args) CheckKleeneOperands(a.Value);
        }
        if (_within == long.MaxValue && _partitionNames is null && _trend is null)
        {
            var kleene = _alts.SelectMany(a => a.Steps).FirstOrDefault(s => s.Item.Quantifier == Quantifier.Plus).Item;
            if (kleene is not null)
                _env.Warning(DiagnosticIds.UnboundedPattern, kleene.Span,
                    "this Kleene pattern has neither '.within' nor a partition: its runs and collected events may grow without bound",
                    "add .within(d) (runs expire) and/or .partition_by(key)");
        }
    }

    private void CheckPredicate(PatternItemSyntax item)
    {
        var pred = item.Predicate!;
        var type = StepType(item);
        bool ok = CheckAliasNames(pred, type, item);
        // Before-bound: an alias must be bound before this item in at least one alternative holding it.
        foreach (var n in PatternSyntax.Walk(pred).OfType<NameExprSyntax>())
        {
            if (!_slotOf.ContainsKey(n.Name)) continue;
            bool boundSomewhere = false;
            foreach (var alt in _alts)
            {
                int at = alt.Steps.FindIndex(s => ReferenceEquals(s.Item, item));
                int limit = at;
                if (at < 0)
                {
                    var not = alt.Nots.FirstOrDefault(x => ReferenceEquals(x.Item, item));
                    if (not.Item is null) continue;
                    limit = not.Pos;
                }
                if (alt.Steps.Take(limit).Any(s => s.Alias == n.Name)
                    || (at >= 0 && item.Quantifier == Quantifier.Plus && alt.Steps[at].Alias == n.Name))
                {
                    boundSomewhere = true;
                    break;
                }
            }
            if (!boundSomewhere)
            {
                _env.Error(DiagnosticIds.AliasUsedBeforeBound, n.Span, $"alias '{n.Name}' is used before it is bound",
                    item.Alias?.Text == n.Name
                        ? "a step can refer to its own alias only when it is a Kleene step ('all' or '+'), to compare with the previous collected event"
                        : "a step predicate can only refer to aliases of earlier steps");
                ok = false;
            }
        }
        if (!CheckKleeneOperands(pred)) ok = false;
        if (!ok) _failed[item] = true;
    }

    /// <summary>Reports <c>x.f</c> where x is no alias of the pattern (and not a global or a field of the current event).</summary>
    private bool CheckAliasNames(ExprSyntax pred, EventType type, PatternItemSyntax? item)
    {
        bool ok = true;
        foreach (var n in PatternSyntax.AliasLikeUses(pred))
        {
            if (_slotOf.ContainsKey(n.Name) || _env.Globals.ContainsKey(n.Name) || n.Name == "timestamp") continue;
            if (type.GetField(n.Name) is not null) continue;
            var suggestion = NameSuggester.Suggest(n.Name, _slotNames.Where(s => !s.StartsWith('#')));
            if (type.IsDeclared || suggestion is not null)
            {
                _env.Error(DiagnosticIds.UnknownPatternAlias, n.Span, $"unknown alias '{n.Name}'",
                    suggestion is not null ? $"did you mean '{suggestion}'?" : $"aliases of this pattern: {string.Join(", ", _slotNames.Where(s => !s.StartsWith('#')))}");
                ok = false;
            }
        }
        if (!ok && item is not null) _failed[item] = true;
        return ok;
    }

    private bool CheckKleeneOperands(ExprSyntax e)
    {
        bool ok = true;
        for (int i = 0; i < _slotNames.Count; i++)
        {
            if (!_slotKleene[i]) continue;
            foreach (var n in PatternSyntax.OperandUses(e, _slotNames[i]))
            {
                _env.Error(DiagnosticIds.KleeneAliasMisuse, n.Span, $"Kleene alias '{n.Name}' holds several events and cannot be used as one value here",
                    $"use {n.Name}.field (the last event), first({n.Name}), {n.Name}[i], len({n.Name}) or an aggregate such as sum({n.Name}.field)");
                ok = false;
            }
        }
        return ok;
    }

    // ------------------------------------------------------------------------------------------
    // Predicates

    private void CompilePredicates()
    {
        foreach (var alt in _alts)
        {
            foreach (var (item, alias) in alt.Steps) CompileStepPredicate(item, alias);
            foreach (var (item, _) in alt.Nots) CompileStepPredicate(item, null);
        }
    }

    private void CompileStepPredicate(PatternItemSyntax item, string? alias)
    {
        if (_predicates.ContainsKey(item)) return;
        if (item.Predicate is null || _failed.ContainsKey(item))
        {
            _predicates[item] = null;
            return;
        }
        var cx = new ExprContext(_env, RowShape.Of(StepType(item))) { ExtraAliases = _captureAliases };
        if (item.Quantifier == Quantifier.Plus && alias is not null && ExpressionCompiler.Mentions(item.Predicate, alias))
        {
            // Conditions on the step's own alias compare with the previous collected event; they hold while nothing is collected.
            int slot = _slotOf[alias];
            var parts = new List<Eval>();
            foreach (var conj in item.Predicate.Conjuncts())
            {
                var c = ExpressionCompiler.CompileCondition(conj, cx, "a step condition").Eval;
                if (ExpressionCompiler.Mentions(conj, alias)) parts.Add(f => (f.Captures is { } caps && caps[slot].IsNull) || c(f).IsTrue ? Value.True : Value.False);
                else parts.Add(c);
            }
            var arr = parts.ToArray();
            _predicates[item] = f =>
            {
                for (int i = 0; i < arr.Length; i++)
                {
                    if (!arr[i](f).IsTrue) return Value.False;
                }
                return Value.True;
            };
            return;
        }
        _predicates[item] = ExpressionCompiler.CompileCondition(item.Predicate, cx, "a step condition").Eval;
    }

    /// <summary>True when a Kleene alias is read only as <c>alias.f</c> (its last event) by every predicate.</summary>
    private bool LastOnly(string alias)
    {
        var exprs = _alts.SelectMany(a => a.Steps.Select(s => s.Item).Concat(a.Nots.Select(n => n.Item))).Select(i => i.Predicate)
            .Concat(_nots.Select(n => n.Predicate));
        foreach (var e in exprs)
        {
            if (e is null) continue;
            if (!PatternSyntax.OnlyMemberUses(e, alias) || PatternSyntax.UsedInCall(e, alias)) return false;
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------
    // Sequences

    private (AlternativePlan[] Alts, EventType[] Inputs) BuildAlternativePlans(bool forTrends)
    {
        var inputs = new List<EventType>();
        void AddInput(EventType t)
        {
            if (!inputs.Contains(t)) inputs.Add(t);
        }
        var lastOnly = new Dictionary<string, bool>(StringComparer.Ordinal);
        var plans = new List<AlternativePlan>();
        for (int a = 0; a < _alts.Count; a++)
        {
            var alt = _alts[a];
            var steps = new List<StepPlan>();
            for (int i = 0; i < alt.Steps.Count; i++)
            {
                var (item, alias) = alt.Steps[i];
                var type = StepType(item);
                AddInput(type);
                bool kleene = item.Quantifier == Quantifier.Plus;
                if (kleene && !lastOnly.ContainsKey(alias)) lastOnly[alias] = forTrends || LastOnly(alias);
                var key = forTrends ? null : LookupKey(a, i);
                steps.Add(new StepPlan
                {
                    Type = type,
                    Kleene = kleene,
                    Predicate = StepCondition(a, i, _predicates[item]),
                    Slot = _slotOf[alias],
                    Alias = alias,
                    CaptureLastOnly = kleene && lastOnly[alias],
                    EventKey = key?.EventKey,
                    RunKey = key?.RunKey,
                });
            }
            var negations = new List<NegationPlan>();
            foreach (var (item, pos) in alt.Nots)
            {
                var type = StepType(item);
                AddInput(type);
                negations.Add(new NegationPlan { Type = type, Predicate = _predicates[item], FromPos = pos, ToPos = pos });
            }
            foreach (var not in _nots)
            {
                var type = _env.Types.GetOrAdd(not.EventType.Text);
                AddInput(type);
                negations.Add(new NegationPlan { Type = type, Predicate = NotPredicate(not), FromPos = 1, ToPos = steps.Count });
            }
            plans.Add(new AlternativePlan { Steps = steps.ToArray(), Negations = negations.ToArray(), Absence = alt.Absence });
        }
        return (plans.ToArray(), inputs.ToArray());
    }

    private readonly Dictionary<NotOperatorSyntax, Eval?> _notPredicates = new(ReferenceEqualityComparer.Instance);

    private Eval? NotPredicate(NotOperatorSyntax not)
    {
        if (_notPredicates.TryGetValue(not, out var p)) return p;
        p = not.Predicate is null ? null
            : ExpressionCompiler.CompileCondition(not.Predicate, new ExprContext(_env, RowShape.Of(_env.Types.GetOrAdd(not.EventType.Text))) { ExtraAliases = _captureAliases },
                "the '.not' condition").Eval;
        _notPredicates[not] = p;
        return p;
    }

    private PatternResult? CompileSequence()
    {
        var (alts, inputs) = BuildAlternativePlans(forTrends: false);
        if (NewErrors) return null;
        var matchType = _env.Types.DefineOpen($"{_stream}#match", _slotNames);
        var plan = new SequencePlan
        {
            Alternatives = alts,
            Within = _within,
            Selection = _strict ? SelectionMode.Strict : _stam ? SelectionMode.SkipTillAny : SelectionMode.SkipTillNext,
            EvictOldest = _evict,
            PartitionFields = _partitionNames?.Select(n => new FieldAccessor(n)).ToArray(),
            MatchType = matchType,
            SlotNames = _slotNames.ToArray(),
            SlotIsKleene = _slotKleene.ToArray(),
            InputTypes = inputs,
        };
        plan.Index();
        var sources = inputs.Select((t, i) => new SourceBinding(t, null, rt => new SequencePort(rt, i))).ToArray();
        var aliases = _slotNames.Select((n, i) => new AliasBinding(n, AliasKind.RowSlot, matchType.GetOrAddSlot(n), _slotKleene[i], _slotTypes[i])).ToArray();
        var shape = new RowShape([matchType], aliases, composite: true);
        // A negation with a predicate checks the runs of every partition: such a stream cannot be split by key.
        bool crossPartition = _nots.Any(n => n.Predicate is not null) || _alts.Any(a => a.Nots.Any(n => n.Item.Predicate is not null));
        return new PatternResult(sources, rt => new SequenceOperator(plan, new Frame(rt.Engine.State), rt.Engine.Options), shape, _remaining,
            crossPartition ? null : _partitionNames) { CorrelatedConjuncts = _correlated };
    }
}
