using Varpulis.Vpl.Diagnostics;

namespace Varpulis.Vpl.Syntax;

/// <summary>
/// Loads a program made of several files: parses the root and replaces every <c>import "path"</c> by the
/// statements of the imported file (a textual include, recursively). Paths are resolved by the caller
/// (relative to the importing file); a file already included is not included a second time, so two
/// files may share a common import. Imports nest at most <see cref="MaxDepth"/> deep; a cycle is an error.
/// </summary>
public static class SourceLoader
{
    /// <summary>Deepest chain of imports below the root file.</summary>
    public const int MaxDepth = 10;

    /// <summary>
    /// Parses <paramref name="root"/> and its imports. <paramref name="resolve"/> maps (import path,
    /// importing file's path) to the file, or null when it does not exist; a null resolver makes every
    /// import an error (programs deployed as text have no files to import).
    /// </summary>
    public static IReadOnlyList<StatementSyntax> Load(SourceText root, Func<string, string, SourceText?>? resolve, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var output = new List<StatementSyntax>();
        var included = new HashSet<string>(StringComparer.Ordinal) { root.Path };
        var chain = new List<string> { root.Path };
        LoadInto(root, 0, resolve, diagnostics, output, included, chain);
        return output;
    }

    private static void LoadInto(
        SourceText file,
        int depth,
        Func<string, string, SourceText?>? resolve,
        DiagnosticBag diagnostics,
        List<StatementSyntax> output,
        HashSet<string> included,
        List<string> chain)
    {
        var program = Parser.Parse(file, diagnostics);
        foreach (var statement in program.Statements)
        {
            if (statement is not ImportSyntax import)
            {
                output.Add(statement);
                continue;
            }
            var from = statement.File;
            if (resolve is null)
            {
                diagnostics.Error(DiagnosticIds.ImportsUnavailable, from, import.Span,
                    "imports are only available from the command line (file-based programs)",
                    "paste the imported statements into the program");
                continue;
            }
            if (depth + 1 > MaxDepth)
            {
                diagnostics.Error(DiagnosticIds.ImportTooDeep, from, import.Span,
                    $"imports are nested deeper than {MaxDepth} levels", string.Join(" -> ", chain) + " -> " + import.Path);
                continue;
            }
            var target = resolve(import.Path, from.Path);
            if (target is null)
            {
                diagnostics.Error(DiagnosticIds.ImportNotFound, from, import.Span,
                    $"cannot find imported file '{import.Path}'", $"paths are relative to the importing file ({from.Path})");
                continue;
            }
            int cycleStart = chain.IndexOf(target.Path);
            if (cycleStart >= 0)
            {
                diagnostics.Error(DiagnosticIds.ImportCycle, from, import.Span,
                    "import cycle: " + string.Join(" -> ", chain.Skip(cycleStart)) + " -> " + target.Path,
                    "move the shared statements into a file that both import");
                continue;
            }
            if (!included.Add(target.Path)) continue;
            chain.Add(target.Path);
            LoadInto(target, depth + 1, resolve, diagnostics, output, included, chain);
            chain.RemoveAt(chain.Count - 1);
        }
    }
}
