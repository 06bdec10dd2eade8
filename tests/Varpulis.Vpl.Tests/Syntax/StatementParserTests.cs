using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

public class StatementParserTests
{
    [Fact]
    public void EventWithIndentedFields()
    {
        var e = Single<EventDeclSyntax>("event Login extends Base:\n    user: str\n    amount: float?\n    tags: [str]\n    attrs: {str: int}\n");
        Assert.Equal("Login", e.Name.Text);
        Assert.Equal("Base", e.Base!.Text);
        Assert.Equal(new[] { "user: str", "amount: float?", "tags: [str]", "attrs: {str: int}" },
            e.Fields.Select(f => $"{f.Name.Text}: {T(f.Type)}"));
        Assert.Equal("amount: float?", TextOf(e, e.Fields[1].Span));
    }

    [Fact]
    public void EventWithBraces()
    {
        var e = Single<EventDeclSyntax>("event Tick { symbol: str, price: float, ts: timestamp, gap: duration?, }");
        Assert.Null(e.Base);
        Assert.Equal(new[] { "symbol: str", "price: float", "ts: timestamp", "gap: duration?" },
            e.Fields.Select(f => $"{f.Name.Text}: {T(f.Type)}"));
    }

    [Fact]
    public void EventBlockEndsAtTheNextLineIndentedNoMoreThanEvent()
    {
        var p = ParseClean("event A:\n  x: int\n  y: [[int]]\nevent B {}\nstream S = A");
        Assert.Collection(p.Statements,
            s => Assert.Equal(2, Assert.IsType<EventDeclSyntax>(s).Fields.Count),
            s => Assert.Empty(Assert.IsType<EventDeclSyntax>(s).Fields),
            s => Assert.IsType<StreamDeclSyntax>(s));
    }

    [Fact]
    public void ConstLetVar()
    {
        var p = ParseClean("const LIMIT: int = 100\nlet name = \"x\" var count = 0");
        var c = p.Statements.Cast<ConstDeclSyntax>().ToArray();
        Assert.Equal(new[] { ConstKind.Const, ConstKind.Let, ConstKind.Var }, c.Select(x => x.Kind));
        Assert.Equal(new[] { "LIMIT", "name", "count" }, c.Select(x => x.Name.Text));
        Assert.Equal("int", T(c[0].Type));
        Assert.Null(c[1].Type);
        Assert.Equal(new[] { "100", "\"x\"", "0" }, c.Select(x => S(x.Value)));
    }

    [Fact]
    public void Connector()
    {
        var c = Single<ConnectorDeclSyntax>("connector Mqtt = mqtt(host: \"localhost\", port: 1883, topics: [\"a\", \"b\"])");
        Assert.Equal("Mqtt", c.Name.Text);
        Assert.Equal("mqtt", c.Kind.Text);
        Assert.Equal("host:\"localhost\", port:1883, topics:[\"a\" \"b\"]", Args(c.Args));
    }

    [Fact]
    public void Context()
    {
        var p = ParseClean("context fast (cores: [0, 1])\ncontext slow");
        var a = Assert.IsType<ContextDeclSyntax>(p.Statements[0]);
        var b = Assert.IsType<ContextDeclSyntax>(p.Statements[1]);
        Assert.Equal("fast", a.Name.Text);
        Assert.Equal("cores:[0 1]", Args(a.Args));
        Assert.Equal("slow", b.Name.Text);
        Assert.Empty(b.Args);
    }

    [Fact]
    public void Import()
    {
        var i = Single<ImportSyntax>("import \"lib/common.vpl\"");
        Assert.Equal("lib/common.vpl", i.Path);
        Assert.Equal("import \"lib/common.vpl\"", TextOf(i, i.Span));
    }

    [Fact]
    public void EveryStatementKnowsItsFile()
    {
        var (p, _) = ParseWithDiagnostics("event A {}\nstream S = A\nconst X = 1", "prog.vpl");
        Assert.All(p.Statements, s => Assert.Same(p.Source, s.File));
        Assert.Equal("prog.vpl", p.Source.Path);
    }

    [Fact]
    public void StatementsNeedNoSeparators()
    {
        var p = ParseClean("stream A = X stream B = Y .where(z) const C = 1");
        Assert.Equal(3, p.Statements.Count);
    }

    [Fact]
    public void Comments()
    {
        var p = ParseClean("# heading\nstream A = X # trailing\n/* block\n comment */ .where(a) /* inline */ .emit(b: 1)");
        var s = Assert.IsType<StreamDeclSyntax>(Assert.Single(p.Statements));
        Assert.Equal(".where(a).emit(b:1)", Ops(s.Operators));
    }

