using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Runtime.Operators;
using Varpulis.Vpl.Runtime.Patterns;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation.Patterns;

/// <summary>Trend aggregation (vpl.md §5.8): <c>.trend_aggregate(name: fn(...), ...)</c> on a pattern stream.</summary>
internal sealed partial class PatternCompilation
{
    private static readonly string[] TrendFunctions = ["count_trends", "count_events", "sum_trends", "avg_trends", "min_trends", "max_trends"];

    private PatternResult? CompileTrend()
    {
        var op = _trend!;
        if (_within == long.MaxValue)
            _env.Error(DiagnosticIds.InvalidTrendAggregate, op.Name.Span, "'.trend_aggregate' needs '.within(d)': results are computed per tumbling window of that duration",
                "add .within(1m)");
        if (_nots.Count > 0 || _alts.Any(a => a.Nots.Count > 0))
            _env.Error(DiagnosticIds.InvalidTrendAggregate, op.Name.Span, "trend aggregation does not support negation ('.not' or NOT)", "count the trends of a pattern without negation");
        if (_strict || _stam)
            _env.Error(DiagnosticIds.InvalidTrendAggregate, op.Name.Span, "trend aggregation always counts every trend (skip-till-any-match); remove '.strict()' / '.stam()'");
        foreach (var b in _beforeTrend)
        {
            _env.Error(DiagnosticIds.InvalidTrendAggregate, b.Name.Span, $"'.{b.Name.Text}' cannot come before '.trend_aggregate': trends are counted, not built as match rows",
                "put conditions into the step predicates, and other operators after .trend_aggregate(...)");
        }
        // The counter keeps the last event of each alias: predicates may read a Kleene alias only as alias.f.
        for (int i = 0; i < _slotNames.Count; i++)
        {
            if (!_slotKleene[i]) continue;
            foreach (var item in _alts.SelectMany(a => a.Steps).Select(s => s.Item).Distinct(ReferenceEqualityComparer.Instance).Cast<PatternItemSyntax>())
            {
                if (item.Predicate is null || !ExpressionCompiler.Mentions(item.Predicate, _slotNames[i])) continue;
                if (!PatternSyntax.OnlyMemberUses(item.Predicate, _slotNames[i]) || PatternSyntax.UsedInCall(item.Predicate, _slotNames[i]))
                    _env.Error(DiagnosticIds.InvalidTrendAggregate, item.Predicate.Span,
                        $"with trend aggregation a predicate can read Kleene alias '{_slotNames[i]}' only as {_slotNames[i]}.field (its last event)");
            }
        }
        var specs = CompileTrendAggregates(op);
        if (specs is null || NewErrors) return null;

        var names = specs.Select(s => s.Name).ToList();
        var fields = new List<string>(names);
        var keyNames = _partitionNames ?? Array.Empty<string>();
        var keySlots = new int[keyNames.Length];
        for (int i = 0; i < keyNames.Length; i++)
        {
            if (fields.Contains(keyNames[i])) keySlots[i] = -1;
            else
            {
                keySlots[i] = fields.Count;
                fields.Add(keyNames[i]);
            }
        }
        int startSlot = fields.Count;
        fields.Add("window_start");
        int endSlot = fields.Count;
        fields.Add("window_end");
        var resultType = _env.Types.DefineOpen($"{_stream}#trends", fields);
        var output = new TrendOutputPlan
        {
            Aggregates = specs,
            Window = _within,
            PartitionFields = _partitionNames?.Select(n => new FieldAccessor(n)).ToArray(),
            ResultType = resultType,
            KeySlots = keySlots,
            StartSlot = startSlot,
            EndSlot = endSlot,
        };
        var shape = RowShape.Of(resultType);
        var (alts, inputs) = BuildAlternativePlans(forTrends: true);
        if (NewErrors) return null;

        if (TryShare(alts, output) is { } shared) return new PatternResult(shared.Sources, shared.Create, shape, _remaining, _partitionNames);

        var plan = new TrendPlan
        {
            Output = output,
            Alternatives = alts,
            Needed = _alts.Select(NeededSets).ToArray(),
            SlotCount = _slotNames.Count,
            InputTypes = inputs,
            StepsByInput = inputs.Select(t => alts.SelectMany((a, ai) => a.Steps.Select((s, si) => (s, ai, si)))
                .Where(x => ReferenceEquals(x.s.Type, t)).Select(x => (x.ai, x.si)).ToArray()).ToArray(),
        };
        var sources = inputs.Select((t, i) => new SourceBinding(t, null, rt => new TrendPort(rt, i))).ToArray();
        return new PatternResult(sources, rt => new TrendOperator(plan, new Frame(rt.Engine.State)), shape, _remaining, _partitionNames);
    }

