using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

public class StreamParserTests
{
    private static (StreamDeclSyntax Stream, T Source) Stream<T>(string text) where T : SourceSyntax
    {
        var s = Single<StreamDeclSyntax>(text);
        return (s, Assert.IsType<T>(s.Source));
    }

    [Fact]
    public void EventTypeSource()
    {
        var (s, src) = Stream<NamedSourceSyntax>("stream Hot = TempReading .where(value > 100) .emit(v: value)");
        Assert.Equal("Hot", s.Name.Text);
        Assert.Equal("TempReading", src.Name.Text);
        Assert.Null(src.Alias);
        Assert.Null(src.From);
        Assert.Equal(".where((> value 100)).emit(v:value)", Ops(s.Operators));
        Assert.Equal("TempReading", TextOf(s, src.Span));
        Assert.Equal(".where(value > 100)", TextOf(s, s.Operators[0].Span));
    }

    [Fact]
    public void AliasedSource()
    {
        var (s, src) = Stream<NamedSourceSyntax>("stream Hot = TempReading as t .where(t.value > 100)");
        Assert.Equal("t", src.Alias!.Text);
        Assert.Equal("TempReading as t", TextOf(s, src.Span));
        Assert.Equal(".where((> (. t value) 100))", Ops(s.Operators));
    }

    [Fact]
    public void FromClause()
    {
        var (s, src) = Stream<NamedSourceSyntax>("stream In = Tick.from(Mqtt, topic: \"ticks\", qos: 1) as t .where(t.p > 0)");
        Assert.Equal("Tick", src.Name.Text);
        Assert.Equal("Mqtt", src.From!.Connector.Text);
        Assert.Equal("topic:\"ticks\", qos:1", Args(src.From.Args));
        Assert.Equal("t", src.Alias!.Text);
        Assert.Equal(".where((> (. t p) 0))", Ops(s.Operators));
        Assert.Equal(".from(Mqtt, topic: \"ticks\", qos: 1)", TextOf(s, src.From.Span));
    }

    [Fact]
    public void OperatorArgumentsAreFullExpressions()
    {
        var s = Single<StreamDeclSyntax>("""
            stream S = A
                .partition_by(a, b)
                .window(session: 5m)
                .window(10, sliding: 2)
                .aggregate(vwap: sum(price * volume) / sum(volume), n: count())
                .having(n > 1)
                .process(f(x, 2))
                .budget(evict_oldest)
                .distinct()
                .select(a, b: a + 1)
                .log(level: "info", message: "m")
                .to(Out, topic: "t")
                .context(fast)
                .emit(event_type: "X", total: if n > 0 then n else 0)
            """);
        Assert.Equal(
            ".partition_by(a, b).window(session:300000000000ns).window(10, sliding:2)" +
            ".aggregate(vwap:(/ (call sum (* price volume)) (call sum volume)), n:(call count)).having((> n 1))" +
            ".process((call f x 2)).budget(evict_oldest).distinct().select(a, b:(+ a 1))" +
            ".log(level:\"info\", message:\"m\").to(Out, topic:\"t\").context(fast)" +
            ".emit(event_type:\"X\", total:(if (> n 0) n 0))",
            Ops(s.Operators));
    }

    [Fact]
    public void NotOperator()
    {
        var s = Single<StreamDeclSyntax>("stream S = A as a -> B .not(C where id == a.id) .not(D)");
        Assert.Equal(".not(C where (== id (. a id))).not(D)", Ops(s.Operators));
        var not = Assert.IsType<NotOperatorSyntax>(s.Operators[0]);
        Assert.Equal("not", not.Name.Text);
        Assert.Empty(not.Args);
    }

    [Fact]
    public void FraudSequenceFromTheSpec()
    {
        var (s, seq) = Stream<SequenceSourceSyntax>("""
            stream Fraud = Login as a
                -> Purchase where user == a.user as b
                -> all Transfer where amount > 100 as t
                -> Logout where user == a.user as c
                .within(30m)
                .not(PasswordReset where user == a.user)
                .partition_by(user)
                .where(b.amount > 10)
                .emit(user: a.user, transfers: len(t), total: sum(t.amount))
            """);
        Assert.Equal(new[]
        {
            "Login as a",
            "Purchase where (== user (. a user)) as b",
            "Transfer+ where (> amount 100) as t",
            "Logout where (== user (. a user)) as c",
        }, seq.Steps.Select(Item));
        Assert.Equal(
            ".within(1800000000000ns).not(PasswordReset where (== user (. a user))).partition_by(user)" +
            ".where((> (. b amount) 10)).emit(user:(. a user), transfers:(call len t), total:(call sum (. t amount)))",
            Ops(s.Operators));
        Assert.Equal("Login as a\n    -> Purchase where user == a.user as b\n    -> all Transfer where amount > 100 as t\n    -> Logout where user == a.user as c",
            TextOf(s, seq.Span));
        Assert.Equal("all Transfer where amount > 100 as t", TextOf(s, seq.Steps[2].Span));
    }

