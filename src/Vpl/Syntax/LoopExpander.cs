using System.Globalization;
using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Syntax;

/// <summary>
/// Top-level loop expansion: <c>for i in 0..4:</c> followed by lines indented more than the <c>for</c>
/// is a compile-time text expansion. Each value of the range gives one copy of the body with every
/// <c>{i}</c> replaced by the value; the copies are parsed in loop order in place of the loop.
/// A copy is parsed as a <see cref="SourceText"/> with the file's path whose text is the file's text up
/// to the body blanked to spaces (newlines kept), then the substituted body; so diagnostics keep
/// their line numbers (text after the body is left out: it cannot change a position in the body).
/// </summary>
public static class LoopExpander
{
    /// <summary>Most body copies one file may expand to, all loops (nested ones included) together.</summary>
    public const int MaxCopies = 10_000;

    /// <summary>Most characters of expanded text one file may produce.</summary>
    public const long MaxExpandedChars = 64_000_000;

    private const string HeaderHint = "for i in 0..4:  (then the body on the following lines, indented; {i} is replaced by each value)";

    /// <summary>A parsed loop header and where its body lies in the text.</summary>
    internal sealed record Loop(Token For, string Variable, long From, long Count, int BodyStart, int BodyEnd);

    /// <summary>
    /// The text of one copy: <paramref name="text"/> before <paramref name="bodyStart"/> blanked to spaces
    /// (newlines kept), then the body <c>[bodyStart, bodyEnd)</c> with every <c>{variable}</c> replaced by
    /// <paramref name="value"/>.
    /// </summary>
    public static string ExpandBody(string text, int bodyStart, int bodyEnd, string variable, long value)
    {
        ArgumentNullException.ThrowIfNull(text);
        return BlankPrefix(text, bodyStart) + Substitute(text.Substring(bodyStart, bodyEnd - bodyStart), variable, value);
    }

