using System.Globalization;
using System.Text;
using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Syntax;

/// <summary>
/// Turns VPL text into tokens in one linear pass. Never throws: lexical errors are reported and the
/// offending text is skipped (or turned into the closest valid token, so the parser does not cascade).
/// Comments and whitespace are dropped; <see cref="Token.Column"/> and <see cref="Token.Indent"/>
/// keep what indentation-based blocks need.
/// </summary>
public sealed class Lexer
{
    private const string EscapeHint = "valid escapes are \\\" \\\\ \\n \\t \\r and \\u{XXXX}";

    private readonly SourceText _source;
    private readonly string _text;
    private readonly int _end;
    private readonly SyntaxDiagnostics _diagnostics;
    private readonly List<Token> _tokens;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _names =
        new HashSet<string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private int _pos;
    private int _lineStart;
    private bool _firstOnLine;
    private int _indent;

    private Lexer(SourceText source, int start, int end, SyntaxDiagnostics diagnostics)
    {
        _source = source;
        _text = source.Text;
        _end = Math.Clamp(end, 0, _text.Length);
        _pos = Math.Clamp(start, 0, _end);
        _diagnostics = diagnostics;
        // Typical programs have a token every 4-5 characters: avoid most regrowth of a large list.
        _tokens = new List<Token>(Math.Max(16, (_end - _pos) / 4));
        _lineStart = _pos;
        while (_lineStart > 0 && _text[_lineStart - 1] != '\n') _lineStart--;
        _firstOnLine = true;
        for (int i = _lineStart; i < _pos; i++)
        {
            if (_text[i] is not (' ' or '\t' or '\r')) _firstOnLine = false;
        }
    }

    /// <summary>All tokens of <paramref name="source"/>, ending with <see cref="SyntaxKind.EndOfFile"/>.</summary>
    public static IReadOnlyList<Token> Tokenize(SourceText source, DiagnosticBag diagnostics)
    {
        var sink = new SyntaxDiagnostics();
        var tokens = Lex(source, 0, source.Text.Length, sink);
        sink.FlushTo(diagnostics);
        return tokens;
    }

    internal static Token[] Lex(SourceText source, int start, int end, SyntaxDiagnostics diagnostics)
        => new Lexer(source, start, end, diagnostics).Run();

    private Token[] Run()
    {
        while (true)
        {
            SkipTrivia();
            if (_pos >= _end)
            {
                int column = _end - _lineStart + 1;
                _tokens.Add(new Token(SyntaxKind.EndOfFile, new TextSpan(_end, 0), column, column, TokenFlags.FirstOnLine, 0, null));
                return _tokens.ToArray();
            }
            LexToken();
        }
    }

    private void Report(string id, int start, int end, string message, string? hint = null)
        => _diagnostics.Report(_source, id, TextSpan.FromBounds(start, end), message, hint);

    private void Emit(SyntaxKind kind, int start, long value = 0, string? text = null, TokenFlags flags = TokenFlags.None)
    {
        int column = start - _lineStart + 1;
        if (_firstOnLine)
        {
            flags |= TokenFlags.FirstOnLine;
            _indent = column;
            _firstOnLine = false;
        }
        _tokens.Add(new Token(kind, TextSpan.FromBounds(start, _pos), column, _indent, flags, value, text));
    }

    private char Peek(int offset)
    {
        int i = _pos + offset;
        return i < _end ? _text[i] : '\0';
    }

    private bool At(int offset, char c) => _pos + offset < _end && _text[_pos + offset] == c;

    // ---- trivia ---------------------------------------------------------------------------------

    private void SkipTrivia()
    {
        while (_pos < _end)
        {
            char c = _text[_pos];
            switch (c)
            {
                case ' ' or '\t' or '\r':
                    _pos++;
                    break;
                case '\n':
                    _pos++;
                    _lineStart = _pos;
                    _firstOnLine = true;
                    break;
                case '#':
                    SkipToEndOfLine();
                    break;
                case '/' when At(1, '/'):
                    Report(DiagnosticIds.SlashSlashComment, _pos, _pos + 2, "'//' is not a VPL comment; use '#'",
                        "write '# comment' (or /* ... */)");
                    SkipToEndOfLine();
                    break;
                case '/' when At(1, '*'):
                    SkipBlockComment();
                    break;
                default:
                    return;
            }
        }
    }

