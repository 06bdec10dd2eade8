using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

public class PatternParserTests
{
    [Fact]
    public void NamedPatternExamplesFromTheSpec()
    {
        var p = ParseClean("""
            pattern RisingSequence = SEQ(StockTick as first,
                                         StockTick+ where price > first.price as rising,
                                         StockTick where price > rising.price as last)
                                     within 60s partition by symbol
            stream Spikes = RisingSequence .emit(symbol: last.symbol, start: first.price, n: len(rising))
            pattern Either = (Login OR Signup) AND Click
            """);
        var rising = Assert.IsType<PatternDeclSyntax>(p.Statements[0]);
        Assert.Equal("RisingSequence", rising.Name.Text);
        Assert.Equal("SEQ(StockTick as first, StockTick+ where (> price (. first price)) as rising, StockTick where (> price (. rising price)) as last)",
            P(rising.Pattern));
        Assert.Equal("60000000000ns", S(rising.Within));
        Assert.Equal("symbol", Assert.Single(rising.PartitionBy).Text);
        var spikes = Assert.IsType<StreamDeclSyntax>(p.Statements[1]);
        Assert.Equal("RisingSequence", Assert.IsType<NamedSourceSyntax>(spikes.Source).Name.Text);
        Assert.Equal(".emit(symbol:(. last symbol), start:(. first price), n:(call len rising))", Ops(spikes.Operators));
        var either = Assert.IsType<PatternDeclSyntax>(p.Statements[2]);
        Assert.Equal("((Login OR Signup) AND Click)", P(either.Pattern));
        Assert.Null(either.Within);
        Assert.Empty(either.PartitionBy);
    }

    [Theory]
    [InlineData("A AND B OR C AND D", "((A AND B) OR (C AND D))")]
    [InlineData("A OR B OR C", "((A OR B) OR C)")]
    [InlineData("A AND (B OR C)", "(A AND (B OR C))")]
    [InlineData("SEQ(A, NOT B, C)", "SEQ(A, NOT B, C)")]
    [InlineData("SEQ(A, NOT B where x > 1)", "SEQ(A, NOT B where (> x 1))")]
    [InlineData("SEQ(A as a, B* as bs, C? , D+)", "SEQ(A as a, B* as bs, C?, D+)")]
    [InlineData("SEQ(A, B OR C, SEQ(D, E))", "SEQ(A, (B OR C), SEQ(D, E))")]
    [InlineData("A where x == \"a\" as a", "A where (== x \"a\") as a")]
    public void PatternExpressions(string text, string expected)
        => Assert.Equal(expected, P(Single<PatternDeclSyntax>("pattern P = " + text).Pattern));

    [Fact]
    public void AbsencePatternWithSeveralPartitionKeys()
    {
        var d = Single<PatternDeclSyntax>("pattern NoPay = SEQ(Order as o, NOT Payment where id == o.id) within 10m partition by region, shop");
        Assert.Equal("SEQ(Order as o, NOT Payment where (== id (. o id)))", P(d.Pattern));
        Assert.Equal("600000000000ns", S(d.Within));
        Assert.Equal(new[] { "region", "shop" }, d.PartitionBy.Select(n => n.Text));
        var item = (PatternItemSyntax)((SeqPatternSyntax)d.Pattern).Items[1];
        Assert.True(item.Negated);
        Assert.Equal("NOT Payment where id == o.id", TextOf(d, item.Span));
    }
}
