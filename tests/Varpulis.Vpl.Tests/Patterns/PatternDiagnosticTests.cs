using Varpulis.Vpl.Diagnostics;
using Xunit;

namespace Varpulis.Vpl.Tests.Patterns;

/// <summary>What <c>varpulis check</c> reports for pattern programs: ids, positions, messages and hints.</summary>
public class PatternDiagnosticTests
{
    private static Diagnostic Single(string source, string id)
    {
        var all = PatternKit.Diagnose(source);
        var matching = all.Where(d => d.Id == id).ToList();
        Assert.True(matching.Count == 1, $"expected one {id}, got:\n{string.Join("\n", all.Select(d => d.Format()))}");
        return matching[0];
    }

    [Fact]
    public void UnknownAliasInAStepIsAnError()
    {
        var d = Single("event B:\n    id: int\nstream M = A as a -> B where id == other.id as b .emit(n: 1)", DiagnosticIds.UnknownPatternAlias);
        Assert.Equal("<input>:3:36: error VPL0301: unknown alias 'other'", d.ToString());
        Assert.Equal("aliases of this pattern: a, b", d.Hint);
    }

    [Fact]
    public void OnAnUndeclaredTypeAnUnknownNameMayBeAMapField()
    {
        // `meta.source` on an undeclared event type may read a map field: only a near-miss of an alias is reported.
        Assert.Empty(PatternKit.Diagnose("stream M = A as a -> B where meta.source == \"x\" as b .emit(n: 1)"));
    }

    [Fact]
    public void UnknownAliasSuggestsTheClosestOne()
    {
        var d = Single("stream M = Login as login -> Logout where user == logn.user as out .emit(n: 1)", DiagnosticIds.UnknownPatternAlias);
        Assert.Equal("unknown alias 'logn'", d.Message);
        Assert.Equal("did you mean 'login'?", d.Hint);
    }

    [Fact]
    public void AliasOfALaterStepIsUsedBeforeItIsBound()
    {
        var d = Single("stream M = A as a -> B where x > c.x as b -> C as c .emit(n: 1)", DiagnosticIds.AliasUsedBeforeBound);
        Assert.Equal("<input>:1:34: error VPL0302: alias 'c' is used before it is bound", d.ToString());
        Assert.Equal("a step predicate can only refer to aliases of earlier steps", d.Hint);
    }

    [Fact]
    public void ASingleStepCannotReadItsOwnAlias()
    {
        var d = Single("stream M = A as a -> B where x > b.x as b .emit(n: 1)", DiagnosticIds.AliasUsedBeforeBound);
        Assert.StartsWith("a step can refer to its own alias only when it is a Kleene step", d.Hint);
    }

    [Fact]
    public void KleeneAliasUsedAsOneValueIsAnError()
    {
        var d = Single("stream M = A as a -> all B as b -> C where x > b as c .within(1s) .emit(n: 1)", DiagnosticIds.KleeneAliasMisuse);
        Assert.Equal("Kleene alias 'b' holds several events and cannot be used as one value here", d.Message);
        Assert.Equal((1, 48), (d.Line, d.Column));
        Assert.Contains("len(b)", d.Hint);
    }

    [Fact]
    public void KleeneAliasMisuseAfterThePatternIsReported()
    {
        var d = Single("stream M = A as a -> all B as b .within(1s) .emit(n: b + 1)", DiagnosticIds.KleeneAliasMisuse);
        Assert.Equal((1, 54), (d.Line, d.Column));
    }

    [Fact]
    public void DuplicateAliasIsAnError()
    {
        var d = Single("stream M = A as a -> B as a .emit(n: 1)", DiagnosticIds.DuplicatePatternAlias);
        Assert.Equal("alias 'a' names two steps of this pattern", d.Message);
    }

    [Fact]
    public void WithinOnAStreamWithoutPatternIsAnError()
    {
        var all = PatternKit.Diagnose("stream M = A .within(5s) .emit(n: 1)");
        var d = Assert.Single(all, x => x.IsError);
        Assert.Equal(DiagnosticIds.PatternOperatorWithoutPattern, d.Id);
        Assert.Equal((1, 15), (d.Line, d.Column));
    }

