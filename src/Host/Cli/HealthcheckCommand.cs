using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Varpulis.Host.Cli;

/// <summary>
/// <c>varpulis healthcheck</c>: the container health probe (the image's <c>HEALTHCHECK</c>, compose and swarm
/// healthchecks, a Kubernetes exec probe). Asks a node's <c>/health</c> and exits 0 when it answers 200 with a status,
/// 1 otherwise (Docker's "unhealthy"), printing one line either way. The runtime image has no curl or wget, and a probe
/// that is the server's own executable cannot be missing from it.
/// </summary>
public static class HealthcheckCommand
{
    public const string DefaultServer = "http://127.0.0.1:9000";

    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = $"The node's base URL; /health is asked below it (default {DefaultServer}; a coordinator: http://127.0.0.1:9100).", DefaultValueFactory = _ => DefaultServer };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer (default 5).", DefaultValueFactory = _ => 5 };
        var cmd = new Command("healthcheck", "Exit 0 if the node at --server answers /health, 1 if not (container health probe).");
        cmd.Options.Add(server);
        cmd.Options.Add(timeout);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(server), UriKind.Absolute, out var baseUri) || (baseUri.Scheme != "http" && baseUri.Scheme != "https"))
            {
                await Console.Error.WriteLineAsync($"error: --server must be an http:// or https:// URL, not '{parse.GetValue(server)}'");
                return 2;
            }
            double secs = parse.GetValue(timeout);
            if (secs is <= 0 or > 300)
            {
                await Console.Error.WriteLineAsync("error: --timeout must be a number of seconds above 0 (at most 300)");
                return 2;
            }
            var (healthy, line) = await ProbeAsync(new Uri(baseUri.ToString().TrimEnd('/') + "/health"), TimeSpan.FromSeconds(secs), ct);
            Console.WriteLine(line);
            return healthy ? 0 : 1;
        });
        return cmd;
    }

    /// <summary>Whether <paramref name="url"/> answers 200 with a JSON <c>status</c>, and the line to print.</summary>
    internal static async Task<(bool Healthy, string Line)> ProbeAsync(Uri url, TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = timeout };
        try
        {
            using var resp = await http.GetAsync(url, ct);
            var body = await resp.Content.ReadAsStringAsync(ct);
            string? status = null;
            try
            {
                status = JsonNode.Parse(body)?["status"]?.GetValue<string>();
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
            }
            if (resp.StatusCode != HttpStatusCode.OK) return (false, $"unhealthy: {url} answered HTTP {(int)resp.StatusCode}");
            if (status is null) return (false, $"unhealthy: {url} answered 200 without a status: {Truncate(body)}");
            return (true, $"{status}: {Truncate(body)}");
        }
        catch (HttpRequestException ex)
        {
            return (false, $"unhealthy: {url} unreachable ({ex.Message})");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, $"unhealthy: {url} did not answer within {timeout.TotalSeconds:0.###} s");
        }
    }

    private static string Truncate(string s) => s.Length <= 500 ? s : s[..500] + "...";
}
