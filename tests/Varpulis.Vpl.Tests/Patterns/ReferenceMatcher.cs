using System.Globalization;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Tests.Patterns;

/// <summary>A step predicate the generator can write both as VPL and as C#.</summary>
internal enum RefPredicate
{
    None,
    XAboveOne,
    SameXAsFirst,
    OtherXThanFirst,
    RisingOwn,
}

internal sealed record RefStep(string Type, bool Kleene, string Alias, RefPredicate Predicate);

/// <summary>A conjunct of the <c>.where</c> written after the last step (vpl.md §5.1).</summary>
internal enum RefWhere
{
    /// <summary><c>last.x == first.x</c></summary>
    LastSameXAsFirst,

    /// <summary><c>second.x > 1</c></summary>
    SecondXAboveOne,

    /// <summary><c>first.k == 0</c></summary>
    FirstKZero,

    /// <summary><c>len(b) > 1</c> for the first Kleene alias b.</summary>
    KleeneLenAboveOne,
}

internal enum RefSelection
{
    Next,
    Strict,
    Any,
}

/// <summary>A generated pattern: steps, deadline, selection, partitioning and an optional negation.</summary>
internal sealed record RefPattern(RefStep[] Steps, long? WithinMs, RefSelection Selection, bool Partitioned, string? NotType, bool NotSameX)
{
    public string First => Steps[0].Alias;

    /// <summary>The conjuncts of the <c>.where</c> after the last step (none: no <c>.where</c>).</summary>
    public RefWhere[] Where { get; init; } = [];

    /// <summary>Event types routed to the stream (others never affect a run, not even a strict one).</summary>
    public bool Reads(string type) => type == NotType || Steps.Any(s => s.Type == type);

    public string PredicateText(RefStep s) => s.Predicate switch
    {
        RefPredicate.XAboveOne => "x > 1",
        RefPredicate.SameXAsFirst => $"x == {First}.x",
        RefPredicate.OtherXThanFirst => $"x != {First}.x",
        RefPredicate.RisingOwn => $"x > {s.Alias}.x",
        _ => "",
    };

    public string PatternText()
    {
        var parts = Steps.Select(s =>
        {
            var p = PredicateText(s);
            return (s.Kleene ? "all " : "") + s.Type + (p.Length > 0 ? " where " + p : "") + " as " + s.Alias;
        });
        return string.Join(" -> ", parts);
    }

    public string OperatorsText()
    {
        var ops = new List<string>();
        if (WithinMs is long w) ops.Add($".within({w}ms)");
        if (Selection == RefSelection.Strict) ops.Add(".strict()");
        if (Selection == RefSelection.Any) ops.Add(".stam()");
        if (Partitioned) ops.Add(".partition_by(k)");
        if (NotType is not null) ops.Add(NotSameX ? $".not({NotType} where x == {First}.x)" : $".not({NotType})");
        if (Where.Length > 0) ops.Add($".where({string.Join(" and ", Where.Select(WhereText))})");
        return string.Join(" ", ops);
    }

    public string WhereText(RefWhere w) => w switch
    {
        RefWhere.LastSameXAsFirst => $"{Steps[^1].Alias}.x == {First}.x",
        RefWhere.SecondXAboveOne => $"{Steps[1].Alias}.x > 1",
        RefWhere.FirstKZero => $"{First}.k == 0",
        _ => $"len({Steps.First(s => s.Kleene).Alias}) > 1",
    };

    /// <summary>The steps a conjunct names.</summary>
    private int[] Named(RefWhere w) => w switch
    {
        RefWhere.LastSameXAsFirst => [0, Steps.Length - 1],
        RefWhere.SecondXAboveOne => [1],
        RefWhere.FirstKZero => [0],
        _ => [Array.FindIndex(Steps, s => s.Kleene)],
    };

    /// <summary>
    /// The rule under test, written out plainly: a conjunct naming only single-event steps is checked by the step
    /// binding the last of them (-1: it filters the completed match).
    /// </summary>
    public int CheckedAt(RefWhere w) => Named(w).Any(i => Steps[i].Kleene) ? -1 : Named(w).Max();

    /// <summary>Evaluates a conjunct on captures (a Kleene alias: its list; <c>b.x</c> is its last event).</summary>
    public static bool Holds(RefPattern p, RefWhere w, IReadOnlyDictionary<string, object> caps) => w switch
    {
        RefWhere.LastSameXAsFirst => Single(caps[p.Steps[^1].Alias]).X == Single(caps[p.First]).X,
        RefWhere.SecondXAboveOne => Single(caps[p.Steps[1].Alias]).X > 1,
        RefWhere.FirstKZero => Single(caps[p.First]).K == 0,
        _ => ((List<TestEvent>)caps[p.Steps.First(s => s.Kleene).Alias]).Count > 1,
    };

