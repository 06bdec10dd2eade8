using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Syntax;

// Streams (sources, sequence steps, operators) and named-pattern expressions.
internal sealed partial class SyntaxParser
{
    private const string StreamHint = "stream Name = Source .op(...)";
    private const string SourceHint = "a source is an event type, a stream or pattern name, merge(...), join(...), timer(...) or a sequence A -> B";

    private StreamDeclSyntax? ParseStream()
    {
        var keyword = Next();
        var name = ExpectName("expected a stream name after 'stream'", StreamHint);
        if (name is null) return null;
        if (!Expect(SyntaxKind.Equals, "expected '=' after stream name", StreamHint)) return null;
        var operators = new List<OperatorSyntax>();
        var source = ParseStreamSource(operators);
        if (source is null) return null;
        ParseOperators(operators);
        return new StreamDeclSyntax(name, source, operators, SpanFrom(keyword.Span.Start)) { File = _src };
    }

    private SourceSyntax? ParseStreamSource(List<OperatorSyntax> operators)
    {
        var t = Current;
        if (t.Kind == SyntaxKind.Identifier && Peek(1).Kind == SyntaxKind.OpenParen)
        {
            switch (t.StringValue)
            {
                case "merge":
                    return ParseMerge();
                case "join":
                    return ParseJoin();
                case "timer":
                    return ParseTimer();
            }
            Next();
            Error(DiagnosticIds.ExpectedSource, Current.Span, $"unexpected '(' after '{t.StringValue}': a stream source is not a function call", SourceHint);
            return null;
        }
        if (t.Kind is SyntaxKind.Identifier or SyntaxKind.AllKeyword) return ParseStepSource(operators);
        Error(DiagnosticIds.ExpectedSource, ExpectedSpan(), "expected a source after '='", SourceHint);
        return null;
    }

    /// <summary>One sequence step as written: <c>[all] Type [where p] [as alias]</c>.</summary>
    private sealed record Step(Token? All, NameSyntax Type, Token? Where, ExprSyntax? Predicate, NameSyntax? Alias, TextSpan Span)
    {
        public PatternItemSyntax ToItem() => new(false, Type, All is null ? Quantifier.One : Quantifier.Plus, Predicate, Alias, Span);
    }

    private Step? ParseStep(string after)
    {
        var start = Current;
        Token? all = null;
        if (start.Kind == SyntaxKind.AllKeyword) all = Next();
        if (Current.Kind != SyntaxKind.Identifier)
        {
            ExpectName(all is null ? $"expected an event type after '{after}'" : "expected an event type after 'all'",
                "A as a -> all B where x > a.x as b -> C");
            return null;
        }
        var type = Name(Next());
        Token? where = null;
        ExprSyntax? predicate = null;
        if (Current.Kind == SyntaxKind.WhereKeyword)
        {
            where = Next();
            predicate = ParseExpression();
        }
        NameSyntax? alias = null;
        if (!_bail && Current.Kind == SyntaxKind.AsKeyword)
        {
            Next();
            alias = ExpectName("expected an alias name after 'as'", "Type as alias");
        }
        return new Step(all, type, where, predicate, alias, SpanFrom(start.Span.Start));
    }

