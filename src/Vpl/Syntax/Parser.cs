using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Syntax;

/// <summary>
/// The VPL parser: a hand-written recursive-descent parser over the <see cref="Lexer"/>'s tokens.
/// It never throws on bad input, runs in linear time, recovers from errors (skipping to the next
/// top-level keyword) and reports several diagnostics per file. Top-level <c>for</c> loops are
/// expanded (<see cref="LoopExpander"/>) and their statements appear in place of the loop.
/// </summary>
public static class Parser
{
    /// <summary>Parses one file. Never throws, whatever the text (NUL bytes, lone surrogates, megabytes).</summary>
    public static ProgramSyntax Parse(SourceText source, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var sink = new SyntaxDiagnostics();
        var session = new ParseSession(sink);
        var tokens = Lexer.Lex(source, 0, source.Text.Length, sink);
        var statements = new List<StatementSyntax>();
        new SyntaxParser(source, tokens, session).ParseStatements(statements);
        sink.FlushTo(diagnostics);
        return new ProgramSyntax(source, statements);
    }
}

/// <summary>
/// Collects the syntax diagnostics of one <see cref="Parser.Parse"/> call: drops exact duplicates,
/// drops the repeats that every copy of an expanded loop body would report, and hands them to the
/// bag in source order.
/// </summary>
internal sealed class SyntaxDiagnostics
{
    // Far above DiagnosticBag.MaxDiagnostics: enough to keep the first ones in source order, bounded
    // so that megabytes of garbage cannot allocate millions of diagnostics.
    private const int Cap = 10_000;

    private readonly List<Diagnostic> _items = new();
    private readonly HashSet<(string Path, int Line, int Column, string Id, string Message)> _exact = new();
    private readonly HashSet<(string Path, int Line, string Id, string Message)> _lines = new();

    /// <summary>True while a copy of a loop body is parsed: a diagnostic already seen on the same line is not repeated.</summary>
    public bool InLoopCopy { get; set; }

    public void Report(SourceText source, string id, TextSpan span, string message, string? hint)
    {
        if (_items.Count >= Cap) return;
        var diagnostic = new Diagnostic(id, DiagnosticSeverity.Error, source, span, message, hint);
        var pos = diagnostic.Position;
        var lineKey = (source.Path, pos.Line, id, message);
        if (InLoopCopy && _lines.Contains(lineKey)) return;
        if (!_exact.Add((source.Path, pos.Line, pos.Column, id, message))) return;
        _lines.Add(lineKey);
        _items.Add(diagnostic);
    }

    public void FlushTo(DiagnosticBag bag)
    {
        // OrderBy is stable: diagnostics at one position keep the order they were found in.
        bag.AddRange(_items.Select(d => (d, p: d.Position)).OrderBy(x => x.p.Line).ThenBy(x => x.p.Column).Select(x => x.d));
        _items.Clear();
    }
}

/// <summary>State shared by the parsers of one file and of its expanded loop copies.</summary>
internal sealed class ParseSession(SyntaxDiagnostics diagnostics)
{
    public SyntaxDiagnostics Diagnostics { get; } = diagnostics;

    /// <summary>Loop body copies made so far (all loops of the file, nested ones included).</summary>
    public long LoopCopies { get; set; }

    /// <summary>Characters of expanded loop text made so far.</summary>
    public long ExpandedChars { get; set; }

    /// <summary>How many loop expansions enclose the text being parsed.</summary>
    public int LoopNesting { get; set; }
}

/// <summary>The parser of one token stream. The grammar is split over the <c>Parser.*.cs</c> files.</summary>
internal sealed partial class SyntaxParser
{
    /// <summary>Deepest nesting of brackets, operators and blocks one statement may have.</summary>
    internal const int MaxDepth = 64;

    private readonly SourceText _src;
    private readonly Token[] _tokens;
    private readonly ParseSession _session;
    private int _pos;

    // Indentation-based blocks: a token that starts a line at a column <= _limitColumn ends the
    // current construct, as if it were the end of the file (0 = no limit).
    private int _limitColumn;

    // The first token of the line being parsed under a line limit is itself not a boundary.
    private int _limitExempt = -1;

