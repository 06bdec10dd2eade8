using System.CommandLine;
using Varpulis.Pbm.Commands;
using Varpulis.Pbm.Http;

namespace Varpulis.Pbm;

/// <summary>
/// <c>pbm HOST:PORT [--api-key K] [--json] [--timeout S] COMMAND</c>: the root command, its global options and the command
/// groups. Usage errors exit 2 with the parser's message on stderr.
/// </summary>
public static class PbmApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Func<string, string?> env, CancellationToken ct = default)
    {
        var globals = new PbmGlobals(env);
        var root = new RootCommand("pbm: cluster commands against a Varpulis node's Akka.Management HTTP endpoint (Petabridge.Cmd's command names).")
        {
            globals.Target, globals.ApiKey, globals.Json, globals.Timeout,
        };
        root.Subcommands.Add(ClusterCommands.Create(globals));
        root.Subcommands.Add(ClusterShardingCommands.Create(globals));
        root.Subcommands.Add(VarpulisCommands.Create(globals));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await stderr.WriteLineAsync("pbm: " + error.Message);
            await stderr.WriteLineAsync("usage: pbm HOST:PORT [--api-key KEY] [--json] COMMAND   (pbm --help lists the commands)");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, ct);
    }
}