    private SourceSyntax? ParseStepSource(List<OperatorSyntax> operators)
    {
        var first = ParseStep("=");
        if (first is null) return null;
        var steps = new List<Step> { first };
        FromClauseSyntax? from = null;
        NameSyntax? alias = first.Alias;
        int sourceEnd = first.Span.End;
        // Operators written between the steps still apply to the whole match, in source order.
        while (!_bail)
        {
            var t = Current;
            if (t.Kind == SyntaxKind.Dot && Peek(1) is { Kind: SyntaxKind.Identifier, StringValue: "from" }
                && Peek(2).Kind == SyntaxKind.OpenParen && steps.Count == 1 && operators.Count == 0 && from is null)
            {
                from = ParseFromClause();
                if (from is null) break;
                if (Current.Kind == SyntaxKind.AsKeyword && alias is null)
                {
                    Next();
                    alias = ExpectName("expected an alias name after 'as'", "Type.from(Connector) as alias");
                }
                sourceEnd = PrevEnd;
                continue;
            }
            if (t.Kind == SyntaxKind.Dot)
            {
                if (!ParseOperator(operators)) break;
                continue;
            }
            if (t.Kind == SyntaxKind.Arrow)
            {
                Next();
                var step = ParseStep("->");
                if (step is null) break;
                steps.Add(step);
                continue;
            }
            break;
        }
        var span = TextSpan.FromBounds(first.Span.Start, steps[^1].Span.End);
        if (steps.Count > 1)
        {
            if (from is not null)
            {
                Error(DiagnosticIds.FromOnSequence, from.Span, "'.from(...)' only applies to a single event-type source, not to a sequence",
                    "declare the input stream first: stream In = Type.from(Connector, ...), then use In in the sequence");
            }
            return new SequenceSourceSyntax(steps.Select(s => s.ToItem()).ToArray(), span);
        }
        if (first.Where is not null)
        {
            Error(DiagnosticIds.SourceStepNeedsArrow, first.Where.Value.Span,
                "a 'where' on the source needs a following '->' step; use .where(...)", $"{first.Type.Text}.where(...)");
        }
        else if (first.All is not null)
        {
            Error(DiagnosticIds.SourceStepNeedsArrow, first.All.Value.Span,
                "'all' on the source needs a following '->' step", $"all {first.Type.Text} as a -> Next");
        }
        return new NamedSourceSyntax(first.Type, alias, from, TextSpan.FromBounds(first.Span.Start, sourceEnd));
    }

    private FromClauseSyntax? ParseFromClause()
    {
        const string hint = "Type.from(Connector, topic: \"t\")";
        var dot = Next();
        Next();
        var args = ParseArgumentList();
        if (args.Count == 0 || args[0].Name is not null || args[0].Value is not NameExprSyntax connector)
        {
            Error(DiagnosticIds.ExpectedName, args.Count > 0 ? args[0].Span : SpanFrom(dot.Span.Start),
                "expected a connector name as the first argument of .from(...)", hint);
            return null;
        }
        return new FromClauseSyntax(new NameSyntax(connector.Name, connector.Span), args.Skip(1).ToArray(), SpanFrom(dot.Span.Start));
    }

    private void ParseOperators(List<OperatorSyntax> operators)
    {
        while (!_bail && Current.Kind == SyntaxKind.Dot)
        {
            if (!ParseOperator(operators)) return;
        }
    }

    /// <summary>Parses <c>.name(args)</c> or <c>.not(Type [where p])</c>; false when nothing sensible followed the dot.</summary>
    private bool ParseOperator(List<OperatorSyntax> operators)
    {
        var dot = Next();
        var nameToken = Current;
        if (!IsNameToken(nameToken.Kind))
        {
            Error(DiagnosticIds.ExpectedName, ExpectedSpan(), "expected an operator name after '.'", StreamHint);
            return false;
        }
        Next();
        var name = Name(nameToken);
        if (Current.Kind != SyntaxKind.OpenParen)
        {
            Error(DiagnosticIds.OperatorNeedsParentheses, nameToken.Span, $"operator '.{name.Text}' needs parentheses",
                $"write .{name.Text}()");
            operators.Add(new OperatorSyntax(name, Array.Empty<ArgumentSyntax>(), SpanFrom(dot.Span.Start)));
            return true;
        }
        if (name.Text == "not")
        {
            var not = ParseNotOperator(dot, name);
            if (not is not null) operators.Add(not);
            return true;
        }
        var args = ParseArgumentList();
        operators.Add(new OperatorSyntax(name, args, SpanFrom(dot.Span.Start)));
        return true;
    }

    private NotOperatorSyntax? ParseNotOperator(Token dot, NameSyntax name)
    {
        var open = Next();
        if (Current.Kind != SyntaxKind.Identifier)
        {
            ExpectName("expected an event type in .not(...)", ".not(Type where predicate)");
            SkipToListResync(SyntaxKind.CloseParen);
            if (Current.Kind == SyntaxKind.CloseParen) Next();
            return null;
        }
        var type = Name(Next());
        ExprSyntax? predicate = null;
        if (Current.Kind == SyntaxKind.WhereKeyword)
        {
            Next();
            predicate = ParseExpression();
        }
        if (_bail) return null;
        if (Current.Kind != SyntaxKind.CloseParen)
        {
            ReportExpectedClose(open, SyntaxKind.CloseParen);
            SkipToListResync(SyntaxKind.CloseParen);
        }
        if (Current.Kind == SyntaxKind.CloseParen) Next();
        return new NotOperatorSyntax(name, type, predicate, SpanFrom(dot.Span.Start));
    }

