using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Patterns;

/// <summary>Run inspection, run budget counters and notices, the Kleene cap, and checkpoint details.</summary>
public class PatternRuntimeTests
{
    private sealed class RecordingHost : IEngineHost
    {
        public List<(string Stream, string Code, string Message)> Notices { get; } = new();

        public void Send(string stream, string connector, IReadOnlyList<KeyValuePair<string, Value>> args, Event e)
        {
        }

        public void Print(string stream, string text)
        {
        }

        public void Log(string stream, string level, string message, Event e)
        {
        }

        public void Notice(string stream, string code, string message) => Notices.Add((stream, code, message));
    }

    private const string Fraud = """
        stream Fraud = Login as a
            -> Purchase where user == a.user as b
            -> all Transfer where amount > 100 as t
            -> Logout where user == a.user as c
            .within(30m)
            .partition_by(user)
            .emit(user: a.user, transfers: len(t), total: sum(t.amount))
        """;

    [Fact]
    public void ListRunsShowsPartitionStepCapturesAndDeadline()
    {
        var p = PatternKit.Compile(Fraud);
        var engine = p.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process([
            PatternKit.Make(p, "Login", 1000, ("user", "u1")),
            PatternKit.Make(p, "Login", 2000, ("user", "u2")),
            PatternKit.Make(p, "Purchase", 3000, ("user", "u1")),
            PatternKit.Make(p, "Transfer", 4000, ("user", "u1"), ("amount", 500)),
        ], sink);
        Assert.Equal(2, engine.ActiveRuns);
        var runs = engine.ListRuns("Fraud", 10)!;
        Assert.Equal(2, runs.Count);
        var u1 = runs[0];
        Assert.Equal(Value.FromString("u1"), u1.Partition);
        Assert.Equal(3, u1.StepReached);
        Assert.Equal("Logout as c", u1.NextStep);
        Assert.Equal(["a", "b", "t"], u1.Captures.Select(c => c.Key));
        Assert.Single(u1.Captures[2].Value.AsArray);
        Assert.Equal(1000 * TimeFormat.NanosPerMilli, u1.StartedAt);
        Assert.Equal(1000 * TimeFormat.NanosPerMilli + 30 * TimeFormat.NanosPerMinute, u1.Deadline);
        Assert.Equal("Purchase as b", runs[1].NextStep);
        Assert.Single(engine.ListRuns("Fraud", 1)!);
        Assert.Null(engine.ListRuns("Nope", 10));
        var counts = engine.CountRunsByPartition("Fraud", 5)!;
        Assert.Equal([(Value.FromString("u1"), 1L), (Value.FromString("u2"), 1L)], counts.Select(kv => (kv.Key, kv.Value)));
        Assert.Equal(2, engine.GetStreamStats().Single().ActiveRuns);
    }

    [Fact]
    public void ExpiredRunsAreRemovedWhenEventTimePassesTheirDeadline()
    {
        var p = PatternKit.Compile("stream M = A as a -> B as b .within(10ms) .emit(a: a.n)");
        var engine = p.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process([PatternKit.Make(p, "A", 0, ("n", 1)), PatternKit.Make(p, "A", 5, ("n", 2))], sink);
        Assert.Equal(2, engine.ActiveRuns);
        engine.AdvanceTime(10 * TimeFormat.NanosPerMilli, sink);
        Assert.Equal(2, engine.ActiveRuns); // the deadline is inclusive
        engine.AdvanceTime(11 * TimeFormat.NanosPerMilli, sink);
        Assert.Equal(1, engine.ActiveRuns);
        engine.Finish(sink);
        Assert.Empty(sink.Events);
    }

