using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Compilation.Patterns;

/// <summary>Compiles the SASE+ pattern part of a pattern stream (vpl.md §5).</summary>
internal static class PatternCompiler
{
    public static PatternResult? Compile(PatternRequest request)
    {
        request.Env.Error("VPL0300", request.Stream.Source.Span, "pattern streams are not available in this build");
        return null;
    }
}
