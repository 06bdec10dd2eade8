namespace Varpulis.Vpl.Tests.Runtime;

/// <summary>
/// vpl.md §9: restoring a checkpoint into a pipeline with the same program continues as if nothing happened.
/// For every stateful operator, the output of an uninterrupted run equals the output of a run checkpointed
/// after k events (for EVERY k, 0 to N), through the checkpoint's JSON text, and restored into a fresh engine —
/// of the same compiled program, and of the same source compiled again (a process restart).
/// The expected output count of each program is derived by hand in its comment, so an empty run cannot pass.
/// </summary>
public class CheckpointEquivalenceTests
{
    private sealed record Case(string Program, string Events, int ExpectedOutputs);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // a: 1+3+5 at v5, 7+9+11 at v11 ; b: 2+4+6 at v6, 8+10+12 at v12 -> 4
        ["count-window"] = new(
            "stream S = T.partition_by(k).window(3).aggregate(n: count(), s: sum(v)).emit(k: k, n: n, s: s)",
            string.Join("\n", Enumerable.Range(1, 12).Select(i => $"@{i}s T {{ k: \"{(i % 2 == 1 ? "a" : "b")}\", v: {i} }}")),
            4),

        // fires at the 3rd, 5th, 7th and 9th event -> 4
        ["sliding-count-window"] = new(
            "stream S = T.window(3, sliding: 2).aggregate(s: sum(v), f: first(v)).emit(s: s, f: f)",
            string.Join("\n", Enumerable.Range(1, 10).Select(i => $"@{i}s T {{ v: {i} }}")),
            4),

        // [0,10) a b ; [10,20) a b ; [20,30) a b ; [30,40) a ; [40,50) b -> 8
        ["tumbling-window"] = new(
            "stream S = T.partition_by(k).window(10s).aggregate(n: count(), s: sum(v)).emit(k: k, n: n, s: s, end: window_end)",
            """
            @1s T { k: "a", v: 1 }
            @4s T { k: "b", v: 2 }
            @9s T { k: "a", v: 3 }
            @11s T { k: "a", v: 4 }
            @15s T { k: "b", v: 5 }
            @22s T { k: "a", v: 6 }
            @23s T { k: "b", v: 7 }
            @35s T { k: "a", v: 8 }
            @38s T { k: "a", v: 9 }
            @41s T { k: "b", v: 10 }
            """,
            8),

        // windows holding events: [-5,5) [0,10) [5,15) [10,20) [20,30) [25,35) -> 6
        ["hopping-window"] = new(
            "stream S = T.window(10s, sliding: 5s).aggregate(n: count(), s: sum(v)).emit(n: n, s: s, start: window_start)",
            """
            @1s T { v: 1 }
            @6s T { v: 2 }
            @12s T { v: 3 }
            @13s T { v: 4 }
            @27s T { v: 5 }
            """,
            6),

        // sessions a{1,3} b{4} a{12} b{20} a{30} -> 5
        ["session-window"] = new(
            "stream S = T.partition_by(k).window(session: 5s).aggregate(n: count(), s: sum(v)).emit(k: k, n: n, s: s, start: window_start)",
            """
            @1s T { k: "a", v: 1 }
            @3s T { k: "a", v: 2 }
            @4s T { k: "b", v: 3 }
            @12s T { k: "a", v: 4 }
            @20s T { k: "b", v: 5 }
            @30s T { k: "a", v: 6 }
            """,
            5),

        // two count windows of 4 -> 2
        ["aggregate-functions"] = new(
            "stream S = T.window(4).aggregate(a: avg(v), sd: stddev(v), e: ema(v, 3), p: percentile(v, 50), m: median(v), cd: count_distinct(v), f: first(v), l: last(v))"
                + ".emit(a: a, sd: sd, e: e, p: p, m: m, cd: cd, f: f, l: l)",
            string.Join("\n", new[] { 4, 8, 6, 2, 10, 1, 1, 7 }.Select((v, i) => $"@{i + 1}s T {{ v: {v} }}")),
            2),

        // x a, x b, y a, y b, x c (the others are repeats in their partition) -> 5
        ["distinct"] = new(
            "stream S = T.partition_by(p).distinct(k).emit(p: p, k: k)",
            """
            @1s T { p: "x", k: "a" }
            @2s T { p: "x", k: "b" }
            @3s T { p: "y", k: "a" }
            @4s T { p: "x", k: "a" }
            @5s T { p: "y", k: "a" }
            @6s T { p: "y", k: "b" }
            @7s T { p: "x", k: "c" }
            @8s T { p: "x", k: "b" }
            """,
            5),

        // a1 b2 a3 b5 c7 -> 5
        ["limit"] = new(
            "stream S = T.partition_by(k).limit(2).emit(k: k, v: v)",
            """
            @1s T { k: "a", v: 1 }
            @2s T { k: "b", v: 2 }
            @3s T { k: "a", v: 3 }
            @4s T { k: "a", v: 4 }
            @5s T { k: "b", v: 5 }
            @6s T { k: "b", v: 6 }
            @7s T { k: "c", v: 7 }
            """,
            5),

