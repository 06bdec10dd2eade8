namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>The run-budget and Kleene-cap counters of one pattern stream (vpl.md §5.2, §5.6).</summary>
public sealed record PatternStats(string Stream, long LiveRuns, long RunsRefused, long RunsEvicted, long KleeneLimitHits);

/// <summary>Operators that count budget refusals, evictions and Kleene caps.</summary>
internal interface IPatternCounters
{
    long LiveRuns { get; }

    long RunsRefused { get; }

    long RunsEvicted { get; }

    long KleeneLimitHits { get; }
}
