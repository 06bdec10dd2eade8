namespace Varpulis.Vpl.Diagnostics;

// Ids of the SASE+ pattern compiler (VPL0300–VPL0399).
public static partial class DiagnosticIds
{
    /// <summary>A pattern construct this engine cannot compile (reported with the reason).</summary>
    public const string InvalidPattern = "VPL0300";

    /// <summary><c>x.f</c> in a pattern where <c>x</c> is no alias of the pattern.</summary>
    public const string UnknownPatternAlias = "VPL0301";

    /// <summary>A step predicate refers to an alias bound by the same or a later step.</summary>
    public const string AliasUsedBeforeBound = "VPL0302";

    /// <summary>The same alias names two steps of one sequence.</summary>
    public const string DuplicatePatternAlias = "VPL0303";

    /// <summary>A Kleene alias (several events) used where one value is expected.</summary>
    public const string KleeneAliasMisuse = "VPL0304";

    /// <summary>Arguments of <c>.within</c>, <c>.not</c>, <c>.strict</c>, <c>.stam</c>, <c>.budget</c>, <c>.partition_by</c> on a pattern.</summary>
    public const string InvalidPatternOperator = "VPL0305";

    /// <summary><c>.trend_aggregate</c> arguments or a pattern form trend aggregation cannot count.</summary>
    public const string InvalidTrendAggregate = "VPL0306";

    /// <summary>Warning: a Kleene pattern with neither <c>.within</c> nor a partition keeps growing state.</summary>
    public const string UnboundedPattern = "VPL0307";

    /// <summary>A named pattern that expands into too many alternatives (<c>?</c>, <c>*</c>, <c>OR</c>, <c>AND</c>).</summary>
    public const string PatternTooLarge = "VPL0308";
}