    /// <summary>Per step k: the steps ≤ k whose last event a predicate of a later step reads, or, for a Kleene step, its own predicate.</summary>
    private int[][] NeededSets(AltModel alt)
    {
        var steps = alt.Steps;
        var result = new int[steps.Count][];
        for (int k = 0; k < steps.Count; k++)
        {
            var needed = new List<int>();
            for (int j = 0; j <= k; j++)
            {
                string alias = steps[j].Alias;
                bool later = steps.Skip(k + 1).Any(m => ExpressionCompiler.Mentions(m.Item.Predicate, alias));
                // A Kleene step extends itself: its own predicate reads earlier aliases (and its own previous event) again.
                bool own = steps[k].Item.Quantifier == Quantifier.Plus && ExpressionCompiler.Mentions(steps[k].Item.Predicate, alias);
                if (later || own) needed.Add(j);
            }
            result[k] = needed.ToArray();
        }
        return result;
    }

    private TrendAggregatePlan[]? CompileTrendAggregates(OperatorSyntax op)
    {
        if (op.Args.Count == 0)
        {
            _env.Error(DiagnosticIds.InvalidTrendAggregate, op.Span, "'.trend_aggregate' needs at least one named aggregate: .trend_aggregate(n: count_trends())");
            return null;
        }
        var specs = new List<TrendAggregatePlan>();
        foreach (var a in op.Args)
        {
            if (a.Name is null)
            {
                _env.Error(DiagnosticIds.InvalidTrendAggregate, a.Span, "'.trend_aggregate' arguments need a name: write 'name: count_trends()'");
                continue;
            }
            if (specs.Any(s => s.Name == a.Name.Text))
            {
                _env.Error(DiagnosticIds.DuplicateName, a.Name.Span, $"trend aggregate '{a.Name.Text}' appears twice");
                continue;
            }
            if (a.Value is not CallExprSyntax call || !TrendFunctions.Contains(call.Function.Text))
            {
                string? hint = a.Value is CallExprSyntax c ? NameSuggester.DidYouMean(c.Function.Text, TrendFunctions) : null;
                _env.Error(DiagnosticIds.InvalidTrendAggregate, a.Value.Span, "a trend aggregate is one of count_trends(), count_events(alias), sum_trends(alias.f), avg_trends(alias.f), min_trends(alias.f), max_trends(alias.f)", hint);
                continue;
            }
            string fn = call.Function.Text;
            if (fn == "count_trends")
            {
                if (call.Args.Count != 0) _env.Error(DiagnosticIds.InvalidTrendAggregate, call.Span, "count_trends() takes no arguments");
                else specs.Add(new TrendAggregatePlan { Name = a.Name.Text, Function = TrendFunction.CountTrends, Slot = -1 });
                continue;
            }
            if (call.Args.Count != 1 || call.Args[0].Name is not null)
            {
                _env.Error(DiagnosticIds.InvalidTrendAggregate, call.Span, $"{fn} takes one argument: {(fn == "count_events" ? "count_events(alias)" : fn + "(alias.field)")}");
                continue;
            }
            var arg = call.Args[0].Value;
            if (fn == "count_events")
            {
                if (arg is NameExprSyntax n && AliasSlot(n) is int slot)
                    specs.Add(new TrendAggregatePlan { Name = a.Name.Text, Function = TrendFunction.CountEvents, Slot = slot });
                else if (arg is not NameExprSyntax)
                    _env.Error(DiagnosticIds.InvalidTrendAggregate, arg.Span, "count_events takes an alias of the pattern: count_events(t)");
                continue;
            }
            if (arg is MemberExprSyntax { Target: NameExprSyntax target } m && AliasSlot(target) is int s2)
            {
                var function = fn switch
                {
                    "sum_trends" => TrendFunction.Sum,
                    "avg_trends" => TrendFunction.Avg,
                    "min_trends" => TrendFunction.Min,
                    _ => TrendFunction.Max,
                };
                foreach (var t in _slotTypes[s2])
                {
                    if (t.IsDeclared && t.GetField(m.Member.Text) is null && m.Member.Text != "timestamp")
                        _env.Error(DiagnosticIds.UnknownField, m.Member.Span, $"event type '{t.Name}' (alias '{target.Name}') has no field '{m.Member.Text}'",
                            NameSuggester.DidYouMean(m.Member.Text, t.FieldNames));
                }
                specs.Add(new TrendAggregatePlan { Name = a.Name.Text, Function = function, Slot = s2, Field = new FieldAccessor(m.Member.Text) });
            }
            else if (arg is not MemberExprSyntax { Target: NameExprSyntax })
            {
                _env.Error(DiagnosticIds.InvalidTrendAggregate, arg.Span, $"{fn} takes an alias field: {fn}(t.price)");
            }
        }
        return specs.ToArray();
    }