    [Fact]
    public void KleeneWithoutWithinOrPartitionWarnsAboutUnboundedState()
    {
        var all = PatternKit.Diagnose("stream M = A as a -> all B as b -> C as c .emit(n: len(b))");
        var d = Assert.Single(all);
        Assert.Equal(DiagnosticIds.UnboundedPattern, d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal((1, 22), (d.Line, d.Column));
        Assert.Empty(PatternKit.Diagnose("stream M = A as a -> all B as b -> C as c .within(1m) .emit(n: len(b))"));
        Assert.Empty(PatternKit.Diagnose("stream M = A as a -> all B as b -> C as c .partition_by(k) .emit(n: len(b))"));
    }

    [Fact]
    public void WithinMustBeAPositiveDuration()
    {
        var d = Single("stream M = A as a -> B as b .within(5) .emit(n: 1)", DiagnosticIds.InvalidPatternOperator);
        Assert.Equal("the '.within' deadline must be a positive duration, e.g. 30s", d.Message);
    }

    [Fact]
    public void BudgetTakesAPolicy()
    {
        var d = Single("stream M = A as a -> B as b .budget(oldest) .emit(n: 1)", DiagnosticIds.InvalidPatternOperator);
        Assert.Equal("'.budget' takes a policy: .budget(evict_oldest) or .budget(refuse)", d.Message);
        Assert.Empty(PatternKit.Diagnose("stream M = A as a -> B as b .budget(evict_oldest) .emit(n: 1)"));
    }

    [Fact]
    public void StrictAndStamExcludeEachOther()
    {
        var d = Single("stream M = A as a -> B as b .strict() .stam() .emit(n: 1)", DiagnosticIds.InvalidPatternOperator);
        Assert.Equal("'.strict()' and '.stam()' exclude each other", d.Message);
    }

    [Fact]
    public void NamedPatternCannotStartWithNot()
    {
        var d = Single("pattern P = SEQ(NOT A, B as b) within 1s\nstream M = P .emit(n: 1)", DiagnosticIds.InvalidPattern);
        Assert.Equal("a pattern cannot start with NOT: there is no run yet for it to stop", d.Message);
        Assert.Equal((1, 17), (d.Line, d.Column));
    }

    [Fact]
    public void PatternsThatExpandTooMuchAreRejected()
    {
        var items = string.Join(", ", Enumerable.Range(0, 8).Select(i => $"T{i}?"));
        var d = Single($"pattern P = SEQ(A, {items}) within 1s\nstream M = P .emit(n: 1)", DiagnosticIds.PatternTooLarge);
        Assert.Equal("this pattern expands into more than 64 alternatives", d.Message);
    }

    [Fact]
    public void TrendAggregateNeedsWithin()
    {
        var d = Single("stream T = A as a -> all B as b .trend_aggregate(n: count_trends()) .emit(n: n)", DiagnosticIds.InvalidTrendAggregate);
        Assert.StartsWith("'.trend_aggregate' needs '.within(d)'", d.Message);
    }

    [Fact]
    public void TrendAggregateRejectsUnknownFunctionsWithAHint()
    {
        var d = Single("stream T = A as a -> all B as b .within(1s) .trend_aggregate(n: count_trend()) .emit(n: n)", DiagnosticIds.InvalidTrendAggregate);
        Assert.Equal("did you mean 'count_trends'?", d.Hint);
    }

    [Fact]
    public void TrendAggregateRejectsNegationAndOperatorsBeforeIt()
    {
        var all = PatternKit.Diagnose("stream T = A as a -> all B as b .within(1s) .not(C) .where(a.x > 1) .trend_aggregate(n: count_trends()) .emit(n: n)");
        Assert.Equal(2, all.Count(d => d.Id == DiagnosticIds.InvalidTrendAggregate));
        Assert.Contains(all, d => d.Message == "trend aggregation does not support negation ('.not' or NOT)");
        Assert.Contains(all, d => d.Message.StartsWith("'.where' cannot come before '.trend_aggregate'", StringComparison.Ordinal));
    }

    [Fact]
    public void TrendAggregateArgumentsNameAliases()
    {
        var d = Single("stream T = A as a -> all B as b .within(1s) .trend_aggregate(s: sum_trends(c.v)) .emit(s: s)", DiagnosticIds.UnknownPatternAlias);
        Assert.Equal("unknown alias 'c'", d.Message);
    }

    [Fact]
    public void TrendPredicatesReadKleeneAliasesOnlyAsTheirLastEvent()
    {
        var d = Single("stream T = A as a -> all B where len(b) < 3 as b .within(1s) .trend_aggregate(n: count_trends()) .emit(n: n)", DiagnosticIds.InvalidTrendAggregate);
        Assert.Equal("with trend aggregation a predicate can read Kleene alias 'b' only as b.field (its last event)", d.Message);
    }

    [Fact]
    public void UnknownFieldOfADeclaredTypeInAStep()
    {
        var all = PatternKit.Diagnose("event A:\n    id: int\nstream M = A as a -> B where ref == a.idd as b .emit(n: 1)");
        var d = Assert.Single(all, x => x.IsError);
        Assert.Equal(DiagnosticIds.UnknownField, d.Id);
        Assert.Equal((3, 39), (d.Line, d.Column));
    }

    [Fact]
    public void PartitionKeyMustBeAFieldOfDeclaredStepTypes()
    {
        var d = Single("event A:\n    user: str\nstream M = A as a -> B as b .partition_by(usr) .emit(n: 1)", DiagnosticIds.InvalidPatternOperator);
        Assert.Equal("event type 'A' has no field 'usr' to partition its runs by", d.Message);
        Assert.Equal("did you mean 'user'?", d.Hint);
        Assert.Equal((3, 29), (d.Line, d.Column));
    }

    [Fact]
    public void ACorrelatingWhereStatesNothing()
    {
        // vpl.md §5.1: the .where after the last step moves into the steps silently.
        Assert.Empty(PatternKit.Diagnose(
            "event Login:\n    user: str\nevent Purchase:\n    user: str\n    amount: float\n"
            + "stream Alert = Login as a -> Purchase as b .within(5m) .where(a.user == b.user and b.amount > 6) .emit(user: a.user)"));
    }

    [Fact]
    public void AnErrorInACorrelatingWhereIsReportedOnce()
    {
        // The conjuncts are compiled for their step and on the match; only the match's compilation reports.
        var all = PatternKit.Diagnose("event Login:\n    user: str\nstream Alert = Login as a -> Purchase as b .where(a.usr == b.user) .emit(n: 1)");
        var d = Assert.Single(all);
        Assert.Equal("<input>:3:53: error VPL0102: event type 'Login' (alias 'a') has no field 'usr'", d.ToString());
        Assert.Equal("did you mean 'user'?", d.Hint);
    }

    [Fact]
    public void ANonBoolConjunctOfACorrelatingWhereIsReportedOnce()
    {
        var all = PatternKit.Diagnose("event Purchase:\n    user: str\n    amount: int\nstream Alert = Login as a -> Purchase as b .where(a.user == b.user and b.amount) .emit(n: 1)");
        var d = Assert.Single(all);
        Assert.Equal("<input>:4:72: error VPL0111: 'and' needs bool operands, but this one is int", d.ToString());
    }
}
