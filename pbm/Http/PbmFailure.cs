namespace Varpulis.Pbm.Http;

/// <summary>The exit codes of <c>pbm</c> (docs/pbm.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The node answered with an error (unknown member, bad address, region not started, ...).</summary>
    public const int Refused = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>The node could not be reached (connection refused, unknown host, no answer in time).</summary>
    public const int Unreachable = 3;

    /// <summary>The node refused the API key (401).</summary>
    public const int Unauthorized = 4;
}

/// <summary>A failure <c>pbm</c> reports as one line on stderr, with its exit code.</summary>
public sealed class PbmFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