    private int? AliasSlot(NameExprSyntax n)
    {
        if (_slotOf.TryGetValue(n.Name, out int slot)) return slot;
        _env.Error(DiagnosticIds.UnknownPatternAlias, n.Span, $"unknown alias '{n.Name}'",
            NameSuggester.DidYouMean(n.Name, _slotNames.Where(s => !s.StartsWith('#'))) ?? $"aliases of this pattern: {string.Join(", ", _slotNames.Where(s => !s.StartsWith('#')))}");
        return null;
    }

    /// <summary>
    /// Joins (or founds) the Hamlet group of this stream when its pattern is <c>S [where p] as s -> all T [where q] as t</c>
    /// with q reading no alias and S ≠ T: the T part is then evaluated once for every stream of the group.
    /// </summary>
    private (SourceBinding[] Sources, Func<StreamRuntime, Operator> Create)? TryShare(AlternativePlan[] alts, TrendOutputPlan output)
    {
        if (alts.Length != 1 || alts[0].Steps.Length != 2) return null;
        var start = alts[0].Steps[0];
        var kleene = alts[0].Steps[1];
        if (start.Kleene || !kleene.Kleene || ReferenceEquals(start.Type, kleene.Type)) return null;
        var kleeneItem = _alts[0].Steps[1].Item;
        if (kleeneItem.Predicate is { } q && _slotNames.Any(n => ExpressionCompiler.Mentions(q, n))) return null;

        string key = string.Join("|", "trend", kleene.Type.Name, PatternSyntax.Canonical(kleeneItem.Predicate), output.Window.ToString(System.Globalization.CultureInfo.InvariantCulture),
            string.Join(",", _partitionNames ?? Array.Empty<string>()));
        bool isOwner = false;
        if (!_env.PatternShares.TryGetValue(key, out var existing))
        {
            existing = new TrendShareGroup
            {
                Owner = _stream,
                KleenePredicate = kleene.Predicate,
                Window = output.Window,
                PartitionFields = output.PartitionFields,
            };
            _env.PatternShares[key] = existing;
            isOwner = true;
        }
        var group = (TrendShareGroup)existing;
        int member = group.Members.Count;
        group.Members.Add(_stream);

        var startFields = new List<FieldAccessor>();
        var aggregates = output.Aggregates.Select(s =>
        {
            bool onStart = s.Slot == start.Slot;
            int field = -1;
            if (s.Field is not null)
            {
                if (onStart)
                {
                    field = startFields.Count;
                    startFields.Add(s.Field);
                }
                else
                {
                    field = group.FieldIndex(s.Field.Name, s.Function is TrendFunction.Min or TrendFunction.Max);
                }
            }
            return new SharedAggregate(s.Function, onStart, field);
        }).ToArray();
        var fieldsArr = startFields.ToArray();
        group.MemberStartFields.Add(fieldsArr.Select(f => f.Name).ToArray());
        var startPredicate = start.Predicate;
        int slots = _slotNames.Count;
        var sources = new List<SourceBinding> { new(start.Type, null, rt => new SharedStartPort(rt)) };
        if (isOwner) sources.Add(new SourceBinding(kleene.Type, null, rt => new SharedKleenePort(rt)));
        return (sources.ToArray(), rt => new SharedTrendOperator(group, member, output, startPredicate, fieldsArr, aggregates, new Frame(rt.Engine.State), slots, isOwner));
    }
}
