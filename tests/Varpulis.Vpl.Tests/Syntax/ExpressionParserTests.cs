using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

public class ExpressionParserTests
{
    [Theory]
    [InlineData("42", "42")]
    [InlineData("3.14", "3.14f")]
    [InlineData("1.0e-3", "0.001f")]
    [InlineData("2e5", "200000f")]
    [InlineData("2E+2", "200f")]
    [InlineData("500ms", "500000000ns")]
    [InlineData("5m", "300000000000ns")]
    [InlineData("1d", "86400000000000ns")]
    [InlineData("7ns", "7ns")]
    [InlineData("3us", "3000ns")]
    [InlineData("2h", "7200000000000ns")]
    [InlineData("10s", "10000000000ns")]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    [InlineData("null", "null")]
    [InlineData("\"a\\\"b\\\\c\\nd\\te\\rf\\u{e9}\\u{1F600}\"", "\"a\"b\\c\nd\te\rfé😀\"")]
    [InlineData("@2026-01-23", "@1769126400000000000")]
    [InlineData("@2026-01-23T10:00:00Z", "@1769162400000000000")]
    [InlineData("@2026-01-23T10:00:00.123+02:00", "@1769155200123000000")]
    [InlineData("@1970-01-01T00:00:00.000000001Z", "@1")]
    [InlineData("[1, 2, 3,]", "[1 2 3]")]
    [InlineData("[]", "[]")]
    [InlineData("{\"k\": 1, k2: \"v\", if: 2}", "{k:1 k2:\"v\" if:2}")]
    [InlineData("-9223372036854775808", "-9223372036854775808")]
    [InlineData("9223372036854775807", "9223372036854775807")]
    public void Literals(string text, string expected) => Assert.Equal(expected, S(Expr(text)));

    [Theory]
    // postfix binds tighter than everything
    [InlineData("a.b.c", "(. (. a b) c)")]
    [InlineData("a?.b", "(?. a b)")]
    [InlineData("a[0].f", "(. ([] a 0) f)")]
    [InlineData("a[1:2]", "([:] a 1 2)")]
    [InlineData("a[:2]", "([:] a _ 2)")]
    [InlineData("a[1:]", "([:] a 1 _)")]
    [InlineData("a[:]", "([:] a _ _)")]
    [InlineData("first(b).f", "(. (call first b) f)")]
    [InlineData("f()", "(call f)")]
    [InlineData("f(1, k: 2)", "(call f 1 k:2)")]
    // ** is right-associative and tighter than unary minus
    [InlineData("-2 ** 2", "(neg (** 2 2))")]
    [InlineData("2 ** 3 ** 2", "(** 2 (** 3 2))")]
    [InlineData("2 ** -1", "(** 2 (neg 1))")]
    [InlineData("- -x", "(neg (neg x))")]
    [InlineData("-a.b", "(neg (. a b))")]
    // multiplicative over additive, left-associative
    [InlineData("1 + 2 * 3", "(+ 1 (* 2 3))")]
    [InlineData("1 - 2 - 3", "(- (- 1 2) 3)")]
    [InlineData("a * b / c % d", "(% (/ (* a b) c) d)")]
    [InlineData("-a * b", "(* (neg a) b)")]
    // ranges sit between additive and comparison
    [InlineData("0..n + 1", "(.. 0 (+ n 1))")]
    [InlineData("a..=b", "(..= a b)")]
    [InlineData("x in 0..10", "(in x (.. 0 10))")]
    // comparison, then not, and, or, ??
    [InlineData("a + 1 > b * 2", "(> (+ a 1) (* b 2))")]
    [InlineData("x not in xs", "(not-in x xs)")]
    [InlineData("not a == b", "(not (== a b))")]
    [InlineData("not not a", "(not (not a))")]
    [InlineData("a and b or c and d", "(or (and a b) (and c d))")]
    [InlineData("a or b and not c", "(or a (and b (not c)))")]
    [InlineData("a ?? b or c", "(?? a (or b c))")]
    [InlineData("a ?? b ?? c", "(?? (?? a b) c)")]
    [InlineData("x != null and y <= 1.5", "(and (!= x null) (<= y 1.5f))")]
    [InlineData("(a + b) * c", "(* (+ a b) c)")]
    // lowest: if-then-else and lambdas
    [InlineData("if a > 1 then \"hi\" else \"lo\"", "(if (> a 1) \"hi\" \"lo\")")]
    [InlineData("if a then b else if c then d else e", "(if a b (if c d e))")]
    [InlineData("if a then b else c ?? d", "(if a b (?? c d))")]
    [InlineData("x => x + 1", "(=> (x) (+ x 1))")]
    [InlineData("(x, y) => x * y", "(=> (x y) (* x y))")]
    [InlineData("() => 1", "(=> () 1)")]
    [InlineData("map(xs, x => x.price)", "(call map xs (=> (x) (. x price)))")]
    [InlineData("(x)", "x")]
    [InlineData("1 + if a then 1 else 2", "(+ 1 (if a 1 2))")]
    public void Precedence(string text, string expected) => Assert.Equal(expected, S(Expr(text)));

    [Fact]
    public void MemberAccessFollowedByParenthesisEndsTheExpression()
    {
        // In a step predicate, ".within(" is the next stream operator, not a method call.
        var s = Single<StreamDeclSyntax>("stream S = A as a -> B where x > a.limit .within(5m)");
        var seq = Assert.IsType<SequenceSourceSyntax>(s.Source);
        Assert.Equal("(> x (. a limit))", S(seq.Steps[1].Predicate));
        Assert.Equal(".within(300000000000ns)", Ops(s.Operators));
    }

    [Fact]
    public void SpansCoverTheWrittenText()
    {
        var c = Single<ConstDeclSyntax>("const X = a.b + f(1, 2) * -3");
        var e = Assert.IsType<BinaryExprSyntax>(c.Value);
        Assert.Equal("a.b + f(1, 2) * -3", TextOf(c, e.Span));
        Assert.Equal("a.b", TextOf(c, e.Left.Span));
        var mul = Assert.IsType<BinaryExprSyntax>(e.Right);
        Assert.Equal("f(1, 2)", TextOf(c, mul.Left.Span));
        Assert.Equal("-3", TextOf(c, mul.Right.Span));
        Assert.Equal("const X = a.b + f(1, 2) * -3", TextOf(c, c.Span));
        Assert.Equal("X", TextOf(c, c.Name.Span));
    }

    [Fact]
    public void MapKeysKeepTheirSpans()
    {
        var c = Single<ConstDeclSyntax>("const M = {\"a b\": 1, c: 2}");
        var map = Assert.IsType<MapExprSyntax>(c.Value);
        Assert.Equal(new[] { "a b", "c" }, map.Entries.Select(e => e.Key));
        Assert.Equal("\"a b\"", TextOf(c, map.Entries[0].KeySpan));
        Assert.Equal("c", TextOf(c, map.Entries[1].KeySpan));
    }

    [Fact]
    public void ExpressionsMaySpanLines()
    {
        Assert.Equal("(and (> a 1) (< b 2))", S(Expr("a > 1\n    and b < 2")));
    }
}
