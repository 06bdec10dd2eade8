using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Syntax;

// Expressions, by precedence (vpl.md §6.1), loosest first:
//   if/lambda < ?? < or < and < not < comparison < range < + - < * / % < unary - < ** < postfix.
// Left-associative chains (a + b + c, x == 1 or x == 2 or ...) are parsed with loops and do not count
// against MaxDepth: they are as long as they like. Real nesting does (brackets, calls, unary operators,
// '**', if/lambda, member access): every consumer of the tree recurses on nesting only and walks the
// left spine of a chain in a loop (ExpressionCompiler.CompileBinary, ExprSyntax.Conjuncts, ...).
internal sealed partial class SyntaxParser
{
    private enum Level
    {
        Coalesce,
        Or,
        And,
        Not,
        Comparison,
        Range,
        Additive,
        Multiplicative,
        Negate,
        Power,
    }

    /// <summary>Parses a full expression; never consumes a token it cannot use.</summary>
    internal ExprSyntax ParseExpression()
    {
        if (_bail) return Missing();
        var t = Current;
        if (t.Kind == SyntaxKind.Identifier && Peek(1).Kind == SyntaxKind.FatArrow) return ParseLambda();
        if (t.Kind == SyntaxKind.OpenParen && IsParenthesizedLambda()) return ParseLambda();
        if (t.Kind == SyntaxKind.IfKeyword) return ParseConditional();
        return ParseLevel(Level.Coalesce);
    }

    private ErrorExprSyntax Missing() => new(new TextSpan(Current.Span.Start, 0));

    private ExprSyntax ParseLevel(Level level) => level switch
    {
        Level.Not => ParseNot(),
        Level.Comparison => ParseComparison(),
        Level.Range => ParseRange(),
        Level.Negate => ParseNegate(),
        Level.Power => ParsePower(),
        _ => ParseLeftAssociative(level),
    };

    private static BinaryOp? BinaryOperator(Level level, SyntaxKind kind) => (level, kind) switch
    {
        (Level.Coalesce, SyntaxKind.QuestionQuestion) => BinaryOp.Coalesce,
        (Level.Or, SyntaxKind.OrKeyword) => BinaryOp.Or,
        (Level.And, SyntaxKind.AndKeyword) => BinaryOp.And,
        (Level.Additive, SyntaxKind.Plus) => BinaryOp.Add,
        (Level.Additive, SyntaxKind.Minus) => BinaryOp.Subtract,
        (Level.Multiplicative, SyntaxKind.Star) => BinaryOp.Multiply,
        (Level.Multiplicative, SyntaxKind.Slash) => BinaryOp.Divide,
        (Level.Multiplicative, SyntaxKind.Percent) => BinaryOp.Modulo,
        _ => null,
    };

    private ExprSyntax ParseLeftAssociative(Level level)
    {
        var left = ParseLevel(level + 1);
        while (!_bail && BinaryOperator(level, Current.Kind) is BinaryOp op)
        {
            Next();
            var right = ParseLevel(level + 1);
            left = new BinaryExprSyntax(op, left, right, left.Span.Cover(right.Span));
        }
        return left;
    }

    private ExprSyntax ParseNot()
    {
        var t = Current;
        if (t.Kind != SyntaxKind.NotKeyword) return ParseLevel(Level.Comparison);
        Next();
        if (!EnterDepth(t)) return Missing();
        var operand = ParseNot();
        _depth--;
        return new UnaryExprSyntax(UnaryOp.Not, operand, TextSpan.FromBounds(t.Span.Start, operand.Span.End));
    }

