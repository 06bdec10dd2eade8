using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Compilation;

/// <summary>Options for compiling a VPL program.</summary>
public sealed class CompileOptions
{
    /// <summary>File name shown in diagnostics.</summary>
    public string Path { get; init; } = "<input>";

    /// <summary>
    /// Resolves <c>import "x.vpl"</c>: (import path, importing file path) → source, or null when missing.
    /// Null: imports are rejected (programs deployed over REST have no file system).
    /// </summary>
    public Func<string, string, Syntax.SourceText?>? ResolveImport { get; init; }

    /// <summary>Event types to compile against. Programs that share a registry share events (parallel workers).</summary>
    public TypeRegistry? Types { get; init; }
}

/// <summary>The result of compiling: diagnostics, and the program when there were no errors.</summary>
public sealed class Compilation
{
    internal Compilation(IReadOnlyList<Diagnostic> diagnostics, CompiledProgram? program, int statementCount)
    {
        Diagnostics = diagnostics;
        Program = program;
        StatementCount = statementCount;
    }

    public IReadOnlyList<Diagnostic> Diagnostics { get; }

    public CompiledProgram? Program { get; }

    /// <summary>Top-level statements after loop expansion and imports.</summary>
    public int StatementCount { get; }

    public bool Success => Program is not null;

    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.IsError);

    public IEnumerable<Diagnostic> Warnings => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);
}

/// <summary>A declared connector: <c>connector Name = kind(key: value, ...)</c>.</summary>
public sealed record ConnectorInfo(string Name, string Kind, IReadOnlyList<KeyValuePair<string, Value>> Parameters);

/// <summary>What the host needs to know about one stream.</summary>
public sealed record StreamInfo(
    string Name,
    bool ProducesOutput,
    bool IsPattern,
    IReadOnlyList<string> InputEventTypes,
    IReadOnlyList<string>? PartitionKey,
    bool IsStateless);

/// <summary>Whether and how the program's input can be split across parallel engines (simulate --workers).</summary>
public sealed record PartitioningInfo(bool CanSplit, string? KeyField, string Reason);

/// <summary>
/// A compiled program: immutable and engine-independent. Create any number of engines from it (each
/// engine is single-threaded; distinct engines may run on different threads).
/// </summary>
public sealed class CompiledProgram
{
    private readonly Value[] _initialGlobals;

    internal CompiledProgram(
        TypeRegistry types,
        IReadOnlyList<StreamPlan> plans,
        IReadOnlyList<ConnectorInfo> connectors,
        IReadOnlyList<Connectors.ConnectorBinding> connectorBindings,
        Value[] initialGlobals,
        IReadOnlyList<KeyValuePair<string, int>> checkpointedGlobals,
        long outOfOrderness,
        IReadOnlyList<string> contexts)
    {
        Types = types;
        Plans = plans;
        Connectors = connectors;
        ConnectorBindings = connectorBindings;
        _initialGlobals = initialGlobals;
        CheckpointedGlobals = checkpointedGlobals;
        OutOfOrderness = outOfOrderness;
        Contexts = contexts;
        Streams = plans.Select(p => new StreamInfo(p.Name, p.ProducesOutput, p.IsPattern, p.InputTypeNames, p.PartitionKey, p.IsStateless)).ToList();
        Partitioning = ComputePartitioning(plans);
    }

    public TypeRegistry Types { get; }

    internal IReadOnlyList<StreamPlan> Plans { get; }

    /// <summary>Streams in declaration order.</summary>
    public IReadOnlyList<StreamInfo> Streams { get; }

    public IReadOnlyList<ConnectorInfo> Connectors { get; }

    /// <summary>Declared execution lanes (<c>context</c>); informational.</summary>
    public IReadOnlyList<string> Contexts { get; }

    /// <summary>
    /// Every <c>.from(Connector, ...)</c> and <c>.to(Connector, ...)</c> of the program, typed, with the parameters
    /// resolved (defaults, declaration, binding arguments): what a server starts sources and routes sinks from.
    /// </summary>
    public IReadOnlyList<Connectors.ConnectorBinding> ConnectorBindings { get; }

    /// <summary>Declared out-of-orderness (<c>.watermark(out_of_order: d)</c>, the largest over streams) in ns.</summary>
    public long OutOfOrderness { get; }

    internal IReadOnlyList<KeyValuePair<string, int>> CheckpointedGlobals { get; }

    public PartitioningInfo Partitioning { get; }

    internal Value[] CreateGlobals() => (Value[])_initialGlobals.Clone();

    public Engine CreateEngine(EngineOptions? options = null) => new(this, options ?? EngineOptions.Default);

    private static PartitioningInfo ComputePartitioning(IReadOnlyList<StreamPlan> plans)
    {
        string? key = null;
        foreach (var p in plans)
        {
            if (p.IsStateless) continue;
            if (p.PartitionKey is not { Count: 1 } k)
                return new PartitioningInfo(false, null, $"stream '{p.Name}' keeps state that is not partitioned by a single field");
            if (key is null) key = k[0];
            else if (key != k[0])
                return new PartitioningInfo(false, null, $"streams are partitioned by different fields ('{key}' and '{k[0]}')");
        }
        return key is null
            ? new PartitioningInfo(true, null, "every stream is stateless")
            : new PartitioningInfo(true, key, $"every stateful stream is partitioned by '{key}'");
    }
}
