using Serilog.Events;

namespace Varpulis.Host.Logging;

/// <summary>
/// <c>RUST_LOG</c>-style filters (<c>info</c>, <c>info,varpulis_runtime::connector=debug</c>) mapped onto .NET
/// namespaces. A bare level sets the default; <c>target=level</c> sets a namespace. Known Rust targets map to our
/// namespaces (see <see cref="TargetMap"/>); any other target is taken as a namespace, <c>::</c> read as <c>.</c>.
/// </summary>
public sealed record LogFilter(LogEventLevel Default, IReadOnlyDictionary<string, LogEventLevel> Overrides)
{
    /// <summary>The Rust crate/module targets of the runbook and the namespaces they stand for.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> TargetMap = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["varpulis"] = ["Varpulis"],
        ["varpulis_runtime"] = ["Varpulis.Vpl", "Varpulis.Actors"],
        ["varpulis_runtime::engine"] = ["Varpulis.Vpl", "Varpulis.Actors.Pipelines"],
        ["varpulis_runtime::connector"] = ["Varpulis.Actors.Connectors"],
        ["varpulis_runtime::sink"] = ["Varpulis.Actors.Connectors"],
        ["varpulis_runtime::persistence"] = ["Varpulis.Actors.Persistence", "Akka.Persistence"],
        ["varpulis_server"] = ["Varpulis.Api", "Varpulis.Host"],
        ["varpulis_api"] = ["Varpulis.Api"],
        ["varpulis_cli"] = ["Varpulis.Host"],
        ["varpulis_cluster"] = ["Varpulis.Actors.Cluster", "Akka.Cluster"],
        ["akka"] = ["Akka"],
        ["http"] = ["Microsoft.AspNetCore"],
    };

    /// <summary>Namespaces that stay at warning unless a filter names them (framework chatter).</summary>
    private static readonly string[] QuietByDefault = ["Microsoft", "Akka", "System.Net.Http"];

    public static LogFilter Parse(string? spec)
    {
        var level = LogEventLevel.Information;
        var overrides = new Dictionary<string, LogEventLevel>(StringComparer.Ordinal);
        foreach (var raw in (spec ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = raw.IndexOf('=');
            if (eq < 0)
            {
                level = ParseLevel(raw);
                continue;
            }
            var target = raw[..eq].Trim();
            var lvl = ParseLevel(raw[(eq + 1)..].Trim());
            var namespaces = TargetMap.TryGetValue(target, out var mapped) ? mapped : [target.Replace("::", ".")];
            foreach (var ns in namespaces) overrides[ns] = lvl;
        }
        foreach (var ns in QuietByDefault)
        {
            if (!overrides.ContainsKey(ns)) overrides[ns] = (LogEventLevel)Math.Max((int)level, (int)LogEventLevel.Warning);
        }
        return new LogFilter(level, overrides);
    }

    public static LogEventLevel ParseLevel(string s) => s.ToLowerInvariant() switch
    {
        "trace" => LogEventLevel.Verbose,
        "debug" => LogEventLevel.Debug,
        "info" or "information" => LogEventLevel.Information,
        "warn" or "warning" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "off" or "fatal" => LogEventLevel.Fatal,
        _ => throw new Configuration.ConfigurationException($"unknown log level '{s}': use trace, debug, info, warn, error or off"),
    };
}
