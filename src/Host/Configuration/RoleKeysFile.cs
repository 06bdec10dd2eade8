using System.Text.Json;
using Varpulis.Actors.Configuration;

namespace Varpulis.Host.Configuration;

/// <summary>
/// Reads <c>--api-keys FILE</c>: <c>{"keys": [{"key": "...", "role": "viewer|operator|admin", "name": "..."}]}</c>.
/// Errors name the entry by position and name, never by its key.
/// </summary>
public static class RoleKeysFile
{
    public static IReadOnlyList<RoleKey> Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"cannot read --api-keys file '{path}': {ex.Message}");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"--api-keys file '{path}' is not valid JSON: {ex.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
                throw new ConfigurationException($"--api-keys file '{path}' must be {{\"keys\": [{{\"key\", \"role\", \"name\"}}, ...]}}");
            var result = new List<RoleKey>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            int i = 0;
            foreach (var e in keys.EnumerateArray())
            {
                string where = $"--api-keys file '{path}', keys[{i}]";
                if (e.ValueKind != JsonValueKind.Object) throw new ConfigurationException($"{where} must be an object");
                string? name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                if (name is not null) where += $" ({name})";
                if (!e.TryGetProperty("key", out var k) || k.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(k.GetString()))
                    throw new ConfigurationException($"{where} has no key");
                var key = k.GetString()!;
                if (key.Length < 8) throw new ConfigurationException($"{where}: a key needs at least 8 characters");
                if (!e.TryGetProperty("role", out var r) || r.ValueKind != JsonValueKind.String)
                    throw new ConfigurationException($"{where} has no role (viewer, operator or admin)");
                var role = r.GetString() switch
                {
                    "viewer" => ApiRole.Viewer,
                    "operator" => ApiRole.Operator,
                    "admin" => ApiRole.Admin,
                    var other => throw new ConfigurationException($"{where}: unknown role '{other}' (viewer, operator or admin)"),
                };
                if (!seen.Add(key)) throw new ConfigurationException($"{where}: the same key is listed twice");
                result.Add(new RoleKey(key, role, name ?? $"keys[{i}]"));
                i++;
            }
            return result;
        }
    }
}
