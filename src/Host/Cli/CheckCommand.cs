using System.CommandLine;

namespace Varpulis.Host.Cli;

/// <summary><c>varpulis check FILE</c>: parse and type-check a program without running it.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The VPL program to check" };
        var cmd = new Command("check", "Check a VPL program: syntax, names and types. Exit 0 when it compiles, 1 otherwise.") { file };
        cmd.SetAction(parse => Run(parse.GetValue(file)!, parse.InvocationConfiguration.Output));
        return cmd;
    }

    public static int Run(string path, TextWriter output)
    {
        var text = ProgramFiles.Read(path, output);
        if (text is null) return 1;
        var compilation = ProgramFiles.Compile(path, text);
        foreach (var d in compilation.Diagnostics) output.Write(d.Format());
        if (!compilation.Success)
        {
            int errors = compilation.Errors.Count();
            output.WriteLine($"{errors} error{(errors == 1 ? "" : "s")}");
            return 1;
        }
        output.WriteLine($"Syntax OK ({compilation.StatementCount} statement{(compilation.StatementCount == 1 ? "" : "s")})");
        return 0;
    }
}