    private void SkipToEndOfLine()
    {
        int nl = _text.IndexOf('\n', _pos, _end - _pos);
        _pos = nl < 0 ? _end : nl;
    }

    private void SkipBlockComment()
    {
        int start = _pos;
        int close = _text.IndexOf("*/", _pos + 2, _end - (_pos + 2), StringComparison.Ordinal);
        int stop = close < 0 ? _end : close + 2;
        int lastNl = _text.LastIndexOf('\n', stop - 1, stop - start);
        if (lastNl >= 0)
        {
            _lineStart = lastNl + 1;
            _firstOnLine = true;
        }
        _pos = stop;
        if (close < 0)
        {
            Report(DiagnosticIds.UnterminatedComment, start, start + 2, "unterminated block comment", "close it with '*/'");
        }
    }

    // ---- tokens ---------------------------------------------------------------------------------

    private void LexToken()
    {
        int start = _pos;
        char c = _text[_pos];
        if (IsIdentStart(c))
        {
            LexIdentifier();
            return;
        }
        if (char.IsAsciiDigit(c))
        {
            LexNumber();
            return;
        }
        switch (c)
        {
            case '"':
                LexString('"');
                return;
            case '\'':
                Report(DiagnosticIds.SingleQuotedString, start, start + 1, "single-quoted strings are not VPL",
                    "use double quotes: \"...\"");
                LexString('\'');
                return;
            case '@':
                LexTimestamp();
                return;
            case '+':
                Punct(SyntaxKind.Plus, 1);
                return;
            case '-':
                if (At(1, '>')) Punct(SyntaxKind.Arrow, 2);
                else Punct(SyntaxKind.Minus, 1);
                return;
            case '*':
                if (At(1, '*')) Punct(SyntaxKind.StarStar, 2);
                else Punct(SyntaxKind.Star, 1);
                return;
            case '/':
                Punct(SyntaxKind.Slash, 1);
                return;
            case '%':
                Punct(SyntaxKind.Percent, 1);
                return;
            case '=':
                if (At(1, '=')) Punct(SyntaxKind.EqualsEquals, 2);
                else if (At(1, '>')) Punct(SyntaxKind.FatArrow, 2);
                else Punct(SyntaxKind.Equals, 1);
                return;
            case '!':
                if (At(1, '='))
                {
                    Punct(SyntaxKind.BangEquals, 2);
                    return;
                }
                _pos++;
                Report(DiagnosticIds.InvalidOperator, start, _pos, "'!' is not a VPL operator", "use 'not'");
                Emit(SyntaxKind.NotKeyword, start, text: "not");
                return;
            case '<':
                if (At(1, '=')) Punct(SyntaxKind.LessEquals, 2);
                else Punct(SyntaxKind.Less, 1);
                return;
            case '>':
                if (At(1, '=')) Punct(SyntaxKind.GreaterEquals, 2);
                else Punct(SyntaxKind.Greater, 1);
                return;
            case '?':
                if (At(1, '?')) Punct(SyntaxKind.QuestionQuestion, 2);
                else if (At(1, '.')) Punct(SyntaxKind.QuestionDot, 2);
                else Punct(SyntaxKind.Question, 1);
                return;
            case '.':
                if (At(1, '.'))
                {
                    if (At(2, '=')) Punct(SyntaxKind.DotDotEquals, 3);
                    else Punct(SyntaxKind.DotDot, 2);
                }
                else if (char.IsAsciiDigit(Peek(1)))
                {
                    LexLeadingDotNumber();
                }
                else
                {
                    Punct(SyntaxKind.Dot, 1);
                }
                return;
            case ':':
                if (At(1, '=')) Punct(SyntaxKind.ColonEquals, 2);
                else Punct(SyntaxKind.Colon, 1);
                return;
            case '(':
                Punct(SyntaxKind.OpenParen, 1);
                return;
            case ')':
                Punct(SyntaxKind.CloseParen, 1);
                return;
            case '[':
                Punct(SyntaxKind.OpenBracket, 1);
                return;
            case ']':
                Punct(SyntaxKind.CloseBracket, 1);
                return;
            case '{':
                Punct(SyntaxKind.OpenBrace, 1);
                return;
            case '}':
                Punct(SyntaxKind.CloseBrace, 1);
                return;
            case ',':
                Punct(SyntaxKind.Comma, 1);
                return;
            case '&' when At(1, '&'):
                _pos += 2;
                Report(DiagnosticIds.InvalidOperator, start, _pos, "'&&' is not a VPL operator", "use 'and'");
                Emit(SyntaxKind.AndKeyword, start, text: "and");
                return;
            case '|' when At(1, '|'):
                _pos += 2;
                Report(DiagnosticIds.InvalidOperator, start, _pos, "'||' is not a VPL operator", "use 'or'");
                Emit(SyntaxKind.OrKeyword, start, text: "or");
                return;
            case ';':
                _pos++;
                Report(DiagnosticIds.InvalidOperator, start, _pos, "';' is not used in VPL",
                    "a statement ends where the next one begins; remove the ';'");
                return;
        }
        LexInvalidRun();
    }

