using System.Text.Json.Nodes;

namespace Varpulis.Deploy.Tests.Support;

/// <summary>Prometheus's HTTP API (v1): instant queries, targets, alerts.</summary>
public sealed class PrometheusApi(Uri baseUrl) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>An instant query: <c>status</c> "success" with its result, or "error" with <c>errorType</c> and <c>error</c>.</summary>
    public async Task<QueryResult> QueryAsync(string expr)
    {
        using var resp = await _http.PostAsync("/api/v1/query", new FormUrlEncodedContent([new("query", expr)]));
        var doc = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
        var status = (string)doc["status"]!;
        if (status != "success") return new QueryResult(expr, false, $"{(string?)doc["errorType"]}: {(string?)doc["error"]}", null, []);
        var data = doc["data"]!;
        var type = (string)data["resultType"]!;
        var result = data["result"]!;
        var series = type is "vector" or "matrix" ? result.AsArray().Select(r => r!).ToList() : [result];
        return new QueryResult(expr, true, null, type, series);
    }

    /// <summary>The active targets: (job, instance, health, lastError).</summary>
    public async Task<IReadOnlyList<(string Job, string Instance, string Health, string LastError)>> TargetsAsync()
    {
        var doc = JsonNode.Parse(await _http.GetStringAsync("/api/v1/targets?state=active"))!;
        return doc["data"]!["activeTargets"]!.AsArray()
            .Select(t => ((string)t!["labels"]!["job"]!, (string)t["labels"]!["instance"]!, (string)t["health"]!, (string?)t["lastError"] ?? ""))
            .ToList();
    }

    /// <summary>The alerts now pending or firing: (name, state, labels).</summary>
    public async Task<IReadOnlyList<(string Name, string State, JsonObject Labels)>> AlertsAsync()
    {
        var doc = JsonNode.Parse(await _http.GetStringAsync("/api/v1/alerts"))!;
        return doc["data"]!["alerts"]!.AsArray()
            .Select(a => ((string)a!["labels"]!["alertname"]!, (string)a["state"]!, a["labels"]!.AsObject()))
            .ToList();
    }

    /// <summary>The loaded alerting rules: name → (health, lastError).</summary>
    public async Task<IReadOnlyDictionary<string, (string Health, string LastError)>> RulesAsync()
    {
        var doc = JsonNode.Parse(await _http.GetStringAsync("/api/v1/rules?type=alert"))!;
        return doc["data"]!["groups"]!.AsArray()
            .SelectMany(g => g!["rules"]!.AsArray())
            .ToDictionary(r => (string)r!["name"]!, r => ((string)r!["health"]!, (string?)r["lastError"] ?? ""));
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>One query's answer.</summary>
public sealed record QueryResult(string Expr, bool Success, string? Error, string? ResultType, IReadOnlyList<JsonNode> Series)
{
    /// <summary>A vector with at least one sample, or a scalar that is a number.</summary>
    public bool HasData => Success && Series.Count > 0 && (ResultType != "scalar" || Series[0].AsArray()[1]!.ToString() != "NaN");

    /// <summary>The sample values of a vector, by one label.</summary>
    public IReadOnlyDictionary<string, double> ByLabel(string label)
        => Series.ToDictionary(s => (string?)s["metric"]![label] ?? "", s => double.Parse(s["value"]![1]!.ToString(), System.Globalization.CultureInfo.InvariantCulture));
}
