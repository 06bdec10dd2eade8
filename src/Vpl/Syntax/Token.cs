namespace Varpulis.Vpl.Syntax;

/// <summary>The kinds of VPL tokens.</summary>
public enum SyntaxKind : byte
{
    EndOfFile,
    Identifier,

    IntLiteral,
    FloatLiteral,
    DurationLiteral,
    StringLiteral,
    TimestampLiteral,

    // Top-level keywords: a statement starts with one of these.
    EventKeyword,
    StreamKeyword,
    PatternKeyword,
    ConnectorKeyword,
    ConstKeyword,
    LetKeyword,
    VarKeyword,
    FnKeyword,
    ContextKeyword,
    ForKeyword,
    ImportKeyword,

    // Other lower-case keywords.
    ExtendsKeyword,
    AsKeyword,
    AllKeyword,
    WhereKeyword,
    WithinKeyword,
    PartitionKeyword,
    ByKeyword,
    InKeyword,
    NotKeyword,
    AndKeyword,
    OrKeyword,
    IsKeyword,
    IfKeyword,
    ThenKeyword,
    ElseKeyword,
    ElifKeyword,
    TrueKeyword,
    FalseKeyword,
    NullKeyword,
    ReturnKeyword,
    BreakKeyword,
    ContinueKeyword,
    WhileKeyword,
    EmitKeyword,

    // Upper-case named-pattern keywords.
    SeqKeyword,
    PatternAndKeyword,
    PatternOrKeyword,
    PatternNotKeyword,

    // Punctuation and operators.
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    StarStar,
    EqualsEquals,
    BangEquals,
    Less,
    LessEquals,
    Greater,
    GreaterEquals,
    QuestionQuestion,
    Dot,
    QuestionDot,
    DotDot,
    DotDotEquals,
    FatArrow,
    ColonEquals,
    Arrow,
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    OpenBrace,
    CloseBrace,
    Comma,
    Colon,
    Equals,
    Question,
}

/// <summary>Extra facts about a token.</summary>
[Flags]
public enum TokenFlags : byte
{
    None = 0,

    /// <summary>The token is the first one on its line (only whitespace and comments before it).</summary>
    FirstOnLine = 1,

    /// <summary>An integer literal equal to 2^63: only valid right after a unary minus (<c>long.MinValue</c>).</summary>
    IntMinMagnitude = 2,
}

/// <summary>
/// One token. <see cref="Column"/> is 1-based (a tab counts as one column); <see cref="Indent"/> is the
/// column of the first token of the token's line, which is what indentation-based blocks compare.
/// Literal values are decoded: <see cref="IntValue"/> holds ints, durations and timestamps (ns), the
/// float bits, and <see cref="StringValue"/> holds identifier and keyword text and decoded strings.
/// </summary>
public readonly record struct Token(
    SyntaxKind Kind,
    TextSpan Span,
    int Column,
    int Indent,
    TokenFlags Flags,
    long IntValue,
    string? StringValue)
{
    public bool IsFirstOnLine => (Flags & TokenFlags.FirstOnLine) != 0;

    public double FloatValue => BitConverter.Int64BitsToDouble(IntValue);

    /// <summary>Offset of the start of the token's line.</summary>
    public int LineStart => Span.Start - (Column - 1);
}

/// <summary>Keyword tables and token classification.</summary>
public static class SyntaxFacts
{
    private static readonly Dictionary<string, SyntaxKind> KeywordTable = new(StringComparer.Ordinal)
    {
        ["event"] = SyntaxKind.EventKeyword,
        ["stream"] = SyntaxKind.StreamKeyword,
        ["pattern"] = SyntaxKind.PatternKeyword,
        ["connector"] = SyntaxKind.ConnectorKeyword,
        ["const"] = SyntaxKind.ConstKeyword,
        ["let"] = SyntaxKind.LetKeyword,
        ["var"] = SyntaxKind.VarKeyword,
        ["fn"] = SyntaxKind.FnKeyword,
        ["context"] = SyntaxKind.ContextKeyword,
        ["for"] = SyntaxKind.ForKeyword,
        ["import"] = SyntaxKind.ImportKeyword,
        ["extends"] = SyntaxKind.ExtendsKeyword,
        ["as"] = SyntaxKind.AsKeyword,
        ["all"] = SyntaxKind.AllKeyword,
        ["where"] = SyntaxKind.WhereKeyword,
        ["within"] = SyntaxKind.WithinKeyword,
        ["partition"] = SyntaxKind.PartitionKeyword,
        ["by"] = SyntaxKind.ByKeyword,
        ["in"] = SyntaxKind.InKeyword,
        ["not"] = SyntaxKind.NotKeyword,
        ["and"] = SyntaxKind.AndKeyword,
        ["or"] = SyntaxKind.OrKeyword,
        ["is"] = SyntaxKind.IsKeyword,
        ["if"] = SyntaxKind.IfKeyword,
        ["then"] = SyntaxKind.ThenKeyword,
        ["else"] = SyntaxKind.ElseKeyword,
        ["elif"] = SyntaxKind.ElifKeyword,
        ["true"] = SyntaxKind.TrueKeyword,
        ["false"] = SyntaxKind.FalseKeyword,
        ["null"] = SyntaxKind.NullKeyword,
        ["return"] = SyntaxKind.ReturnKeyword,
        ["break"] = SyntaxKind.BreakKeyword,
        ["continue"] = SyntaxKind.ContinueKeyword,
        ["while"] = SyntaxKind.WhileKeyword,
        ["emit"] = SyntaxKind.EmitKeyword,
        ["SEQ"] = SyntaxKind.SeqKeyword,
        ["AND"] = SyntaxKind.PatternAndKeyword,
        ["OR"] = SyntaxKind.PatternOrKeyword,
        ["NOT"] = SyntaxKind.PatternNotKeyword,
    };