    [Fact]
    public void RunBudgetRefusesCountsAndNoticesOncePerMinute()
    {
        var host = new RecordingHost();
        var options = new EngineOptions { MaxRunsPerStream = 2, Host = host };
        var p = PatternKit.Compile("stream M = A as a -> B as b .emit(a: a.n)");
        var engine = p.CreateEngine(options);
        var sink = new ListOutputSink();
        var events = new List<Event>();
        for (int i = 0; i < 5; i++) events.Add(PatternKit.Make(p, "A", i * 1000, ("n", i)));
        events.Add(PatternKit.Make(p, "A", 70_000, ("n", 9)));
        engine.Process(events, sink);
        Assert.Equal(2, engine.ActiveRuns);
        var notices = host.Notices.Where(n => n.Code == "run_budget").ToList();
        Assert.Equal(2, notices.Count); // at 2 s, then again only after a minute of event time
        Assert.Equal("M", notices[0].Stream);
        Assert.Equal("run budget of 2 live runs is full: refused a new run (refused 1, evicted 0 so far)", notices[0].Message);
        Assert.Equal("run budget of 2 live runs is full: refused a new run (refused 4, evicted 0 so far)", notices[1].Message);
        Assert.Equal(new Varpulis.Vpl.Runtime.Patterns.PatternStats("M", 2, 4, 0, 0), Assert.Single(engine.GetPatternStats()));
    }

    [Fact]
    public void EvictOldestKeepsTheNewestRuns()
    {
        var host = new RecordingHost();
        var p = PatternKit.Compile("stream M = A as a -> B as b .budget(evict_oldest) .emit(a: a.n)");
        var engine = p.CreateEngine(new EngineOptions { MaxRunsPerStream = 3, Host = host });
        var sink = new ListOutputSink();
        var events = Enumerable.Range(0, 10).Select(i => PatternKit.Make(p, "A", i, ("n", i))).Append(PatternKit.Make(p, "B", 20)).ToList();
        engine.Process(events, sink);
        Assert.Equal([7, 8, 9], sink.Events.Select(e => (int)e.Get("a").AsInt));
        Assert.Equal("run budget of 3 live runs is full: evicted the oldest run (refused 0, evicted 1 so far)", Assert.Single(host.Notices).Message);
    }

    [Fact]
    public void KleeneCapIsLoggedOncePerRun()
    {
        var host = new RecordingHost();
        var p = PatternKit.Compile("stream M = A as a -> all B as b -> C as c .within(1m) .emit(n: len(b))");
        var engine = p.CreateEngine(new EngineOptions { MaxKleeneEvents = 2, Host = host });
        var sink = new ListOutputSink();
        var events = new List<Event> { PatternKit.Make(p, "A", 0) };
        for (int i = 1; i <= 5; i++) events.Add(PatternKit.Make(p, "B", i));
        events.Add(PatternKit.Make(p, "C", 6));
        engine.Process(events, sink);
        Assert.Equal(2, Assert.Single(sink.Events).Get("n").AsInt);
        var n = Assert.Single(host.Notices);
        Assert.Equal("kleene_limit", n.Code);
        Assert.Equal(1, Assert.Single(engine.GetPatternStats()).KleeneLimitHits);
        Assert.Equal("a run reached max_kleene_events (2); it collects no more events", n.Message);
    }

    [Fact]
    public void CheckpointHoldsRunsAndRestoresThemForInspection()
    {
        var p = PatternKit.Compile(Fraud);
        var engine = p.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process([
            PatternKit.Make(p, "Login", 1000, ("user", "u1")),
            PatternKit.Make(p, "Purchase", 3000, ("user", "u1")),
            PatternKit.Make(p, "Transfer", 4000, ("user", "u1"), ("amount", 500)),
        ], sink);
        var checkpoint = engine.CreateCheckpoint();
        var state = checkpoint["streams"]!["Fraud"]!["operators"]![0]!;
        Assert.Equal("pattern.sequence", (string?)state["kind"]);
        var run = state["state"]!["runs"]![0]!;
        Assert.Equal(3, (int)run["pos"]!);
        Assert.Equal("u1", (string?)run["key"]);

        var restored = p.CreateEngine();
        restored.Restore(System.Text.Json.Nodes.JsonNode.Parse(checkpoint.ToJsonString())!.AsObject());
        var info = Assert.Single(restored.ListRuns("Fraud", 10)!);
        Assert.Equal(3, info.StepReached);
        restored.Process([PatternKit.Make(p, "Logout", 5000, ("user", "u1"))], sink);
        var match = Assert.Single(sink.Events);
        Assert.Equal(1, match.Get("transfers").AsInt);
        Assert.Equal(500, match.Get("total").AsInt);
    }

