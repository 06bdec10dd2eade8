namespace Varpulis.Vpl.Diagnostics;

/// <summary>
/// The ids of syntax diagnostics (lexer, parser, loop expansion, imports): <c>VPL0001</c>..<c>VPL0099</c>.
/// One id per class of error, so tools and tests can match on it; the message carries the specifics.
/// </summary>
public static partial class DiagnosticIds
{
    // ---- Lexical errors ---------------------------------------------------------------------

    /// <summary><c>invalid character U+0000</c>: a control character, a lone surrogate, a non-ASCII character outside strings and comments, or an ASCII character VPL does not use (<c>$</c>). A run of them is reported once.</summary>
    public const string InvalidCharacter = "VPL0001";

    /// <summary><c>unterminated string literal</c>: no closing quote before the end of the line.</summary>
    public const string UnterminatedString = "VPL0002";

    /// <summary><c>unknown escape '\q' in string</c>: only <c>\" \\ \n \t \r \u{XXXX}</c> exist.</summary>
    public const string UnknownEscape = "VPL0003";

    /// <summary><c>invalid unicode escape '\u{...}'</c>: needs 1 to 6 hex digits naming a Unicode scalar value.</summary>
    public const string InvalidUnicodeEscape = "VPL0004";

    /// <summary><c>single-quoted strings are not VPL</c>: strings use double quotes.</summary>
    public const string SingleQuotedString = "VPL0005";

    /// <summary><c>unterminated block comment</c>: a <c>/*</c> without <c>*/</c>.</summary>
    public const string UnterminatedComment = "VPL0006";

    /// <summary><c>'//' is not a VPL comment; use '#'</c>.</summary>
    public const string SlashSlashComment = "VPL0007";

    /// <summary><c>integer literal is too large</c> / <c>float literal is too large</c>.</summary>
    public const string NumberTooLarge = "VPL0008";

    /// <summary>A number without digits on one side of its dot (<c>1.</c>, <c>.5</c>) or a fractional duration (<c>1.5s</c>).</summary>
    public const string MalformedNumber = "VPL0009";

    /// <summary><c>invalid suffix 'min' on a number</c>: only the duration units <c>ns us ms s m h d</c> may follow a number.</summary>
    public const string InvalidNumberSuffix = "VPL0010";

    /// <summary><c>duration literal is too large</c>: more nanoseconds than a 64-bit integer holds.</summary>
    public const string DurationTooLarge = "VPL0011";

    /// <summary><c>invalid timestamp '@...'</c>: not <c>@YYYY-MM-DD[THH:MM[:SS[.f]]][Z|±HH:MM]</c>, not a real date, or out of range.</summary>
    public const string InvalidTimestamp = "VPL0012";

    /// <summary>An operator from other languages: <c>!</c>, <c>&amp;&amp;</c>, <c>||</c>, <c>;</c>.</summary>
    public const string InvalidOperator = "VPL0013";

    // ---- Parse errors -----------------------------------------------------------------------

    /// <summary><c>unexpected '}'</c>: a token that cannot continue or start anything here; the parser skips to the next statement.</summary>
    public const string UnexpectedToken = "VPL0020";

    /// <summary><c>expected ')' to close '(' opened at 3:14</c>.</summary>
    public const string UnclosedDelimiter = "VPL0021";

    /// <summary>A required keyword or punctuation is missing: <c>expected '=' after stream name</c>, <c>expected ':' ...</c>.</summary>
    public const string ExpectedToken = "VPL0022";

    /// <summary><c>expected an expression</c>.</summary>
    public const string ExpectedExpression = "VPL0023";

    /// <summary>A name is missing: <c>expected a stream name after 'stream'</c>, <c>expected an alias name after 'as'</c>.</summary>
    public const string ExpectedName = "VPL0024";

    /// <summary><c>expected a type</c>: <c>int float bool str timestamp duration</c>, <c>[T]</c>, <c>{K: V}</c>, <c>T?</c>.</summary>
    public const string ExpectedType = "VPL0025";

    /// <summary><c>expected a source after '='</c>: a stream needs an event type, stream, pattern, merge, join or timer.</summary>
    public const string ExpectedSource = "VPL0026";

