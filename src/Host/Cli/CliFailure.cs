using System.CommandLine;

namespace Varpulis.Host.Cli;

/// <summary>
/// How every command fails (docs/cli.md, "Exit codes"): a command that cannot run — bad usage, a file it cannot read or
/// write, a configuration or startup problem, an unexpected exception — prints one line <c>error: MESSAGE</c> on
/// standard error, never a stack trace, and exits with <see cref="ExitCode"/>.
/// </summary>
internal static class CliFailure
{
    /// <summary>The exit code of a command that could not run.</summary>
    public const int ExitCode = 2;

    /// <summary>Parses and runs the command line; parse errors and escaping exceptions become one line and exit code 2.</summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = string.Join(' ', EnumerateCommandPath(parse.CommandResult.Command));
            return Fail($"{parse.Errors[0].Message} (see '{command} --help')");
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Fail(ex.Message);
        }
    }

    /// <summary>Writes <c>error: MESSAGE</c> (on one line) to standard error and returns <see cref="ExitCode"/>.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + OneLine(message));
        return ExitCode;
    }

    /// <summary>A message on one line: line breaks become spaces, other control characters are escaped.</summary>
    public static string OneLine(string message)
    {
        var s = message.ReplaceLineEndings(" ");
        return s.Any(char.IsControl) ? string.Concat(s.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : s;
    }

    private static IEnumerable<string> EnumerateCommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is Command c; s = c.Parents.FirstOrDefault())
            names.Insert(0, c is RootCommand ? "varpulis" : c.Name);
        return names;
    }
}
