using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Runtime.Operators;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation;

/// <summary>
/// What the stream compiler hands to the pattern compiler for a stream whose source is a pattern: an inline
/// sequence (<see cref="Sequence"/>) or a named pattern (<see cref="Named"/>, with the alias written after
/// its name, if any), and every operator of the stream in written order.
/// </summary>
internal sealed record PatternRequest(
    StreamDeclSyntax Stream,
    SequenceSourceSyntax? Sequence,
    PatternDeclSyntax? Named,
    IReadOnlyList<OperatorSyntax> Operators,
    CompileEnv Env);

/// <summary>
/// The compiled pattern part of a stream: the inputs it reads (each with the port that feeds the pattern
/// operator), the operator itself (the head of the stream's chain), the shape of the rows it produces
/// (match rows, or trend-aggregate result rows), and the operators left for the ordinary stream compiler
/// to apply to those rows, in order.
/// </summary>
internal sealed record PatternResult(
    IReadOnlyList<SourceBinding> Sources,
    Func<StreamRuntime, Operator> CreateOperator,
    RowShape OutputShape,
    IReadOnlyList<OperatorSyntax> RemainingOperators,
    IReadOnlyList<string>? PartitionKey)
{
    /// <summary>
    /// Conjuncts of the <c>.where</c> after the pattern that the steps check (vpl.md §5.1), by reference: the
    /// filter on the match rows still reports their diagnostics but does not evaluate them again.
    /// </summary>
    public IReadOnlySet<ExprSyntax> CorrelatedConjuncts { get; init; } = new HashSet<ExprSyntax>(ReferenceEqualityComparer.Instance);
}

/// <summary>The operator names the pattern compiler owns on a pattern stream.</summary>
internal static class PatternOperators
{
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal)
    {
        "within", "not", "strict", "stam", "budget", "trend_aggregate",
    };
}
