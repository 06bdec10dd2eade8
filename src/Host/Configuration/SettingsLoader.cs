using System.Globalization;
using System.Net;
using Tomlyn;
using Tomlyn.Model;
using Varpulis.Actors.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Varpulis.Host.Configuration;

/// <summary>
/// Builds <see cref="VarpulisSettings"/> once: defaults, then the config file (YAML <c>.yaml/.yml</c> or TOML
/// <c>.toml</c>, from <c>--config</c> or <c>VARPULIS_CONFIG</c>), then environment variables, then command-line flags.
/// Unknown keys and bad values are errors that name the key.
/// </summary>
public static class SettingsLoader
{
    public const string ConfigEnvVar = "VARPULIS_CONFIG";

    /// <summary>
    /// Defaults (with <paramref name="defaults"/>: a command's own, e.g. the coordinator's port 9100), file and
    /// environment (flags are applied by the caller, last).
    /// </summary>
    public static VarpulisSettings Load(string? configPath, Func<string, string?> env, Action<VarpulisSettings>? defaults = null)
    {
        var settings = new VarpulisSettings();
        defaults?.Invoke(settings);
        var path = configPath ?? NullIfEmpty(env(ConfigEnvVar));
        if (path is not null) ApplyFile(settings, path);
        foreach (var key in SettingKey.All)
        {
            if (key.EnvVar is null) continue;
            var value = env(key.EnvVar);
            if (string.IsNullOrEmpty(value)) continue;
            try
            {
                key.Set(settings, value);
            }
            catch (ConfigurationException ex)
            {
                throw new ConfigurationException($"{key.EnvVar}: {ex.Message}");
            }
        }
        return settings;
    }

    public static void ApplyFile(VarpulisSettings settings, string path)
    {
        if (!File.Exists(path)) throw new ConfigurationException($"config file '{path}' does not exist");
        var text = File.ReadAllText(path);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        IEnumerable<(string Section, string Key, string? Value, string? Type)> entries = ext switch
        {
            ".yaml" or ".yml" => ReadYaml(text, path),
            ".toml" => ReadToml(text, path),
            _ => throw new ConfigurationException($"config file '{path}': unknown format '{ext}'; use .yaml, .yml or .toml"),
        };
        foreach (var (section, key, value, type) in entries)
        {
            var setting = SettingKey.Find(section, key)
                ?? throw new ConfigurationException($"config file '{path}': unknown key '{section}.{key}'");
            if (value is null) continue;
            // A "number" key (seconds) takes integers and decimals alike.
            if (type is not null && type != setting.Kind && !(setting.Kind == "number" && type is "int" or "float"))
            {
                throw new ConfigurationException(
                    $"config file '{path}': {setting.Path} must be {KindName(setting.Kind)}, not {KindName(type)} ({Quote(value, type)})");
            }
            try
            {
                setting.Set(settings, value);
            }
            catch (ConfigurationException ex)
            {
                throw new ConfigurationException($"config file '{path}': {ex.Message}");
            }
        }
    }

    private static string KindName(string kind) => kind switch
    {
        "int" => "an integer",
        "bool" => "true or false",
        "float" or "number" => "a number",
        _ => "a string",
    };

    private static string Quote(string value, string type) => type == "string" ? "\"" + value + "\"" : value;