    [Fact]
    public void AbsenceTimersSurviveACheckpoint()
    {
        var p = PatternKit.Compile("pattern NoAck = SEQ(Req as r, NOT Ack where id == r.id) within 10ms\nstream Missing = NoAck .emit(id: r.id)");
        var engine = p.CreateEngine();
        var sink = new ListOutputSink();
        engine.Process([PatternKit.Make(p, "Req", 0, ("id", 1)), PatternKit.Make(p, "Req", 3, ("id", 2))], sink);
        var restored = p.CreateEngine();
        restored.Restore(System.Text.Json.Nodes.JsonNode.Parse(engine.CreateCheckpoint().ToJsonString())!.AsObject());
        restored.Process([PatternKit.Make(p, "Ack", 4, ("id", 2)), PatternKit.Make(p, "Tick", 11)], sink);
        var e = Assert.Single(sink.Events);
        Assert.Equal(1, e.Get("id").AsInt);
        Assert.Equal(10 * TimeFormat.NanosPerMilli, e.Timestamp);
    }

    [Fact]
    public void SharedTrendStateIsRestoredIntoAFreshEngine()
    {
        var source = string.Concat(Enumerable.Range(0, 3).Select(j =>
            $"stream Q{j} = Start where kind == {j} as s -> all Tick as t .within(1s) .partition_by(k) .trend_aggregate(n: count_trends(), total: sum_trends(t.v)) .emit(k: k, n: n, total: total)\n"));
        var p = PatternKit.Compile(source);
        var events = new List<Event>();
        for (int i = 0; i < 60; i++)
        {
            events.Add(i % 7 == 0
                ? PatternKit.Make(p, "Start", i * 50, ("k", i % 2), ("kind", i % 3))
                : PatternKit.Make(p, "Tick", i * 50, ("k", i % 2), ("v", i)));
        }
        var expected = PatternKit.Run(p, events).Select(PatternKit.Render).ToList();
        Assert.NotEmpty(expected);
        for (int split = 1; split < events.Count; split += 7)
            Assert.Equal(expected, PatternKit.Run(p, events, split).Select(PatternKit.Render).ToList());
    }

    [Fact]
    public void FiftySharedTrendQueriesEqualTheirUnsharedSelves()
    {
        // Q{j} share one Kleene sub-pattern; U{j} reads its own alias in the Kleene predicate, so it is counted alone.
        var shared = string.Concat(Enumerable.Range(0, 50).Select(j =>
            $"stream Q{j} = Start where kind == {j % 10} as s -> all Tick as t .within(1s) .partition_by(k) .trend_aggregate(n: count_trends(), total: sum_trends(t.v)) .emit(k: k, n: n, total: total)\n"));
        var alone = string.Concat(Enumerable.Range(0, 50).Select(j =>
            $"stream Q{j} = Start where kind == {j % 10} as s -> all Tick where v >= 0 or t.v < 0 as t .within(1s) .partition_by(k) .trend_aggregate(n: count_trends(), total: sum_trends(t.v)) .emit(k: k, n: n, total: total)\n"));
        var ps = PatternKit.Compile(shared);
        var pa = PatternKit.Compile(alone);
        var rnd = new Random(3);
        var raw = Enumerable.Range(0, 400).Select(i => (Start: rnd.Next(8) == 0, Ms: (long)i * 7, K: rnd.Next(3), Kind: rnd.Next(10), V: rnd.Next(100))).ToList();
        List<Event> Build(Varpulis.Vpl.Compilation.CompiledProgram p) => raw.Select(r => r.Start
            ? PatternKit.Make(p, "Start", r.Ms, ("k", r.K), ("kind", r.Kind))
            : PatternKit.Make(p, "Tick", r.Ms, ("k", r.K), ("v", r.V))).ToList();
        var a = PatternKit.Run(ps, Build(ps)).Select(PatternKit.Render).ToList();
        var b = PatternKit.Run(pa, Build(pa)).Select(PatternKit.Render).ToList();
        Assert.True(a.Count > 100);
        Assert.Equal(b, a);
    }