    /// <summary>A step's predicate and the conjuncts of the trailing <c>.where</c> it checks, with <paramref name="e"/> as its alias.</summary>
    public bool TestStep(int index, TestEvent e, IReadOnlyDictionary<string, object> caps)
    {
        var s = Steps[index];
        if (!Test(s, e, caps)) return false;
        var moved = Where.Where(w => CheckedAt(w) == index).ToArray();
        if (moved.Length == 0) return true;
        var with = new Dictionary<string, object>(caps) { [s.Alias] = e };
        return moved.All(w => Holds(this, w, with));
    }

    /// <summary>The conjuncts that filter completed matches.</summary>
    public bool Accepts(IReadOnlyDictionary<string, object> caps) => Where.Where(w => CheckedAt(w) < 0).All(w => Holds(this, w, caps));

    public string Program() => $"stream M = {PatternText()} {OperatorsText()} .emit({string.Join(", ", Steps.Select(s => $"{s.Alias}: {s.Alias}"))})\n";

    /// <summary>Evaluates a step predicate on a candidate, given what the run captured (Kleene aliases: their lists).</summary>
    public bool Test(RefStep s, TestEvent e, IReadOnlyDictionary<string, object> caps) => s.Predicate switch
    {
        RefPredicate.XAboveOne => e.X > 1,
        RefPredicate.SameXAsFirst => caps.TryGetValue(First, out var f) && e.X == Single(f).X,
        RefPredicate.OtherXThanFirst => caps.TryGetValue(First, out var f) && e.X != Single(f).X,
        RefPredicate.RisingOwn => !caps.TryGetValue(s.Alias, out var own) || e.X > Single(own).X,
        _ => true,
    };

    public static TestEvent Single(object o) => o is List<TestEvent> l ? l[^1] : (TestEvent)o;
}

/// <summary>
/// The obviously-correct matcher the property tests compare the engine with: each run is simulated on its own
/// over the later events (skip-till-any-match enumerates every branch). Exponential; small inputs only.
/// </summary>
internal static class ReferenceMatcher
{
    private sealed class RefRun
    {
        public int Pos;
        public Dictionary<string, object> Caps = new();
        public int StartK;
        public long Deadline;

        public RefRun Clone() => new()
        {
            Pos = Pos,
            StartK = StartK,
            Deadline = Deadline,
            Caps = Caps.ToDictionary(kv => kv.Key, kv => kv.Value is List<TestEvent> l ? (object)new List<TestEvent>(l) : kv.Value),
        };
    }

