using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Varpulis.Contracts.Pipelines;

namespace Varpulis.Host.Cli;

/// <summary>
/// Commands against a running server: <c>deploy</c>, <c>pipelines</c>, <c>undeploy</c>, <c>status</c> and
/// <c>logs</c> (the SSE client of runbook §5.3). Each takes <c>--server URL</c> and <c>--api-key K</c>
/// (default <c>VARPULIS_API_KEY</c>).
/// </summary>
public static partial class ClientCommands
{
    private static readonly JsonSerializerOptions Pretty = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a terminal shows `a > b`, not `a \u003E b`
    };

    public static IEnumerable<Command> Create()
    {
        yield return Deploy();
        yield return Pipelines();
        yield return Undeploy();
        yield return Status();
        yield return Logs();
        yield return Dlq();
    }

    private static (Option<string> Server, Option<string> ApiKey) Connection(Command cmd)
    {
        var server = new Option<string>("--server") { Description = "Server base URL.", DefaultValueFactory = _ => "http://localhost:9000" };
        var apiKey = new Option<string>("--api-key") { Description = "API key (default: VARPULIS_API_KEY)." };
        cmd.Options.Add(server);
        cmd.Options.Add(apiKey);
        return (server, apiKey);
    }

    private static Command Deploy()
    {
        var cmd = new Command("deploy", "Deploy a VPL program as a pipeline.");
        var (server, key) = Connection(cmd);
        var name = new Option<string>("--name") { Description = "Pipeline name.", Required = true };
        var file = new Option<string>("--file", "-f") { Description = "VPL file to deploy." };
        var source = new Option<string>("--source") { Description = "VPL source text (instead of --file)." };
        cmd.Options.Add(name);
        cmd.Options.Add(file);
        cmd.Options.Add(source);
        cmd.SetAction(async (parse, ct) =>
        {
            string? text = parse.GetValue(source);
            var path = parse.GetValue(file);
            if (path is not null)
            {
                try
                {
                    text = await File.ReadAllTextAsync(path, ct);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return CliFailure.Fail($"cannot read --file '{path}': {FileProblem(ex)}");
                }
            }
            if (text is null) return CliFailure.Fail("give the program with --file FILE or --source TEXT");
            var body = JsonContent.Create(new DeployPipelineRequest(parse.GetValue(name)!, text), PipelinesJsonContext.Default.DeployPipelineRequest);
            return await Send(parse, server, key, HttpMethod.Post, "/api/v1/pipelines", body, ct);
        });
        return cmd;
    }

    private static Command Pipelines()
    {
        var cmd = new Command("pipelines", "List the pipelines of the server.");
        var (server, key) = Connection(cmd);
        var json = new Option<bool>("--json") { Description = "Print the JSON response." };
        cmd.Options.Add(json);
        cmd.SetAction(async (parse, ct) =>
        {
            using var http = Client(parse, server, key);
            using var resp = await http.GetAsync("/api/v1/pipelines?limit=1000", ct);
            var text = await resp.Content.ReadAsStringAsync(ct);
            if (!resp.IsSuccessStatusCode) return HttpError(resp, text);
            if (parse.GetValue(json))
            {
                Console.WriteLine(text);
                return 0;
            }
            var list = JsonSerializer.Deserialize(text, PipelinesJsonContext.Default.PipelineList)!;
            Console.WriteLine($"{"ID",-36}  {"NAME",-24}  {"STATUS",-8}  UPTIME");
            foreach (var p in list.Pipelines)
                Console.WriteLine($"{p.Id,-36}  {p.Name,-24}  {p.Status,-8}  {p.UptimeSecs}s");
            Console.WriteLine($"{list.Total} pipeline(s)");
            return 0;
        });
        return cmd;
    }

    private static Command Undeploy()
    {
        var cmd = new Command("undeploy", "Delete a pipeline.");
        var (server, key) = Connection(cmd);
        var id = new Option<string>("--pipeline-id") { Description = "Pipeline id.", Required = true };
        cmd.Options.Add(id);
        cmd.SetAction((parse, ct) => Send(parse, server, key, HttpMethod.Delete, "/api/v1/pipelines/" + Uri.EscapeDataString(parse.GetValue(id)!), null, ct));
        return cmd;
    }

    private static Command Status()
    {
        var cmd = new Command("status", "Show server health and readiness, or one pipeline's details and metrics.");
        var (server, key) = Connection(cmd);
        var id = new Option<string>("--pipeline-id") { Description = "Show this pipeline instead of the server." };
        cmd.Options.Add(id);
        cmd.SetAction(async (parse, ct) =>
        {
            var pid = parse.GetValue(id);
            if (pid is not null)
            {
                int rc = await Send(parse, server, key, HttpMethod.Get, "/api/v1/pipelines/" + Uri.EscapeDataString(pid), null, ct);
                return rc != 0 ? rc : await Send(parse, server, key, HttpMethod.Get, $"/api/v1/pipelines/{Uri.EscapeDataString(pid)}/metrics", null, ct);
            }
            using var http = Client(parse, server, key);
            var health = await http.GetAsync("/health", ct);
            Console.WriteLine(Indent(await health.Content.ReadAsStringAsync(ct)));
            var ready = await http.GetAsync("/ready", ct);
            Console.WriteLine(Indent(await ready.Content.ReadAsStringAsync(ct)));
            return health.IsSuccessStatusCode && ready.IsSuccessStatusCode ? 0 : 1;
        });
        return cmd;
    }

    private static Command Logs()
    {
        var cmd = new Command("logs", "Stream a pipeline's output events (Server-Sent Events) until interrupted.");
        var (server, key) = Connection(cmd);
        var id = new Option<string>("--pipeline-id") { Description = "Pipeline id.", Required = true };
        cmd.Options.Add(id);
        cmd.SetAction(async (parse, ct) =>
        {
            using var http = Client(parse, server, key);
            http.Timeout = Timeout.InfiniteTimeSpan;
            using var req = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/pipelines/{Uri.EscapeDataString(parse.GetValue(id)!)}/logs");
            req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            HttpResponseMessage resp;
            try
            {
                resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException ex)
            {
                return Fail($"cannot reach {parse.GetValue(server)}: {ex.Message}");
            }
            using (resp)
            {
                if (!resp.IsSuccessStatusCode) return HttpError(resp, await resp.Content.ReadAsStringAsync(ct));
                using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
                string? eventName = null;
                try
                {
                    while (await reader.ReadLineAsync(ct) is { } line)
                    {
                        if (line.Length == 0)
                        {
                            eventName = null;
                        }
                        else if (line.StartsWith(':'))
                        {
                            // keep-alive comment
                        }
                        else if (line.StartsWith("event:", StringComparison.Ordinal))
                        {
                            eventName = line[6..].Trim();
                        }
                        else if (line.StartsWith("data:", StringComparison.Ordinal))
                        {
                            var data = line[5..].TrimStart();
                            if (eventName == "warning") await Console.Error.WriteLineAsync("warning: " + (WarningOf(data) ?? data));
                            else Console.WriteLine(data);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }
            }
            return 0;
        });
        return cmd;
    }

    private static HttpClient Client(ParseResult parse, Option<string> server, Option<string> key)
    {
        var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(server)!), Timeout = TimeSpan.FromSeconds(60) };
        var k = parse.GetValue(key) ?? Environment.GetEnvironmentVariable("VARPULIS_API_KEY");
        if (!string.IsNullOrEmpty(k)) http.DefaultRequestHeaders.Add("x-api-key", k);
        return http;
    }

    private static async Task<int> Send(ParseResult parse, Option<string> server, Option<string> key, HttpMethod method, string path, HttpContent? body, CancellationToken ct)
    {
        using var http = Client(parse, server, key);
        using var req = new HttpRequestMessage(method, path);
        if (body is not null) req.Content = body;
        HttpResponseMessage resp;
        try
        {
            resp = await http.SendAsync(req, ct);
        }
        catch (HttpRequestException ex)
        {
            return Fail($"cannot reach {parse.GetValue(server)}: {ex.Message}");
        }
        using (resp)
        {
            var text = await resp.Content.ReadAsStringAsync(ct);
            if (!resp.IsSuccessStatusCode) return HttpError(resp, text);
            Console.WriteLine(Indent(text));
            return 0;
        }
    }

    private static int HttpError(HttpResponseMessage resp, string text)
    {
        ApiErrorReply? error;
        try
        {
            error = JsonSerializer.Deserialize(text, PipelinesJsonContext.Default.ApiErrorReply);
        }
        catch (JsonException)
        {
            error = null;
        }
        if (error is null)
        {
            Console.Error.WriteLine($"error: HTTP {(int)resp.StatusCode}: {text}");
            return 1;
        }
        Console.Error.WriteLine($"error: {error.Error} ({error.Code}, HTTP {(int)resp.StatusCode})");
        foreach (var d in error.Diagnostics ?? []) Console.Error.WriteLine($"  {d.Line}:{d.Column}: {d.Severity}: {d.Message}");
        return 1;
    }

    private static string? WarningOf(string data)
    {
        try
        {
            return JsonSerializer.Deserialize(data, PipelinesJsonContext.Default.LogStreamWarning)?.Warning;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Why a file cannot be read or written, in words (not the exception's type).</summary>
    internal static string FileProblem(Exception ex) => ex switch
    {
        FileNotFoundException => "no such file",
        DirectoryNotFoundException => "its directory does not exist",
        UnauthorizedAccessException => $"permission denied for user '{Environment.UserName}'",
        _ => ex.Message,
    };

    private static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return 1;
    }

    private static string Indent(string json)
    {
        try
        {
            return JsonNode.Parse(json)?.ToJsonString(Pretty) ?? json;
        }
        catch (JsonException)
        {
            return json;
        }
    }
}
