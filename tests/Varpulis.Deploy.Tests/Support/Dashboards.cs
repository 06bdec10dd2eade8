using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Varpulis.Deploy.Tests.Support;

/// <summary>The provisioned Grafana dashboards and the PromQL of their panels, as Grafana would send it to Prometheus.</summary>
public static partial class Dashboards
{
    public static readonly string[] Files = ["varpulis.json", "varpulis-cluster.json"];

    public static JsonObject Load(string file) => JsonNode.Parse(File.ReadAllText(Repo.File("grafana", "dashboards", file)))!.AsObject();

    /// <summary>Every panel, rows' children included.</summary>
    public static IEnumerable<JsonObject> Panels(JsonObject dashboard)
    {
        foreach (var p in dashboard["panels"]!.AsArray().Select(p => p!.AsObject()))
        {
            yield return p;
            if (p["panels"] is JsonArray children)
            {
                foreach (var c in children) yield return c!.AsObject();
            }
        }
    }

    /// <summary>(dashboard file, panel title, the expression as written, the expression with the variables Grafana substitutes).</summary>
    public static IEnumerable<(string File, string Panel, string Expr, string Query)> Expressions()
    {
        foreach (var file in Files)
        {
            var d = Load(file);
            foreach (var p in Panels(d).Where(p => (string?)p["type"] != "row"))
            {
                foreach (var t in p["targets"]!.AsArray())
                {
                    var expr = (string)t!["expr"]!;
                    yield return (file, (string)p["title"]!, expr, Substitute(expr));
                }
            }
        }
    }

    /// <summary>
    /// Grafana's substitutions: <c>$__rate_interval</c> (at least four scrape intervals: 1m here), <c>$__interval</c>,
    /// <c>$__range</c>, and the dashboard variables at "All" (their allValue <c>.*</c>).
    /// </summary>
    public static string Substitute(string expr)
        => Variable().Replace(expr.Replace("$__rate_interval", "1m", StringComparison.Ordinal)
            .Replace("$__interval", "15s", StringComparison.Ordinal)
            .Replace("$__range", "1h", StringComparison.Ordinal), ".*");

    /// <summary>The metric names an expression reads (ours and the process's; <c>up</c> is Prometheus's own).</summary>
    public static IEnumerable<string> Metrics(string expr) => MetricName().Matches(expr).Select(m => m.Value).Distinct();

    [GeneratedRegex(@"\$[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Variable();

    [GeneratedRegex(@"\b(varpulis|process)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