    public static List<string> Matches(RefPattern p, IReadOnlyList<TestEvent> events)
    {
        var result = new List<string>();
        var steps = p.Steps;
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Type != steps[0].Type || !p.TestStep(0, e, new Dictionary<string, object>())) continue;
            var run = new RefRun { Pos = 1, StartK = e.K, Deadline = p.WithinMs is long w ? e.Ms + w : long.MaxValue };
            run.Caps[steps[0].Alias] = steps[0].Kleene ? new List<TestEvent> { e } : e;
            if (steps.Length == 1) Emit(p, run, e.Ms, result);
            if (steps.Length == 1 && !steps[0].Kleene) continue;
            Simulate(p, run, events, i + 1, result);
        }
        return result;
    }

    private static void Simulate(RefPattern p, RefRun run, IReadOnlyList<TestEvent> events, int from, List<string> result)
    {
        var steps = p.Steps;
        int n = steps.Length;
        for (int j = from; j < events.Count; j++)
        {
            var e = events[j];
            if (e.Ms > run.Deadline) return; // event time passed the deadline: the run expired
            if (p.NotType == e.Type)
            {
                bool applies = p.NotSameX ? e.X == RefPattern.Single(run.Caps[p.First]).X : (!p.Partitioned || e.K == run.StartK);
                if (applies) return;
            }
            if (!p.Reads(e.Type) || (p.Partitioned && e.K != run.StartK)) continue;
            bool advance = run.Pos < n && steps[run.Pos].Type == e.Type && p.TestStep(run.Pos, e, run.Caps);
            var open = run.Pos >= 1 && steps[run.Pos - 1].Kleene ? steps[run.Pos - 1] : null;
            bool extend = open is not null && open.Type == e.Type && (p.Selection == RefSelection.Any || !advance) && p.TestStep(run.Pos - 1, e, run.Caps);
            if (p.Selection == RefSelection.Any)
            {
                if (advance)
                {
                    var c = run.Clone();
                    if (Bind(p, c, e, result)) Simulate(p, c, events, j + 1, result);
                }
                if (extend)
                {
                    var c = run.Clone();
                    if (Extend(p, c, e, result)) Simulate(p, c, events, j + 1, result);
                }
                continue;
            }
            if (advance)
            {
                if (!Bind(p, run, e, result)) return;
            }
            else if (extend)
            {
                Extend(p, run, e, result);
            }
            else if (p.Selection == RefSelection.Strict)
            {
                return;
            }
        }
    }

    /// <summary>Binds the next step; false when the run completed and ended.</summary>
    private static bool Bind(RefPattern p, RefRun run, TestEvent e, List<string> result)
    {
        var s = p.Steps[run.Pos];
        run.Caps[s.Alias] = s.Kleene ? new List<TestEvent> { e } : e;
        run.Pos++;
        if (run.Pos < p.Steps.Length) return true;
        Emit(p, run, e.Ms, result);
        return s.Kleene;
    }

    private static bool Extend(RefPattern p, RefRun run, TestEvent e, List<string> result)
    {
        var s = p.Steps[run.Pos - 1];
        ((List<TestEvent>)run.Caps[s.Alias]).Add(e);
        if (run.Pos == p.Steps.Length) Emit(p, run, e.Ms, result);
        return true;
    }

    private static void Emit(RefPattern p, RefRun run, long ms, List<string> result)
    {
        if (p.Accepts(run.Caps)) result.Add(Row(p, run, ms));
    }

    private static string Row(RefPattern p, RefRun run, long ms)
    {
        var parts = p.Steps.Where(s => run.Caps.ContainsKey(s.Alias)).Select(s => s.Alias + "=" + (run.Caps[s.Alias] is List<TestEvent> l
            ? "[" + string.Join(" ", l.Select(x => x.Id)) + "]"
            : ((TestEvent)run.Caps[s.Alias]).Id.ToString(CultureInfo.InvariantCulture)));
        return $"M{{{string.Join(",", parts)}}}@{ms}";
    }

    // ------------------------------------------------------------------------------------------
    // Trends

    /// <summary>Every trend (skip-till-any-match, Kleene = any non-empty ordered subset) per partition and window, aggregated.</summary>
    public static List<string> Trends(RefPattern p, IReadOnlyList<TestEvent> events, long windowMs)
    {
        var result = new List<(long End, int Key, string Row)>();
        var groups = events.Select((e, i) => (e, i)).GroupBy(x => (Key: p.Partitioned ? x.e.K : 0, W: Math.DivRem(x.e.Ms, windowMs).Quotient));
        foreach (var g in groups)
        {
            var evs = g.Select(x => x.e).ToList();
            var trends = new List<List<(TestEvent E, int Step)>>();
            Enumerate(p, evs, 0, -1, new List<(TestEvent, int)>(), new Dictionary<string, object>(), trends);
            if (trends.Count == 0) continue;
            var last = p.Steps[^1].Alias;
            var first = p.Steps[0].Alias;
            long count = trends.Count;
            long events_ = trends.Sum(t => t.Count(x => p.Steps[x.Step].Alias == last));
            long sum = trends.Sum(t => t.Where(x => p.Steps[x.Step].Alias == last).Sum(x => (long)x.E.X));
            long sumFirst = trends.Sum(t => t.Where(x => p.Steps[x.Step].Alias == first).Sum(x => (long)x.E.X));
            int min = trends.Min(t => t.Where(x => p.Steps[x.Step].Alias == last).Min(x => x.E.X));
            int max = trends.Max(t => t.Where(x => p.Steps[x.Step].Alias == last).Max(x => x.E.X));
            long end = (g.Key.W + 1) * windowMs;
            string avg = Value.FromFloat((double)sum / events_).ToString();
            var keyPart = p.Partitioned ? $"k={g.Key.Key}," : "";
            result.Add((end, g.Key.Key, $"M{{{keyPart}n={count},e={events_},s={sum},av={avg},lo={min},hi={max},f={sumFirst}}}@{end}"));
        }
        return result.OrderBy(r => r.End).ThenBy(r => r.Key).Select(r => r.Row).ToList();
    }

    private static void Enumerate(RefPattern p, List<TestEvent> evs, int pos, int lastIndex, List<(TestEvent, int)> trend, Dictionary<string, object> caps, List<List<(TestEvent, int)>> trends)
    {
        var steps = p.Steps;
        for (int t = lastIndex + 1; t < evs.Count; t++)
        {
            var e = evs[t];
            // Extend the open Kleene step.
            if (pos >= 1 && steps[pos - 1].Kleene && steps[pos - 1].Type == e.Type && p.Test(steps[pos - 1], e, caps))
            {
                var s = steps[pos - 1];
                var list = (List<TestEvent>)caps[s.Alias];
                list.Add(e);
                trend.Add((e, pos - 1));
                if (pos == steps.Length) trends.Add(new(trend));
                Enumerate(p, evs, pos, t, trend, caps, trends);
                trend.RemoveAt(trend.Count - 1);
                list.RemoveAt(list.Count - 1);
            }
            // Bind the next step.
            if (pos < steps.Length && steps[pos].Type == e.Type && p.Test(steps[pos], e, caps))
            {
                var s = steps[pos];
                caps[s.Alias] = s.Kleene ? new List<TestEvent> { e } : e;
                trend.Add((e, pos));
                if (pos == steps.Length - 1) trends.Add(new(trend));
                Enumerate(p, evs, pos + 1, t, trend, caps, trends);
                trend.RemoveAt(trend.Count - 1);
                caps.Remove(s.Alias);
            }
        }
    }
}
