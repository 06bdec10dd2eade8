using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Host.Simulate;

/// <summary>
/// Side effects of a simulation: <c>.print</c> and <c>.log</c> go to standard error, <c>.to</c> a
/// <c>console</c> connector prints JSON lines to standard error, <c>.to</c> a <c>file</c> connector appends
/// JSON lines to its <c>path</c>; other connector kinds are not connected by simulate and are counted.
/// </summary>
internal sealed class SimulationHost : IEngineHost, IDisposable
{
    private readonly TextWriter _stderr;
    private readonly bool _quiet;
    private readonly bool _verbose;
    private readonly Dictionary<string, ConnectorInfo> _connectors;
    private readonly Dictionary<string, StreamWriter> _files = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public SimulationHost(TextWriter stderr, bool quiet, bool verbose, CompiledProgram program)
    {
        _stderr = stderr;
        _quiet = quiet;
        _verbose = verbose;
        _connectors = program.Connectors.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    public long UndeliveredSinkEvents { get; private set; }

    public void Send(string stream, string connector, IReadOnlyList<KeyValuePair<string, Value>> args, Event e)
    {
        lock (_gate)
        {
            if (!_connectors.TryGetValue(connector, out var c))
            {
                UndeliveredSinkEvents++;
                return;
            }
            switch (c.Kind)
            {
                case "console":
                    if (!_quiet) _stderr.WriteLine(EventJson.ToJsonLine(e));
                    return;
                case "file":
                    {
                        var path = c.Parameters.Concat(args).LastOrDefault(kv => kv.Key == "path").Value;
                        if (!path.IsString)
                        {
                            UndeliveredSinkEvents++;
                            return;
                        }
                        if (!_files.TryGetValue(path.AsString, out var w))
                        {
                            w = new StreamWriter(path.AsString, append: true);
                            _files[path.AsString] = w;
                        }
                        w.WriteLine(EventJson.ToJsonLine(e));
                        return;
                    }
                default:
                    UndeliveredSinkEvents++;
                    return;
            }
        }
    }

    public void Print(string stream, string text)
    {
        if (_quiet) return;
        lock (_gate) _stderr.WriteLine($"[{stream}] {text}");
    }

    public void Log(string stream, string level, string message, Event e)
    {
        if (_quiet) return;
        lock (_gate) _stderr.WriteLine($"{level.ToUpperInvariant()} [{stream}] {message}");
    }

    public void Notice(string stream, string code, string message)
    {
        if (_quiet && !_verbose) return;
        lock (_gate) _stderr.WriteLine($"WARN [{stream}] {code}: {message}");
    }

    public void Dispose()
    {
        foreach (var w in _files.Values) w.Dispose();
    }
}