    /// <summary><c>expected a pattern</c>: an event type, <c>SEQ(...)</c>, <c>NOT Type</c> or a parenthesized pattern.</summary>
    public const string ExpectedPattern = "VPL0027";

    /// <summary><c>comparison operators cannot be chained; use 'and'</c>.</summary>
    public const string ChainedComparison = "VPL0028";

    /// <summary><c>range operators cannot be chained</c>: <c>a..b..c</c>.</summary>
    public const string ChainedRange = "VPL0029";

    /// <summary>
    /// <c>nesting deeper than 64 levels</c>: brackets, calls, unary operators, <c>**</c>, <c>if</c>/lambdas, member
    /// accesses or blocks; reported once per statement. A chain of left-associative operators (<c>a + b + c</c>,
    /// <c>x == 1 or x == 2</c>) is not nesting, however long.
    /// </summary>
    public const string NestingTooDeep = "VPL0030";

    /// <summary><c>operator '.strict' needs parentheses</c> (hint <c>write .strict()</c>).</summary>
    public const string OperatorNeedsParentheses = "VPL0031";

    /// <summary><c>a 'where' on the source needs a following '->' step; use .where(...)</c> (also for <c>all</c>).</summary>
    public const string SourceStepNeedsArrow = "VPL0032";

    /// <summary><c>'.from(...)' only applies to a single event-type source, not to a sequence</c>.</summary>
    public const string FromOnSequence = "VPL0033";

    /// <summary><c>timer(...)</c> arguments other than <c>timer(period [, initial_delay: d])</c>.</summary>
    public const string InvalidTimerArguments = "VPL0034";

    /// <summary><c>'is' is not a VPL operator; use '==' or '!='</c>.</summary>
    public const string IsOperator = "VPL0035";

    /// <summary>An empty list where items are required: <c>merge()</c>, <c>join()</c>, <c>SEQ()</c>.</summary>
    public const string EmptyList = "VPL0036";

    /// <summary><c>inconsistent indentation</c>: statements of one block must start at the same column.</summary>
    public const string InconsistentIndentation = "VPL0040";

    /// <summary><c>expected an indented block after ':'</c> (function, <c>if</c>, loop or event body).</summary>
    public const string ExpectedBlock = "VPL0041";

    /// <summary><c>only a simple statement can follow ':' on the same line</c> (no <c>if</c>/<c>for</c>/<c>while</c>).</summary>
    public const string InlineCompoundStatement = "VPL0042";

    /// <summary><c>only a variable can be assigned with ':='</c>.</summary>
    public const string InvalidAssignmentTarget = "VPL0043";

    /// <summary><c>use ':=' to assign to a variable</c>: <c>x = e</c> inside a function.</summary>
    public const string AssignmentWithEquals = "VPL0044";

    /// <summary>A top-level statement inside a function body (<c>stream</c>, <c>event</c>, ...).</summary>
    public const string StatementNotAllowedHere = "VPL0045";

    // ---- Loop expansion ---------------------------------------------------------------------

    /// <summary>A top-level <c>for</c> that is not <c>for NAME in START..END:</c> with integer literal bounds.</summary>
    public const string InvalidLoopHeader = "VPL0050";

    /// <summary><c>loop expansion exceeds 10,000 copies</c> (all loops of a file together).</summary>
    public const string TooManyLoopCopies = "VPL0051";

    /// <summary><c>loop expansion is too large</c>: the copies would exceed the expanded-text budget.</summary>
    public const string LoopExpansionTooLarge = "VPL0052";

    // ---- Imports ----------------------------------------------------------------------------

    /// <summary><c>imports are only available from the command line (file-based programs)</c>.</summary>
    public const string ImportsUnavailable = "VPL0060";

    /// <summary><c>cannot find imported file 'x.vpl'</c>.</summary>
    public const string ImportNotFound = "VPL0061";

    /// <summary><c>import cycle: a.vpl -> b.vpl -> a.vpl</c>.</summary>
    public const string ImportCycle = "VPL0062";

    /// <summary><c>imports are nested deeper than 10 levels</c>.</summary>
    public const string ImportTooDeep = "VPL0063";
}