    private MergeSourceSyntax ParseMerge()
    {
        var keyword = Next();
        var open = Next();
        var inputs = new List<MergeInputSyntax>();
        if (EnterDepth(open))
        {
            ParseList(open, SyntaxKind.CloseParen, () =>
            {
                var input = ParseMergeInput();
                if (input is not null) inputs.Add(input);
            });
            _depth--;
        }
        if (inputs.Count == 0 && !_bail)
        {
            Error(DiagnosticIds.EmptyList, keyword.Span, "merge(...) needs at least one input", "merge(A, B.where(x > 1))");
        }
        return new MergeSourceSyntax(inputs, SpanFrom(keyword.Span.Start));
    }

    private MergeInputSyntax? ParseMergeInput()
    {
        var start = Current;
        NameSyntax? streamName = null;
        if (start.Kind == SyntaxKind.StreamKeyword)
        {
            Next();
            streamName = ExpectName("expected a stream name after 'stream'", "merge(stream N = Type .where(...), ...)");
            if (streamName is null) return null;
            if (!Expect(SyntaxKind.Equals, "expected '=' after stream name", "merge(stream N = Type .where(...), ...)")) return null;
        }
        if (Current.Kind != SyntaxKind.Identifier)
        {
            ExpectName("expected an event type or stream name in merge(...)", "merge(A, B.where(x > 1))");
            return null;
        }
        var source = Name(Next());
        var operators = new List<OperatorSyntax>();
        ParseOperators(operators);
        return new MergeInputSyntax(streamName, source, operators, SpanFrom(start.Span.Start));
    }

    private JoinSourceSyntax ParseJoin()
    {
        var keyword = Next();
        var open = Next();
        var inputs = new List<NameSyntax>();
        ParseList(open, SyntaxKind.CloseParen, () =>
        {
            if (Current.Kind == SyntaxKind.Identifier && Peek(1).Kind is SyntaxKind.Comma or SyntaxKind.CloseParen)
            {
                inputs.Add(Name(Next()));
                return;
            }
            Error(DiagnosticIds.ExpectedName, ExpectedSpan(), "join(...) takes event type or stream names",
                "join(A, B).on(A.key == B.key)");
        });
        if (inputs.Count == 0 && !_bail)
        {
            Error(DiagnosticIds.EmptyList, keyword.Span, "join(...) needs at least one input", "join(A, B).on(A.key == B.key)");
        }
        return new JoinSourceSyntax(inputs, SpanFrom(keyword.Span.Start));
    }

    private TimerSourceSyntax ParseTimer()
    {
        const string hint = "timer(5s) or timer(5s, initial_delay: 1s)";
        var keyword = Next();
        var args = ParseArgumentList();
        ExprSyntax? period = null;
        ExprSyntax? delay = null;
        foreach (var arg in args)
        {
            if (arg.Name is null && period is null && delay is null)
            {
                period = arg.Value;
            }
            else if (arg.Name?.Text == "initial_delay" && delay is null)
            {
                delay = arg.Value;
            }
            else
            {
                string what = arg.Name is null ? "timer(...) takes a single period" : $"unknown timer argument '{arg.Name.Text}'";
                Error(DiagnosticIds.InvalidTimerArguments, arg.Span, what, hint);
            }
        }
        var span = SpanFrom(keyword.Span.Start);
        if (period is null)
        {
            if (!_bail) Error(DiagnosticIds.InvalidTimerArguments, keyword.Span, "timer(...) needs a period", hint);
            period = new ErrorExprSyntax(new TextSpan(keyword.Span.Start, 0));
        }
        return new TimerSourceSyntax(period, delay, span);
    }

    // ---- named-pattern expressions ----------------------------------------------------------------