    private void Punct(SyntaxKind kind, int length)
    {
        int start = _pos;
        _pos += length;
        Emit(kind, start);
    }

    private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static bool CanStartToken(char c) => IsIdentStart(c) || char.IsAsciiDigit(c) || c switch
    {
        ' ' or '\t' or '\r' or '\n' or '#' or '"' or '\'' or '@' or '+' or '-' or '*' or '/' or '%' or '=' or '!'
            or '<' or '>' or '?' or '.' or ':' or '(' or ')' or '[' or ']' or '{' or '}' or ',' or ';' => true,
        _ => false,
    };

    private void LexInvalidRun()
    {
        int start = _pos;
        int cp = CodePointAt(_pos, out int width);
        _pos += width;
        while (_pos < _end && !CanStartToken(_text[_pos]) && !StartsLogicalOperator())
        {
            CodePointAt(_pos, out width);
            _pos += width;
        }
        string? hint = cp > 0x7F && !IsSurrogateValue(cp) ? "outside strings and comments, VPL uses ASCII characters only" : null;
        Report(DiagnosticIds.InvalidCharacter, start, _pos, "invalid character " + DescribeCodePoint(cp), hint);
    }

    private bool StartsLogicalOperator() => (_text[_pos] == '&' && At(1, '&')) || (_text[_pos] == '|' && At(1, '|'));

    private int CodePointAt(int i, out int width)
    {
        char c = _text[i];
        if (char.IsHighSurrogate(c) && i + 1 < _end && char.IsLowSurrogate(_text[i + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, _text[i + 1]);
        }
        width = 1;
        return c;
    }

    private static bool IsSurrogateValue(int cp) => cp is >= 0xD800 and <= 0xDFFF;

    /// <summary><c>U+0024 '$'</c> for printable characters, <c>U+0000</c> for control characters and surrogates.</summary>
    internal static string DescribeCodePoint(int cp)
    {
        string code = "U+" + cp.ToString("X4", CultureInfo.InvariantCulture);
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || IsSurrogateValue(cp) || cp > 0x10FFFF) return code;
        return code + " '" + char.ConvertFromUtf32(cp) + "'";
    }

    private void LexIdentifier()
    {
        int start = _pos;
        while (_pos < _end && IsIdentPart(_text[_pos])) _pos++;
        var span = _text.AsSpan(start, _pos - start);
        if (SyntaxFacts.TryGetKeyword(span, out var kind, out var keyword))
        {
            Emit(kind, start, text: keyword);
            return;
        }
        if (!_names.TryGetValue(span, out var name))
        {
            name = span.ToString();
            _names.Add(name);
        }
        Emit(SyntaxKind.Identifier, start, text: name);
    }

