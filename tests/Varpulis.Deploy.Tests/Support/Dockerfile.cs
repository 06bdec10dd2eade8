using System.Text.Json;
using System.Text.RegularExpressions;

namespace Varpulis.Deploy.Tests.Support;

/// <summary>
/// A Dockerfile read into its stages and instructions (continuation lines joined, comments dropped), with what a test
/// needs of the runtime stage: its ENV, the files copied into it, ENTRYPOINT, CMD and HEALTHCHECK.
/// </summary>
public sealed partial class Dockerfile
{
    private Dockerfile(List<Stage> stages) => Stages = stages;

    public IReadOnlyList<Stage> Stages { get; }

    /// <summary>The last stage: the image that runs.</summary>
    public Stage Runtime => Stages[^1];

    public static Dockerfile Load(string path)
    {
        var stages = new List<Stage>();
        var logical = new List<string>();
        var current = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.TrimEnd();
            if (current.Length == 0 && line.TrimStart().StartsWith('#')) continue;
            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }
            current += line;
            if (current.Trim().Length > 0) logical.Add(current.Trim());
            current = "";
        }
        foreach (var l in logical)
        {
            var space = l.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? l : l[..space]).ToUpperInvariant();
            var args = space < 0 ? "" : l[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var m = FromPattern().Match(args);
                stages.Add(new Stage(m.Groups["image"].Value, m.Groups["name"].Success ? m.Groups["name"].Value : null));
                continue;
            }
            if (stages.Count == 0) continue; // ARG before the first FROM
            stages[^1].Instructions.Add(new Instruction(keyword, args));
        }
        return new Dockerfile(stages);
    }

    public sealed class Stage(string image, string? name)
    {
        public string Image { get; } = image;

        public string? Name { get; } = name;

        public List<Instruction> Instructions { get; } = new();

        public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

        /// <summary>ENV of the stage, in order, <c>$NAME</c> expanded against the earlier values and <paramref name="inherited"/>.</summary>
        public Dictionary<string, string> Environment(IReadOnlyDictionary<string, string> inherited)
        {
            var env = new Dictionary<string, string>(inherited, StringComparer.Ordinal);
            foreach (var i in All("ENV"))
            {
                foreach (Match m in EnvPair().Matches(i.Arguments))
                {
                    var value = m.Groups["value"].Value.Trim('"');
                    env[m.Groups["key"].Value] = Regex.Replace(value, @"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", v => env.GetValueOrDefault(v.Groups[1].Value, ""));
                }
            }
            return env;
        }

        /// <summary>COPY instructions: (--from stage or null, sources, destination, flags).</summary>
        public IEnumerable<Copy> Copies => All("COPY").Select(c =>
        {
            var parts = c.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            var flags = parts.TakeWhile(p => p.StartsWith("--", StringComparison.Ordinal)).ToList();
            var rest = parts.Skip(flags.Count).ToList();
            var from = flags.FirstOrDefault(f => f.StartsWith("--from=", StringComparison.Ordinal))?["--from=".Length..];
            return new Copy(from, rest.Take(rest.Count - 1).ToList(), rest[^1], flags);
        });

        /// <summary>The JSON (exec) form of ENTRYPOINT, CMD, or HEALTHCHECK's CMD.</summary>
        public IReadOnlyList<string> Exec(string keyword)
        {
            var args = All(keyword).Last().Arguments;
            if (keyword == "HEALTHCHECK") args = args[(args.IndexOf("CMD ", StringComparison.Ordinal) + 4)..];
            return JsonSerializer.Deserialize<List<string>>(args) ?? throw new FormatException($"{keyword} is not in exec form: {args}");
        }

        /// <summary>The options of HEALTHCHECK (<c>--interval=10s</c> ...).</summary>
        public IReadOnlyDictionary<string, string> HealthcheckOptions => All("HEALTHCHECK").Last().Arguments
            .Split(' ').TakeWhile(p => p.StartsWith("--", StringComparison.Ordinal))
            .Select(p => p[2..].Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }

    public sealed record Instruction(string Keyword, string Arguments);

    public sealed record Copy(string? From, IReadOnlyList<string> Sources, string Destination, IReadOnlyList<string> Flags);

    [GeneratedRegex(@"^(--platform=\S+\s+)?(?<image>\S+)(\s+AS\s+(?<name>\S+))?$", RegexOptions.IgnoreCase)]
    private static partial Regex FromPattern();

    [GeneratedRegex("""(?<key>[A-Za-z_][A-Za-z0-9_]*)=(?<value>"[^"]*"|\S*)""")]
    private static partial Regex EnvPair();
}
