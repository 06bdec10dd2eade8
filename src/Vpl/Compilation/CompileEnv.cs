using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation;

/// <summary>Program-wide symbols and the diagnostics sink shared by every compiler pass.</summary>
internal sealed class CompileEnv
{
    public CompileEnv(DiagnosticBag diagnostics, TypeRegistry types)
    {
        Diagnostics = diagnostics;
        Types = types;
    }

    public DiagnosticBag Diagnostics { get; }

    public TypeRegistry Types { get; }

    /// <summary>The file of the statement being compiled (imports bring several files).</summary>
    public SourceText File { get; set; } = new(string.Empty);

    public Dictionary<string, GlobalSymbol> Globals { get; } = new(StringComparer.Ordinal);

    public List<GlobalSymbol> GlobalList { get; } = new();

    public Dictionary<string, FunctionSymbol> Functions { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ConnectorInfo> Connectors { get; } = new(StringComparer.Ordinal);

    /// <summary>Checked connector declarations, by name.</summary>
    public Dictionary<string, Connectors.DeclaredConnector> ConnectorDecls { get; } = new(StringComparer.Ordinal);

    /// <summary>Every valid <c>.from</c>/<c>.to</c>, in compilation order.</summary>
    public List<Connectors.ConnectorBinding> ConnectorBindings { get; } = new();

    public HashSet<string> Contexts { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, EventDeclSyntax> DeclaredEvents { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, StreamDeclSyntax> StreamDecls { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, PatternDeclSyntax> PatternDecls { get; } = new(StringComparer.Ordinal);

    /// <summary>The output row shape of each compiled stream, for derived streams.</summary>
    public Dictionary<string, RowShape> StreamShapes { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, StreamPlan> Plans { get; } = new(StringComparer.Ordinal);

    /// <summary>Work shared between pattern streams (Hamlet trend groups), by a key describing what is shared.</summary>
    public Dictionary<string, object> PatternShares { get; } = new(StringComparer.Ordinal);

    /// <summary>Largest <c>.watermark(out_of_order: d)</c> seen, ns.</summary>
    public long OutOfOrderness { get; set; }

    /// <summary>Values of the globals while they are evaluated at load time.</summary>
    public Value[] GlobalValues { get; set; } = Array.Empty<Value>();

    public void Error(string id, TextSpan span, string message, string? hint = null)
        => Diagnostics.Error(id, File, span, message, hint);

    public void Warning(string id, TextSpan span, string message, string? hint = null)
        => Diagnostics.Warning(id, File, span, message, hint);

    public bool IsStreamName(string name) => StreamDecls.ContainsKey(name);

    public bool IsPatternName(string name) => PatternDecls.ContainsKey(name);
}