    [Fact]
    public void FirstStepMayCarryAPredicateOrBeKleene()
    {
        var (_, seq) = Stream<SequenceSourceSyntax>("stream S = Login where country == \"FR\" as a -> Logout");
        Assert.Equal(new[] { "Login where (== country \"FR\") as a", "Logout" }, seq.Steps.Select(Item));
        var (_, kleene) = Stream<SequenceSourceSyntax>("stream S = all A as a -> B");
        Assert.Equal(new[] { "A+ as a", "B" }, kleene.Steps.Select(Item));
    }

    [Fact]
    public void OperatorsBeforeArrowApplyToTheMatchInSourceOrder()
    {
        var (s, seq) = Stream<SequenceSourceSyntax>("stream S = A as a .within(5s) -> B as b .emit(x: b.x)");
        Assert.Equal(new[] { "A as a", "B as b" }, seq.Steps.Select(Item));
        Assert.Equal(".within(5000000000ns).emit(x:(. b x))", Ops(s.Operators));
    }

    [Fact]
    public void TrendAggregationFromTheSpec()
    {
        var (s, seq) = Stream<SequenceSourceSyntax>("""
            stream Trends = StockTick as s -> all StockTick where price > s.price as r
                .within(1m) .partition_by(symbol)
                .trend_aggregate(n: count_trends(), total: sum_trends(r.price), k: count_events(r))
                .emit(symbol: symbol, trends: n, total: total)
            """);
        Assert.Equal(new[] { "StockTick as s", "StockTick+ where (> price (. s price)) as r" }, seq.Steps.Select(Item));
        Assert.Equal(
            ".within(60000000000ns).partition_by(symbol)" +
            ".trend_aggregate(n:(call count_trends), total:(call sum_trends (. r price)), k:(call count_events r))" +
            ".emit(symbol:symbol, trends:n, total:total)",
            Ops(s.Operators));
    }

    [Fact]
    public void Merge()
    {
        var (s, merge) = Stream<MergeSourceSyntax>("stream All = merge(A, B.where(c), stream N = T .where(c2) .select(x)) .emit(v: 1)");
        Assert.Collection(merge.Inputs,
            i => Assert.Equal(("", "A", ""), (i.StreamName?.Text ?? "", i.Source.Text, Ops(i.Operators))),
            i => Assert.Equal(("", "B", ".where(c)"), (i.StreamName?.Text ?? "", i.Source.Text, Ops(i.Operators))),
            i => Assert.Equal(("N", "T", ".where(c2).select(x)"), (i.StreamName?.Text ?? "", i.Source.Text, Ops(i.Operators))));
        Assert.Equal(".emit(v:1)", Ops(s.Operators));
        Assert.Equal("stream N = T .where(c2) .select(x)", TextOf(s, merge.Inputs[2].Span));
    }

    [Fact]
    public void Join()
    {
        var (s, join) = Stream<JoinSourceSyntax>("stream J = join(A, B, C).on(A.k == B.k).window(1m)");
        Assert.Equal(new[] { "A", "B", "C" }, join.Inputs.Select(n => n.Text));
        Assert.Equal(".on((== (. A k) (. B k))).window(60000000000ns)", Ops(s.Operators));
    }

    [Fact]
    public void Timer()
    {
        var (_, t) = Stream<TimerSourceSyntax>("stream Tick = timer(5s)");
        Assert.Equal("5000000000ns", S(t.Period));
        Assert.Null(t.InitialDelay);
        var (s2, t2) = Stream<TimerSourceSyntax>("stream Tick = timer(5s, initial_delay: 1s) .emit(n: 1)");
        Assert.Equal("1000000000ns", S(t2.InitialDelay));
        Assert.Equal(".emit(n:1)", Ops(s2.Operators));
    }

    [Fact]
    public void OperatorNamesMayBeKeywords()
    {
        var s = Single<StreamDeclSyntax>("stream S = A .where(x) .within(1s) .emit(y: 1) .context(c)");
        Assert.Equal(new[] { "where", "within", "emit", "context" }, s.Operators.Select(o => o.Name.Text));
    }

    [Fact]
    public void StreamsMaySpanManyLinesAndFollowEachOther()
    {
        var p = ParseClean("stream A = X\n\n  .where(a)\n\n  .emit(b: 1)\nstream B = A");
        Assert.Equal(2, p.Statements.Count);
        Assert.Equal(".where(a).emit(b:1)", Ops(((StreamDeclSyntax)p.Statements[0]).Operators));
    }
}
