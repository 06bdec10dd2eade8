using Varpulis.Vpl.Compilation;

namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>How a run reacts to events it does not use (vpl.md §5.1).</summary>
internal enum SelectionMode
{
    /// <summary>Skip-till-next-match: a run advances on the first qualifying event and skips the others.</summary>
    SkipTillNext,

    /// <summary><c>.strict()</c>: a run dies on any event of its partition that does not advance it.</summary>
    Strict,

    /// <summary><c>.stam()</c>: skip-till-any-match: a run that can advance also stays where it was.</summary>
    SkipTillAny,
}

/// <summary>One positive step of a linear sequence: <c>[all] Type [where p] [as alias]</c>.</summary>
internal sealed class StepPlan
{
    public required EventType Type { get; init; }

    public required bool Kleene { get; init; }

    /// <summary>The step predicate with the run's captures in <see cref="Frame.Captures"/>; null: always true.</summary>
    public Eval? Predicate { get; init; }

    /// <summary>Slot of the step's alias in the run captures and in the match row.</summary>
    public required int Slot { get; init; }

    /// <summary>The alias as written, or the implicit one (the event type name).</summary>
    public required string Alias { get; init; }

    /// <summary>
    /// Kleene steps whose alias is only read as <c>alias.f</c> in predicates: the capture holds the last event
    /// (the same value <c>alias.f</c> reads) instead of an array rebuilt on every collected event.
    /// </summary>
    public bool CaptureLastOnly { get; init; }

    /// <summary>
    /// With <see cref="RunKey"/>: an equality of this step's condition between the candidate event (this side) and
    /// an earlier single alias (the run's side). A run can only take an event whose key equals its own, so a
    /// crowded bucket of runs waiting for this step is looked up by key instead of scanned.
    /// </summary>
    public Eval? EventKey { get; init; }

    /// <summary>The run's side of <see cref="EventKey"/>, read from its captures.</summary>
    public Eval? RunKey { get; init; }
}

/// <summary>
/// A negation (<c>.not(X where p)</c> or <c>NOT X</c> inside <c>SEQ</c>): kills a run whose number of bound
/// steps is within [<see cref="FromPos"/>, <see cref="ToPos"/>] when an X satisfying p arrives.
/// </summary>
internal sealed class NegationPlan
{
    public required EventType Type { get; init; }

    public Eval? Predicate { get; init; }

    public required int FromPos { get; init; }

    public required int ToPos { get; init; }
}

/// <summary>One linear alternative of a pattern (a named pattern with OR, AND, ? or * has several).</summary>
internal sealed class AlternativePlan
{
    public required StepPlan[] Steps { get; init; }

    public required NegationPlan[] Negations { get; init; }

    /// <summary>The sequence ends with <c>NOT X</c>: a run that bound every step matches when its deadline passes.</summary>
    public bool Absence { get; init; }

    /// <summary>True when some step is a Kleene step (runs then keep collected-event lists).</summary>
    public bool HasKleene => Steps.Any(s => s.Kleene);

    /// <summary>Index of the first bucket of this alternative in a partition's bucket array (bucket = base + pos).</summary>
    public int BucketBase { get; set; }
}

/// <summary>Everything the sequence operator needs, shared by every engine built from one program.</summary>
internal sealed class SequencePlan
{
    public required AlternativePlan[] Alternatives { get; init; }

    /// <summary><c>.within(d)</c> in ns; <see cref="long.MaxValue"/> when none.</summary>
    public required long Within { get; init; }

    public required SelectionMode Selection { get; init; }

    public required bool EvictOldest { get; init; }

    /// <summary>Partition key fields, read from the event offering itself; null: one partition.</summary>
    public FieldAccessor[]? PartitionFields { get; init; }

    /// <summary>The match row type: one slot per alias.</summary>
    public required EventType MatchType { get; init; }

    /// <summary>Alias names by slot (for run inspection).</summary>
    public required string[] SlotNames { get; init; }

