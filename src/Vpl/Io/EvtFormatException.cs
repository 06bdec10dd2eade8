namespace Varpulis.Vpl.Io;

/// <summary>Settings of an <see cref="EvtReader"/>.</summary>
public sealed class EvtReaderOptions
{
    /// <summary>Event time of offset 0 (ns since the epoch): 1970-01-01T00:00:00Z by default, or <c>--start-time</c>.</summary>
    public long BaseTimeNanos { get; set; }

    /// <summary>Skip malformed lines (counted and recorded) instead of throwing <see cref="EvtFormatException"/>.</summary>
    public bool SkipInvalid { get; set; }

    /// <summary>The file name used in error messages.</summary>
    public string Path { get; set; } = "<events>";

    /// <summary>Leave the stream open when the reader is disposed.</summary>
    public bool LeaveOpen { get; set; }
}

/// <summary>One malformed line: where it is and what is wrong (1-based line and column; columns count characters).</summary>
public sealed record EvtFormatError(string Path, int Line, int Column, string Message)
{
    public override string ToString() => $"{Path}:{Line}:{Column}: {Message}";
}

/// <summary>A malformed <c>.evt</c> line. <see cref="Exception.Message"/> is <c>PATH:LINE:COL: message</c>.</summary>
public sealed class EvtFormatException : Exception
{
    public EvtFormatException(EvtFormatError error)
        : base(error.ToString())
    {
        Error = error;
    }

    public EvtFormatError Error { get; }

    public string Path => Error.Path;

    public int Line => Error.Line;

    public int Column => Error.Column;

    /// <summary>The message without the location prefix.</summary>
    public string Reason => Error.Message;
}