    private ExprSyntax ParseComparison()
    {
        var left = ParseLevel(Level.Range);
        int folds = 0;
        bool chained = false;
        while (!_bail)
        {
            var t = Current;
            BinaryOp op;
            switch (t.Kind)
            {
                case SyntaxKind.EqualsEquals: op = BinaryOp.Equal; break;
                case SyntaxKind.BangEquals: op = BinaryOp.NotEqual; break;
                case SyntaxKind.Less: op = BinaryOp.Less; break;
                case SyntaxKind.LessEquals: op = BinaryOp.LessOrEqual; break;
                case SyntaxKind.Greater: op = BinaryOp.Greater; break;
                case SyntaxKind.GreaterEquals: op = BinaryOp.GreaterOrEqual; break;
                case SyntaxKind.InKeyword: op = BinaryOp.In; break;
                case SyntaxKind.NotKeyword when Peek(1).Kind == SyntaxKind.InKeyword: op = BinaryOp.NotIn; break;
                case SyntaxKind.IsKeyword: op = BinaryOp.Equal; break;
                default: goto done;
            }
            if (chained)
            {
                Error(DiagnosticIds.ChainedComparison, t.Span, "comparison operators cannot be chained; use 'and'",
                    "write 'a < b and b < c'");
            }
            Next();
            if (op == BinaryOp.NotIn) Next();
            if (t.Kind == SyntaxKind.IsKeyword)
            {
                Error(DiagnosticIds.IsOperator, t.Span, "'is' is not a VPL operator; use '==' or '!='", "write 'x == null' or 'x != null'");
                if (Current.Kind == SyntaxKind.NotKeyword)
                {
                    Next();
                    op = BinaryOp.NotEqual;
                }
            }
            if (!EnterDepth(t)) break;
            folds++;
            var right = ParseLevel(Level.Range);
            left = new BinaryExprSyntax(op, left, right, left.Span.Cover(right.Span));
            chained = true;
        }
    done:
        _depth -= folds;
        return left;
    }

    private ExprSyntax ParseRange()
    {
        var left = ParseLevel(Level.Additive);
        int folds = 0;
        bool chained = false;
        while (!_bail && Current.Kind is SyntaxKind.DotDot or SyntaxKind.DotDotEquals)
        {
            var op = Next();
            if (chained)
            {
                Error(DiagnosticIds.ChainedRange, op.Span, "range operators cannot be chained", "write a single range: a..b or a..=b");
            }
            if (!EnterDepth(op)) break;
            folds++;
            var right = ParseLevel(Level.Additive);
            left = new RangeExprSyntax(left, right, op.Kind == SyntaxKind.DotDotEquals, left.Span.Cover(right.Span));
            chained = true;
        }
        _depth -= folds;
        return left;
    }

    private ExprSyntax ParseNegate()
    {
        var t = Current;
        if (t.Kind != SyntaxKind.Minus) return ParsePower();
        Next();
        var operand = Current;
        if (operand.Kind == SyntaxKind.IntLiteral && (operand.Flags & TokenFlags.IntMinMagnitude) != 0
            && Peek(1).Kind is not (SyntaxKind.StarStar or SyntaxKind.Dot or SyntaxKind.QuestionDot or SyntaxKind.OpenBracket))
        {
            Next();
            return new IntLiteralSyntax(long.MinValue, TextSpan.FromBounds(t.Span.Start, operand.Span.End));
        }
        if (!EnterDepth(t)) return Missing();
        var inner = ParseNegate();
        _depth--;
        return new UnaryExprSyntax(UnaryOp.Negate, inner, TextSpan.FromBounds(t.Span.Start, inner.Span.End));
    }

    private ExprSyntax ParsePower()
    {
        var left = ParsePostfix();
        if (_bail || Current.Kind != SyntaxKind.StarStar) return left;
        var op = Next();
        if (!EnterDepth(op)) return left;
        // Right-associative, and the exponent may be negative: a ** -b ** c = a ** (-(b ** c)).
        var right = ParseNegate();
        _depth--;
        return new BinaryExprSyntax(BinaryOp.Power, left, right, left.Span.Cover(right.Span));
    }

    private ExprSyntax ParsePostfix()
    {
        var expr = ParsePrimary();
        int folds = 0;
        while (!_bail)
        {
            var t = Current;
            if (t.Kind is SyntaxKind.Dot or SyntaxKind.QuestionDot)
            {
                var name = Peek(1);
                if (!IsNameToken(name.Kind))
                {
                    Next();
                    Error(DiagnosticIds.ExpectedName, ExpectedSpan(), $"expected a field name after '{SyntaxFacts.GetText(t.Kind)}'", "record.field");
                    break;
                }
                // '.name(' is never member access: it is the next stream operator (.within(5m)).
                if (t.Kind == SyntaxKind.Dot && Peek(2).Kind == SyntaxKind.OpenParen) break;
                if (!EnterDepth(t)) break;
                folds++;
                Next();
                Next();
                expr = new MemberExprSyntax(expr, Name(name), t.Kind == SyntaxKind.QuestionDot,
                    TextSpan.FromBounds(expr.Span.Start, name.Span.End));
            }
            else if (t.Kind == SyntaxKind.OpenBracket)
            {
                if (!EnterDepth(t)) break;
                folds++;
                expr = ParseIndexOrSlice(expr);
            }
            else
            {
                break;
            }
        }
        _depth -= folds;
        return expr;
    }

