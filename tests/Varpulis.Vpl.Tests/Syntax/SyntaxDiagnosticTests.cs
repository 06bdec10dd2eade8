using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

/// <summary>One test per error class: the exact id, message, line and column.</summary>
public class SyntaxDiagnosticTests
{
    [Theory]
    // lexical
    [InlineData("stream S = A $ .where(x)", "1:14 VPL0001 invalid character U+0024 '$'")]
    [InlineData("const X = 1\u00A7", "1:12 VPL0001 invalid character U+00A7 '\u00A7'")]
    [InlineData("const X = 1\0\0\0", "1:12 VPL0001 invalid character U+0000")]
    [InlineData("const X = \"a\u0001b\"", "1:13 VPL0001 invalid character U+0001 in string")]
    [InlineData("stream S = A .where(\"abc)", "1:21 VPL0002 unterminated string literal")]
    [InlineData("const X = \"ab\ncd\"", "1:11 VPL0002 unterminated string literal")]
    [InlineData("stream S = A .where(\"a\\qb\")", "1:23 VPL0003 unknown escape '\\q' in string")]
    [InlineData("const X = \"\\u{D800}\"", "1:12 VPL0004 invalid unicode escape '\\u{D800}'")]
    [InlineData("const X = \"\\u{110000}\"", "1:12 VPL0004 invalid unicode escape '\\u{110000}'")]
    [InlineData("const X = \"\\u0041\"", "1:12 VPL0004 invalid unicode escape '\\u'")]
    [InlineData("stream S = A .where(x == 'abc')", "1:26 VPL0005 single-quoted strings are not VPL")]
    [InlineData("/* never closed\nstream S = A", "1:1 VPL0006 unterminated block comment")]
    [InlineData("// comment\nstream S = A", "1:1 VPL0007 '//' is not a VPL comment; use '#'")]
    [InlineData("const X = 9223372036854775808", "1:11 VPL0008 integer literal is too large")]
    [InlineData("const X = 99999999999999999999999", "1:11 VPL0008 integer literal is too large")]
    [InlineData("const X = 1e999", "1:11 VPL0008 float literal is too large")]
    [InlineData("const X = 1.", "1:11 VPL0009 a number needs digits after the dot")]
    [InlineData("const X = .5", "1:11 VPL0009 a number needs digits before the dot")]
    [InlineData("const X = 1.5s", "1:11 VPL0009 a duration needs a whole number")]
    [InlineData("const X = 5min", "1:12 VPL0010 invalid suffix 'min' on a number")]
    [InlineData("const X = 999999999999d", "1:11 VPL0011 duration literal is too large")]
    [InlineData("const X = @2026-13-01", "1:11 VPL0012 invalid timestamp '@2026-13-01'")]
    [InlineData("const X = @2026-1-1", "1:11 VPL0012 invalid timestamp '@2026-1-1'")]
    [InlineData("const X = @", "1:11 VPL0012 expected a date after '@'")]
    [InlineData("const X = @1500-01-01", "1:11 VPL0012 timestamp '@1500-01-01' is out of range")]
    [InlineData("const X = a && b", "1:13 VPL0013 '&&' is not a VPL operator")]
    [InlineData("const X = a || b", "1:13 VPL0013 '||' is not a VPL operator")]
    [InlineData("const X = !a", "1:11 VPL0013 '!' is not a VPL operator")]
    [InlineData("const X = 1;", "1:12 VPL0013 ';' is not used in VPL")]
    // parse
    [InlineData("stream S = A .where(x) }", "1:24 VPL0020 unexpected '}'")]
    [InlineData("x = 5\nstream S = A", "1:1 VPL0020 unexpected 'x'")]
    [InlineData("stream S = A .where(f(x, 1)\nstream T = B", "1:28 VPL0021 expected ')' to close '(' opened at 1:20")]
    [InlineData("const X = [1, 2", "1:16 VPL0021 expected ']' to close '[' opened at 1:11")]
    [InlineData("const X = {a: 1 b: 2}", "1:17 VPL0021 expected '}' to close '{' opened at 1:11")]
    [InlineData("stream S A", "1:10 VPL0022 expected '=' after stream name")]
    [InlineData("stream S = A .where(x > )", "1:25 VPL0023 expected an expression")]
    [InlineData("stream\nstream S = A", "1:7 VPL0024 expected a stream name after 'stream'")]
    [InlineData("stream S = A as\nstream T = B", "1:16 VPL0024 expected an alias name after 'as'")]
    [InlineData("event E { x: 5 }", "1:14 VPL0025 expected a type")]
    [InlineData("stream S = 42", "1:12 VPL0026 expected a source after '='")]
    [InlineData("pattern P = 42", "1:13 VPL0027 expected a pattern")]
    [InlineData("stream S = A .where(a < b < c)", "1:27 VPL0028 comparison operators cannot be chained; use 'and'")]
    [InlineData("const R = 1..2..3", "1:15 VPL0029 range operators cannot be chained")]
    [InlineData("stream S = A .strict .stam()", "1:15 VPL0031 operator '.strict' needs parentheses")]
    [InlineData("stream S = A where x > 1", "1:14 VPL0032 a 'where' on the source needs a following '->' step; use .where(...)")]
    [InlineData("stream S = all A", "1:12 VPL0032 'all' on the source needs a following '->' step")]
    [InlineData("stream S = A.from(C) -> B", "1:13 VPL0033 '.from(...)' only applies to a single event-type source, not to a sequence")]
    [InlineData("stream S = timer(5s, foo: 1)", "1:22 VPL0034 unknown timer argument 'foo'")]
    [InlineData("stream S = timer()", "1:12 VPL0034 timer(...) needs a period")]
    [InlineData("const X = a is null", "1:13 VPL0035 'is' is not a VPL operator; use '==' or '!='")]
    [InlineData("stream S = merge()", "1:12 VPL0036 merge(...) needs at least one input")]
    [InlineData("pattern P = SEQ()", "1:13 VPL0036 SEQ(...) needs at least one item")]
    [InlineData("fn f():\n    let a = 1\n  let b = 2", "3:3 VPL0040 inconsistent indentation: this line starts at column 3 but the block's first line at column 5")]
    [InlineData("fn f():\n    let x = 1\n      return x", "3:7 VPL0040 inconsistent indentation: this line starts at column 7 but the block's first line at column 5")]
    [InlineData("fn f():\nstream S = A", "1:8 VPL0041 expected an indented block after ':'")]
    [InlineData("event E:\nstream S = E", "1:9 VPL0041 expected indented field declarations after ':'")]
    [InlineData("fn f(): if x: return 1", "1:9 VPL0042 only a simple statement can follow ':' on the same line")]
    [InlineData("fn f():\n    a.b := 1", "2:5 VPL0043 only a variable can be assigned with ':='")]
    [InlineData("fn f():\n    x = 2", "2:7 VPL0044 use ':=' to assign to a variable")]
    [InlineData("fn f():\n    stream S = A", "2:5 VPL0045 'stream' cannot appear inside a function body")]
    [InlineData("for i in 0..n:\n    stream S{i} = A", "1:13 VPL0050 loop bounds must be integer literals")]
    [InlineData("for i in 0..3: stream S{i} = A", "1:16 VPL0050 the loop body starts on the next line, indented")]
    [InlineData("for in 0..3:\n    stream S = A", "1:5 VPL0050 expected a loop variable name after 'for'")]
    [InlineData("for i in 0..3\n    stream S{i} = A", "1:14 VPL0050 expected ':' after the loop range")]
    [InlineData("for i in 0..20000:\n    stream S{i} = A", "1:1 VPL0051 loop expansion exceeds 10,000 copies")]
    [InlineData("for i in 0..3:\nstream S = A", "1:15 VPL0041 expected an indented loop body after ':'")]
    public void ErrorClass(string text, string expected)
    {
        var errors = Errors(text);
        Assert.True(errors.Length >= 1, "no diagnostic");
        Assert.Equal(expected, errors[0]);
    }