    private static string BlankPrefix(string text, int length)
        => string.Create(length, text, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = source[i] == '\n' ? '\n' : ' ';
        });

    private static string Substitute(string body, string variable, long value)
        => body.Replace("{" + variable + "}", value.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>
    /// Reads the loop whose <c>for</c> is <c>tokens[index]</c>. Always sets <paramref name="next"/> to the
    /// first token after the loop's header and body; returns null (after reporting) when the header is invalid.
    /// </summary>
    internal static Loop? ReadLoop(SourceText source, Token[] tokens, int index, SyntaxDiagnostics diagnostics, out int next)
    {
        var forToken = tokens[index];
        int indent = forToken.Indent;
        int end = index + 1;
        while (tokens[end].Kind != SyntaxKind.EndOfFile && !(tokens[end].IsFirstOnLine && tokens[end].Column <= indent)) end++;
        next = end;
        int headerEnd = index + 1;
        while (headerEnd < end && !tokens[headerEnd].IsFirstOnLine) headerEnd++;

        int i = index + 1;
        Token At(int k) => k < headerEnd ? tokens[k] : default;
        bool Fail(int k, string message)
        {
            var span = k < headerEnd ? tokens[k].Span : new TextSpan(tokens[k - 1].Span.End, 0);
            diagnostics.Report(source, DiagnosticIds.InvalidLoopHeader, span, message, HeaderHint);
            return false;
        }
        bool ReadBound(ref int k, out long value)
        {
            value = 0;
            bool negative = false;
            if (k < headerEnd && tokens[k].Kind == SyntaxKind.Minus)
            {
                negative = true;
                k++;
            }
            if (k >= headerEnd || tokens[k].Kind != SyntaxKind.IntLiteral)
            {
                return Fail(k, "loop bounds must be integer literals");
            }
            var t = tokens[k++];
            bool minMagnitude = (t.Flags & TokenFlags.IntMinMagnitude) != 0;
            if (minMagnitude && !negative) return Fail(k - 1, "loop bound is too large");
            value = minMagnitude ? long.MinValue : negative ? -t.IntValue : t.IntValue;
            return true;
        }

        if (At(i).Kind != SyntaxKind.Identifier)
        {
            Fail(i, "expected a loop variable name after 'for'");
            return null;
        }
        string variable = tokens[i++].StringValue!;
        if (At(i).Kind != SyntaxKind.InKeyword || i >= headerEnd)
        {
            Fail(i, "expected 'in' after the loop variable");
            return null;
        }
        i++;
        if (!ReadBound(ref i, out long from)) return null;
        if (i >= headerEnd || At(i).Kind is not (SyntaxKind.DotDot or SyntaxKind.DotDotEquals))
        {
            Fail(i, "expected '..' or '..=' between the loop bounds");
            return null;
        }
        bool inclusive = tokens[i++].Kind == SyntaxKind.DotDotEquals;
        if (!ReadBound(ref i, out long to)) return null;
        if (i >= headerEnd || At(i).Kind != SyntaxKind.Colon)
        {
            Fail(i, "expected ':' after the loop range");
            return null;
        }
        i++;
        if (i < headerEnd)
        {
            Fail(i, "the loop body starts on the next line, indented");
            return null;
        }
        if (headerEnd >= end)
        {
            diagnostics.Report(source, DiagnosticIds.ExpectedBlock, new TextSpan(tokens[headerEnd - 1].Span.End, 0),
                "expected an indented loop body after ':'", HeaderHint);
            return null;
        }
        Int128 count = (Int128)to - from + (inclusive ? 1 : 0);
        if (count < 0) count = 0;
        int bodyStart = tokens[headerEnd].LineStart;
        int bodyEnd = tokens[end].Kind == SyntaxKind.EndOfFile ? tokens[end].Span.Start : tokens[end].LineStart;
        long clamped = count > MaxCopies + 1 ? MaxCopies + 1 : (long)count;
        return new Loop(forToken, variable, from, clamped, bodyStart, bodyEnd);
    }

    /// <summary>Parses every copy of the loop body, appending the statements to <paramref name="output"/>.</summary>
    internal static void Expand(Loop loop, SourceText source, ParseSession session, List<StatementSyntax> output)
    {
        var diagnostics = session.Diagnostics;
        if (loop.Count == 0) return;
        if (session.LoopNesting >= SyntaxParser.MaxDepth)
        {
            diagnostics.Report(source, DiagnosticIds.NestingTooDeep, loop.For.Span, $"nesting deeper than {SyntaxParser.MaxDepth} levels",
                "flatten the nested loops");
            return;
        }
        if (session.LoopCopies + loop.Count > MaxCopies)
        {
            diagnostics.Report(source, DiagnosticIds.TooManyLoopCopies, loop.For.Span,
                $"loop expansion exceeds {MaxCopies:N0} copies", "use smaller ranges; all loops of a file expand to at most 10,000 copies together");
            return;
        }
        long perCopy = loop.BodyEnd + 16;
        if (session.ExpandedChars + perCopy * loop.Count > MaxExpandedChars)
        {
            diagnostics.Report(source, DiagnosticIds.LoopExpansionTooLarge, loop.For.Span,
                $"loop expansion is too large: {loop.Count:N0} copies of the text up to line {source.GetPosition(loop.BodyEnd).Line} exceed {MaxExpandedChars:N0} characters",
                "move the loop to the start of the file, or into a small file that you import");
            return;
        }
        session.LoopCopies += loop.Count;
        string prefix = BlankPrefix(source.Text, loop.BodyStart);
        string body = source.Text.Substring(loop.BodyStart, loop.BodyEnd - loop.BodyStart);
        bool savedInCopy = diagnostics.InLoopCopy;
        diagnostics.InLoopCopy = true;
        session.LoopNesting++;
        try
        {
            for (long k = 0; k < loop.Count; k++)
            {
                string text = prefix + Substitute(body, loop.Variable, loop.From + k);
                session.ExpandedChars += text.Length;
                var copy = new SourceText(text, source.Path);
                var tokens = Lexer.Lex(copy, loop.BodyStart, text.Length, diagnostics);
                new SyntaxParser(copy, tokens, session).ParseStatements(output);
            }
        }
        finally
        {
            session.LoopNesting--;
            diagnostics.InLoopCopy = savedInCopy;
        }
    }
}