    // Nesting depth of the current statement; past MaxDepth the statement is abandoned (_bail).
    private int _depth;
    private bool _bail;

    // No cascade: a second error at the same position as the previous one is dropped.
    private int _lastErrorStart = -1;

    public SyntaxParser(SourceText source, Token[] tokens, ParseSession session)
    {
        _src = source;
        _tokens = tokens;
        _session = session;
    }

    // ---- token access -------------------------------------------------------------------------

    private Token TokenAt(int index)
    {
        if (index >= _tokens.Length) index = _tokens.Length - 1;
        var t = _tokens[index];
        if (t.Kind != SyntaxKind.EndOfFile && t.IsFirstOnLine && t.Column <= _limitColumn && index != _limitExempt)
        {
            return t with { Kind = SyntaxKind.EndOfFile, Span = new TextSpan(t.Span.Start, 0) };
        }
        return t;
    }

    private Token Current => TokenAt(_pos);

    /// <summary>The token <paramref name="n"/> ahead, or the end of the current construct if it comes first.</summary>
    private Token Peek(int n)
    {
        var t = Current;
        for (int k = 1; k <= n && t.Kind != SyntaxKind.EndOfFile; k++) t = TokenAt(_pos + k);
        return t;
    }

    private Token Next()
    {
        var t = Current;
        if (t.Kind != SyntaxKind.EndOfFile) _pos++;
        return t;
    }

    private int PrevEnd => _pos > 0 ? _tokens[_pos - 1].Span.End : 0;

    private TextSpan SpanFrom(int start) => TextSpan.FromBounds(start, Math.Max(start, PrevEnd));

    private static NameSyntax Name(Token t) => new(t.StringValue ?? string.Empty, t.Span);

    private static bool IsNameToken(SyntaxKind kind) => kind == SyntaxKind.Identifier || SyntaxFacts.IsKeyword(kind);

    private bool IsStatementStart(int index)
    {
        var t = TokenAt(index);
        if (!SyntaxFacts.IsTopLevelKeyword(t.Kind)) return false;
        return index == 0 || _tokens[index - 1].Kind is not (SyntaxKind.Dot or SyntaxKind.QuestionDot);
    }

    private void SkipToStatementStart()
    {
        while (Current.Kind != SyntaxKind.EndOfFile && !IsStatementStart(_pos)) _pos++;
    }

    /// <summary>Skips to the end of the current construct (the next line indented no more than the limit).</summary>
    private void SkipToBoundary()
    {
        while (Current.Kind != SyntaxKind.EndOfFile) _pos++;
    }

    /// <summary>Skips the rest of a header line and every following line indented more than <paramref name="indent"/>.</summary>
    /// <summary>Limits the current construct to the line starting at the current token and its continuation lines.</summary>
    private void LimitToCurrentLine()
    {
        _limitColumn = _tokens[_pos].Column;
        _limitExempt = _pos;
    }

    private void SkipIndentedLines(int indent)
    {
        while (_tokens[_pos].Kind != SyntaxKind.EndOfFile && !(_tokens[_pos].IsFirstOnLine && _tokens[_pos].Column <= indent)) _pos++;
    }

    // ---- diagnostics --------------------------------------------------------------------------

    private void Error(string id, TextSpan span, string message, string? hint = null)
    {
        if (span.Start == _lastErrorStart) return;
        _lastErrorStart = span.Start;
        _session.Diagnostics.Report(_src, id, span, message, hint);
    }

    /// <summary>
    /// Where a missing token is reported: on the current token when it is on the same line,
    /// otherwise just after the previous token (the end of the line that lacks it).
    /// </summary>
    private TextSpan ExpectedSpan()
    {
        var t = Current;
        if ((t.Kind == SyntaxKind.EndOfFile || t.IsFirstOnLine) && _pos > 0) return new TextSpan(_tokens[_pos - 1].Span.End, 0);
        return t.Span;
    }

    private string Describe(Token t)
    {
        if (t.Kind == SyntaxKind.EndOfFile) return "end of file";
        return "'" + Lexer.Clip(_src.Text.AsSpan(t.Span.Start, t.Span.Length)) + "'";
    }

