using System.CommandLine;
using Varpulis.Host.Configuration;

namespace Varpulis.Host.Cli;

/// <summary><c>varpulis config-gen --format yaml|toml [-o FILE]</c>: a complete, commented example configuration.</summary>
public static class ConfigGenCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = "yaml or toml.", DefaultValueFactory = _ => "yaml" };
        format.AcceptOnlyFromAmong("yaml", "toml");
        var output = new Option<string>("--output", "-o") { Description = "Write to FILE instead of standard output." };
        var cmd = new Command("config-gen", "Print an example configuration file with every key at its default.") { format, output };
        cmd.SetAction(async (parse, ct) =>
        {
            var text = ConfigTemplate.Render(parse.GetValue(format)!);
            var file = parse.GetValue(output);
            if (string.IsNullOrEmpty(file))
            {
                await Console.Out.WriteAsync(text);
                return 0;
            }
            try
            {
                await File.WriteAllTextAsync(file, text, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return CliFailure.Fail($"cannot write -o '{file}': {ClientCommands.FileProblem(ex)}");
            }
            return 0;
        });
        return cmd;
    }
}