    [Fact]
    public void PartitionedPatternsCanBeSplitByKeyUnlessANegationCrossesPartitions()
    {
        var split = PatternKit.Compile("stream M = A as a -> B as b .within(1s) .partition_by(user) .not(C) .emit(u: a.user)");
        Assert.True(split.Partitioning.CanSplit);
        Assert.Equal("user", split.Partitioning.KeyField);
        Assert.Equal(["user"], split.Streams.Single().PartitionKey!);
        var cross = PatternKit.Compile("stream M = A as a -> B as b .within(1s) .partition_by(user) .not(C where target == a.user) .emit(u: a.user)");
        Assert.False(cross.Partitioning.CanSplit);
    }

    [Fact]
    public void SkipTillAnyMatchIsBoundedByTheRunBudget()
    {
        // 2^30 combinations without a budget; with 1,000 runs the stream stays small and says so.
        var host = new RecordingHost();
        var p = PatternKit.Compile("stream M = A as a -> all B as b .stam() .within(1h) .emit(n: len(b))");
        var engine = p.CreateEngine(new EngineOptions { MaxRunsPerStream = 1000, Host = host });
        var sink = new CountingOutputSink();
        var events = new List<Event> { PatternKit.Make(p, "A", 0) };
        for (int i = 1; i <= 30; i++) events.Add(PatternKit.Make(p, "B", i));
        engine.Process(events, sink);
        var stats = Assert.Single(engine.GetPatternStats());
        Assert.Equal(1000, stats.LiveRuns);
        Assert.True(stats.RunsRefused > 0);
        Assert.Equal(999, sink.Count); // every admitted copy emitted once; the original run emits nothing itself
        Assert.Single(host.Notices, n => n.Code == "run_budget");
    }

    [Fact]
    public void SharedTrendStateRestoresIntoAProgramWithAnotherMember()
    {
        static string Query(int j) =>
            $"stream Q{j} = Start where kind == {j} as s -> all Tick as t .within(1s) .trend_aggregate(n: count_trends(), total: sum_trends(t.v)) .emit(n: n, total: total)\n";
        var before = PatternKit.Compile(Query(0) + Query(1));
        var after = PatternKit.Compile(Query(0) + Query(1) + Query(2));
        var raw = Enumerable.Range(0, 40).Select(i => (Start: i % 5 == 0, Ms: (long)i * 60, Kind: i / 5 % 3, V: i)).ToList();
        List<Event> Build(Varpulis.Vpl.Compilation.CompiledProgram p) => raw.Select(r => r.Start
            ? PatternKit.Make(p, "Start", r.Ms, ("kind", r.Kind))
            : PatternKit.Make(p, "Tick", r.Ms, ("v", r.V))).ToList();
        var expected = PatternKit.Run(before, Build(before)).Select(PatternKit.Render).ToList();

        var sink = new ListOutputSink();
        var first = before.CreateEngine();
        first.Process(Build(before).Take(17).ToList(), sink);
        var second = after.CreateEngine();
        var report = second.Restore(System.Text.Json.Nodes.JsonNode.Parse(first.CreateCheckpoint().ToJsonString())!.AsObject());
        Assert.Equal(["Q2"], report.ResetStreams);
        second.Process(Build(after).Skip(17).ToList(), sink);
        second.Finish(sink);
        var actual = sink.Events.Select(PatternKit.Render).Where(r => !r.StartsWith("Q2", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected, actual);
        Assert.Contains(sink.Events, e => e.Type.Name == "Q2");
    }
}