    private ExprSyntax ParseIndexOrSlice(ExprSyntax target)
    {
        var open = Next();
        ExprSyntax? start = null;
        ExprSyntax? end = null;
        bool slice = false;
        if (Current.Kind != SyntaxKind.Colon) start = ParseExpression();
        if (!_bail && Current.Kind == SyntaxKind.Colon)
        {
            Next();
            slice = true;
            if (Current.Kind != SyntaxKind.CloseBracket) end = ParseExpression();
        }
        if (!_bail) ExpectClose(open, SyntaxKind.CloseBracket);
        var span = TextSpan.FromBounds(target.Span.Start, Math.Max(target.Span.End, PrevEnd));
        return slice ? new SliceExprSyntax(target, start, end, span) : new IndexExprSyntax(target, start!, span);
    }

    private ExprSyntax ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case SyntaxKind.IntLiteral:
                Next();
                if ((t.Flags & TokenFlags.IntMinMagnitude) != 0)
                {
                    Error(DiagnosticIds.NumberTooLarge, t.Span, "integer literal is too large",
                        "the largest integer is 9223372036854775807; write a float (1e19) for larger numbers");
                    return new IntLiteralSyntax(0, t.Span);
                }
                return new IntLiteralSyntax(t.IntValue, t.Span);
            case SyntaxKind.FloatLiteral:
                Next();
                return new FloatLiteralSyntax(t.FloatValue, t.Span);
            case SyntaxKind.DurationLiteral:
                Next();
                return new DurationLiteralSyntax(t.IntValue, t.Span);
            case SyntaxKind.TimestampLiteral:
                Next();
                return new TimestampLiteralSyntax(t.IntValue, t.Span);
            case SyntaxKind.StringLiteral:
                Next();
                return new StringLiteralSyntax(t.StringValue ?? string.Empty, t.Span);
            case SyntaxKind.TrueKeyword or SyntaxKind.FalseKeyword:
                Next();
                return new BoolLiteralSyntax(t.Kind == SyntaxKind.TrueKeyword, t.Span);
            case SyntaxKind.NullKeyword:
                Next();
                return new NullLiteralSyntax(t.Span);
            case SyntaxKind.Identifier:
                Next();
                if (Current.Kind == SyntaxKind.OpenParen)
                {
                    var args = ParseArgumentList();
                    return new CallExprSyntax(Name(t), args, SpanFrom(t.Span.Start));
                }
                return new NameExprSyntax(t.StringValue!, t.Span);
            case SyntaxKind.OpenParen:
            {
                Next();
                if (!EnterDepth(t)) return Missing();
                var inner = ParseExpression();
                _depth--;
                if (!_bail) ExpectClose(t, SyntaxKind.CloseParen);
                return inner;
            }
            case SyntaxKind.OpenBracket:
                return ParseArrayLiteral();
            case SyntaxKind.OpenBrace:
                return ParseMapLiteral();
            case SyntaxKind.IfKeyword:
                return ParseConditional();
        }
        string? hint = t.Kind switch
        {
            SyntaxKind.PatternAndKeyword or SyntaxKind.PatternOrKeyword or SyntaxKind.PatternNotKeyword
                => $"in expressions write '{t.StringValue!.ToLowerInvariant()}' in lower case",
            SyntaxKind.Plus => "VPL has no unary '+'",
            _ => null,
        };
        Error(DiagnosticIds.ExpectedExpression, ExpectedSpan(), "expected an expression", hint);
        return Missing();
    }

    private ExprSyntax ParseArrayLiteral()
    {
        var open = Next();
        if (!EnterDepth(open)) return Missing();
        var items = new List<ExprSyntax>();
        ParseList(open, SyntaxKind.CloseBracket, () => items.Add(ParseExpression()));
        _depth--;
        return new ArrayExprSyntax(items, SpanFrom(open.Span.Start));
    }

    private ExprSyntax ParseMapLiteral()
    {
        const string hint = "{\"key\": value, other: value}";
        var open = Next();
        if (!EnterDepth(open)) return Missing();
        var entries = new List<MapEntrySyntax>();
        ParseList(open, SyntaxKind.CloseBrace, () =>
        {
            var key = Current;
            if (key.Kind != SyntaxKind.StringLiteral && !IsNameToken(key.Kind))
            {
                Error(DiagnosticIds.ExpectedName, ExpectedSpan(), "expected a map key (a name or a string)", hint);
                return;
            }
            Next();
            if (!Expect(SyntaxKind.Colon, "expected ':' after the map key", hint)) return;
            var value = ParseExpression();
            entries.Add(new MapEntrySyntax(key.StringValue ?? string.Empty, key.Span, value));
        });
        _depth--;
        return new MapExprSyntax(entries, SpanFrom(open.Span.Start));
    }

    private ExprSyntax ParseConditional()
    {
        const string hint = "if condition then a else b";
        var keyword = Next();
        if (!EnterDepth(keyword)) return Missing();
        try
        {
            var condition = ParseExpression();
            if (_bail) return condition;
            if (!Expect(SyntaxKind.ThenKeyword, "expected 'then' after the condition", hint))
            {
                return new ConditionalExprSyntax(condition, Missing(), Missing(), SpanFrom(keyword.Span.Start));
            }
            var then = ParseExpression();
            if (_bail) return then;
            if (!Expect(SyntaxKind.ElseKeyword, "expected 'else': an if expression needs both branches", hint))
            {
                return new ConditionalExprSyntax(condition, then, Missing(), SpanFrom(keyword.Span.Start));
            }
            var otherwise = ParseExpression();
            return new ConditionalExprSyntax(condition, then, otherwise, SpanFrom(keyword.Span.Start));
        }
        finally
        {
            _depth--;
        }
    }

    /// <summary>At '(': is this <c>(a, b) =&gt;</c> (or <c>() =&gt;</c>)? Scans only the parameter names.</summary>
    private bool IsParenthesizedLambda()
    {
        int i = _pos + 1;
        if (TokenAt(i).Kind == SyntaxKind.CloseParen) return TokenAt(i + 1).Kind == SyntaxKind.FatArrow;
        while (true)
        {
            if (TokenAt(i).Kind != SyntaxKind.Identifier) return false;
            i++;
            var k = TokenAt(i).Kind;
            if (k == SyntaxKind.Comma)
            {
                i++;
                continue;
            }
            return k == SyntaxKind.CloseParen && TokenAt(i + 1).Kind == SyntaxKind.FatArrow;
        }
    }

    private ExprSyntax ParseLambda()
    {
        var first = Current;
        var parameters = new List<NameSyntax>();
        if (first.Kind == SyntaxKind.Identifier)
        {
            parameters.Add(Name(Next()));
        }
        else
        {
            Next();
            while (Current.Kind == SyntaxKind.Identifier)
            {
                parameters.Add(Name(Next()));
                if (Current.Kind == SyntaxKind.Comma) Next();
            }
            Next();
        }
        var arrow = Next();
        if (!EnterDepth(arrow)) return Missing();
        var body = ParseExpression();
        _depth--;
        return new LambdaExprSyntax(parameters, body, TextSpan.FromBounds(first.Span.Start, Math.Max(body.Span.End, arrow.Span.End)));
    }

    /// <summary>At '(': <c>(arg, name: arg, ...)</c>, consuming the closing parenthesis.</summary>
    private List<ArgumentSyntax> ParseArgumentList()
    {
        var open = Next();
        var args = new List<ArgumentSyntax>();
        if (!EnterDepth(open)) return args;
        ParseList(open, SyntaxKind.CloseParen, () => args.Add(ParseArgument()));
        _depth--;
        return args;
    }

    private ArgumentSyntax ParseArgument()
    {
        var t = Current;
        if (IsNameToken(t.Kind) && Peek(1).Kind == SyntaxKind.Colon)
        {
            Next();
            Next();
            var value = ParseExpression();
            return new ArgumentSyntax(Name(t), value, TextSpan.FromBounds(t.Span.Start, Math.Max(value.Span.End, PrevEnd)));
        }
        var expr = ParseExpression();
        return new ArgumentSyntax(null, expr, expr.Span);
    }
}