    private void LexNumber()
    {
        int start = _pos;
        ulong value = 0;
        bool tooBig = false;
        while (_pos < _end && char.IsAsciiDigit(_text[_pos]))
        {
            uint d = (uint)(_text[_pos] - '0');
            if (!tooBig)
            {
                if (value > (ulong.MaxValue - d) / 10) tooBig = true;
                else value = value * 10 + d;
            }
            _pos++;
        }
        bool isFloat = false;
        if (_pos < _end && _text[_pos] == '.' && !At(1, '.'))
        {
            if (char.IsAsciiDigit(Peek(1)))
            {
                _pos++;
                while (_pos < _end && char.IsAsciiDigit(_text[_pos])) _pos++;
            }
            else
            {
                _pos++;
                string digits = Clip(_text.AsSpan(start, _pos - 1 - start));
                Report(DiagnosticIds.MalformedNumber, start, _pos, "a number needs digits after the dot", $"write {digits}.0");
            }
            isFloat = true;
        }
        isFloat |= LexExponent();
        if (_pos < _end && IsIdentPart(_text[_pos]))
        {
            LexNumberSuffix(start, value, tooBig, isFloat);
            return;
        }
        if (isFloat)
        {
            EmitFloat(start, start);
            return;
        }
        EmitInt(start, value, tooBig);
    }

    private void EmitInt(int start, ulong value, bool tooBig)
    {
        if (!tooBig && value <= long.MaxValue)
        {
            Emit(SyntaxKind.IntLiteral, start, (long)value);
            return;
        }
        if (!tooBig && value == 1UL << 63)
        {
            // Valid only as the operand of a unary minus (long.MinValue); the parser decides.
            Emit(SyntaxKind.IntLiteral, start, long.MinValue, flags: TokenFlags.IntMinMagnitude);
            return;
        }
        Report(DiagnosticIds.NumberTooLarge, start, _pos, "integer literal is too large",
            "the largest integer is 9223372036854775807; write a float (1e19) for larger numbers");
        Emit(SyntaxKind.IntLiteral, start, 0);
    }

    private bool LexExponent()
    {
        if (_pos >= _end || (_text[_pos] != 'e' && _text[_pos] != 'E')) return false;
        int p = _pos + 1;
        if (p < _end && (_text[p] == '+' || _text[p] == '-')) p++;
        if (p >= _end || !char.IsAsciiDigit(_text[p])) return false;
        _pos = p;
        while (_pos < _end && char.IsAsciiDigit(_text[_pos])) _pos++;
        return true;
    }

    private void LexNumberSuffix(int start, ulong value, bool tooBig, bool isFloat)
    {
        int suffixStart = _pos;
        while (_pos < _end && IsIdentPart(_text[_pos])) _pos++;
        var suffix = _text.AsSpan(suffixStart, _pos - suffixStart);
        long unit = TimeFormat.UnitNanos(suffix);
        if (unit > 0 && !isFloat)
        {
            if (tooBig || value > (ulong)(long.MaxValue / unit))
            {
                Report(DiagnosticIds.DurationTooLarge, start, _pos, "duration literal is too large",
                    "a duration holds at most about 292 years");
                Emit(SyntaxKind.DurationLiteral, start, 0);
                return;
            }
            Emit(SyntaxKind.DurationLiteral, start, (long)value * unit);
            return;
        }
        if (unit > 0)
        {
            Report(DiagnosticIds.MalformedNumber, start, _pos, "a duration needs a whole number",
                "use a smaller unit, e.g. 1500ms instead of 1.5s");
            Emit(SyntaxKind.DurationLiteral, start, 0);
            return;
        }
        Report(DiagnosticIds.InvalidNumberSuffix, suffixStart, _pos, $"invalid suffix '{Clip(suffix)}' on a number",
            "a number may only be followed by a duration unit: ns, us, ms, s, m, h or d");
        if (isFloat) EmitFloat(start, start, suffixStart);
        else EmitInt(start, value, tooBig);
    }

    private void LexLeadingDotNumber()
    {
        int start = _pos;
        _pos++;
        while (_pos < _end && char.IsAsciiDigit(_text[_pos])) _pos++;
        LexExponent();
        string digits = Clip(_text.AsSpan(start + 1, _pos - start - 1));
        Report(DiagnosticIds.MalformedNumber, start, _pos, "a number needs digits before the dot", $"write 0.{digits}");
        EmitFloat(start, start);
    }

