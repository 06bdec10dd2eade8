using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

public class CanonicalTextTests
{
    private static string Canonical(string program, int index = 0) => CanonicalText.Of(ParseClean(program).Statements[index]);

    [Fact]
    public void TokensJoinedBySingleSpaces()
    {
        Assert.Equal("stream S = A as a -> B where x > a . x . within ( 5m ) . emit ( v : \"a b\" )",
            Canonical("stream S = A as a\n   -> B where x>a.x   # comment\n  .within(5m) /* c */ .emit(v: \"a b\")"));
    }

    [Fact]
    public void LayoutAndCommentChangesKeepTheText()
    {
        string a = Canonical("const X = 1\nstream S = A .where(x > 1) .emit(y: x)", 1);
        string b = Canonical("# new comment\nconst X = 1\n\n\nstream S = A\n    .where( x>1 )   # why\n    .emit(y: x)\n", 1);
        Assert.Equal(a, b);
    }

    [Fact]
    public void ChangedLiteralChangesTheText()
    {
        Assert.NotEqual(Canonical("stream S = A .where(x > 1)"), Canonical("stream S = A .where(x > 2)"));
        Assert.NotEqual(Canonical("stream S = A .window(5m)"), Canonical("stream S = A .window(5s)"));
    }

    [Fact]
    public void WorksForExpandedAndIndentedStatements()
    {
        var p = ParseClean("for i in 0..2:\n    stream S{i} = A\n        .where(x == {i})\nevent E:\n    a: int\n    b: str\n");
        Assert.Equal("stream S1 = A . where ( x == 1 )", CanonicalText.Of(p.Statements[1]));
        Assert.Equal("event E : a : int b : str", CanonicalText.Of(p.Statements[2]));
    }
}
