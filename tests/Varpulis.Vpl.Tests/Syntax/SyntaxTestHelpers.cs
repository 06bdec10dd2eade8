using Xunit;
using System.Globalization;
using System.Text;
using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Tests.Syntax;

/// <summary>Parsing shortcuts and a compact S-expression rendering of expressions for exact assertions.</summary>
internal static class SyntaxTestHelpers
{
    public static (ProgramSyntax Program, DiagnosticBag Diagnostics) ParseWithDiagnostics(string text, string path = "test.vpl")
    {
        var bag = new DiagnosticBag();
        var program = Parser.Parse(new SourceText(text, path), bag);
        return (program, bag);
    }

    /// <summary>Parses a program that must be free of diagnostics.</summary>
    public static ProgramSyntax ParseClean(string text)
    {
        var (program, bag) = ParseWithDiagnostics(text);
        Assert.True(bag.Count == 0, "unexpected diagnostics:\n" + string.Join("\n", bag.Items.Select(d => d.ToString())));
        return program;
    }

    public static T Single<T>(string text) where T : StatementSyntax
    {
        var program = ParseClean(text);
        var statement = Assert.Single(program.Statements);
        return Assert.IsType<T>(statement);
    }

    /// <summary>The expression of <c>const X = ...</c>.</summary>
    public static ExprSyntax Expr(string expression) => Single<ConstDeclSyntax>("const X = " + expression).Value;

    /// <summary>Diagnostics as <c>line:col id message</c> lines.</summary>
    public static string[] Render(DiagnosticBag bag) => bag.Items.Select(d => $"{d.Line}:{d.Column} {d.Id} {d.Message}").ToArray();

    public static string[] Errors(string text) => Render(ParseWithDiagnostics(text).Diagnostics);

    /// <summary>The one diagnostic of <paramref name="text"/>.</summary>
    public static Diagnostic OneError(string text)
    {
        var (_, bag) = ParseWithDiagnostics(text);
        Assert.True(bag.Count == 1, "expected one diagnostic, got:\n" + string.Join("\n", Render(bag)));
        return bag.Items[0];
    }

    public static string S(ExprSyntax? e) => e switch
    {
        null => "_",
        IntLiteralSyntax i => i.Value.ToString(CultureInfo.InvariantCulture),
        FloatLiteralSyntax f => f.Value.ToString("R", CultureInfo.InvariantCulture) + "f",
        StringLiteralSyntax s => "\"" + s.Value + "\"",
        DurationLiteralSyntax d => d.Nanoseconds.ToString(CultureInfo.InvariantCulture) + "ns",
        TimestampLiteralSyntax t => "@" + t.Nanoseconds.ToString(CultureInfo.InvariantCulture),
        BoolLiteralSyntax b => b.Value ? "true" : "false",
        NullLiteralSyntax => "null",
        NameExprSyntax n => n.Name,
        MemberExprSyntax m => $"({(m.NullSafe ? "?." : ".")} {S(m.Target)} {m.Member.Text})",
        IndexExprSyntax ix => $"([] {S(ix.Target)} {S(ix.Index)})",
        SliceExprSyntax sl => $"([:] {S(sl.Target)} {S(sl.Start)} {S(sl.End)})",
        CallExprSyntax c => $"(call {c.Function.Text}{string.Concat(c.Args.Select(a => " " + Arg(a)))})",
        UnaryExprSyntax u => $"({(u.Op == UnaryOp.Negate ? "neg" : "not")} {S(u.Operand)})",
        BinaryExprSyntax b => $"({Op(b.Op)} {S(b.Left)} {S(b.Right)})",
        RangeExprSyntax r => $"({(r.Inclusive ? "..=" : "..")} {S(r.Start)} {S(r.End)})",
        ConditionalExprSyntax c => $"(if {S(c.Condition)} {S(c.Then)} {S(c.Else)})",
        LambdaExprSyntax l => $"(=> ({string.Join(" ", l.Parameters.Select(p => p.Text))}) {S(l.Body)})",
        ArrayExprSyntax a => $"[{string.Join(" ", a.Items.Select(S))}]",
        MapExprSyntax m => "{" + string.Join(" ", m.Entries.Select(x => x.Key + ":" + S(x.Value))) + "}",
        ErrorExprSyntax => "<error>",
        _ => e.GetType().Name,
    };

    public static string Arg(ArgumentSyntax a) => a.Name is null ? S(a.Value) : $"{a.Name.Text}:{S(a.Value)}";

    public static string Args(IEnumerable<ArgumentSyntax> args) => string.Join(", ", args.Select(Arg));

    public static string Op(OperatorSyntax op) => op is NotOperatorSyntax not
        ? $".not({not.EventType.Text}{(not.Predicate is null ? "" : " where " + S(not.Predicate))})"
        : $".{op.Name.Text}({Args(op.Args)})";

    public static string Ops(IEnumerable<OperatorSyntax> ops) => string.Concat(ops.Select(Op));

    public static string Item(PatternItemSyntax p)
    {
        var sb = new StringBuilder();
        if (p.Negated) sb.Append("NOT ");
        sb.Append(p.EventType.Text);
        sb.Append(p.Quantifier switch { Quantifier.Plus => "+", Quantifier.Star => "*", Quantifier.Optional => "?", _ => "" });
        if (p.Predicate is not null) sb.Append(" where ").Append(S(p.Predicate));
        if (p.Alias is not null) sb.Append(" as ").Append(p.Alias.Text);
        return sb.ToString();
    }

    public static string P(PatternExprSyntax p) => p switch
    {
        PatternItemSyntax i => Item(i),
        SeqPatternSyntax s => "SEQ(" + string.Join(", ", s.Items.Select(P)) + ")",
        AndPatternSyntax a => $"({P(a.Left)} AND {P(a.Right)})",
        OrPatternSyntax o => $"({P(o.Left)} OR {P(o.Right)})",
        _ => p.GetType().Name,
    };

    public static string T(TypeSyntax? t) => t switch
    {
        null => "_",
        NamedTypeSyntax n => n.Name.Text,
        ArrayTypeSyntax a => $"[{T(a.Element)}]",
        MapTypeSyntax m => $"{{{T(m.Key)}: {T(m.Value)}}}",
        OptionalTypeSyntax o => T(o.Inner) + "?",
        _ => t.GetType().Name,
    };

    private static string Op(BinaryOp op) => op switch
    {
        BinaryOp.Add => "+",
        BinaryOp.Subtract => "-",
        BinaryOp.Multiply => "*",
        BinaryOp.Divide => "/",
        BinaryOp.Modulo => "%",
        BinaryOp.Power => "**",
        BinaryOp.Equal => "==",
        BinaryOp.NotEqual => "!=",
        BinaryOp.Less => "<",
        BinaryOp.LessOrEqual => "<=",
        BinaryOp.Greater => ">",
        BinaryOp.GreaterOrEqual => ">=",
        BinaryOp.In => "in",
        BinaryOp.NotIn => "not-in",
        BinaryOp.And => "and",
        BinaryOp.Or => "or",
        _ => "??",
    };

    /// <summary>The source text a span covers.</summary>
    public static string TextOf(StatementSyntax s, TextSpan span) => s.File.Text.Substring(span.Start, span.Length);
}