    private PatternExprSyntax? ParsePatternOr()
    {
        var left = ParsePatternAnd();
        int folds = 0;
        while (left is not null && !_bail && Current.Kind == SyntaxKind.PatternOrKeyword)
        {
            var op = Next();
            if (!EnterDepth(op)) break;
            folds++;
            var right = ParsePatternAnd();
            if (right is null) break;
            left = new OrPatternSyntax(left, right, left.Span.Cover(right.Span));
        }
        _depth -= folds;
        return left;
    }

    private PatternExprSyntax? ParsePatternAnd()
    {
        var left = ParsePatternPrimary();
        int folds = 0;
        while (left is not null && !_bail && Current.Kind == SyntaxKind.PatternAndKeyword)
        {
            var op = Next();
            if (!EnterDepth(op)) break;
            folds++;
            var right = ParsePatternPrimary();
            if (right is null) break;
            left = new AndPatternSyntax(left, right, left.Span.Cover(right.Span));
        }
        _depth -= folds;
        return left;
    }

    private PatternExprSyntax? ParsePatternPrimary()
    {
        const string hint = "a pattern is an event type (Type+, Type where p as a), SEQ(...), NOT Type, or (A OR B) AND C";
        var t = Current;
        switch (t.Kind)
        {
            case SyntaxKind.OpenParen:
            {
                Next();
                if (!EnterDepth(t)) return null;
                var inner = ParsePatternOr();
                _depth--;
                if (_bail) return null;
                ExpectClose(t, SyntaxKind.CloseParen);
                return inner;
            }
            case SyntaxKind.SeqKeyword:
            {
                Next();
                if (Current.Kind != SyntaxKind.OpenParen)
                {
                    Error(DiagnosticIds.ExpectedToken, ExpectedSpan(), "expected '(' after SEQ", "SEQ(A as a, B, NOT C)");
                    return null;
                }
                var open = Next();
                if (!EnterDepth(open)) return null;
                var items = new List<PatternExprSyntax>();
                ParseList(open, SyntaxKind.CloseParen, () =>
                {
                    var item = ParsePatternOr();
                    if (item is not null) items.Add(item);
                });
                _depth--;
                if (items.Count == 0 && !_bail)
                {
                    Error(DiagnosticIds.EmptyList, t.Span, "SEQ(...) needs at least one item", "SEQ(A as a, B)");
                }
                return new SeqPatternSyntax(items, SpanFrom(t.Span.Start));
            }
            case SyntaxKind.PatternNotKeyword or SyntaxKind.Identifier:
                return ParsePatternItem();
            case SyntaxKind.NotKeyword:
                Error(DiagnosticIds.ExpectedPattern, t.Span, "pattern operators are upper case: write 'NOT'", "SEQ(A, NOT B, C)");
                return ParsePatternItem();
            default:
                Error(DiagnosticIds.ExpectedPattern, ExpectedSpan(), "expected a pattern", hint);
                return null;
        }
    }

    private PatternItemSyntax? ParsePatternItem()
    {
        var start = Current;
        bool negated = false;
        if (start.Kind is SyntaxKind.PatternNotKeyword or SyntaxKind.NotKeyword)
        {
            Next();
            negated = true;
        }
        if (Current.Kind != SyntaxKind.Identifier)
        {
            ExpectName(negated ? "expected an event type after 'NOT'" : "expected an event type", "SEQ(A as a, B+ where x > a.x as b)");
            return null;
        }
        var type = Name(Next());
        var quantifier = Current.Kind switch
        {
            SyntaxKind.Plus => Quantifier.Plus,
            SyntaxKind.Star => Quantifier.Star,
            SyntaxKind.Question => Quantifier.Optional,
            _ => Quantifier.One,
        };
        if (quantifier != Quantifier.One) Next();
        ExprSyntax? predicate = null;
        if (Current.Kind == SyntaxKind.WhereKeyword)
        {
            Next();
            predicate = ParseExpression();
        }
        NameSyntax? alias = null;
        if (!_bail && Current.Kind == SyntaxKind.AsKeyword)
        {
            Next();
            alias = ExpectName("expected an alias name after 'as'", "Type as alias");
        }
        return new PatternItemSyntax(negated, type, quantifier, predicate, alias, SpanFrom(start.Span.Start));
    }
}
