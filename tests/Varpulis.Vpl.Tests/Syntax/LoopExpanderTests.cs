using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

public class LoopExpanderTests
{
    [Fact]
    public void ExclusiveRangeWithNamesFromTheVariable()
    {
        var p = ParseClean("""
            event A {}
            for i in 0..3:
                stream S{i} = A .where(x == {i}) .emit(name: "s{i}")
            stream After = S2
            """);
        Assert.Equal(new[] { "A", "S0", "S1", "S2", "After" }, p.Statements.Select(s => s switch
        {
            EventDeclSyntax e => e.Name.Text,
            StreamDeclSyntax st => st.Name.Text,
            _ => "?",
        }));
        var s1 = (StreamDeclSyntax)p.Statements[2];
        Assert.Equal(".where((== x 1)).emit(name:\"s1\")", Ops(s1.Operators));
    }

    [Fact]
    public void InclusiveRangeAndNegativeBounds()
    {
        var p = ParseClean("for k in -1..=1:\n    const C = {k}\n");
        var consts = p.Statements.Cast<ConstDeclSyntax>().ToArray();
        Assert.Equal(new[] { "(neg 1)", "0", "1" }, consts.Select(c => S(c.Value)));
    }

    [Fact]
    public void EmptyRangeExpandsToNothing()
    {
        Assert.Empty(ParseClean("for i in 3..3:\n    stream S{i} = A\n").Statements);
        Assert.Empty(ParseClean("for i in 5..1:\n    stream S{i} = A\n").Statements);
    }

    [Fact]
    public void NestedLoops()
    {
        var p = ParseClean("""
            for i in 0..2:
                for j in 0..=1:
                    stream S{i}_{j} = A .where(a == {i} and b == {j})
                stream T{i} = S{i}_0
            """);
        Assert.Equal(new[] { "S0_0", "S0_1", "T0", "S1_0", "S1_1", "T1" },
            p.Statements.Cast<StreamDeclSyntax>().Select(s => s.Name.Text));
        Assert.Equal(".where((and (== a 1) (== b 0)))", Ops(((StreamDeclSyntax)p.Statements[3]).Operators));
    }

    [Fact]
    public void MultiLineStatementsAndFunctionsInTheBody()
    {
        var p = ParseClean("for i in 0..2:\n    fn f{i}(x):\n        return x + {i}\n    stream S{i} = A\n        .emit(v: f{i}(1))\n");
        Assert.Equal(4, p.Statements.Count);
        var f1 = Assert.IsType<FunctionDeclSyntax>(p.Statements[2]);
        Assert.Equal("f1", f1.Name.Text);
        Assert.Equal("(+ x 1)", S(((ReturnSyntax)f1.Body.Statements[0]).Value));
    }

    [Fact]
    public void CopiesKeepThePathAndLineNumbers()
    {
        var (p, _) = ParseWithDiagnostics("# header\n\nfor i in 0..2:\n    stream S{i} = A\n", "prog.vpl");
        var s1 = p.Statements[1];
        Assert.Equal("prog.vpl", s1.File.Path);
        Assert.NotSame(p.Source, s1.File);
        Assert.Equal(4, s1.File.GetPosition(s1.Span.Start).Line);
        Assert.Equal(5, s1.File.GetPosition(s1.Span.Start).Column);
        Assert.Equal("stream S1 = A", s1.File.Text.Substring(s1.Span.Start, s1.Span.Length));
        // Everything before the body is blanked, newlines kept.
        Assert.StartsWith("        \n\n              \n    stream S1 = A", s1.File.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorsInTheBodyAreReportedOnceWithTheirLine()
    {
        var errors = Errors("for i in 0..3:\n    stream S{i} = A .where(x > )\n    stream T{i} = B $\n");
        // Columns are those of the expanded line ("S0" is two characters shorter than "S{i}").
        Assert.Equal(new[]
        {
            "2:30 VPL0023 expected an expression",
            "3:21 VPL0001 invalid character U+0024 '$'",
        }, errors);
    }

    [Fact]
    public void TotalCopiesAreLimited()
    {
        ParseClean("for i in 0..10000:\n    const C{i} = 1\n");
        Assert.Equal(new[] { "1:1 VPL0051 loop expansion exceeds 10,000 copies" }, Errors("for i in 0..=10000:\n    const C{i} = 1\n"));
        // Nested loops multiply: 100 outer copies + 100 x 100 inner copies.
        var nested = Errors("for i in 0..100:\n    for j in 0..100:\n        const C{i}_{j} = 1\n");
        Assert.Equal(new[] { "2:5 VPL0051 loop expansion exceeds 10,000 copies" }, nested);
    }

    [Fact]
    public void ExpansionTextIsBounded()
    {
        // 10,000 copies of a body that sits after 10,000 characters of text: 100 million characters.
        var text = "# " + new string('x', 10_000) + "\nfor i in 0..10000:\n    const C{i} = 1\n";
        var d = OneError(text);
        Assert.Equal(DiagnosticIds.LoopExpansionTooLarge, d.Id);
        Assert.Equal(2, d.Line);
    }

    [Fact]
    public void ExpandBodyBlanksThePrefix()
    {
        Assert.Equal("  \n   \nstream S7 = X{j}", LoopExpander.ExpandBody("ab\nfor\nstream S{i} = X{j}\nrest", 7, 25, "i", 7));
    }
}
