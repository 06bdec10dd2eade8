namespace Varpulis.Vpl.Syntax;

// The VPL syntax tree. Immutable records; every node knows its span in its source file.
// The parser builds it (never throwing), the binder reads it.

/// <summary>An identifier as written, with its span.</summary>
public sealed record NameSyntax(string Text, TextSpan Span)
{
    public override string ToString() => Text;
}

/// <summary>A parsed file: its statements, in order (top-level <c>for</c> loops already expanded).</summary>
public sealed record ProgramSyntax(SourceText Source, IReadOnlyList<StatementSyntax> Statements);

// ---------------------------------------------------------------------------------------------
// Statements

public abstract record StatementSyntax(TextSpan Span)
{
    /// <summary>The file this statement was parsed from (imports bring statements of other files).</summary>
    public SourceText File { get; init; } = null!;
}

/// <summary><c>event Name [extends Base]:</c> + indented fields, or <c>event Name { f: T, ... }</c>.</summary>
public sealed record EventDeclSyntax(NameSyntax Name, NameSyntax? Base, IReadOnlyList<FieldDeclSyntax> Fields, TextSpan Span)
    : StatementSyntax(Span);

public sealed record FieldDeclSyntax(NameSyntax Name, TypeSyntax Type, TextSpan Span);

/// <summary><c>stream Name = source .op(...)...</c></summary>
public sealed record StreamDeclSyntax(NameSyntax Name, SourceSyntax Source, IReadOnlyList<OperatorSyntax> Operators, TextSpan Span)
    : StatementSyntax(Span);

/// <summary><c>pattern Name = pattern-expr [within d] [partition by f, ...]</c></summary>
public sealed record PatternDeclSyntax(
    NameSyntax Name,
    PatternExprSyntax Pattern,
    ExprSyntax? Within,
    IReadOnlyList<NameSyntax> PartitionBy,
    TextSpan Span) : StatementSyntax(Span);

/// <summary><c>connector Name = kind(key: value, ...)</c></summary>
public sealed record ConnectorDeclSyntax(NameSyntax Name, NameSyntax Kind, IReadOnlyList<ArgumentSyntax> Args, TextSpan Span)
    : StatementSyntax(Span);

public enum ConstKind
{
    Const,
    Let,
    Var,
}

/// <summary><c>const X = e</c>, <c>let x = e</c>, <c>var x = e</c> at top level.</summary>
public sealed record ConstDeclSyntax(ConstKind Kind, NameSyntax Name, TypeSyntax? Type, ExprSyntax Value, TextSpan Span)
    : StatementSyntax(Span);

/// <summary><c>fn name(p: T, ...) [-> T]:</c> + indented block.</summary>
public sealed record FunctionDeclSyntax(
    NameSyntax Name,
    IReadOnlyList<ParameterSyntax> Parameters,
    TypeSyntax? ReturnType,
    BlockSyntax Body,
    TextSpan Span) : StatementSyntax(Span);

public sealed record ParameterSyntax(NameSyntax Name, TypeSyntax? Type, TextSpan Span);

/// <summary><c>context name [(cores: [...])]</c></summary>
public sealed record ContextDeclSyntax(NameSyntax Name, IReadOnlyList<ArgumentSyntax> Args, TextSpan Span)
    : StatementSyntax(Span);

/// <summary><c>import "path.vpl"</c>; resolved by the compiler through its source resolver.</summary>
public sealed record ImportSyntax(string Path, TextSpan Span) : StatementSyntax(Span);

// ---------------------------------------------------------------------------------------------
// Types

public abstract record TypeSyntax(TextSpan Span);

/// <summary><c>int float bool str timestamp duration</c> (or an unknown name, reported by the binder).</summary>
public sealed record NamedTypeSyntax(NameSyntax Name, TextSpan Span) : TypeSyntax(Span);

/// <summary><c>[T]</c></summary>
public sealed record ArrayTypeSyntax(TypeSyntax Element, TextSpan Span) : TypeSyntax(Span);

/// <summary><c>{K: V}</c></summary>
public sealed record MapTypeSyntax(TypeSyntax Key, TypeSyntax Value, TextSpan Span) : TypeSyntax(Span);

