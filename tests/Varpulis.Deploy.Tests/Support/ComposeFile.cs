using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Varpulis.Deploy.Tests.Support;

/// <summary>
/// A compose file (docker-compose.cluster.yml, or the swarm stack) read as Docker Compose reads it: YAML merge keys
/// (<c>&lt;&lt;: *anchor</c>), then variable interpolation of every value from a given environment
/// (<c>${VAR}</c>, <c>${VAR:-default}</c>, <c>${VAR-default}</c>, <c>${VAR:?error}</c>, <c>${VAR:+alt}</c>, <c>$$</c>).
/// </summary>
public sealed class ComposeFile
{
    private ComposeFile(string path, Dictionary<string, object?> root)
    {
        Path = path;
        Root = root;
        Services = Map(root, "services").ToDictionary(kv => kv.Key, kv => new ComposeService(kv.Key, (Dictionary<string, object?>)kv.Value!), StringComparer.Ordinal);
    }

    public string Path { get; }

    public string Directory => System.IO.Path.GetDirectoryName(Path)!;

    public Dictionary<string, object?> Root { get; }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>Services that start by default (no <c>profiles</c>).</summary>
    public IEnumerable<ComposeService> DefaultServices => Services.Values.Where(s => s.Profiles.Count == 0);

    public static ComposeFile Load(string path, IReadOnlyDictionary<string, string> environment)
    {
        var text = System.IO.File.ReadAllText(path);
        var parser = new MergingParser(new Parser(new StringReader(text)));
        var raw = new DeserializerBuilder().Build().Deserialize<object>(parser);
        var root = (Dictionary<string, object?>)Normalize(raw, environment, interpolate: true)!;
        return new ComposeFile(path, root);
    }

    /// <summary>Interpolates one value as Compose does.</summary>
    public static string Interpolate(string value, IReadOnlyDictionary<string, string> env)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < value.Length)
        {
            char c = value[i];
            if (c != '$')
            {
                sb.Append(c);
                i++;
                continue;
            }
            if (i + 1 < value.Length && value[i + 1] == '$')
            {
                sb.Append('$');
                i += 2;
                continue;
            }
            if (i + 1 < value.Length && value[i + 1] == '{')
            {
                int end = ClosingBrace(value, i + 1);
                sb.Append(Expand(value[(i + 2)..end], env));
                i = end + 1;
                continue;
            }
            int j = i + 1;
            while (j < value.Length && (char.IsAsciiLetterOrDigit(value[j]) || value[j] == '_')) j++;
            if (j == i + 1) throw new FormatException($"invalid interpolation at '{value[i..]}'");
            sb.Append(env.TryGetValue(value[(i + 1)..j], out var v) ? v : "");
            i = j;
        }
        return sb.ToString();
    }

    private static string Expand(string body, IReadOnlyDictionary<string, string> env)
    {
        int k = 0;
        while (k < body.Length && (char.IsAsciiLetterOrDigit(body[k]) || body[k] == '_')) k++;
        var name = body[..k];
        var rest = body[k..];
        bool set = env.TryGetValue(name, out var v);
        bool nonEmpty = set && v!.Length > 0;
        if (rest.Length == 0) return v ?? "";
        if (rest.StartsWith(":-", StringComparison.Ordinal)) return nonEmpty ? v! : Interpolate(rest[2..], env);
        if (rest.StartsWith('-')) return set ? v! : Interpolate(rest[1..], env);
        if (rest.StartsWith(":?", StringComparison.Ordinal)) return nonEmpty ? v! : throw new FormatException($"required variable {name}: {rest[2..]}");
        if (rest.StartsWith('?')) return set ? v! : throw new FormatException($"required variable {name}: {rest[1..]}");
        if (rest.StartsWith(":+", StringComparison.Ordinal)) return nonEmpty ? Interpolate(rest[2..], env) : "";
        if (rest.StartsWith('+')) return set ? Interpolate(rest[1..], env) : "";
        throw new FormatException($"invalid interpolation '${{{body}}}'");
    }

    private static int ClosingBrace(string s, int open)
    {
        int depth = 0;
        for (int i = open; i < s.Length; i++)
        {
            if (s[i] == '{') depth++;
            else if (s[i] == '}' && --depth == 0) return i;
        }
        throw new FormatException($"unclosed '${{' in '{s}'");
    }

    /// <summary>YamlDotNet's untyped tree (object keys, string scalars) as string-keyed dictionaries, interpolated.</summary>
    private static object? Normalize(object? node, IReadOnlyDictionary<string, string> env, bool interpolate) => node switch
    {
        Dictionary<object, object?> map => map
            .Where(kv => !((string)kv.Key).StartsWith("x-", StringComparison.Ordinal))
            .ToDictionary(kv => (string)kv.Key, kv => Normalize(kv.Value, env, interpolate), StringComparer.Ordinal),
        List<object?> list => list.Select(e => Normalize(e, env, interpolate)).ToList(),
        string s => interpolate ? Interpolate(s, env) : s,
        null => null,
        _ => Convert.ToString(node, CultureInfo.InvariantCulture),
    };

    internal static Dictionary<string, object?> Map(Dictionary<string, object?> node, string key)
        => node.TryGetValue(key, out var v) && v is Dictionary<string, object?> d ? d : new Dictionary<string, object?>(StringComparer.Ordinal);

    internal static List<string> Strings(Dictionary<string, object?> node, string key)
        => node.TryGetValue(key, out var v) ? v switch
        {
            List<object?> l => l.Select(e => (string)e!).ToList(),
            string s => [s],
            _ => [],
        } : [];
}

