using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Tests.Compilation;

/// <summary>
/// Compiles a program and asserts the exact diagnostics it reports (id, severity, line, column, message, hint),
/// in order, and nothing else. Positions are 1-based.
/// </summary>
internal static class DiagnosticAssert
{
    public const DiagnosticSeverity Error = DiagnosticSeverity.Error;
    public const DiagnosticSeverity Warning = DiagnosticSeverity.Warning;

    public static string Render(Diagnostic d)
        => $"{d.Line}:{d.Column} {d.SeverityText} {d.Id}: {d.Message}" + (d.Hint is null ? "" : $" | hint: {d.Hint}");

    /// <summary>Compiles <paramref name="source"/> and asserts it reports exactly <paramref name="expected"/>, in order.</summary>
    public static Varpulis.Vpl.Compilation.Compilation AssertDiagnostics(string source, params string[] expected)
    {
        var c = VplCompiler.Compile(source);
        Assert.Equal(string.Join("\n", expected), string.Join("\n", c.Diagnostics.Select(Render)));
        Assert.Equal(c.Diagnostics.Any(d => d.IsError), !c.Success);
        return c;
    }

    public static string D(int line, int col, DiagnosticSeverity severity, string id, string message, string? hint = null)
        => $"{line}:{col} {(severity == Error ? "error" : "warning")} {id}: {message}" + (hint is null ? "" : $" | hint: {hint}");
}