/// <summary><c>T?</c></summary>
public sealed record OptionalTypeSyntax(TypeSyntax Inner, TextSpan Span) : TypeSyntax(Span);

// ---------------------------------------------------------------------------------------------
// Stream sources

public abstract record SourceSyntax(TextSpan Span);

/// <summary>
/// <c>Name</c>, <c>Name as a</c>, or <c>Name.from(Connector, topic: "t")</c>. Name is an event type, another
/// stream or a named pattern; the binder decides which.
/// </summary>
public sealed record NamedSourceSyntax(NameSyntax Name, NameSyntax? Alias, FromClauseSyntax? From, TextSpan Span)
    : SourceSyntax(Span);

/// <summary><c>.from(Connector, key: value, ...)</c> written directly on an event-type source.</summary>
public sealed record FromClauseSyntax(NameSyntax Connector, IReadOnlyList<ArgumentSyntax> Args, TextSpan Span);

/// <summary>
/// An inline SASE+ sequence: <c>[all] A [where p] [as a] -> [all] B [where q] [as b] -> ...</c>. The first
/// element is the stream's source; there are always at least two steps.
/// </summary>
public sealed record SequenceSourceSyntax(IReadOnlyList<PatternItemSyntax> Steps, TextSpan Span) : SourceSyntax(Span);

/// <summary><c>merge(A, B.where(c), stream N = T .where(c2), ...)</c></summary>
public sealed record MergeSourceSyntax(IReadOnlyList<MergeInputSyntax> Inputs, TextSpan Span) : SourceSyntax(Span);

/// <summary>One merge input: an optional <c>stream N =</c> name, the source name and its operators.</summary>
public sealed record MergeInputSyntax(NameSyntax? StreamName, NameSyntax Source, IReadOnlyList<OperatorSyntax> Operators, TextSpan Span);

/// <summary><c>join(A, B, ...)</c>; its <c>.on(...)</c> is an ordinary operator of the stream.</summary>
public sealed record JoinSourceSyntax(IReadOnlyList<NameSyntax> Inputs, TextSpan Span) : SourceSyntax(Span);

/// <summary><c>timer(period [, initial_delay: d])</c></summary>
public sealed record TimerSourceSyntax(ExprSyntax Period, ExprSyntax? InitialDelay, TextSpan Span) : SourceSyntax(Span);

// ---------------------------------------------------------------------------------------------
// Operators

/// <summary>
/// <c>.name(args)</c>. The parser accepts any operator name; the binder rejects unknown ones and checks
/// arguments. Positional and named (<c>k: expr</c>) arguments keep their written order.
/// </summary>
public record OperatorSyntax(NameSyntax Name, IReadOnlyList<ArgumentSyntax> Args, TextSpan Span);

/// <summary><c>.not(Type [where predicate])</c></summary>
public sealed record NotOperatorSyntax(NameSyntax Name, NameSyntax EventType, ExprSyntax? Predicate, TextSpan Span)
    : OperatorSyntax(Name, Array.Empty<ArgumentSyntax>(), Span);

/// <summary>A call or operator argument: positional (<see cref="Name"/> null) or named <c>name: value</c>.</summary>
public sealed record ArgumentSyntax(NameSyntax? Name, ExprSyntax Value, TextSpan Span);

// ---------------------------------------------------------------------------------------------
// Patterns

public enum Quantifier
{
    /// <summary>Exactly one event.</summary>
    One,

    /// <summary><c>+</c> / <c>all</c>: one or more (Kleene+).</summary>
    Plus,

    /// <summary><c>*</c>: zero or more.</summary>
    Star,

    /// <summary><c>?</c>: zero or one.</summary>
    Optional,
}

public abstract record PatternExprSyntax(TextSpan Span);

/// <summary>
/// One pattern element: <c>[NOT] Type[+|*|?] [where p] [as alias]</c> (named patterns) or
/// <c>[all] Type [where p] [as alias]</c> (inline sequences; <c>all</c> is <see cref="Quantifier.Plus"/>).
/// </summary>
public sealed record PatternItemSyntax(
    bool Negated,
    NameSyntax EventType,
    Quantifier Quantifier,
    ExprSyntax? Predicate,
    NameSyntax? Alias,
    TextSpan Span) : PatternExprSyntax(Span);