    private void ReportUnexpected(string? hint = null)
        => Error(DiagnosticIds.UnexpectedToken, Current.Span, "unexpected " + Describe(Current), hint);

    private bool EnterDepth(Token at)
    {
        if (_depth >= MaxDepth)
        {
            Error(DiagnosticIds.NestingTooDeep, at.Span, $"nesting deeper than {MaxDepth} levels",
                "split the expression, e.g. with a const or a function");
            _bail = true;
            return false;
        }
        _depth++;
        return true;
    }

    private bool Expect(SyntaxKind kind, string message, string? hint = null)
    {
        if (Current.Kind == kind)
        {
            Next();
            return true;
        }
        Error(DiagnosticIds.ExpectedToken, ExpectedSpan(), message, hint);
        return false;
    }

    private NameSyntax? ExpectName(string message, string? hint = null)
    {
        var t = Current;
        if (t.Kind == SyntaxKind.Identifier)
        {
            Next();
            return Name(t);
        }
        if (SyntaxFacts.IsKeyword(t.Kind) && !t.IsFirstOnLine)
        {
            hint = $"'{t.StringValue}' is a keyword and cannot be used as a name";
        }
        Error(DiagnosticIds.ExpectedName, ExpectedSpan(), message, hint);
        return null;
    }

    private void ReportExpectedClose(Token open, SyntaxKind close)
    {
        var at = _src.GetPosition(open.Span.Start);
        string? hint = null;
        var name = Peek(1);
        if (Current.Kind == SyntaxKind.Dot && IsNameToken(name.Kind) && Peek(2).Kind == SyntaxKind.OpenParen)
        {
            hint = $"'.{name.StringValue}(...)' is a stream operator, not a method: close the '{SyntaxFacts.GetText(open.Kind)}' before it, or call {name.StringValue}(value, ...)";
        }
        Error(DiagnosticIds.UnclosedDelimiter, ExpectedSpan(),
            $"expected '{SyntaxFacts.GetText(close)}' to close '{SyntaxFacts.GetText(open.Kind)}' opened at {at.Line}:{at.Column}", hint);
    }

    private void ExpectClose(Token open, SyntaxKind close)
    {
        if (Current.Kind == close)
        {
            Next();
            return;
        }
        ReportExpectedClose(open, close);
    }

    /// <summary>
    /// Parses <c>item (, item)* [,]</c> up to <paramref name="close"/>, which it consumes. On a token that
    /// continues nothing it reports the unclosed delimiter and skips (balancing brackets) to the next
    /// comma or closer at this level, or to the next statement.
    /// </summary>
    private void ParseList(Token open, SyntaxKind close, Action parseItem)
    {
        while (!_bail)
        {
            var k = Current.Kind;
            if (k == close || k == SyntaxKind.EndOfFile) break;
            parseItem();
            if (_bail) return;
            if (Current.Kind == SyntaxKind.Comma)
            {
                Next();
                continue;
            }
            if (Current.Kind == close) break;
            ReportExpectedClose(open, close);
            SkipToListResync(close);
            if (Current.Kind == SyntaxKind.Comma)
            {
                Next();
                continue;
            }
            // Reported once: a list that ran into the next statement is not reported again at its end.
            if (Current.Kind == close) Next();
            return;
        }
        if (!_bail) ExpectClose(open, close);
    }

    private void SkipToListResync(SyntaxKind close)
    {
        int nesting = 0;
        while (true)
        {
            var t = Current;
            if (t.Kind == SyntaxKind.EndOfFile || IsStatementStart(_pos)) return;
            switch (t.Kind)
            {
                case SyntaxKind.OpenParen or SyntaxKind.OpenBracket or SyntaxKind.OpenBrace:
                    nesting++;
                    break;
                case SyntaxKind.CloseParen or SyntaxKind.CloseBracket or SyntaxKind.CloseBrace:
                    if (nesting > 0) nesting--;
                    else if (t.Kind == close) return;
                    break;
                case SyntaxKind.Comma when nesting == 0:
                    return;
            }
            _pos++;
        }
    }
}
