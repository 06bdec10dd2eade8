using System.Globalization;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Compilation.Connectors;

/// <summary>The connector kinds VPL knows (<c>connector Name = kind(...)</c>).</summary>
public enum ConnectorKind
{
    Mqtt,
    Kafka,
    Http,
    File,
    Console,
}

/// <summary>Which way events travel through a binding.</summary>
public enum BindingDirection
{
    /// <summary><c>Type.from(Connector, ...)</c>: the connector feeds the pipeline.</summary>
    Source,

    /// <summary><c>.to(Connector, ...)</c>: the pipeline feeds the connector.</summary>
    Sink,
}

/// <summary>
/// One parameter value as written: a constant, an <c>env("NAME")</c> reference (resolved on the node that
/// connects, never stored resolved), or a map of those (<c>headers</c>).
/// </summary>
public sealed class ConnectorValue
{
    private ConnectorValue(Value literal, string? envVar, IReadOnlyList<KeyValuePair<string, ConnectorValue>>? map)
    {
        Literal = literal;
        EnvVar = envVar;
        Map = map;
    }

    /// <summary>The constant (null for an environment reference or a map).</summary>
    public Value Literal { get; }

    /// <summary>The variable of an <c>env("NAME")</c> reference.</summary>
    public string? EnvVar { get; }

    /// <summary>The entries of a map parameter, in written order.</summary>
    public IReadOnlyList<KeyValuePair<string, ConnectorValue>>? Map { get; }

    public static ConnectorValue Of(Value v) => new(v, null, null);

    public static ConnectorValue Env(string name) => new(Value.Null, name, null);

    public static ConnectorValue OfMap(IReadOnlyList<KeyValuePair<string, ConnectorValue>> entries) => new(Value.Null, null, entries);

    /// <summary>The value as VPL text, with secrets and environment values never shown: <c>env("NAME")</c> or <c>"***"</c>.</summary>
    public string Describe(bool secret)
    {
        if (EnvVar is not null) return $"env(\"{EnvVar}\")";
        if (Map is not null) return "{" + string.Join(", ", Map.Select(kv => $"\"{kv.Key}\": {kv.Value.Describe(secret)}")) + "}";
        if (secret) return "\"***\"";
        return Literal.IsString ? "\"" + Literal.AsString + "\"" : Literal.ToString();
    }
}

/// <summary>A connector's or a parameter's environment variable is not set where the connector runs.</summary>
public sealed class ConnectorConfigurationException(string message) : Exception(message);

/// <summary>
/// The parameters of one binding after compilation: defaults of the kind for the direction, then the declaration,
/// then the <c>.from</c>/<c>.to</c> arguments. Every value was type-checked by the compiler, so the typed getters
/// only fail for an unset environment variable.
/// </summary>
public sealed class ConnectorParameters
{
    private readonly Dictionary<string, ConnectorValue> _values;

    internal ConnectorParameters(string connector, ConnectorKind kind, Dictionary<string, ConnectorValue> values)
    {
        Connector = connector;
        Kind = kind;
        _values = values;
    }

    public string Connector { get; }

    public ConnectorKind Kind { get; }

    /// <summary>Parameter names that have a value (given or defaulted), sorted.</summary>
    public IReadOnlyList<string> Names => _values.Keys.Order(StringComparer.Ordinal).ToList();

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>True when the value comes from <c>env("...")</c>.</summary>
    public bool IsFromEnvironment(string name) => _values.TryGetValue(name, out var v) && v.EnvVar is not null;

    /// <summary>A string parameter; environment references are read through <paramref name="environment"/> (default: the process environment).</summary>
    public string? GetString(string name, Func<string, string?>? environment = null)
    {
        if (!_values.TryGetValue(name, out var v)) return null;
        return Resolve(name, v, environment);
    }

    public long GetInt(string name) => _values.TryGetValue(name, out var v) && v.Literal.IsInt ? v.Literal.AsInt : throw Missing(name);

    public bool GetBool(string name) => _values.TryGetValue(name, out var v) && v.Literal.IsBool ? v.Literal.AsBool : throw Missing(name);

    public TimeSpan GetDuration(string name)
        => _values.TryGetValue(name, out var v) && v.Literal.IsDuration ? TimeSpan.FromTicks(v.Literal.AsNanos / 100) : throw Missing(name);

    /// <summary>A list of strings: written as <c>["a", "b"]</c> or as one comma-separated string.</summary>
    public IReadOnlyList<string> GetStringList(string name, Func<string, string?>? environment = null)
    {
        if (!_values.TryGetValue(name, out var v)) return Array.Empty<string>();
        if (v.Literal.IsArray) return v.Literal.AsArray.Select(x => x.AsString).ToList();
        return (Resolve(name, v, environment) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>A map of strings (<c>headers</c>), each value resolved.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> GetStringMap(string name, Func<string, string?>? environment = null)
    {
        if (!_values.TryGetValue(name, out var v) || v.Map is null) return Array.Empty<KeyValuePair<string, string>>();
        return v.Map.Select(kv => new KeyValuePair<string, string>(kv.Key, Resolve($"{name}.{kv.Key}", kv.Value, environment) ?? "")).ToList();
    }

    /// <summary>The parameters as VPL text for logs and the API: secrets as <c>"***"</c>, environment values as <c>env("NAME")</c>.</summary>
    public string Describe()
        => string.Join(", ", Names.Select(n => $"{n}: {_values[n].Describe(ConnectorSchema.IsSecret(Kind, n))}"));

    private string? Resolve(string name, ConnectorValue v, Func<string, string?>? environment)
    {
        if (v.EnvVar is null) return v.Literal.IsString ? v.Literal.AsString : v.Literal.IsNull ? null : v.Literal.ToString();
        var resolved = (environment ?? Environment.GetEnvironmentVariable)(v.EnvVar);
        return resolved ?? throw new ConnectorConfigurationException(
            $"environment variable '{v.EnvVar}' (parameter '{name}' of connector '{Connector}') is not set");
    }

    private InvalidOperationException Missing(string name)
        => new(string.Create(CultureInfo.InvariantCulture, $"connector '{Connector}' has no {name}"));
}

/// <summary>A declared connector: its name, kind and the parameters written on the declaration.</summary>
public sealed record ConnectorDeclaration(string Name, ConnectorKind Kind, IReadOnlyList<string> DeclaredParameters);

/// <summary>
/// One <c>.from</c> or <c>.to</c> of a compiled program, typed and resolved: what a server needs to start a source
/// or route outputs to a sink. <paramref name="EventType"/> is the type a source reads (sources only);
/// <paramref name="Topic"/> is the MQTT topic (filter) or Kafka topic (null for http, file and console).
/// </summary>
public sealed record ConnectorBinding(
    string Connector,
    ConnectorKind Kind,
    BindingDirection Direction,
    string Stream,
    string? EventType,
    string? Topic,
    ConnectorParameters Parameters)
{
    /// <summary>The kind as written in VPL (<c>mqtt</c>, <c>kafka</c>, ...).</summary>
    public string KindName => ConnectorSchema.NameOf(Kind);

    /// <summary>The binding as VPL text, secrets redacted: <c>.from(Sensors, topic: "sensors/#")</c>.</summary>
    public override string ToString()
        => $"{Stream}: .{(Direction == BindingDirection.Source ? "from" : "to")}({Connector}{(Topic is null ? "" : $", topic: \"{Topic}\"")}) [{KindName}: {Parameters.Describe()}]";
}
