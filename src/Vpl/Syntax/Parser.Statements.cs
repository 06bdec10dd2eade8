using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Syntax;

// Top-level statements: event, pattern, connector, const/let/var, context, import, loops.
internal sealed partial class SyntaxParser
{
    private const string StatementHint = "a statement starts with " + SyntaxFacts.StatementKeywordList;

    /// <summary>Parses statements up to the end of the tokens, appending them (loops expanded) to <paramref name="output"/>.</summary>
    public void ParseStatements(List<StatementSyntax> output)
    {
        while (Current.Kind != SyntaxKind.EndOfFile)
        {
            int start = _pos;
            _depth = 0;
            _bail = false;
            if (!IsStatementStart(_pos))
            {
                ReportUnexpected(TopLevelHint());
                SkipToStatementStart();
                continue;
            }
            var kind = Current.Kind;
            if (kind == SyntaxKind.ForKeyword)
            {
                ExpandLoop(output);
            }
            else
            {
                var statement = ParseStatement(kind);
                if (statement is not null) output.Add(statement);
            }
            if (_bail)
            {
                SkipToStatementStart();
            }
            else if (Current.Kind != SyntaxKind.EndOfFile && !IsStatementStart(_pos))
            {
                ReportUnexpected(LeftoverHint(kind));
                SkipToStatementStart();
            }
            if (_pos == start && Current.Kind != SyntaxKind.EndOfFile) _pos++;
        }
    }

    private string TopLevelHint()
    {
        var t = Current;
        if (t.Kind == SyntaxKind.Identifier && Peek(1).Kind == SyntaxKind.Equals)
        {
            return $"declare it: 'stream {t.StringValue} = ...' or 'const {t.StringValue} = ...'";
        }
        return StatementHint;
    }

    private string LeftoverHint(SyntaxKind statement)
    {
        var t = Current;
        if (statement == SyntaxKind.StreamKeyword && IsNameToken(t.Kind) && Peek(1).Kind == SyntaxKind.OpenParen)
        {
            return $"operators are chained with '.': write .{t.StringValue}(...)";
        }
        if (statement == SyntaxKind.StreamKeyword && t.Kind == SyntaxKind.WhereKeyword)
        {
            return "a step's 'where' comes before its 'as alias'; to filter the stream use .where(...)";
        }
        if (statement == SyntaxKind.PatternKeyword && t.Kind is SyntaxKind.AndKeyword or SyntaxKind.OrKeyword or SyntaxKind.NotKeyword)
        {
            return $"pattern operators are upper case: {t.StringValue!.ToUpperInvariant()}";
        }
        if (statement != SyntaxKind.PatternKeyword && t.Kind is SyntaxKind.PatternAndKeyword or SyntaxKind.PatternOrKeyword or SyntaxKind.PatternNotKeyword)
        {
            return $"in expressions write '{t.StringValue!.ToLowerInvariant()}' in lower case";
        }
        return "the statement is complete here; " + StatementHint;
    }

    private StatementSyntax? ParseStatement(SyntaxKind kind) => kind switch
    {
        SyntaxKind.EventKeyword => ParseEvent(),
        SyntaxKind.StreamKeyword => ParseStream(),
        SyntaxKind.PatternKeyword => ParsePattern(),
        SyntaxKind.ConnectorKeyword => ParseConnector(),
        SyntaxKind.ConstKeyword or SyntaxKind.LetKeyword or SyntaxKind.VarKeyword => ParseConst(),
        SyntaxKind.FnKeyword => ParseFunction(),
        SyntaxKind.ContextKeyword => ParseContext(),
        _ => ParseImport(),
    };

    // ---- event ----------------------------------------------------------------------------------

    private const string EventHint = "event Name:  (then one 'field: type' per line, indented) or event Name { field: type, ... }";

