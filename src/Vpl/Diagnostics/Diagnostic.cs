using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Diagnostics;

public enum DiagnosticSeverity
{
    Error,
    Warning,
    Info,
}

/// <summary>
/// One compile-time finding: an id (<c>VPL0001</c>), a severity, where it is, a message and an
/// optional hint (did-you-mean, how to fix). Positions are resolved against the file it came from.
/// </summary>
public sealed record Diagnostic(
    string Id,
    DiagnosticSeverity Severity,
    SourceText Source,
    TextSpan Span,
    string Message,
    string? Hint = null)
{
    public LinePosition Position => Source.GetPosition(Span.Start);

    public int Line => Position.Line;

    public int Column => Position.Column;

    public bool IsError => Severity == DiagnosticSeverity.Error;

    public string SeverityText => Severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "info",
    };

    /// <summary>
    /// The CLI rendering: <c>FILE:LINE:COL: error VPLxxxx: message</c>, the source line, a caret
    /// under the span and the hint.
    /// </summary>
    public string Format()
    {
        var pos = Position;
        var sb = new System.Text.StringBuilder();
        sb.Append(Source.Path).Append(':').Append(pos.Line).Append(':').Append(pos.Column).Append(": ")
          .Append(SeverityText).Append(' ').Append(Id).Append(": ").Append(Message).Append('\n');
        var line = Source.GetLineText(pos.Line);
        if (line.Length > 0)
        {
            // Show long lines around the caret only, so a 1 MB one-line program stays readable.
            int caretCol = pos.Column - 1;
            if (line.Length > 200)
            {
                int from = Math.Max(0, caretCol - 80);
                line = line.Substring(from, Math.Min(200, line.Length - from));
                caretCol -= from;
            }
            sb.Append("  ").Append(line.Replace('\t', ' ')).Append('\n');
            int width = Math.Max(1, Math.Min(Span.Length, line.Length - caretCol));
            sb.Append("  ").Append(' ', Math.Max(0, caretCol)).Append('^', width).Append('\n');
        }
        if (!string.IsNullOrEmpty(Hint)) sb.Append("  hint: ").Append(Hint).Append('\n');
        return sb.ToString();
    }

    public override string ToString() => $"{Source.Path}:{Line}:{Column}: {SeverityText} {Id}: {Message}";
}

/// <summary>Collects diagnostics; caps the count so hostile input cannot flood memory.</summary>
public sealed class DiagnosticBag
{
    public const int MaxDiagnostics = 200;

    private readonly List<Diagnostic> _items = new();
    private long _added;

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors { get; private set; }

    public int Count => _items.Count;

    public void Add(Diagnostic d)
    {
        _added++;
        if (d.IsError) HasErrors = true;
        if (_items.Count < MaxDiagnostics) _items.Add(d);
    }

    public void Error(string id, SourceText src, TextSpan span, string message, string? hint = null)
        => Add(new Diagnostic(id, DiagnosticSeverity.Error, src, span, message, hint));

    public void Warning(string id, SourceText src, TextSpan span, string message, string? hint = null)
        => Add(new Diagnostic(id, DiagnosticSeverity.Warning, src, span, message, hint));

    public void AddRange(IEnumerable<Diagnostic> items)
    {
        foreach (var d in items) Add(d);
    }

    /// <summary>The bag's state, for <see cref="RollBack"/>.</summary>
    internal DiagnosticMark Mark() => new(_items.Count, HasErrors, _added);

    /// <summary>True when something was reported since <paramref name="mark"/> (even past the cap).</summary>
    internal bool ChangedSince(DiagnosticMark mark) => _added != mark.Added;

    /// <summary>
    /// Forgets what was reported since <paramref name="mark"/>: for trial compilations whose findings are
    /// reported by the compilation that counts (a pattern's trailing <c>.where</c> is compiled both ways).
    /// </summary>
    internal void RollBack(DiagnosticMark mark)
    {
        if (_items.Count > mark.Count) _items.RemoveRange(mark.Count, _items.Count - mark.Count);
        HasErrors = mark.HasErrors;
        _added = mark.Added;
    }
}

/// <summary>A point in a <see cref="DiagnosticBag"/>'s history.</summary>
internal readonly record struct DiagnosticMark(int Count, bool HasErrors, long Added);

/// <summary>Closest-name suggestions for "did you mean" hints.</summary>
public static class NameSuggester
{
    public static string? Suggest(string name, IEnumerable<string> candidates) => Suggest(name, candidates, maxDistance: null);

    /// <summary>The closest candidate within <paramref name="maxDistance"/> edits (default: about a third of the name).</summary>
    public static string? Suggest(string name, IEnumerable<string> candidates, int? maxDistance)
    {
        string? best = null;
        int bestDist = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(name.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDist || (d == bestDist && best is not null && string.CompareOrdinal(c, best) < 0))
            {
                bestDist = d;
                best = c;
            }
        }
        if (best is null) return null;
        int limit = maxDistance ?? Math.Max(1, Math.Min(3, name.Length / 3 + 1));
        return bestDist <= limit ? best : null;
    }

    public static string? DidYouMean(string name, IEnumerable<string> candidates)
    {
        var s = Suggest(name, candidates);
        return s is null ? null : $"did you mean '{s}'?";
    }

    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 3) return int.MaxValue / 2;
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
