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

    /// <summary>
    /// Compiles a program that is to be deployed or reloaded: it must also define at least one stream (an empty or
    /// comment-only source compiles, but a pipeline without streams would accept events and do nothing).
    /// Journal recovery uses <see cref="Compile"/>, so what was accepted once always recovers.
    /// </summary>
    public static CompiledProgram? CompileDeployable(string source, out IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        var program = Compile(source, out diagnostics);
        if (program is null || program.Streams.Count > 0) return program;
        diagnostics = [.. diagnostics, new DiagnosticInfo("error", 1, 1, NoStreams, "define one, e.g. stream Alerts = Reading .where(value > 100) .emit(value: value)")];
        return null;
    }

    /// <summary>The diagnostic of a program without streams.</summary>
    public const string NoStreams = "no streams: the program defines no stream, so a pipeline would do nothing (is the source empty or only comments and declarations?)";

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
