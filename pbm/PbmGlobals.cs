using System.CommandLine;
using System.Globalization;
using Varpulis.Pbm.Http;
using Varpulis.Pbm.Output;

namespace Varpulis.Pbm;

/// <summary>The node to talk to and the options every command shares, and the run loop that turns failures into exit codes.</summary>
public sealed class PbmGlobals
{
    public const int DefaultPort = 8558;

    public PbmGlobals(Func<string, string?> env)
    {
        ApiKey.DefaultValueFactory = _ => env("VARPULIS_API_KEY") is { Length: > 0 } k ? k : null;
    }

    public Argument<string> Target { get; } = new("HOST:PORT")
    {
        Description = $"The node's management endpoint: its bind address and --management-port (default port {DefaultPort}).",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "The node's admin key (default: VARPULIS_API_KEY).",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the node's answer as JSON, for scripts.",
        Recursive = true,
    };

    public Option<int> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds to wait for the node's answer (default 30; 360 for varpulis drain).",
        Recursive = true,
        DefaultValueFactory = _ => 30,
    };

    /// <summary>
    /// Runs a command's body against the node; a <see cref="PbmFailure"/> is one line on stderr and its exit code. A command
    /// that waits longer by nature (a drain) gives its own <paramref name="defaultTimeout"/>; <c>--timeout</c> still wins.
    /// </summary>
    public async Task<int> RunAsync(ParseResult parse, Func<ManagementClient, Printer, CancellationToken, Task> body, CancellationToken ct, TimeSpan? defaultTimeout = null)
    {
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        try
        {
            int timeout = parse.GetValue(Timeout);
            if (timeout <= 0) throw new PbmFailure(ExitCodes.Usage, "--timeout must be a positive number of seconds");
            if (defaultTimeout is { } longer && parse.GetResult(Timeout) is null or { Implicit: true }) timeout = (int)longer.TotalSeconds;
            // The parser does not insist on the root's argument once a command is named: `pbm cluster show` arrives here.
            var target = parse.GetValue(Target) ?? throw new PbmFailure(ExitCodes.Usage, "give the node first: pbm HOST:PORT COMMAND, e.g. pbm 127.0.0.1:8558 cluster show");
            using var client = new ManagementClient(BaseAddress(target), parse.GetValue(ApiKey), TimeSpan.FromSeconds(timeout));
            await body(client, new Printer(stdout, parse.GetValue(Json)), ct);
            return ExitCodes.Ok;
        }
        catch (PbmFailure failure)
        {
            await stderr.WriteLineAsync("pbm: " + failure.Message);
            return failure.ExitCode;
        }
    }

    /// <summary><c>HOST:PORT</c>, <c>[v6]:PORT</c>, a bare host (port 8558) or an <c>http://</c> URL.</summary>
    public static Uri BaseAddress(string target)
    {
        var text = target.Contains("://", StringComparison.Ordinal) ? target : "http://" + target;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0
            || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            throw new PbmFailure(ExitCodes.Usage, $"'{target}' is not a node address: give HOST:PORT, e.g. 127.0.0.1:{DefaultPort}");
        }
        var port = target.Contains("://", StringComparison.Ordinal) || HasPort(target) ? uri.Port : DefaultPort;
        return new UriBuilder(uri.Scheme, uri.Host, port).Uri;
    }

    private static bool HasPort(string target)
    {
        int colon = target.LastIndexOf(':');
        return colon > target.LastIndexOf(']') && int.TryParse(target[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}
