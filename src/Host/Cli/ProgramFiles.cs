using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Host.Cli;

/// <summary>Compiles VPL programs from files, resolving <c>import</c> relative to the importing file.</summary>
internal static class ProgramFiles
{
    public static Compilation Compile(string path, string text, TypeRegistry? types = null)
        => VplCompiler.Compile(text, new CompileOptions { Path = path, ResolveImport = ResolveImport, Types = types });

    private static SourceText? ResolveImport(string importPath, string fromPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(fromPath)) ?? ".";
        var full = Path.GetFullPath(Path.Combine(dir, importPath));
        if (!File.Exists(full)) return null;
        try
        {
            return new SourceText(File.ReadAllText(full), Path.GetRelativePath(Directory.GetCurrentDirectory(), full));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Reads a program file, or writes why it cannot and returns null.</summary>
    public static string? Read(string path, TextWriter error)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error.WriteLine($"error: cannot read '{path}': {ex.Message}");
            return null;
        }
    }
}