    [Fact]
    public void LoneSurrogates()
    {
        // (Not an InlineData: xunit's serialization would replace the lone surrogate.)
        Assert.Equal(new[] { "1:13 VPL0001 invalid character U+D800" }, Errors("const X = 1 \uD800"));
        Assert.Equal(new[] { "1:12 VPL0001 invalid character U+DC00 in string" }, Errors("const X = \"\uDC00\""));
        Assert.Equal("\"\uD83D\uDE00\"", S(Expr("\"\uD83D\uDE00\"")));
    }

    [Fact]
    public void DiagnosticsCarryHintsAndSpans()
    {
        var d = OneError("stream S = A .strict");
        Assert.Equal(DiagnosticIds.OperatorNeedsParentheses, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("write .strict()", d.Hint);
        Assert.Equal(new TextSpan(14, 6), d.Span);

        var slash = OneError("// hi\nconst X = 1");
        Assert.Equal("write '# comment' (or /* ... */)", slash.Hint);
        Assert.Equal(2, slash.Span.Length);

        var missing = OneError("stream S A");
        Assert.Equal("stream Name = Source .op(...)", missing.Hint);

        var single = OneError("const X = 'a'");
        Assert.Equal("use double quotes: \"...\"", single.Hint);

        var where = OneError("stream S = A where x > 1");
        Assert.Equal("A.where(...)", where.Hint);
        Assert.Equal(new TextSpan(13, 5), where.Span);
    }

    [Fact]
    public void FormatShowsTheLineAndACaret()
    {
        var d = OneError("stream S = A\n  .where(x > )");
        Assert.Equal("test.vpl:2:14: error VPL0023: expected an expression\n    .where(x > )\n               ^\n", d.Format());
    }

    [Fact]
    public void SeveralErrorsInOneFileAreAllReportedInSourceOrder()
    {
        var errors = Errors("""
            stream A = X .where(a < b < c)
            stream B = Y .strict
            stream C = 5
            const D = "unterminated
            event E { x: }
            stream F = Z .emit(v: 1)
            """);
        Assert.Equal(new[]
        {
            "1:27 VPL0028 comparison operators cannot be chained; use 'and'",
            "2:15 VPL0031 operator '.strict' needs parentheses",
            "3:12 VPL0026 expected a source after '='",
            "4:11 VPL0002 unterminated string literal",
            "5:14 VPL0025 expected a type",
        }, errors);
    }

    [Fact]
    public void RecoveryKeepsTheGoodStatements()
    {
        var (p, bag) = ParseWithDiagnostics("stream A = X .where(\nstream B = Y\n) ) )\nstream C = Z");
        Assert.Equal(new[] { "A", "B", "C" }, p.Statements.Cast<StreamDeclSyntax>().Select(s => s.Name.Text));
        Assert.Equal(new[]
        {
            "1:21 VPL0023 expected an expression",
            "3:1 VPL0020 unexpected ')'",
        }, Render(bag));
    }

    [Fact]
    public void NoCascadeAtOnePosition()
    {
        // Missing expression, missing ')' and leftover tokens all sit at the same place: one error.
        Assert.Equal(new[] { "1:21 VPL0023 expected an expression" }, Errors("stream S = A .where(}"));
    }

    [Fact]
    public void LogicalOperatorsFromOtherLanguagesRecoverAsKeywords()
    {
        var (p, bag) = ParseWithDiagnostics("const X = !a && b || c");
        Assert.Equal(3, bag.Count);
        Assert.Equal("(or (and (not a) b) c)", S(((ConstDeclSyntax)p.Statements[0]).Value));
    }

    [Fact]
    public void MethodCallHint()
    {
        var d = OneError("stream S = A .where(a.b.contains(x))");
        Assert.Equal("1:24 VPL0021 expected ')' to close '(' opened at 1:20", $"{d.Line}:{d.Column} {d.Id} {d.Message}");
        Assert.Equal("'.contains(...)' is a stream operator, not a method: close the '(' before it, or call contains(value, ...)", d.Hint);
    }

    [Fact]
    public void StatementHints()
    {
        Assert.Equal("declare it: 'stream x = ...' or 'const x = ...'", OneError("x = 5").Hint);
        Assert.Equal("operators are chained with '.': write .emit(...)", OneError("stream S = A emit(x: 1)").Hint);
        Assert.Equal("pattern operators are upper case: OR", OneError("pattern P = A or B").Hint);
        Assert.Equal("in expressions write 'and' in lower case", OneError("const X = a AND b").Hint);
        Assert.Equal("'as' is a keyword and cannot be used as a name", OneError("const as = 1").Hint);
    }

    [Fact]
    public void AllIdsAreDistinctAndInTheirRanges()
    {
        var ids = typeof(DiagnosticIds).GetFields().Select(f => (string)f.GetValue(null)!).ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^VPL0[0-4][0-9][0-9]$", id));
        Assert.Contains(ids, id => id.StartsWith("VPL00", StringComparison.Ordinal));
    }
}
