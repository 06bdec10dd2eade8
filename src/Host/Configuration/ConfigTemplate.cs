using System.Globalization;
using System.Text;
using Varpulis.Actors.Configuration;

namespace Varpulis.Host.Configuration;

/// <summary><c>varpulis config-gen</c>: a complete, commented configuration file with every key at its default.</summary>
public static class ConfigTemplate
{
    public static string Render(string format)
    {
        var defaults = new VarpulisSettings();
        bool toml = format == "toml";
        var sb = new StringBuilder();
        sb.Append("# Varpulis server configuration (").Append(toml ? "TOML" : "YAML").Append(").\n");
        sb.Append("# Use with: varpulis server --config FILE   (or VARPULIS_CONFIG=FILE)\n");
        sb.Append("# Precedence: command-line flags > environment variables > this file > defaults.\n");
        foreach (var section in SettingKey.All.Select(k => k.Section).Distinct())
        {
            sb.Append('\n');
            sb.Append(toml ? $"[{section}]\n" : $"{section}:\n");
            foreach (var key in SettingKey.All.Where(k => k.Section == section))
            {
                string indent = toml ? "" : "  ";
                sb.Append(indent).Append("# ").Append(key.Description);
                if (key.EnvVar is not null) sb.Append(" Environment: ").Append(key.EnvVar).Append('.');
                sb.Append('\n');
                sb.Append(indent).Append(key.Optional ? "# " : "").Append(key.Key).Append(toml ? " = " : ": ").Append(Literal(key.Get(defaults), key.Kind)).Append('\n');
            }
        }
        return sb.ToString();
    }

    private static string Literal(object? value, string kind) => kind switch
    {
        "bool" => (bool)value! ? "true" : "false",
        "int" or "number" => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        _ => "\"" + ((string?)value ?? "").Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
    };
}