    private EventDeclSyntax? ParseEvent()
    {
        var keyword = Next();
        var name = ExpectName("expected an event type name after 'event'", EventHint);
        if (name is null) return null;
        NameSyntax? baseName = null;
        if (Current.Kind == SyntaxKind.ExtendsKeyword)
        {
            Next();
            baseName = ExpectName("expected a base event type after 'extends'", "event Name extends Base: ...");
        }
        var fields = new List<FieldDeclSyntax>();
        if (Current.Kind == SyntaxKind.OpenBrace)
        {
            var open = Next();
            ParseList(open, SyntaxKind.CloseBrace, () =>
            {
                var field = ParseFieldDecl();
                if (field is not null) fields.Add(field);
            });
        }
        else if (Current.Kind == SyntaxKind.Colon)
        {
            var colon = Next();
            ParseFieldBlock(keyword.Column, colon, fields);
        }
        else
        {
            Error(DiagnosticIds.ExpectedToken, ExpectedSpan(), "expected ':' or '{' after the event name", EventHint);
            // Indented 'field: type' lines right below still read as the event's fields.
            if (Current.IsFirstOnLine && Current.Column > keyword.Column && Peek(1).Kind == SyntaxKind.Colon)
            {
                ParseFieldBlock(keyword.Column, keyword, fields);
            }
        }
        if (_bail) SkipIndentedLines(keyword.Column);
        return new EventDeclSyntax(name, baseName, fields, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    private void ParseFieldBlock(int eventColumn, Token colon, List<FieldDeclSyntax> fields)
    {
        if (Current.Kind != SyntaxKind.EndOfFile && !Current.IsFirstOnLine)
        {
            Error(DiagnosticIds.ExpectedBlock, Current.Span, "event fields go on the following lines, indented", EventHint);
            while (Current.Kind != SyntaxKind.EndOfFile && !Current.IsFirstOnLine) _pos++;
        }
        int saved = _limitColumn;
        int savedExempt = _limitExempt;
        _limitColumn = eventColumn;
        _limitExempt = -1;
        try
        {
            if (Current.Kind == SyntaxKind.EndOfFile)
            {
                var span = _pos > 0 && _tokens[_pos - 1].Span.End >= colon.Span.End ? new TextSpan(_tokens[_pos - 1].Span.End, 0) : colon.Span;
                Error(DiagnosticIds.ExpectedBlock, span, "expected indented field declarations after ':'", EventHint);
                return;
            }
            ParseIndentedLines(Current.Column, eventColumn, ParseFieldDecl, fields, "one field per line: 'name: type'");
        }
        finally
        {
            _limitColumn = saved;
            _limitExempt = savedExempt;
        }
    }

    private void ReportIndentation(Token first, int blockColumn)
        => Error(DiagnosticIds.InconsistentIndentation, first.Span,
            $"inconsistent indentation: this line starts at column {first.Column} but the block's first line at column {blockColumn}",
            "indent every line of a block by the same amount");

    private FieldDeclSyntax? ParseFieldDecl()
    {
        var name = ExpectName("expected a field name", "field: type");
        if (name is null) return null;
        if (!Expect(SyntaxKind.Colon, "expected ':' after the field name", "field: type")) return null;
        var type = ParseType();
        return type is null ? null : new FieldDeclSyntax(name, type, SpanFrom(name.Span.Start));
    }

    // ---- types ----------------------------------------------------------------------------------

    private TypeSyntax? ParseType()
    {
        var t = Current;
        if (t.Kind is not (SyntaxKind.Identifier or SyntaxKind.OpenBracket or SyntaxKind.OpenBrace))
        {
            Error(DiagnosticIds.ExpectedType, ExpectedSpan(), "expected a type",
                "int, float, bool, str, timestamp, duration, [T], {K: V} or T?");
            return null;
        }
        if (!EnterDepth(t)) return null;
        TypeSyntax? type = null;
        Next();
        if (t.Kind == SyntaxKind.Identifier)
        {
            type = new NamedTypeSyntax(Name(t), t.Span);
        }
        else if (t.Kind == SyntaxKind.OpenBracket)
        {
            var element = ParseType();
            if (!_bail) ExpectClose(t, SyntaxKind.CloseBracket);
            if (element is not null) type = new ArrayTypeSyntax(element, SpanFrom(t.Span.Start));
        }
        else
        {
            var key = ParseType();
            TypeSyntax? value = null;
            if (key is not null && Expect(SyntaxKind.Colon, "expected ':' between the key and value types", "{str: int}"))
            {
                value = ParseType();
            }
            if (!_bail) ExpectClose(t, SyntaxKind.CloseBrace);
            if (key is not null && value is not null) type = new MapTypeSyntax(key, value, SpanFrom(t.Span.Start));
        }
        _depth--;
        while (type is not null && Current.Kind == SyntaxKind.Question)
        {
            Next();
            type = new OptionalTypeSyntax(type, SpanFrom(t.Span.Start));
        }
        return type;
    }

    // ---- pattern, connector, const, context, import ---------------------------------------------

    private PatternDeclSyntax? ParsePattern()
    {
        const string hint = "pattern Name = SEQ(A as a, B where x > a.x) within 1m partition by key";
        var keyword = Next();
        var name = ExpectName("expected a pattern name after 'pattern'", hint);
        if (name is null) return null;
        if (!Expect(SyntaxKind.Equals, "expected '=' after the pattern name", hint)) return null;
        var pattern = ParsePatternOr();
        if (pattern is null) return null;
        ExprSyntax? within = null;
        var partitionBy = new List<NameSyntax>();
        bool sawPartition = false;
        while (!_bail)
        {
            if (Current.Kind == SyntaxKind.WithinKeyword && within is null)
            {
                Next();
                within = ParseExpression();
            }
            else if (Current.Kind == SyntaxKind.PartitionKeyword && !sawPartition)
            {
                sawPartition = true;
                Next();
                if (!Expect(SyntaxKind.ByKeyword, "expected 'by' after 'partition'", "partition by key")) break;
                while (!_bail)
                {
                    var field = ExpectName("expected a field name after 'partition by'", "partition by key1, key2");
                    if (field is null) break;
                    partitionBy.Add(field);
                    if (Current.Kind != SyntaxKind.Comma) break;
                    Next();
                }
            }
            else
            {
                break;
            }
        }
        return new PatternDeclSyntax(name, pattern, within, partitionBy, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    private ConnectorDeclSyntax? ParseConnector()
    {
        const string hint = "connector Name = mqtt(host: \"localhost\", port: 1883)";
        var keyword = Next();
        var name = ExpectName("expected a connector name after 'connector'", hint);
        if (name is null) return null;
        if (!Expect(SyntaxKind.Equals, "expected '=' after the connector name", hint)) return null;
        var kind = ExpectName("expected a connector kind after '=' (mqtt, kafka, http, file, console, ...)", hint);
        if (kind is null) return null;
        IReadOnlyList<ArgumentSyntax> args = Array.Empty<ArgumentSyntax>();
        if (Current.Kind == SyntaxKind.OpenParen) args = ParseArgumentList();
        else Error(DiagnosticIds.ExpectedToken, ExpectedSpan(), "expected '(' after the connector kind", hint);
        return new ConnectorDeclSyntax(name, kind, args, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    private ConstDeclSyntax? ParseConst()
    {
        var keyword = Next();
        var kind = keyword.Kind switch
        {
            SyntaxKind.ConstKeyword => ConstKind.Const,
            SyntaxKind.LetKeyword => ConstKind.Let,
            _ => ConstKind.Var,
        };
        string word = keyword.StringValue!;
        if (ParseBinding(word, "a name", $"the {word} name", $"{word} NAME = value") is not { } binding) return null;
        var (name, type, value) = binding;
        return new ConstDeclSyntax(kind, name, type, value, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    /// <summary>
    /// The <c>NAME [: TYPE] = EXPR</c> after <c>const</c>/<c>let</c>/<c>var</c>, at top level and inside functions.
    /// Null after a reported error.
    /// </summary>
    private (NameSyntax Name, TypeSyntax? Type, ExprSyntax Value)? ParseBinding(string word, string nameWhat, string equalsAfter, string hint)
    {
        var name = ExpectName($"expected {nameWhat} after '{word}'", hint);
        if (name is null) return null;
        TypeSyntax? type = null;
        if (Current.Kind == SyntaxKind.Colon)
        {
            Next();
            type = ParseType();
            if (type is null) return null;
        }
        if (!Expect(SyntaxKind.Equals, $"expected '=' after {equalsAfter}", hint)) return null;
        return (name, type, ParseExpression());
    }

    private ContextDeclSyntax? ParseContext()
    {
        var keyword = Next();
        var name = ExpectName("expected a context name after 'context'", "context fast (cores: [0, 1])");
        if (name is null) return null;
        IReadOnlyList<ArgumentSyntax> args = Current.Kind == SyntaxKind.OpenParen ? ParseArgumentList() : Array.Empty<ArgumentSyntax>();
        return new ContextDeclSyntax(name, args, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    private ImportSyntax? ParseImport()
    {
        var keyword = Next();
        var path = Current;
        if (path.Kind != SyntaxKind.StringLiteral)
        {
            Error(DiagnosticIds.ExpectedToken, ExpectedSpan(), "expected a quoted path after 'import'", "import \"common.vpl\"");
            return null;
        }
        Next();
        return new ImportSyntax(path.StringValue!, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    // ---- loops ----------------------------------------------------------------------------------

    private void ExpandLoop(List<StatementSyntax> output)
    {
        var loop = LoopExpander.ReadLoop(_src, _tokens, _pos, _session.Diagnostics, out int next);
        _pos = next;
        if (loop is not null) LoopExpander.Expand(loop, _src, _session, output);
    }
}
