using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Server;

namespace Varpulis.Api.Tests.Infrastructure;

/// <summary>
/// A real <c>varpulis server</c> host in this process: Kestrel on a free loopback port, Akka.NET cluster of one,
/// SQLite (or PostgreSQL) persistence in a temporary state directory.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, VarpulisSettings settings, Uri address)
    {
        _app = app;
        Settings = settings;
        Address = address;
    }

    public VarpulisSettings Settings { get; }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static VarpulisSettings DefaultSettings(string? stateDir = null)
    {
        var s = new VarpulisSettings();
        s.Server.Port = FreePort();
        s.Server.StateDir = stateDir ?? TempDir();
        s.Logging.Level = "info";
        s.Persistence.SnapshotIntervalSecs = 0;
        return s;
    }

    public static async Task<TestServer> StartAsync(VarpulisSettings settings)
    {
        var log = new SynchronizedWriter();
        var app = VarpulisServer.Build(settings, log);
        await app.StartAsync();
        var server = new TestServer(app, settings, VarpulisServer.ApiAddress(app, settings));
        server._logWriter = log;
        await server.WaitReadyAsync();
        return server;
    }

    private SynchronizedWriter? _logWriter;

    public string Log => _logWriter?.Text ?? "";

    public HttpClient Client(string? apiKey = null)
    {
        var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        var key = apiKey ?? Settings.Server.ApiKey;
        if (key is not null) http.DefaultRequestHeaders.Add("x-api-key", key);
        return http;
    }

    private async Task WaitReadyAsync()
    {
        using var http = Client();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var r = await http.GetAsync("/ready");
            if (r.StatusCode == HttpStatusCode.OK) return;
            await Task.Delay(100);
        }
        throw new TimeoutException("server did not become ready: " + Log);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "varpulis-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }

    private sealed class SynchronizedWriter : TextWriter
    {
        private readonly StringBuilder _sb = new();

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_sb) return _sb.ToString();
            }
        }

        public override void Write(char value)
        {
            lock (_sb) _sb.Append(value);
        }

        public override void Write(string? value)
        {
            lock (_sb) _sb.Append(value);
        }
    }
}

/// <summary>JSON helpers for requests and responses.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Json(JsonNode node) => Json(node.ToJsonString());

    public static async Task<(HttpStatusCode Status, JsonNode Body)> SendAsync(this HttpClient http, HttpMethod method, string path, string? json = null, string? contentType = "application/json")
    {
        using var req = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            req.Content = new StringContent(json, Encoding.UTF8);
            req.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        }
        using var resp = await http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        Assert.StartsWith("application/json", resp.Content.Headers.ContentType?.ToString() ?? "");
        return (resp.StatusCode, JsonNode.Parse(text)!);
    }

    public static Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(this HttpClient http, string path, string json) => http.SendAsync(HttpMethod.Post, path, json);

    /// <summary>A POST with an <c>Idempotency-Key</c> header.</summary>
    public static async Task<(HttpStatusCode Status, JsonNode Body)> PostKeyedAsync(this HttpClient http, string path, string json, string key)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(json) };
        req.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var resp = await http.SendAsync(req);
        return (resp.StatusCode, JsonNode.Parse(await resp.Content.ReadAsStringAsync())!);
    }

    /// <summary>The pipeline's <c>events_processed</c> metric.</summary>
    public static async Task<long> ProcessedAsync(this HttpClient http, string pipelineId)
        => (long)(await http.GetJsonAsync($"/api/v1/pipelines/{pipelineId}/metrics")).Body["events_processed"]!;

    public static Task<(HttpStatusCode Status, JsonNode Body)> GetJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Get, path);

    public static void AssertError(this (HttpStatusCode Status, JsonNode Body) r, HttpStatusCode status, string code, string? message = null)
    {
        Assert.True(r.Status == status, $"expected {(int)status} {code}, got {(int)r.Status}: {r.Body.ToJsonString()}");
        Assert.Equal(code, (string?)r.Body["code"]);
        if (message is not null) Assert.Equal(message, (string?)r.Body["error"]);
    }
}
