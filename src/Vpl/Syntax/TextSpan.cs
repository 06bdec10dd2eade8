namespace Varpulis.Vpl.Syntax;

/// <summary>A range of characters in a source file: start offset and length.</summary>
public readonly record struct TextSpan(int Start, int Length)
{
    public int End => Start + Length;

    public static TextSpan FromBounds(int start, int end) => new(start, Math.Max(0, end - start));

    public TextSpan Cover(TextSpan other) => FromBounds(Math.Min(Start, other.Start), Math.Max(End, other.End));

    public override string ToString() => $"[{Start}..{End})";
}

/// <summary>A 1-based line and column.</summary>
public readonly record struct LinePosition(int Line, int Column)
{
    public override string ToString() => $"{Line}:{Column}";
}

/// <summary>
/// The text of one VPL source file with a line index, so spans can be turned into line:col and
/// the offending line can be shown under a diagnostic.
/// </summary>
public sealed class SourceText
{
    private readonly int[] _lineStarts;

    public SourceText(string text, string path = "<input>")
    {
        Text = text;
        Path = path;
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n') starts.Add(i + 1);
        }
        _lineStarts = starts.ToArray();
    }

    public string Text { get; }

    public string Path { get; }

    public int LineCount => _lineStarts.Length;

    public LinePosition GetPosition(int offset)
    {
        offset = Math.Clamp(offset, 0, Text.Length);
        int idx = Array.BinarySearch(_lineStarts, offset);
        if (idx < 0) idx = ~idx - 1;
        return new LinePosition(idx + 1, offset - _lineStarts[idx] + 1);
    }

    /// <summary>The text of a 1-based line without its line terminator.</summary>
    public string GetLineText(int line)
    {
        if (line < 1 || line > _lineStarts.Length) return string.Empty;
        int start = _lineStarts[line - 1];
        int end = line < _lineStarts.Length ? _lineStarts[line] : Text.Length;
        var s = Text.AsSpan(start, end - start).TrimEnd("\r\n");
        return s.ToString();
    }
}
