using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Syntax;

// Functions and their indentation-based blocks.
internal sealed partial class SyntaxParser
{
    private const string FnHint = "fn name(p: T, q: T) -> T:  (then the body on the following lines, indented)";

    private FunctionDeclSyntax? ParseFunction()
    {
        var keyword = Next();
        int indent = keyword.Indent;
        var name = ExpectName("expected a function name after 'fn'", FnHint);
        if (name is null || Current.Kind != SyntaxKind.OpenParen)
        {
            if (name is not null) Error(DiagnosticIds.ExpectedToken, ExpectedSpan(), "expected '(' after the function name", FnHint);
            SkipIndentedLines(indent);
            return null;
        }
        var open = Next();
        var parameters = new List<ParameterSyntax>();
        ParseList(open, SyntaxKind.CloseParen, () =>
        {
            var parameter = ParseParameter();
            if (parameter is not null) parameters.Add(parameter);
        });
        TypeSyntax? returnType = null;
        if (!_bail && Current.Kind == SyntaxKind.Arrow)
        {
            Next();
            returnType = ParseType();
        }
        if (_bail || !Expect(SyntaxKind.Colon, "expected ':' after the function signature", FnHint))
        {
            SkipIndentedLines(indent);
            return null;
        }
        var colon = _tokens[_pos - 1];
        var body = ParseBlock(indent, colon);
        if (_bail) SkipIndentedLines(indent);
        return new FunctionDeclSyntax(name, parameters, returnType, body, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    private ParameterSyntax? ParseParameter()
    {
        var name = ExpectName("expected a parameter name", "fn name(p: T, q: T)");
        if (name is null) return null;
        TypeSyntax? type = null;
        if (Current.Kind == SyntaxKind.Colon)
        {
            Next();
            type = ParseType();
        }
        return new ParameterSyntax(name, type, SpanFrom(name.Span.Start));
    }

    /// <summary>
    /// The lines of an indented block, one item per line, all starting at <paramref name="blockColumn"/>: each line
    /// is parsed by <paramref name="parseLine"/> within the line's bounds; a misplaced or extra item is reported and
    /// skipped, so one bad line never swallows the next.
    /// </summary>
    private void ParseIndentedLines<T>(int blockColumn, int headerIndent, Func<T?> parseLine, List<T> into, string onePerLine)
        where T : class
    {
        while (!_bail && Current.Kind != SyntaxKind.EndOfFile)
        {
            var line = Current;
            int lineStart = _pos;
            if (line.Column != blockColumn) ReportIndentation(line, blockColumn);
            LimitToCurrentLine();
            var item = parseLine();
            if (item is not null) into.Add(item);
            if (!_bail && Current.Kind != SyntaxKind.EndOfFile)
            {
                if (Current.IsFirstOnLine) ReportIndentation(Current, blockColumn);
                else ReportUnexpected(onePerLine);
                SkipToBoundary();
            }
            if (_pos == lineStart) SkipToBoundary();
            _limitColumn = headerIndent;
            _limitExempt = -1;
        }
    }

    /// <summary>
    /// The block after a header's ':': the following lines indented more than <paramref name="headerIndent"/>
    /// (all at one column), or a single simple statement on the same line.
    /// </summary>
    private BlockSyntax ParseBlock(int headerIndent, Token colon)
    {
        int saved = _limitColumn;
        int savedExempt = _limitExempt;
        try
        {
            _limitColumn = headerIndent;
            _limitExempt = -1;
            var first = Current;
            if (first.Kind != SyntaxKind.EndOfFile && !first.IsFirstOnLine)
            {
                if (first.Kind is SyntaxKind.IfKeyword or SyntaxKind.ForKeyword or SyntaxKind.WhileKeyword)
                {
                    Error(DiagnosticIds.InlineCompoundStatement, first.Span, "only a simple statement can follow ':' on the same line",
                        "put the block on the following lines, indented");
                }
                var single = ParseFnStatement();
                if (!_bail && Current.Kind != SyntaxKind.EndOfFile)
                {
                    ReportUnexpected("one statement per line");
                    SkipToBoundary();
                }
                return new BlockSyntax(single is null ? Array.Empty<FnStatementSyntax>() : new[] { single }, SpanFrom(first.Span.Start));
            }
            if (first.Kind == SyntaxKind.EndOfFile)
            {
                Error(DiagnosticIds.ExpectedBlock, new TextSpan(colon.Span.End, 0), "expected an indented block after ':'",
                    "indent the body's lines more than the line that opens it");
                return new BlockSyntax(Array.Empty<FnStatementSyntax>(), new TextSpan(colon.Span.End, 0));
            }
            if (!EnterDepth(first)) return new BlockSyntax(Array.Empty<FnStatementSyntax>(), new TextSpan(colon.Span.End, 0));
            var statements = new List<FnStatementSyntax>();
            ParseIndentedLines(first.Column, headerIndent, ParseFnStatement, statements, "one statement per line");
            _depth--;
            return new BlockSyntax(statements, SpanFrom(first.Span.Start));
        }
        finally
        {
            _limitColumn = saved;
            _limitExempt = savedExempt;
        }
    }

    private FnStatementSyntax? ParseFnStatement()
    {
        var t = Current;
        switch (t.Kind)
        {
            case SyntaxKind.LetKeyword or SyntaxKind.VarKeyword:
                return ParseLocalDecl();
            case SyntaxKind.IfKeyword:
                return ParseIf();
            case SyntaxKind.ForKeyword:
                return ParseFor();
            case SyntaxKind.WhileKeyword:
                return ParseWhile();
            case SyntaxKind.BreakKeyword:
                Next();
                return new BreakSyntax(t.Span);
            case SyntaxKind.ContinueKeyword:
                Next();
                return new ContinueSyntax(t.Span);
            case SyntaxKind.ReturnKeyword:
            {
                Next();
                var value = Current.Kind == SyntaxKind.EndOfFile ? null : ParseExpression();
                return new ReturnSyntax(value, SpanFrom(t.Span.Start));
            }
            case SyntaxKind.EmitKeyword:
                return ParseEmit();
        }
        if (SyntaxFacts.IsTopLevelKeyword(t.Kind))
        {
            Error(DiagnosticIds.StatementNotAllowedHere, t.Span, $"'{t.StringValue}' cannot appear inside a function body",
                "a function ends at the first line indented no more than its 'fn'; dedent this line to end the function");
            SkipToBoundary();
            return null;
        }
        var expr = ParseExpression();
        if (_bail) return null;
        if (Current.Kind == SyntaxKind.ColonEquals)
        {
            Next();
            var value = ParseExpression();
            if (expr is NameExprSyntax target)
            {
                return new AssignSyntax(new NameSyntax(target.Name, target.Span), value, SpanFrom(t.Span.Start));
            }
            Error(DiagnosticIds.InvalidAssignmentTarget, expr.Span, "only a variable can be assigned with ':='", "x := value");
            return null;
        }
        if (Current.Kind == SyntaxKind.Equals)
        {
            var eq = Next();
            string hint = expr is NameExprSyntax n
                ? $"write '{n.Name} := ...' to change a variable, or 'let {n.Name} = ...' to declare one"
                : "x := value";
            Error(DiagnosticIds.AssignmentWithEquals, eq.Span, "use ':=' to assign to a variable", hint);
            var value = ParseExpression();
            return expr is NameExprSyntax target
                ? new AssignSyntax(new NameSyntax(target.Name, target.Span), value, SpanFrom(t.Span.Start))
                : null;
        }
        if (expr is ErrorExprSyntax) return null;
        return new ExprStatementSyntax(expr, expr.Span);
    }

    private LocalDeclSyntax? ParseLocalDecl()
    {
        var keyword = Next();
        string word = keyword.StringValue!;
        if (ParseBinding(word, "a variable name", "the variable name", $"{word} name = value") is not { } binding) return null;
        var (name, type, value) = binding;
        return new LocalDeclSyntax(keyword.Kind == SyntaxKind.VarKeyword, name, type, value, SpanFrom(keyword.Span.Start));
    }

    private IfSyntax ParseIf()
    {
        var keyword = Next();
        int indent = keyword.Indent;
        var branches = new List<IfBranchSyntax>();
        BlockSyntax? otherwise = null;
        var condition = ParseExpression();
        Expect(SyntaxKind.Colon, "expected ':' after the if condition", "if condition:");
        branches.Add(new IfBranchSyntax(condition, ParseBlock(indent, _tokens[Math.Max(0, _pos - 1)])));
        // elif/else sit at the if's own column, which ends the if's block: look at the raw token.
        while (!_bail)
        {
            var raw = _tokens[_pos];
            if (!raw.IsFirstOnLine || raw.Column != indent) break;
            if (raw.Kind == SyntaxKind.ElifKeyword)
            {
                _pos++;
                var elifCondition = ParseExpression();
                Expect(SyntaxKind.Colon, "expected ':' after the elif condition", "elif condition:");
                branches.Add(new IfBranchSyntax(elifCondition, ParseBlock(indent, _tokens[_pos - 1])));
                continue;
            }
            if (raw.Kind == SyntaxKind.ElseKeyword)
            {
                _pos++;
                Expect(SyntaxKind.Colon, "expected ':' after 'else'", "else:");
                otherwise = ParseBlock(indent, _tokens[_pos - 1]);
            }
            break;
        }
        return new IfSyntax(branches, otherwise, SpanFrom(keyword.Span.Start));
    }

    private ForSyntax? ParseFor()
    {
        var keyword = Next();
        const string hint = "for item in items:";
        var variable = ExpectName("expected a loop variable after 'for'", hint);
        if (variable is null) return null;
        if (!Expect(SyntaxKind.InKeyword, "expected 'in' after the loop variable", hint)) return null;
        var iterable = ParseExpression();
        Expect(SyntaxKind.Colon, "expected ':' after the loop's iterable", hint);
        var body = ParseBlock(keyword.Indent, _tokens[_pos - 1]);
        return new ForSyntax(variable, iterable, body, SpanFrom(keyword.Span.Start));
    }

    private WhileSyntax ParseWhile()
    {
        var keyword = Next();
        var condition = ParseExpression();
        Expect(SyntaxKind.Colon, "expected ':' after the while condition", "while condition:");
        var body = ParseBlock(keyword.Indent, _tokens[_pos - 1]);
        return new WhileSyntax(condition, body, SpanFrom(keyword.Span.Start));
    }

    private EmitSyntax? ParseEmit()
    {
        const string hint = "emit Alert(field: value, ...)";
        var keyword = Next();
        var type = ExpectName("expected an event type after 'emit'", hint);
        if (type is null) return null;
        if (Current.Kind != SyntaxKind.OpenParen)
        {
            Error(DiagnosticIds.ExpectedToken, ExpectedSpan(), "expected '(' after the event type", hint);
            return new EmitSyntax(type, Array.Empty<ArgumentSyntax>(), SpanFrom(keyword.Span.Start));
        }
        var args = ParseArgumentList();
        return new EmitSyntax(type, args, SpanFrom(keyword.Span.Start));
    }
}