/// <summary><c>SEQ(item, item, ...)</c>; items may be nested pattern expressions.</summary>
public sealed record SeqPatternSyntax(IReadOnlyList<PatternExprSyntax> Items, TextSpan Span) : PatternExprSyntax(Span);

/// <summary><c>left AND right</c>: both, in any order, different events.</summary>
public sealed record AndPatternSyntax(PatternExprSyntax Left, PatternExprSyntax Right, TextSpan Span) : PatternExprSyntax(Span);

/// <summary><c>left OR right</c>: either.</summary>
public sealed record OrPatternSyntax(PatternExprSyntax Left, PatternExprSyntax Right, TextSpan Span) : PatternExprSyntax(Span);

// ---------------------------------------------------------------------------------------------
// Expressions

public abstract record ExprSyntax(TextSpan Span)
{
    /// <summary>The top-level conjuncts of <c>a and b and c</c>, left to right (the expression itself when it is not an <c>and</c>).</summary>
    public IEnumerable<ExprSyntax> Conjuncts()
    {
        // Iterative: a chain of 100,000 'and's is as deep as it is long.
        var stack = new Stack<ExprSyntax>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var x = stack.Pop();
            if (x is BinaryExprSyntax { Op: BinaryOp.And } b)
            {
                stack.Push(b.Right);
                stack.Push(b.Left);
            }
            else
            {
                yield return x;
            }
        }
    }

    /// <summary>This expression and every sub-expression, parents first, left to right (iterative, like every walk of a chain).</summary>
    public IEnumerable<ExprSyntax> SelfAndDescendants()
    {
        var stack = new Stack<ExprSyntax>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var x = stack.Pop();
            yield return x;
            var children = x.Children();
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }

    /// <summary>The direct sub-expressions, left to right.</summary>
    public IReadOnlyList<ExprSyntax> Children() => this switch
    {
        MemberExprSyntax m => [m.Target],
        IndexExprSyntax i => [i.Target, i.Index],
        SliceExprSyntax s => new[] { s.Target, s.Start, s.End }.OfType<ExprSyntax>().ToArray(),
        CallExprSyntax c => c.Args.Select(a => a.Value).ToArray(),
        UnaryExprSyntax u => [u.Operand],
        BinaryExprSyntax b => [b.Left, b.Right],
        RangeExprSyntax r => [r.Start, r.End],
        ConditionalExprSyntax c => [c.Condition, c.Then, c.Else],
        ArrayExprSyntax a => a.Items,
        MapExprSyntax m => m.Entries.Select(x => x.Value).ToArray(),
        LambdaExprSyntax l => [l.Body],
        _ => Array.Empty<ExprSyntax>(),
    };
}

public sealed record IntLiteralSyntax(long Value, TextSpan Span) : ExprSyntax(Span);

public sealed record FloatLiteralSyntax(double Value, TextSpan Span) : ExprSyntax(Span);

/// <summary>A string literal, escapes already decoded.</summary>
public sealed record StringLiteralSyntax(string Value, TextSpan Span) : ExprSyntax(Span);

/// <summary>A duration literal in nanoseconds (<c>500ms</c>, <c>5m</c>).</summary>
public sealed record DurationLiteralSyntax(long Nanoseconds, TextSpan Span) : ExprSyntax(Span);

/// <summary>A timestamp literal (<c>@2026-01-23T10:00:00Z</c>) in nanoseconds since the Unix epoch, UTC.</summary>
public sealed record TimestampLiteralSyntax(long Nanoseconds, TextSpan Span) : ExprSyntax(Span);

public sealed record BoolLiteralSyntax(bool Value, TextSpan Span) : ExprSyntax(Span);

public sealed record NullLiteralSyntax(TextSpan Span) : ExprSyntax(Span);