    [Fact]
    public void FunctionWithEveryStatementKind()
    {
        const string text = """
            fn classify(x: int, label: str, tags) -> str:
                let y: int = x * 2
                var n = 0
                n := n + 1
                if y > 10:
                    return "big"
                elif y > 5: return "medium"
                else:
                    emit Alert(value: y, label: label)
                for t in tags:
                    if t == "skip": continue
                    n := n + 1
                while n < 100:
                    n := n * 2
                    break
                print(n)
                return
            stream S = A
            """;
        var p = ParseClean(text);
        Assert.Equal(2, p.Statements.Count);
        var f = Assert.IsType<FunctionDeclSyntax>(p.Statements[0]);
        Assert.Equal("classify", f.Name.Text);
        Assert.Equal(new[] { "x: int", "label: str", "tags: _" }, f.Parameters.Select(x => $"{x.Name.Text}: {T(x.Type)}"));
        Assert.Equal("str", T(f.ReturnType));
        var body = f.Body.Statements;
        Assert.Equal(8, body.Count);
        var let = Assert.IsType<LocalDeclSyntax>(body[0]);
        Assert.False(let.Mutable);
        Assert.Equal("int", T(let.Type));
        Assert.Equal("(* x 2)", S(let.Value));
        Assert.True(Assert.IsType<LocalDeclSyntax>(body[1]).Mutable);
        var assign = Assert.IsType<AssignSyntax>(body[2]);
        Assert.Equal("n", assign.Target.Text);
        Assert.Equal("(+ n 1)", S(assign.Value));
        var iff = Assert.IsType<IfSyntax>(body[3]);
        Assert.Equal(new[] { "(> y 10)", "(> y 5)" }, iff.Branches.Select(b => S(b.Condition)));
        Assert.Equal("\"big\"", S(Assert.IsType<ReturnSyntax>(Assert.Single(iff.Branches[0].Body.Statements)).Value));
        Assert.Equal("\"medium\"", S(Assert.IsType<ReturnSyntax>(Assert.Single(iff.Branches[1].Body.Statements)).Value));
        var emit = Assert.IsType<EmitSyntax>(Assert.Single(iff.Else!.Statements));
        Assert.Equal("Alert", emit.EventType.Text);
        Assert.Equal("value:y, label:label", Args(emit.Args));
        var loop = Assert.IsType<ForSyntax>(body[4]);
        Assert.Equal("t", loop.Variable.Text);
        Assert.Equal("tags", S(loop.Iterable));
        Assert.Equal(2, loop.Body.Statements.Count);
        var inner = Assert.IsType<IfSyntax>(loop.Body.Statements[0]);
        Assert.IsType<ContinueSyntax>(Assert.Single(inner.Branches[0].Body.Statements));
        Assert.Null(inner.Else);
        var w = Assert.IsType<WhileSyntax>(body[5]);
        Assert.Equal("(< n 100)", S(w.Condition));
        Assert.IsType<BreakSyntax>(w.Body.Statements[1]);
        Assert.Equal("(call print n)", S(Assert.IsType<ExprStatementSyntax>(body[6]).Expression));
        Assert.Null(Assert.IsType<ReturnSyntax>(body[7]).Value);
        Assert.Equal("\"big\"", S(((ReturnSyntax)iff.Branches[0].Body.Statements[0]).Value));
    }

    [Fact]
    public void FunctionBodyOnTheHeaderLine()
    {
        var f = Single<FunctionDeclSyntax>("fn double(x: int) -> int: return x * 2");
        Assert.Equal("(* x 2)", S(Assert.IsType<ReturnSyntax>(Assert.Single(f.Body.Statements)).Value));
    }

    [Fact]
    public void FunctionStatementsContinueOnMoreIndentedLines()
    {
        var f = Single<FunctionDeclSyntax>("fn f(a, b):\n    let x = a +\n        b\n    return x\n");
        Assert.Equal("(+ a b)", S(Assert.IsType<LocalDeclSyntax>(f.Body.Statements[0]).Value));
        Assert.IsType<ReturnSyntax>(f.Body.Statements[1]);
    }

    [Fact]
    public void FunctionsFollowedByIndentedFunctionsInsideLoops()
    {
        var p = ParseClean("fn a():\n    return 1\nfn b():\n    return 2\n");
        Assert.Equal(new[] { "a", "b" }, p.Statements.Cast<FunctionDeclSyntax>().Select(f => f.Name.Text));
    }
}
