using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation.Patterns;

/// <summary>
/// A <c>.where</c> after the last step correlates the steps (vpl.md §5.1): each conjunct that names step
/// aliases, all of them single events, is checked as part of the step that binds the last of them, so it
/// decides which event advances a run. Also finds the equality each step can look its waiting runs up by.
/// </summary>
internal sealed partial class PatternCompilation
{
    /// <summary>Operators that neither change nor observe the match rows: a <c>.where</c> after them still reads the match.</summary>
    private static readonly HashSet<string> MatchPreserving = new(StringComparer.Ordinal)
    {
        "where", "filter", "partition_by", "watermark", "allowed_lateness", "context",
    };

    /// <summary>Conjuncts of the trailing <c>.where</c> that moved into steps (by reference): the filter on the match skips them.</summary>
    private readonly HashSet<ExprSyntax> _correlated = new(ReferenceEqualityComparer.Instance);

    /// <summary>Per (alternative, step): the moved conjuncts, compiled where that step binds its event.</summary>
    private readonly Dictionary<(int Alt, int Step), List<(ExprSyntax Syntax, Eval Eval)>> _stepConjuncts = new();

    /// <summary>Moves the correlating conjuncts of the <c>.where</c> operators written directly after the pattern into their steps.</summary>
    private void CorrelateTrailingWhere()
    {
        if (_trend is not null) return; // trend aggregation rejects a .where before it
        // An operator written between steps (A as a .where(p) -> B) filters the match, as written (vpl.md §5.1).
        int lastStepEnd = _req.Sequence is { } seq ? seq.Steps[^1].Span.End : 0;
        foreach (var op in _remaining)
        {
            string name = op.Name.Text;
            if (!MatchPreserving.Contains(name)) break;
            if (name is not ("where" or "filter") || op.Args.Count != 1 || op.Args[0].Name is not null || op.Span.Start < lastStepEnd) continue;
            foreach (var conjunct in op.Args[0].Value.Conjuncts()) TryCorrelate(conjunct);
        }
    }

    private void TryCorrelate(ExprSyntax conjunct)
    {
        var slots = new HashSet<int>();
        foreach (var n in PatternSyntax.Walk(conjunct).OfType<NameExprSyntax>())
        {
            if (_slotOf.TryGetValue(n.Name, out int slot))
            {
                if (_slotKleene[slot]) return; // reads collected events: a filter on the completed match
                slots.Add(slot);
            }
            else if (!_env.Globals.ContainsKey(n.Name))
            {
                return; // a bare field of the match row (or the compat a_f form) names no alias
            }
        }
        if (slots.Count == 0) return;

        // In every alternative, the step binding the last of the named aliases (all of them must be bound there).
        var targets = new List<(int Alt, int Step)>();
        for (int a = 0; a < _alts.Count; a++)
        {
            var steps = _alts[a].Steps;
            int last = -1;
            foreach (int slot in slots)
            {
                int at = steps.FindIndex(s => s.Alias == _slotNames[slot]);
                if (at < 0) return; // an alternative without this alias: the match is filtered, as it is written
                last = Math.Max(last, at);
            }
            targets.Add((a, last));
        }

        // Compiled once per step item (by reference: syntax records compare structurally) and alias.
        var compiled = new List<(PatternItemSyntax Item, string Alias, Eval Eval)>();
        var evals = new List<Eval>();
        foreach (var (a, step) in targets)
        {
            var (item, alias) = _alts[a].Steps[step];
            int at = compiled.FindIndex(c => ReferenceEquals(c.Item, item) && c.Alias == alias);
            if (at < 0)
            {
                if (CompileAtStep(conjunct, item, alias, condition: true) is not { } eval) return;
                compiled.Add((item, alias, eval));
                at = compiled.Count - 1;
            }
            evals.Add(compiled[at].Eval);
        }
        _correlated.Add(conjunct);
        for (int t = 0; t < targets.Count; t++)
        {
            if (!_stepConjuncts.TryGetValue(targets[t], out var list)) _stepConjuncts[targets[t]] = list = new();
            list.Add((conjunct, evals[t]));
        }
    }

