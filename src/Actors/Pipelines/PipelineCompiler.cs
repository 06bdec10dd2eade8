using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Actors.Pipelines;

/// <summary>Compiles deployed VPL (no imports: a program sent over HTTP has no file system).</summary>
public static class PipelineCompiler
{
    /// <summary>The most bytes of VPL a pipeline may have.</summary>
    public const int MaxSourceLength = 1 << 20;

    public static CompiledProgram? Compile(string source, out IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        var compilation = VplCompiler.Compile(source, new CompileOptions { Path = "<pipeline>" });
        diagnostics = compilation.Diagnostics.Select(ToInfo).ToList();
        return compilation.Program;
    }

    public static DiagnosticInfo ToInfo(Diagnostic d) => new(d.SeverityText, d.Line, d.Column, d.Message, d.Hint);

    /// <summary>The message of a parse error reply: the first error, and how many more there are.</summary>
    public static string Summary(IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        var errors = diagnostics.Where(d => d.Severity == "error").ToList();
        if (errors.Count == 0) return "the program does not compile";
        var first = errors[0];
        string more = errors.Count > 1 ? $" (and {errors.Count - 1} more error{(errors.Count > 2 ? "s" : "")})" : "";
        return $"line {first.Line}, column {first.Column}: {first.Message}{more}";
    }
}
