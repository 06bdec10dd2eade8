using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation.Patterns;

/// <summary>Read-only walks over expression syntax used by the pattern checks.</summary>
internal static class PatternSyntax
{
    /// <summary>Every sub-expression, parents first.</summary>
    public static IEnumerable<ExprSyntax> Walk(ExprSyntax? e) => e?.SelfAndDescendants() ?? Enumerable.Empty<ExprSyntax>();

    /// <summary>The names used as <c>name.member</c>, <c>name[i]</c>, <c>name[a:b]</c> or as a whole call argument, with their spans.</summary>
    public static IEnumerable<NameExprSyntax> AliasLikeUses(ExprSyntax? e)
    {
        foreach (var x in Walk(e))
        {
            switch (x)
            {
                case MemberExprSyntax { Target: NameExprSyntax n }:
                    yield return n;
                    break;
                case IndexExprSyntax { Target: NameExprSyntax n }:
                    yield return n;
                    break;
                case SliceExprSyntax { Target: NameExprSyntax n }:
                    yield return n;
                    break;
            }
        }
    }

    /// <summary>
    /// Uses of <paramref name="name"/> as a direct operand of an arithmetic, comparison or boolean operator: for a
    /// Kleene alias (several events) these compare an array where one value is meant.
    /// </summary>
    public static IEnumerable<NameExprSyntax> OperandUses(ExprSyntax? e, string name)
    {
        foreach (var x in Walk(e))
        {
            switch (x)
            {
                case BinaryExprSyntax b when b.Op != BinaryOp.Coalesce:
                    if (b.Left is NameExprSyntax l && l.Name == name) yield return l;
                    if (b.Right is NameExprSyntax r && r.Name == name && b.Op is not (BinaryOp.In or BinaryOp.NotIn)) yield return r;
                    break;
                case UnaryExprSyntax { Operand: NameExprSyntax n } when n.Name == name:
                    yield return n;
                    break;
            }
        }
    }

    /// <summary>True when some call (aggregate or built-in) has an argument mentioning <paramref name="name"/>.</summary>
    public static bool UsedInCall(ExprSyntax? e, string name)
        => Walk(e).OfType<CallExprSyntax>().Any(c => c.Args.Any(a => ExpressionCompiler.Mentions(a.Value, name)));

    /// <summary>True when <paramref name="name"/> occurs only as <c>name.field</c> in <paramref name="e"/>.</summary>
    public static bool OnlyMemberUses(ExprSyntax? e, string name)
    {
        // Walk visits the target of a member access too: every use must be such a target.
        int members = Walk(e).Count(x => x is MemberExprSyntax { Target: NameExprSyntax t } && t.Name == name);
        int names = Walk(e).Count(x => x is NameExprSyntax n && n.Name == name);
        return members == names;
    }

    /// <summary>A span-free text of an expression, used to recognise equal sub-patterns across streams.</summary>
    public static string Canonical(ExprSyntax? e) => e switch
    {
        null => "",
        IntLiteralSyntax i => i.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        FloatLiteralSyntax f => f.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f",
        StringLiteralSyntax s => "\"" + s.Value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
        DurationLiteralSyntax d => d.Nanoseconds + "ns",
        TimestampLiteralSyntax t => "@" + t.Nanoseconds,
        BoolLiteralSyntax b => b.Value ? "true" : "false",
        NullLiteralSyntax => "null",
        NameExprSyntax n => n.Name,
        MemberExprSyntax m => Canonical(m.Target) + (m.NullSafe ? "?." : ".") + m.Member.Text,
        IndexExprSyntax i => Canonical(i.Target) + "[" + Canonical(i.Index) + "]",
        SliceExprSyntax s => Canonical(s.Target) + "[" + Canonical(s.Start) + ":" + Canonical(s.End) + "]",
        CallExprSyntax c => c.Function.Text + "(" + string.Join(",", c.Args.Select(a => (a.Name is null ? "" : a.Name.Text + ":") + Canonical(a.Value))) + ")",
        UnaryExprSyntax u => "(" + u.Op + " " + Canonical(u.Operand) + ")",
        BinaryExprSyntax b => CanonicalChain(b),
        RangeExprSyntax r => "(" + Canonical(r.Start) + (r.Inclusive ? "..=" : "..") + Canonical(r.End) + ")",
        ConditionalExprSyntax c => "(if " + Canonical(c.Condition) + " then " + Canonical(c.Then) + " else " + Canonical(c.Else) + ")",
        ArrayExprSyntax a => "[" + string.Join(",", a.Items.Select(Canonical)) + "]",
        MapExprSyntax m => "{" + string.Join(",", m.Entries.Select(x => x.Key + ":" + Canonical(x.Value))) + "}",
        _ => "?" + e.GetType().Name,
    };

    /// <summary><c>((l op1 r1) op2 r2)</c> for a left spine, built in a loop (a chain may be 100,000 operators long).</summary>
    private static string CanonicalChain(BinaryExprSyntax top)
    {
        var spine = new List<BinaryExprSyntax>();
        ExprSyntax e = top;
        while (e is BinaryExprSyntax b)
        {
            spine.Add(b);
            e = b.Left;
        }
        var sb = new System.Text.StringBuilder();
        sb.Append('(', spine.Count).Append(Canonical(e));
        for (int i = spine.Count - 1; i >= 0; i--) sb.Append(' ').Append(spine[i].Op).Append(' ').Append(Canonical(spine[i].Right)).Append(')');
        return sb.ToString();
    }
}