        // B x@2 (A x@1), B x@4 (A x@1: 1 >= 4 - 5), A y@11 (B y@10) ; B y@10 and A x@12 find no partner in 5s -> 3
        ["join"] = new(
            "stream J = join(A, B).on(A.k == B.k).window(5s).emit(k: A.k, a: A.v, b: B.v)",
            """
            @1s A { k: "x", v: 1 }
            @2s B { k: "x", v: 2 }
            @3s A { k: "y", v: 3 }
            @4s B { k: "x", v: 4 }
            @10s B { k: "y", v: 5 }
            @11s A { k: "y", v: 6 }
            @12s A { k: "x", v: 7 }
            """,
            3),

        // E: 4 events ; ticks at 3s, 6s, 9s (12s is after the last event, and no tick at end of input) -> 7
        ["timer"] = new(
            "stream Tk = timer(3s).emit(at: timestamp)\nstream E = Ev.emit(n: n)",
            """
            @0s Ev { n: 1 }
            @4s Ev { n: 2 }
            @10s Ev { n: 3 }
            @11s Ev { n: 4 }
            """,
            7),

        // R: totals 12 (3rd Add) and 10 (6th Add) ; Q: one per Ping -> 4
        ["var-globals"] = new(
            """
            var total = 0
            var seen = 0

            fn acc(x: int):
                seen := seen + 1
                total := total + x
                if total >= 10:
                    emit Reached(total: total, seen: seen)
                    total := 0

            stream R = Add.process(acc(n))
            stream Q = Ping.emit(total: total, seen: seen)
            """,
            """
            @1s Add { n: 4 }
            @2s Add { n: 3 }
            @3s Add { n: 5 }
            @4s Ping { x: 1 }
            @5s Add { n: 9 }
            @6s Add { n: 1 }
            @7s Ping { x: 2 }
            @8s Add { n: 2 }
            """,
            4),

        // fire, re-fire (8s), re-fire (7s), 6s and 9s dropped, [10,20) at end -> 4
        ["allowed-lateness"] = new(
            "stream W = T.allowed_lateness(5s).window(10s).aggregate(n: count(), s: sum(v)).emit(n: n, s: s)",
            """
            @1s T { v: 1 }
            @2s T { v: 2 }
            @12s T { v: 3 }
            @8s T { v: 4 }
            @7s T { v: 5 }
            @6s T { v: 6 }
            @16s T { v: 7 }
            @9s T { v: 8 }
            """,
            4),

        // [0,10) at 15s, [10,20) and [20,30) at end -> 3
        ["watermark"] = new(
            "stream W = T.watermark(out_of_order: 5s).window(10s).aggregate(n: count(), s: sum(v)).emit(n: n, s: s)",
            """
            @1s T { v: 1 }
            @12s T { v: 2 }
            @8s T { v: 3 }
            @15s T { v: 4 }
            @22s T { v: 5 }
            """,
            3),

        // A: 3, 7, 11, 15 ; B: 10 (at A's 2nd), 26 (at A's 4th) -> 6
        ["derived-window-chain"] = new(
            "stream A = T.window(2).aggregate(s: sum(v)).emit(s: s)\nstream B = A.window(2).aggregate(t: sum(s)).emit(t: t)",
            string.Join("\n", Enumerable.Range(1, 8).Select(i => $"@{i}s T {{ v: {i} }}")),
            6),
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void CheckpointAfterAnyEventGivesTheUninterruptedOutput(string name)
    {
        var c = Cases[name];
        var program = RuntimeKit.Compile(c.Program);
        var events = RuntimeKit.Events(program, c.Events);
        var expected = RuntimeKit.RunUninterrupted(program, events);
        Assert.Equal(c.ExpectedOutputs, expected.Count);
        for (int k = 0; k <= events.Count; k++)
        {
            var actual = RuntimeKit.RunSplit(program, events, k);
            Assert.True(expected.SequenceEqual(actual), $"{name}: checkpoint after {k} of {events.Count} events changed the output:\n{string.Join("\n", actual)}\nexpected:\n{string.Join("\n", expected)}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void CheckpointRestoresIntoTheSameSourceCompiledAgain(string name)
    {
        var c = Cases[name];
        var before = RuntimeKit.Compile(c.Program);
        var after = RuntimeKit.Compile(c.Program);
        var eventsBefore = RuntimeKit.Events(before, c.Events);
        var eventsAfter = RuntimeKit.Events(after, c.Events);
        var expected = RuntimeKit.RunUninterrupted(before, eventsBefore);
        for (int k = 1; k < eventsBefore.Count; k++)
        {
            var actual = RuntimeKit.RunSplit(before, eventsBefore, k, restoreInto: after, restEvents: eventsAfter);
            Assert.True(expected.SequenceEqual(actual), $"{name}: restart after {k} of {eventsBefore.Count} events changed the output:\n{string.Join("\n", actual)}\nexpected:\n{string.Join("\n", expected)}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void CheckpointTakenTwiceInARowIsTheSame(string name)
    {
        // A checkpoint does not change the engine: a second one right after is identical, and so is one taken
        // from the restored engine.
        var c = Cases[name];
        var program = RuntimeKit.Compile(c.Program);
        var events = RuntimeKit.Events(program, c.Events);
        var engine = program.CreateEngine();
        engine.Process(events.Take(events.Count / 2).ToList(), new Varpulis.Vpl.Runtime.ListOutputSink());
        var first = engine.CreateCheckpoint().ToJsonString();
        Assert.Equal(first, engine.CreateCheckpoint().ToJsonString());
        var restored = program.CreateEngine();
        restored.Restore(RuntimeKit.ThroughText(engine.CreateCheckpoint()));
        Assert.Equal(first, restored.CreateCheckpoint().ToJsonString());
    }
}
