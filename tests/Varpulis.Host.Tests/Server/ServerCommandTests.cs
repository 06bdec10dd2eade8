using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Host.Tests.Server;

/// <summary><c>varpulis server</c> and <c>config-gen</c> as a user runs them.</summary>
public sealed class ServerCommandTests
{
    [Fact]
    public async Task NonLoopbackBindWithoutKeyIsRefusedWithHowToFix()
    {
        await using var p = ServerProcess.Start(ServerProcess.FreePort(), ["server", "--bind", "0.0.0.0", "--state-dir", ServerProcess.TempDir()]);
        Assert.Equal(2, await p.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("refusing to listen on 0.0.0.0 without an API key", p.Output);
        Assert.Contains("--api-key", p.Output);
        Assert.Contains("VARPULIS_API_KEY", p.Output);
    }

    [Theory]
    [InlineData("yaml")]
    [InlineData("toml")]
    public async Task GeneratedConfigIsAcceptedAsIs(string format)
    {
        var dir = ServerProcess.TempDir();
        var file = Path.Combine(dir, "varpulis." + format);
        await using (var gen = ServerProcess.Start(0, ["config-gen", "--format", format, "-o", file]))
        {
            Assert.Equal(0, await gen.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }
        var text = await File.ReadAllTextAsync(file);
        Assert.Contains("state_dir", text);
        Assert.Contains("# ", text);
        // The generated file as is, with the port and state directory given as flags (flags win).
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(port, ["server", "--config", file, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--state-dir", Path.Combine(dir, "state")]);
        await server.WaitReadyAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/pipelines")).StatusCode);
    }

    [Fact]
    public async Task FlagsBeatEnvironmentWhichBeatsTheConfigFile()
    {
        var dir = ServerProcess.TempDir();
        var file = Path.Combine(dir, "c.yaml");
        int port = ServerProcess.FreePort();
        await File.WriteAllTextAsync(file, $"server:\n  port: {port}\n  state_dir: {dir}/from-file\n  rate_limit: 7\nlogging:\n  format: json\n");
        await using var server = ServerProcess.Start(port, ["server", "--state-dir", $"{dir}/from-flag"],
            new Dictionary<string, string> { ["VARPULIS_CONFIG"] = file, ["VARPULIS_STATE_DIR"] = $"{dir}/from-env", ["VARPULIS_RATE_LIMIT"] = "0" });
        await server.WaitReadyAsync();
        Assert.True(Directory.Exists($"{dir}/from-flag"));
        Assert.False(Directory.Exists($"{dir}/from-env"));
        Assert.False(Directory.Exists($"{dir}/from-file"));
        // The config file's JSON log format applies; the environment's rate limit (0) beat the file's 7.
        Assert.Contains("\"message\":\"Varpulis 0.1.0 listening on http://127.0.0.1:" + port, server.Output);
        using var http = new HttpClient { BaseAddress = server.Address };
        for (int i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/pipelines")).StatusCode);
    }

    [Fact]
    public async Task UnknownConfigKeyIsAnErrorNamingIt()
    {
        var dir = ServerProcess.TempDir();
        var file = Path.Combine(dir, "bad.toml");
        await File.WriteAllTextAsync(file, "[server]\nprot = 9000\n");
        await using var p = ServerProcess.Start(0, ["server", "--config", file]);
        Assert.Equal(2, await p.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"config file '{file}': unknown key 'server.prot'", p.Output);
    }

    [Theory]
    [InlineData("info", false, false)]
    [InlineData("info,varpulis_runtime::engine=debug", true, false)]
    [InlineData("info,varpulis_runtime::engine=trace", true, true)]
    public async Task RustLogEngineFilterTracesIngestion(string rustLog, bool debugLines, bool traceLines)
    {
        var dir = ServerProcess.TempDir();
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(port, ["server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--state-dir", Path.Combine(dir, "state")],
            new Dictionary<string, string> { ["RUST_LOG"] = rustLog });
        await server.WaitReadyAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        var deploy = await http.PostAsync("/api/v1/pipelines", new StringContent(
            """{"name": "t", "source": "stream Alert = TempReading as t .where(t.value > 100) .emit(sensor: t.sensor)"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, deploy.StatusCode);
        var id = (string)JsonNode.Parse(await deploy.Content.ReadAsStringAsync())!["id"]!;
        var batch = await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", new StringContent(
            """{"events": [{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 150}, "timestamp": "2025-01-01T00:00:00Z"}, {"event_type": "TempReading", "fields": {"sensor": "S2", "value": 50}, "timestamp": "2025-01-01T00:00:01Z"}]}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        await Task.Delay(500); // the log is written asynchronously

        var lines = server.Output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.EndsWith($"Pipeline deployed: {id} (t), 1 stream", StringComparison.Ordinal));
        Assert.Equal(debugLines, server.Output.Contains($"Pipeline {id} ingested a request: accepted 2, rejected 0, outputs 1, live runs 0, engine time ", StringComparison.Ordinal));
        Assert.Equal(debugLines, lines.Any(l => l.Contains($"Pipeline {id} ingested a request: ", StringComparison.Ordinal) && l.EndsWith(" us, watermark 2025-01-01T00:00:01Z", StringComparison.Ordinal)));
        // Counts are never followed by a plural noun when they are 1 ("1 streams", "1 outputs").
        Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex(@"\b1 (streams|events|outputs|tenants|pipelines|runs)\b"), server.Output);
        Assert.Equal(traceLines, server.Output.Contains(
            $$$"""Pipeline {{{id}}} output {"event_type":"Alert","timestamp":"2025-01-01T00:00:00Z","data":{"sensor":"S1"}}""", StringComparison.Ordinal));
    }
}