/// <summary>A bare identifier: a field, alias, constant, variable or parameter (the binder decides).</summary>
public sealed record NameExprSyntax(string Name, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>target.member</c> or <c>target?.member</c>.</summary>
public sealed record MemberExprSyntax(ExprSyntax Target, NameSyntax Member, bool NullSafe, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>target[index]</c></summary>
public sealed record IndexExprSyntax(ExprSyntax Target, ExprSyntax Index, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>target[start:end]</c>, either bound optional.</summary>
public sealed record SliceExprSyntax(ExprSyntax Target, ExprSyntax? Start, ExprSyntax? End, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>f(args)</c>: a built-in, aggregate or user function.</summary>
public sealed record CallExprSyntax(NameSyntax Function, IReadOnlyList<ArgumentSyntax> Args, TextSpan Span) : ExprSyntax(Span);

public enum UnaryOp
{
    Negate,
    Not,
}

public sealed record UnaryExprSyntax(UnaryOp Op, ExprSyntax Operand, TextSpan Span) : ExprSyntax(Span);

public enum BinaryOp
{
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    Power,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    In,
    NotIn,
    And,
    Or,
    Coalesce,
}

public sealed record BinaryExprSyntax(BinaryOp Op, ExprSyntax Left, ExprSyntax Right, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>a..b</c> (exclusive) or <c>a..=b</c> (inclusive).</summary>
public sealed record RangeExprSyntax(ExprSyntax Start, ExprSyntax End, bool Inclusive, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>if c then a else b</c></summary>
public sealed record ConditionalExprSyntax(ExprSyntax Condition, ExprSyntax Then, ExprSyntax Else, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>x => e</c> or <c>(x, y) => e</c></summary>
public sealed record LambdaExprSyntax(IReadOnlyList<NameSyntax> Parameters, ExprSyntax Body, TextSpan Span) : ExprSyntax(Span);

public sealed record ArrayExprSyntax(IReadOnlyList<ExprSyntax> Items, TextSpan Span) : ExprSyntax(Span);

/// <summary><c>{"k": v, k2: v}</c>; identifier keys are strings.</summary>
public sealed record MapExprSyntax(IReadOnlyList<MapEntrySyntax> Entries, TextSpan Span) : ExprSyntax(Span);

public sealed record MapEntrySyntax(string Key, TextSpan KeySpan, ExprSyntax Value);

/// <summary>Stands in for an expression the parser could not read (a diagnostic was reported).</summary>
public sealed record ErrorExprSyntax(TextSpan Span) : ExprSyntax(Span);

// ---------------------------------------------------------------------------------------------
// Function bodies

public sealed record BlockSyntax(IReadOnlyList<FnStatementSyntax> Statements, TextSpan Span);

public abstract record FnStatementSyntax(TextSpan Span);

/// <summary><c>let x = e</c> / <c>var x = e</c> inside a function.</summary>
public sealed record LocalDeclSyntax(bool Mutable, NameSyntax Name, TypeSyntax? Type, ExprSyntax Value, TextSpan Span)
    : FnStatementSyntax(Span);

/// <summary><c>x := e</c></summary>
public sealed record AssignSyntax(NameSyntax Target, ExprSyntax Value, TextSpan Span) : FnStatementSyntax(Span);

public sealed record IfSyntax(IReadOnlyList<IfBranchSyntax> Branches, BlockSyntax? Else, TextSpan Span) : FnStatementSyntax(Span);

public sealed record IfBranchSyntax(ExprSyntax Condition, BlockSyntax Body);

public sealed record ForSyntax(NameSyntax Variable, ExprSyntax Iterable, BlockSyntax Body, TextSpan Span) : FnStatementSyntax(Span);

public sealed record WhileSyntax(ExprSyntax Condition, BlockSyntax Body, TextSpan Span) : FnStatementSyntax(Span);

public sealed record BreakSyntax(TextSpan Span) : FnStatementSyntax(Span);

public sealed record ContinueSyntax(TextSpan Span) : FnStatementSyntax(Span);

public sealed record ReturnSyntax(ExprSyntax? Value, TextSpan Span) : FnStatementSyntax(Span);

/// <summary><c>emit Type(k: v, ...)</c></summary>
public sealed record EmitSyntax(NameSyntax EventType, IReadOnlyList<ArgumentSyntax> Args, TextSpan Span) : FnStatementSyntax(Span);

public sealed record ExprStatementSyntax(ExprSyntax Expression, TextSpan Span) : FnStatementSyntax(Span);