    private void EmitFloat(int tokenStart, int numberStart, int numberEnd = -1)
    {
        int end = numberEnd < 0 ? _pos : numberEnd;
        var text = _text.AsSpan(numberStart, end - numberStart);
        string normalized = text.ToString();
        if (normalized.StartsWith('.')) normalized = "0" + normalized;
        if (normalized.EndsWith('.')) normalized += "0";
        if (!double.TryParse(normalized, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) d = 0;
        if (double.IsInfinity(d))
        {
            Report(DiagnosticIds.NumberTooLarge, tokenStart, end, "float literal is too large",
                "the largest float is about 1.8e308");
            d = 0;
        }
        Emit(SyntaxKind.FloatLiteral, tokenStart, BitConverter.DoubleToInt64Bits(d));
    }

    private void LexString(char quote)
    {
        int start = _pos;
        _pos++;
        StringBuilder? sb = null;
        int segment = _pos;
        int contentEnd;
        while (true)
        {
            if (_pos >= _end || _text[_pos] == '\n' || (_text[_pos] == '\r' && (_pos + 1 >= _end || _text[_pos + 1] == '\n')))
            {
                contentEnd = _pos;
                Report(DiagnosticIds.UnterminatedString, start, _pos, "unterminated string literal",
                    "close the string with '\"' on the same line; write \\n for a line break");
                break;
            }
            char c = _text[_pos];
            if (c == quote)
            {
                contentEnd = _pos;
                _pos++;
                break;
            }
            if (c == '\\')
            {
                sb ??= new StringBuilder();
                sb.Append(_text, segment, _pos - segment);
                LexEscape(sb);
                segment = _pos;
                continue;
            }
            if (char.IsHighSurrogate(c) && _pos + 1 < _end && char.IsLowSurrogate(_text[_pos + 1]))
            {
                _pos += 2;
                continue;
            }
            if (char.IsSurrogate(c) || (c < 0x20 && c != '\t') || c == 0x7F)
            {
                sb ??= new StringBuilder();
                sb.Append(_text, segment, _pos - segment);
                Report(DiagnosticIds.InvalidCharacter, _pos, _pos + 1, "invalid character " + DescribeCodePoint(c) + " in string",
                    "write it as an escape: \\u{XXXX}");
                _pos++;
                segment = _pos;
                continue;
            }
            _pos++;
        }
        string value = sb is null
            ? _text.Substring(segment, contentEnd - segment)
            : sb.Append(_text, segment, contentEnd - segment).ToString();
        Emit(SyntaxKind.StringLiteral, start, text: value);
    }

    private void LexEscape(StringBuilder sb)
    {
        int start = _pos;
        _pos++;
        if (_pos >= _end || _text[_pos] == '\n' || _text[_pos] == '\r') return;
        char e = _text[_pos];
        switch (e)
        {
            case '"':
                sb.Append('"');
                _pos++;
                return;
            case '\\':
                sb.Append('\\');
                _pos++;
                return;
            case 'n':
                sb.Append('\n');
                _pos++;
                return;
            case 't':
                sb.Append('\t');
                _pos++;
                return;
            case 'r':
                sb.Append('\r');
                _pos++;
                return;
            case 'u':
                _pos++;
                LexUnicodeEscape(start, sb);
                return;
        }
        int cp = CodePointAt(_pos, out int width);
        _pos += width;
        string shown = cp is >= 0x21 and < 0x7F ? "'\\" + (char)cp + "'" : "'\\' followed by " + DescribeCodePoint(cp);
        Report(DiagnosticIds.UnknownEscape, start, _pos, $"unknown escape {shown} in string", EscapeHint);
        sb.Append(_text, start + 1, width);
    }

    private void LexUnicodeEscape(int start, StringBuilder sb)
    {
        if (At(0, '{'))
        {
            int p = _pos + 1;
            int digits = 0;
            int value = 0;
            while (p < _end && char.IsAsciiHexDigit(_text[p]) && digits < 7)
            {
                if (digits < 6) value = value * 16 + HexValue(_text[p]);
                digits++;
                p++;
            }
            if (p < _end && _text[p] == '}' && digits is >= 1 and <= 6 && value <= 0x10FFFF && !IsSurrogateValue(value))
            {
                _pos = p + 1;
                sb.Append(char.ConvertFromUtf32(value));
                return;
            }
            if (p < _end && _text[p] == '}') p++;
            _pos = p;
        }
        Report(DiagnosticIds.InvalidUnicodeEscape, start, _pos, $"invalid unicode escape '{Clip(_text.AsSpan(start, _pos - start))}'",
            "write \\u{XXXX} with 1 to 6 hex digits naming a Unicode character, e.g. \\u{00E9}");
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private void LexTimestamp()
    {
        int start = _pos;
        _pos++;
        int p = _pos;
        bool ok = Digits(ref p, 4) && Char(ref p, '-') && Digits(ref p, 2) && Char(ref p, '-') && Digits(ref p, 2);
        if (ok && p < _end && (_text[p] == 'T' || _text[p] == 't'))
        {
            p++;
            ok = Digits(ref p, 2) && Char(ref p, ':') && Digits(ref p, 2);
            if (ok && p + 2 < _end && _text[p] == ':' && char.IsAsciiDigit(_text[p + 1]))
            {
                p++;
                ok = Digits(ref p, 2);
                if (ok && p + 1 < _end && _text[p] == '.' && char.IsAsciiDigit(_text[p + 1]))
                {
                    p++;
                    while (p < _end && char.IsAsciiDigit(_text[p])) p++;
                }
            }
            if (ok && p < _end && (_text[p] == 'Z' || _text[p] == 'z'))
            {
                p++;
            }
            else if (ok && p < _end && (_text[p] == '+' || _text[p] == '-'))
            {
                int q = p + 1;
                if (Digits(ref q, 2) && Char(ref q, ':') && Digits(ref q, 2)) p = q;
            }
        }
        const string hint = "write @2026-01-23, @2026-01-23T10:00:00Z or @2026-01-23T10:00:00.5+02:00";
        if (!ok || (p < _end && IsIdentPart(_text[p])))
        {
            p = _pos;
            while (p < _end && (IsIdentPart(_text[p]) || _text[p] is '-' or ':' or '+' || (_text[p] == '.' && p + 1 < _end && char.IsAsciiDigit(_text[p + 1]))))
            {
                p++;
            }
            _pos = p;
            string message = p == start + 1 ? "expected a date after '@'" : $"invalid timestamp '{Clip(_text.AsSpan(start, p - start))}'";
            Report(DiagnosticIds.InvalidTimestamp, start, _pos, message, hint);
            Emit(SyntaxKind.TimestampLiteral, start, 0);
            return;
        }
        _pos = p;
        var body = _text.AsSpan(start + 1, p - start - 1);
        int year = int.Parse(body[..4], NumberStyles.None, CultureInfo.InvariantCulture);
        long nanos = 0;
        if (year is < 1678 or > 2261)
        {
            Report(DiagnosticIds.InvalidTimestamp, start, _pos, $"timestamp '@{body}' is out of range",
                "timestamps are nanoseconds since 1970 and must lie between the years 1678 and 2261");
        }
        else if (!TimeFormat.TryParseTimestamp(body, out nanos))
        {
            Report(DiagnosticIds.InvalidTimestamp, start, _pos, $"invalid timestamp '@{body}'", hint);
            nanos = 0;
        }
        Emit(SyntaxKind.TimestampLiteral, start, nanos);
    }

    private bool Digits(ref int p, int count)
    {
        for (int i = 0; i < count; i++, p++)
        {
            if (p >= _end || !char.IsAsciiDigit(_text[p])) return false;
        }
        return true;
    }

    private bool Char(ref int p, char c)
    {
        if (p >= _end || _text[p] != c) return false;
        p++;
        return true;
    }

    /// <summary>Source text for a message, cut to 40 characters.</summary>
    internal static string Clip(ReadOnlySpan<char> text)
        => text.Length <= 40 ? text.ToString() : string.Concat(text[..40], "...");
}