    /// <summary>True per slot when the alias is a Kleene alias (its row value is an array of events).</summary>
    public required bool[] SlotIsKleene { get; init; }

    /// <summary>The input event types in routing order; a port per type calls the operator with the type's index.</summary>
    public required EventType[] InputTypes { get; init; }

    /// <summary>
    /// Per input type: the buckets whose runs may react to it, highest position first within each alternative. A
    /// bucket whose runs an event of this type can only advance (not extend their open Kleene step), and whose step
    /// has a lookup key, has the sign bit set (<see cref="BucketMask"/> gives the bucket): while it is indexed, the
    /// runs with the event's key are all the runs the event can affect.
    /// </summary>
    public int[][] BucketsByInput { get; set; } = Array.Empty<int[]>();

    public const int BucketMask = int.MaxValue;

    /// <summary>Per input type: the alternatives whose first step has this type.</summary>
    public int[][] StartsByInput { get; set; } = Array.Empty<int[]>();

    /// <summary>Per input type: the (alternative, negation) pairs of this type.</summary>
    public (int Alt, NegationPlan Negation)[][] NegationsByInput { get; set; } = Array.Empty<(int, NegationPlan)[]>();

    public int BucketCount { get; set; }

    /// <summary>Per bucket: the step its runs wait for when that step has a lookup key (<see cref="StepPlan.EventKey"/>); never with <c>.strict()</c>, where every run reacts to every event.</summary>
    public StepPlan?[] KeyedStep { get; set; } = Array.Empty<StepPlan?>();

    /// <summary>Fills the routing tables once the alternatives are known.</summary>
    public void Index()
    {
        int b = 0;
        foreach (var alt in Alternatives)
        {
            alt.BucketBase = b;
            b += alt.Steps.Length + 1; // positions 1..n (0 unused)
        }
        BucketCount = b;
        KeyedStep = new StepPlan?[b];
        foreach (var alt in Alternatives)
        {
            for (int pos = 1; pos < alt.Steps.Length; pos++)
            {
                if (Selection != SelectionMode.Strict && alt.Steps[pos].EventKey is not null) KeyedStep[alt.BucketBase + pos] = alt.Steps[pos];
            }
        }
        BucketsByInput = new int[InputTypes.Length][];
        StartsByInput = new int[InputTypes.Length][];
        NegationsByInput = new (int, NegationPlan)[InputTypes.Length][];
        for (int i = 0; i < InputTypes.Length; i++)
        {
            var t = InputTypes[i];
            var buckets = new List<int>();
            var starts = new List<int>();
            var negs = new List<(int, NegationPlan)>();
            for (int a = 0; a < Alternatives.Length; a++)
            {
                var alt = Alternatives[a];
                var steps = alt.Steps;
                if (ReferenceEquals(steps[0].Type, t)) starts.Add(a);
                for (int pos = steps.Length; pos >= 1; pos--)
                {
                    bool reacts = Selection == SelectionMode.Strict
                        || (pos < steps.Length && ReferenceEquals(steps[pos].Type, t))
                        || (steps[pos - 1].Kleene && ReferenceEquals(steps[pos - 1].Type, t));
                    if (!reacts) continue;
                    bool lookup = KeyedStep[alt.BucketBase + pos] is not null && ReferenceEquals(steps[pos].Type, t)
                        && !(steps[pos - 1].Kleene && ReferenceEquals(steps[pos - 1].Type, t));
                    buckets.Add(lookup ? (alt.BucketBase + pos) | ~BucketMask : alt.BucketBase + pos);
                }
                foreach (var n in alt.Negations)
                {
                    if (ReferenceEquals(n.Type, t)) negs.Add((a, n));
                }
            }
            BucketsByInput[i] = buckets.ToArray();
            StartsByInput[i] = starts.ToArray();
            NegationsByInput[i] = negs.ToArray();
        }
    }
}