/// <summary>One service of a compose file.</summary>
public sealed class ComposeService(string name, Dictionary<string, object?> node)
{
    public string Name { get; } = name;

    public Dictionary<string, object?> Node { get; } = node;

    public string? Image => Node.TryGetValue("image", out var v) ? (string?)v : null;

    public string? Hostname => Node.TryGetValue("hostname", out var v) ? (string?)v : null;

    /// <summary>The command as a list (a string command is split on spaces, as the files here never quote).</summary>
    public IReadOnlyList<string> Command => Node.TryGetValue("command", out var v) ? v switch
    {
        List<object?> l => l.Select(e => (string)e!).ToList(),
        string s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        _ => [],
    } : [];

    /// <summary>The environment (mapping or KEY=VALUE list).</summary>
    public IReadOnlyDictionary<string, string> Environment => Node.TryGetValue("environment", out var v) ? v switch
    {
        Dictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => (string?)kv.Value ?? "", StringComparer.Ordinal),
        List<object?> l => l.Select(e => ((string)e!).Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal),
        _ => new Dictionary<string, string>(),
    } : new Dictionary<string, string>();

    /// <summary>Container ports the service listens on (<c>expose</c>).</summary>
    public IReadOnlyList<int> Expose => ComposeFile.Strings(Node, "expose").Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();

    /// <summary>Published host:container pairs (short syntax "9000:9000", long syntax target/published).</summary>
    public IReadOnlyList<(int Published, int Target)> Ports => Node.TryGetValue("ports", out var v) && v is List<object?> l
        ? l.Select(p => p switch
        {
            string s => (int.Parse(s.Split(':')[0], CultureInfo.InvariantCulture), int.Parse(s.Split(':')[^1], CultureInfo.InvariantCulture)),
            Dictionary<string, object?> d => (int.Parse((string)d["published"]!, CultureInfo.InvariantCulture), int.Parse((string)d["target"]!, CultureInfo.InvariantCulture)),
            _ => throw new FormatException("ports entry"),
        }).ToList()
        : [];

    /// <summary>Volumes as (source, target): a source starting with '.' or '/' is a bind mount, else a named volume.</summary>
    public IReadOnlyList<(string Source, string Target)> Volumes => ComposeFile.Strings(Node, "volumes")
        .Select(v => v.Split(':'))
        .Select(p => (p[0], p[1]))
        .ToList();

    public IReadOnlyList<string> Profiles => ComposeFile.Strings(Node, "profiles");

    public IReadOnlyList<string> Secrets => ComposeFile.Strings(Node, "secrets");

    /// <summary>The healthcheck's test command without its CMD / CMD-SHELL marker.</summary>
    public IReadOnlyList<string> HealthcheckTest
    {
        get
        {
            var test = ComposeFile.Strings(ComposeFile.Map(Node, "healthcheck"), "test");
            return test.Count > 0 && test[0] is "CMD" or "CMD-SHELL" ? test.Skip(1).ToList() : test;
        }
    }

    public IReadOnlyDictionary<string, string> DependsOn => Node.TryGetValue("depends_on", out var v) ? v switch
    {
        Dictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => (string?)ComposeFile.Map(d, kv.Key).GetValueOrDefault("condition") ?? "service_started", StringComparer.Ordinal),
        List<object?> l => l.ToDictionary(e => (string)e!, _ => "service_started", StringComparer.Ordinal),
        _ => new Dictionary<string, string>(),
    } : new Dictionary<string, string>();

    public Dictionary<string, object?> Deploy => ComposeFile.Map(Node, "deploy");

    public int Replicas => Deploy.TryGetValue("replicas", out var r) && r is string s ? int.Parse(s, CultureInfo.InvariantCulture) : 1;
}