    /// <summary>
    /// Compiles <paramref name="e"/> as the step <paramref name="item"/> sees it: earlier aliases from the run's
    /// captures, the step's own alias as the candidate event. Null when it does not compile cleanly (or, for a
    /// condition, is not a bool): it then stays where it is written, and that compilation reports the problem.
    /// </summary>
    private Eval? CompileAtStep(ExprSyntax e, PatternItemSyntax item, string ownAlias, bool condition)
    {
        var type = StepType(item);
        var aliases = _captureAliases.Select(a => a.Name == ownAlias ? new AliasBinding(ownAlias, AliasKind.Self, 0, false, [type]) : a).ToArray();
        var cx = new ExprContext(_env, RowShape.Of(type)) { ExtraAliases = aliases };
        var mark = _env.Diagnostics.Mark();
        var bound = ExpressionCompiler.Compile(e, cx);
        bool clean = !_env.Diagnostics.ChangedSince(mark) && (!condition || bound.Type.Kind is VplTypeKind.Any or VplTypeKind.Bool or VplTypeKind.Null);
        _env.Diagnostics.RollBack(mark);
        return clean ? bound.Eval : null;
    }

    /// <summary>The step's own condition and the conjuncts moved into it, all of which must hold.</summary>
    private Eval? StepCondition(int alt, int step, Eval? own)
    {
        if (!_stepConjuncts.TryGetValue((alt, step), out var moved)) return own;
        var parts = (own is null ? Array.Empty<Eval>() : [own]).Concat(moved.Select(m => m.Eval)).ToArray();
        if (parts.Length == 1) return parts[0];
        if (parts.Length == 2)
        {
            Eval p0 = parts[0], p1 = parts[1];
            return f => p0(f).IsTrue && p1(f).IsTrue ? Value.True : Value.False;
        }
        return f =>
        {
            for (int i = 0; i < parts.Length; i++)
            {
                if (!parts[i](f).IsTrue) return Value.False;
            }
            return Value.True;
        };
    }

    // ------------------------------------------------------------------------------------------
    // Run lookup keys

    /// <summary>
    /// An equality conjunct of step <paramref name="step"/>'s condition between the candidate event (a field, or
    /// <c>own.f</c>) and a single earlier alias (<c>a.f</c>): runs waiting for this step can be found by its value
    /// (<c>Purchase where user == a.user as b</c>, or <c>.where(a.user == b.user)</c> moved here).
    /// </summary>
    private (Eval EventKey, Eval RunKey)? LookupKey(int alt, int step)
    {
        if (step == 0) return null;
        var steps = _alts[alt].Steps;
        var (item, ownAlias) = steps[step];
        var candidates = new List<(ExprSyntax Conjunct, bool Moved)>();
        if (item.Predicate is not null && _predicates[item] is not null)
            candidates.AddRange(item.Predicate.Conjuncts().Select(c => (c, false)));
        if (_stepConjuncts.TryGetValue((alt, step), out var moved)) candidates.AddRange(moved.Select(m => (m.Syntax, true)));
        foreach (var (conjunct, isMoved) in candidates)
        {
            if (conjunct is not BinaryExprSyntax { Op: BinaryOp.Equal } eq) continue;
            foreach (var (ev, run) in new[] { (eq.Left, eq.Right), (eq.Right, eq.Left) })
            {
                if (!IsCandidatePath(ev, ownAlias, ownAllowed: isMoved && item.Quantifier != Quantifier.Plus)) continue;
                if (!IsEarlierAliasPath(run, steps, step)) continue;
                if (CompileAtStep(ev, item, ownAlias, condition: false) is { } eventKey && CompileAtStep(run, item, ownAlias, condition: false) is { } runKey)
                    return (eventKey, runKey);
            }
        }
        return null;
    }

    /// <summary><c>f</c>, <c>f.g</c> (fields of the candidate event) or <c>own.f</c>.</summary>
    private bool IsCandidatePath(ExprSyntax e, string ownAlias, bool ownAllowed)
    {
        var root = PathRoot(e, out int members);
        if (root is null) return false;
        if (root.Name == ownAlias) return ownAllowed && members > 0;
        return !_slotOf.ContainsKey(root.Name) && !_env.Globals.ContainsKey(root.Name);
    }

    /// <summary><c>a.f</c> where a is a single-event alias bound before step <paramref name="step"/>.</summary>
    private bool IsEarlierAliasPath(ExprSyntax e, List<(PatternItemSyntax Item, string Alias)> steps, int step)
    {
        var root = PathRoot(e, out int members);
        if (root is null || members == 0 || !_slotOf.TryGetValue(root.Name, out int slot) || _slotKleene[slot]) return false;
        int at = steps.FindIndex(s => s.Alias == root.Name);
        return at >= 0 && at < step;
    }

    /// <summary>The name a chain of member accesses starts from (<c>a</c> of <c>a.b.c</c>), or null for any other expression.</summary>
    private static NameExprSyntax? PathRoot(ExprSyntax e, out int members)
    {
        members = 0;
        while (e is MemberExprSyntax m)
        {
            members++;
            e = m.Target;
        }
        return e as NameExprSyntax;
    }
}
