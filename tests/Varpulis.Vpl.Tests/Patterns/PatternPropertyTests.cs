using Xunit;

namespace Varpulis.Vpl.Tests.Patterns;

/// <summary>
/// The optimised matcher and trend counter against <see cref="ReferenceMatcher"/> on random small patterns and
/// inputs (fixed seeds, so a failure is reproducible from its message).
/// </summary>
public class PatternPropertyTests
{
    private static readonly string[] Types = ["A", "B", "C"];

    private static RefPattern RandomPattern(Random r, bool forTrends)
    {
        int n = r.Next(2, 4);
        var steps = new RefStep[n];
        string[] aliases = ["a", "b", "c"];
        for (int i = 0; i < n; i++)
        {
            bool kleene = r.NextDouble() < (forTrends ? 0.45 : 0.35);
            var options = new List<RefPredicate> { RefPredicate.None, RefPredicate.None, RefPredicate.XAboveOne };
            if (i > 0) options.AddRange([RefPredicate.SameXAsFirst, RefPredicate.OtherXThanFirst]);
            if (kleene) options.Add(RefPredicate.RisingOwn);
            steps[i] = new RefStep(Types[r.Next(Types.Length)], kleene, aliases[i], options[r.Next(options.Count)]);
        }
        if (forTrends) return new RefPattern(steps, r.Next(5, 21), RefSelection.Next, r.Next(2) == 0, null, false);
        long? within = r.Next(3) == 0 ? null : r.Next(2, 9);
        var selection = r.Next(10) switch { < 5 => RefSelection.Next, < 7 => RefSelection.Strict, _ => RefSelection.Any };
        bool negate = r.Next(4) == 0;
        return new RefPattern(steps, within, selection, r.Next(2) == 0, negate ? "X" : null, negate && r.Next(2) == 0) { Where = RandomWhere(r, steps) };
    }

    /// <summary>Zero to two conjuncts of a trailing .where: some name single steps (checked by a step), some a Kleene alias (filter the match).</summary>
    private static RefWhere[] RandomWhere(Random r, RefStep[] steps)
    {
        var options = new List<RefWhere> { RefWhere.LastSameXAsFirst, RefWhere.SecondXAboveOne, RefWhere.FirstKZero };
        if (steps.Any(s => s.Kleene)) options.Add(RefWhere.KleeneLenAboveOne);
        int n = r.Next(3);
        return Enumerable.Range(0, n).Select(_ => options[r.Next(options.Count)]).Distinct().ToArray();
    }

    private static List<TestEvent> RandomEvents(Random r, int count, bool withX)
    {
        var list = new List<TestEvent>();
        long ms = 0;
        for (int i = 0; i < count; i++)
        {
            ms += r.Next(0, 3);
            string type = withX && r.Next(8) == 0 ? "X" : Types[r.Next(Types.Length)];
            list.Add(new TestEvent(type, ms, i + 1, r.Next(0, 4), r.Next(0, 2)));
        }
        return list;
    }

    [Fact]
    public void SequencesMatchTheReference()
    {
        var r = new Random(20261129);
        for (int c = 0; c < 400; c++)
        {
            var p = RandomPattern(r, forTrends: false);
            var events = RandomEvents(r, p.Selection == RefSelection.Any ? r.Next(4, 10) : r.Next(4, 14), p.NotType is not null);
            AssertMatchesReference(c, p, events, r.Next(1, events.Count));
        }
    }

    /// <summary>
    /// Long inputs in bursts, so that many runs wait for a step with an equality (the runs' lookup index is built,
    /// used and let go again): the same matches as the reference, uninterrupted and through a checkpoint.
    /// </summary>
    [Fact]
    public void CrowdedRunsMatchTheReference()
    {
        var r = new Random(80_2026);
        for (int c = 0; c < 60; c++)
        {
            int n = r.Next(2, 4);
            string[] aliases = ["a", "b", "c"];
            var steps = new RefStep[n];
            for (int i = 0; i < n; i++)
            {
                bool kleene = i > 0 && r.Next(4) == 0;
                var predicate = i == 0 ? RefPredicate.None : r.Next(3) == 0 ? RefPredicate.SameXAsFirst : RefPredicate.None;
                steps[i] = new RefStep(i == 0 ? "A" : Types[r.Next(1, Types.Length)], kleene, aliases[i], predicate);
            }
            var where = r.Next(3) == 0 ? [RefWhere.LastSameXAsFirst, RefWhere.SecondXAboveOne] : new[] { RefWhere.LastSameXAsFirst };
            var p = new RefPattern(steps, r.Next(3) == 0 ? null : r.Next(20, 200), r.Next(4) == 0 ? RefSelection.Strict : RefSelection.Next, r.Next(3) == 0, null, false)
            {
                Where = where,
            };
            var events = new List<TestEvent>();
            long ms = 0;
            for (int burst = 0; burst < 6; burst++)
            {
                // A burst of starts (many runs waiting), then a burst of the other types (most of them complete).
                int starts = r.Next(5, 40), rest = r.Next(5, 60);
                for (int i = 0; i < starts + rest; i++)
                {
                    ms += r.Next(0, 3);
                    string type = i < starts ? "A" : Types[r.Next(1, Types.Length)];
                    events.Add(new TestEvent(type, ms, events.Count + 1, r.Next(0, 6), r.Next(0, 2)));
                }
            }
            AssertMatchesReference(c, p, events, r.Next(1, events.Count));
        }
    }