    /// <summary>
    /// YAML entries: the value's type is "string" for a quoted scalar (<c>port: "9000"</c> is then an error for an
    /// integer key) and null (untyped, read by the key) for a plain one.
    /// </summary>
    private static List<(string, string, string?, string?)> ReadYaml(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ConfigurationException($"config file '{path}' is not valid YAML: {ex.Message}");
        }
        var result = new List<(string, string, string?, string?)>();
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return result;
        if (stream.Documents[0].RootNode is not YamlMappingNode root) throw new ConfigurationException($"config file '{path}': the top level must be a mapping of sections");
        foreach (var (k, v) in root.Children)
        {
            var section = ((YamlScalarNode)k).Value ?? "";
            if (v is YamlScalarNode { Value: null or "" }) continue;
            if (v is not YamlMappingNode map) throw new ConfigurationException($"config file '{path}': '{section}' must be a section (a mapping of keys)");
            foreach (var (kk, vv) in map.Children)
            {
                var key = ((YamlScalarNode)kk).Value ?? "";
                if (vv is not YamlScalarNode scalar) throw new ConfigurationException($"config file '{path}': '{section}.{key}' must be a plain value");
                bool isNull = scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "~" or "null" or "";
                bool quoted = scalar.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted;
                result.Add((section, key, isNull ? null : scalar.Value, quoted ? "string" : null));
            }
        }
        return result;
    }

    /// <summary>TOML entries with the type the file gave each value (TOML values are typed: <c>port = "9000"</c> is a string).</summary>
    private static List<(string, string, string?, string?)> ReadToml(string text, string path)
    {
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(text)!;
        }
        catch (TomlException ex)
        {
            throw new ConfigurationException($"config file '{path}' is not valid TOML: {ex.Message}");
        }
        var result = new List<(string, string, string?, string?)>();
        foreach (var (section, value) in root)
        {
            if (value is not TomlTable table) throw new ConfigurationException($"config file '{path}': '{section}' must be a table ([{section}])");
            foreach (var (key, v) in table)
            {
                (string s, string type) = v switch
                {
                    string str => (str, "string"),
                    bool b => (b ? "true" : "false", "bool"),
                    long l => (l.ToString(CultureInfo.InvariantCulture), "int"),
                    double d => (d.ToString(CultureInfo.InvariantCulture), "float"),
                    _ => throw new ConfigurationException($"config file '{path}': '{section}.{key}' must be a plain value"),
                };
                result.Add((section, key, s, type));
            }
        }
        return result;
    }

    /// <summary>Checks the settings as a whole (after flags): the loopback rule, ports, persistence, the cluster.</summary>
    public static void Validate(VarpulisSettings s, bool coordinator = false)
    {
        if (!IsLoopback(s.Server.Bind) && string.IsNullOrEmpty(s.Server.ApiKey) && s.Coordinator.RoleKeys.Count == 0)
        {
            throw new ConfigurationException(
                $"refusing to listen on {s.Server.Bind} without an API key: anyone who can reach it could deploy pipelines. " +
                "Set one with --api-key KEY or the VARPULIS_API_KEY environment variable (or server.api_key in the config file), " +
                "or bind to 127.0.0.1.");
        }
        if (ParseBind(s.Server.Bind) is null) throw new ConfigurationException($"invalid bind address '{s.Server.Bind}': expected an IP address or localhost");
        if (s.Metrics.Enabled && !coordinator && s.Metrics.Port == s.Server.Port)
            throw new ConfigurationException($"--metrics-port {s.Metrics.Port} is the API port; choose another");
        if (s.Management.Port is int mp && mp != 0 && (mp == s.Server.Port || (s.Metrics.Enabled && !coordinator && mp == s.Metrics.Port)))
            throw new ConfigurationException($"--management-port {mp} is the {(mp == s.Server.Port ? "API" : "metrics")} port; choose another");
        if (s.Persistence.IsPostgres && string.IsNullOrWhiteSpace(s.Persistence.ConnectionString))
        {
            throw new ConfigurationException(
                "persistence.provider is postgresql but no connection string is set: set persistence.connection_string in the config file or VARPULIS_PERSISTENCE_CONNECTION");
        }
        ValidateCluster(s.Cluster);
    }

    private static void ValidateCluster(ClusterSettings c)
    {
        if (c.HeartbeatTimeoutSecs <= c.HeartbeatIntervalSecs)
        {
            throw new ConfigurationException(
                $"the heartbeat timeout ({c.HeartbeatTimeoutSecs.ToString(CultureInfo.InvariantCulture)} s) must be longer than the heartbeat interval ({c.HeartbeatIntervalSecs.ToString(CultureInfo.InvariantCulture)} s)");
        }
        if (!c.IsWorker) return;
        if (!IsHttpUrl(c.Coordinator!))
            throw new ConfigurationException($"invalid coordinator URL '{c.Coordinator}': expected http://host:port or https://host:port");
        if (c.WorkerId is not null && !Varpulis.Actors.Cluster.MemberRoles.IsValidWorkerId(c.WorkerId))
            throw new ConfigurationException($"invalid worker id '{c.WorkerId}': use 1 to 64 letters, digits, dots, dashes and underscores");
        if (c.AdvertiseAddress is not null && !IsHttpUrl(c.AdvertiseAddress))
            throw new ConfigurationException($"invalid advertise address '{c.AdvertiseAddress}': expected http://host:port or https://host:port");
    }

    private static bool IsHttpUrl(string s)
        => Uri.TryCreate(s, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && !string.IsNullOrEmpty(u.Host);

    public static IPAddress? ParseBind(string bind)
        => bind.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(bind.Trim('[', ']'), out var ip) ? ip : null;

    public static bool IsLoopback(string bind) => ParseBind(bind) is { } ip && IPAddress.IsLoopback(ip);

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