    private static readonly Dictionary<string, SyntaxKind>.AlternateLookup<ReadOnlySpan<char>> KeywordLookup =
        KeywordTable.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The top-level statement keywords, in the order messages list them.</summary>
    public const string StatementKeywordList = "event, stream, pattern, connector, const, let, var, fn, context, for or import";

    /// <summary>Finds the keyword spelled <paramref name="text"/>; returns its canonical string too.</summary>
    public static bool TryGetKeyword(ReadOnlySpan<char> text, out SyntaxKind kind, out string keyword)
    {
        if (KeywordLookup.TryGetValue(text, out var actual, out kind))
        {
            keyword = actual;
            return true;
        }
        keyword = string.Empty;
        return false;
    }

    public static bool IsKeyword(SyntaxKind kind) => kind is >= SyntaxKind.EventKeyword and <= SyntaxKind.PatternNotKeyword;

    /// <summary>Keywords that start a top-level statement (<c>event stream pattern connector const let var fn context for import</c>).</summary>
    public static bool IsTopLevelKeyword(SyntaxKind kind) => kind is >= SyntaxKind.EventKeyword and <= SyntaxKind.ImportKeyword;

    /// <summary>The fixed text of a punctuation or keyword kind, for messages (<c>')'</c>).</summary>
    public static string GetText(SyntaxKind kind) => kind switch
    {
        SyntaxKind.EndOfFile => "end of file",
        SyntaxKind.Identifier => "a name",
        SyntaxKind.IntLiteral => "an integer",
        SyntaxKind.FloatLiteral => "a number",
        SyntaxKind.DurationLiteral => "a duration",
        SyntaxKind.StringLiteral => "a string",
        SyntaxKind.TimestampLiteral => "a timestamp",
        SyntaxKind.Plus => "+",
        SyntaxKind.Minus => "-",
        SyntaxKind.Star => "*",
        SyntaxKind.Slash => "/",
        SyntaxKind.Percent => "%",
        SyntaxKind.StarStar => "**",
        SyntaxKind.EqualsEquals => "==",
        SyntaxKind.BangEquals => "!=",
        SyntaxKind.Less => "<",
        SyntaxKind.LessEquals => "<=",
        SyntaxKind.Greater => ">",
        SyntaxKind.GreaterEquals => ">=",
        SyntaxKind.QuestionQuestion => "??",
        SyntaxKind.Dot => ".",
        SyntaxKind.QuestionDot => "?.",
        SyntaxKind.DotDot => "..",
        SyntaxKind.DotDotEquals => "..=",
        SyntaxKind.FatArrow => "=>",
        SyntaxKind.ColonEquals => ":=",
        SyntaxKind.Arrow => "->",
        SyntaxKind.OpenParen => "(",
        SyntaxKind.CloseParen => ")",
        SyntaxKind.OpenBracket => "[",
        SyntaxKind.CloseBracket => "]",
        SyntaxKind.OpenBrace => "{",
        SyntaxKind.CloseBrace => "}",
        SyntaxKind.Comma => ",",
        SyntaxKind.Colon => ":",
        SyntaxKind.Equals => "=",
        SyntaxKind.Question => "?",
        _ => KeywordText(kind),
    };

    private static string KeywordText(SyntaxKind kind)
    {
        foreach (var (text, k) in KeywordTable)
        {
            if (k == kind) return text;
        }
        return kind.ToString();
    }
}