    [Fact]
    public void TrendCountsMatchTheReference()
    {
        var r = new Random(5_08);
        for (int c = 0; c < 300; c++)
        {
            var p = RandomPattern(r, forTrends: true);
            var events = RandomEvents(r, r.Next(4, 13), withX: false);
            string first = p.First, last = p.Steps[^1].Alias;
            string program = $"stream M = {p.PatternText()} {p.OperatorsText()}\n"
                + $"  .trend_aggregate(n: count_trends(), e: count_events({last}), s: sum_trends({last}.x), av: avg_trends({last}.x), lo: min_trends({last}.x), hi: max_trends({last}.x), f: sum_trends({first}.x))\n"
                + (p.Partitioned ? "  .emit(k: k, n: n, e: e, s: s, av: av, lo: lo, hi: hi, f: f)\n" : "  .emit(n: n, e: e, s: s, av: av, lo: lo, hi: hi, f: f)\n");
            var compiled = PatternKit.Compile(program);
            var input = events.Select(e => PatternKit.Make(compiled, e)).ToList();
            var expected = ReferenceMatcher.Trends(p, events, p.WithinMs!.Value);
            var actual = PatternKit.Run(compiled, input).Select(PatternKit.Render).ToList();
            Assert.True(expected.SequenceEqual(actual), Explain(c, program, events, expected, actual));
            int split = r.Next(1, events.Count);
            var restored = PatternKit.Run(compiled, input, split).Select(PatternKit.Render).ToList();
            Assert.True(expected.SequenceEqual(restored), "after a checkpoint at " + split + ": " + Explain(c, program, events, expected, restored));
        }
    }

    [Fact]
    public void SharedTrendStreamsMatchTheReference()
    {
        var r = new Random(77);
        for (int c = 0; c < 200; c++)
        {
            bool partitioned = r.Next(2) == 0;
            long window = r.Next(5, 21);
            var kleenePredicate = r.Next(2) == 0 ? RefPredicate.None : RefPredicate.XAboveOne;
            var startPredicates = new[] { RefPredicate.None, RefPredicate.XAboveOne, RefPredicate.None };
            var patterns = startPredicates.Select(sp => new RefPattern(
                [new RefStep("A", false, "a", sp), new RefStep("B", true, "b", kleenePredicate)], window, RefSelection.Next, partitioned, null, false)).ToArray();
            var text = string.Concat(patterns.Select((p, i) =>
                $"stream Q{i} = {p.PatternText()} {p.OperatorsText()}\n"
                + "  .trend_aggregate(n: count_trends(), e: count_events(b), s: sum_trends(b.x), av: avg_trends(b.x), lo: min_trends(b.x), hi: max_trends(b.x), f: sum_trends(a.x))\n"
                + (partitioned ? "  .emit(k: k, n: n, e: e, s: s, av: av, lo: lo, hi: hi, f: f)\n" : "  .emit(n: n, e: e, s: s, av: av, lo: lo, hi: hi, f: f)\n")));
            var compiled = PatternKit.Compile(text);
            var events = RandomEvents(r, r.Next(4, 14), withX: false);
            var input = events.Select(e => PatternKit.Make(compiled, e)).ToList();
            foreach (int? split in new int?[] { null, r.Next(1, events.Count) })
            {
                var outputs = PatternKit.Run(compiled, input, split).Select(PatternKit.Render).ToList();
                for (int i = 0; i < patterns.Length; i++)
                {
                    var expected = ReferenceMatcher.Trends(patterns[i], events, window).Select(s => "Q" + i + s[1..]).ToList();
                    var actual = outputs.Where(o => o.StartsWith("Q" + i + "{", StringComparison.Ordinal)).ToList();
                    Assert.True(expected.SequenceEqual(actual), $"stream Q{i}, split {split}: " + Explain(c, text, events, expected, actual));
                }
            }
        }
    }

    /// <summary>The engine's matches (in any order) equal the reference's, uninterrupted and through a checkpoint after <paramref name="split"/> events.</summary>
    private static void AssertMatchesReference(int c, RefPattern p, List<TestEvent> events, int split)
    {
        var program = PatternKit.Compile(p.Program());
        var input = events.Select(e => PatternKit.Make(program, e)).ToList();
        var expected = ReferenceMatcher.Matches(p, events).Order(StringComparer.Ordinal).ToList();
        var actual = PatternKit.Run(program, input).Select(PatternKit.Render).Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.SequenceEqual(actual), Explain(c, p.Program(), events, expected, actual));
        var restored = PatternKit.Run(program, input, split).Select(PatternKit.Render).Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.SequenceEqual(restored), "after a checkpoint at " + split + ": " + Explain(c, p.Program(), events, expected, restored));
    }

    private static string Explain(int c, string program, List<TestEvent> events, List<string> expected, List<string> actual)
        => $"case {c}\n{program}\nevents: {string.Join(" ", events.Select(e => $"{e.Type}{e.Id}(x{e.X},k{e.K})@{e.Ms}"))}\nexpected:\n  {string.Join("\n  ", expected)}\nactual:\n  {string.Join("\n  ", actual)}";
}
