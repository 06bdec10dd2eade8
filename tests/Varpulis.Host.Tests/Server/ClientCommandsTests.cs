using System.Text;
using System.Text.Json.Nodes;

namespace Varpulis.Host.Tests.Server;

/// <summary><c>deploy</c>, <c>pipelines</c>, <c>status</c>, <c>logs</c> and <c>undeploy</c> against a running server.</summary>
public sealed class ClientCommandsTests
{
    [Fact]
    public async Task ClientCommandsDriveARunningServer()
    {
        var dir = ServerProcess.TempDir();
        await using var server = ServerProcess.StartServer(Path.Combine(dir, "state"), extra: ["--api-key", "k1"]);
        await server.WaitReadyAsync();
        var url = server.Address.ToString().TrimEnd('/');
        var vpl = Path.Combine(dir, "rules.vpl");
        await File.WriteAllTextAsync(vpl, "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)");

        var deploy = await Run(["deploy", "--server", url, "--api-key", "k1", "--name", "cli", "--file", vpl]);
        Assert.Equal(0, deploy.Code);
        var id = (string)JsonNode.Parse(deploy.Output)!["id"]!;

        var list = await Run(["pipelines", "--server", url, "--api-key", "k1"]);
        Assert.Equal(0, list.Code);
        Assert.Contains(id, list.Output);
        Assert.Contains("1 pipeline(s)", list.Output);

        var status = await Run(["status", "--server", url, "--api-key", "k1"]);
        Assert.Equal(0, status.Code);
        Assert.Contains("\"status\": \"ready\"", status.Output);

        var pipelineStatus = await Run(["status", "--server", url, "--api-key", "k1", "--pipeline-id", id]);
        Assert.Equal(0, pipelineStatus.Code);
        Assert.Contains("\"source\": \"stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)\"", pipelineStatus.Output);

        var wrongKey = await Run(["pipelines", "--server", url, "--api-key", "nope"]);
        Assert.Equal(1, wrongKey.Code);
        Assert.Contains("error: invalid API key (invalid_api_key, HTTP 401)", wrongKey.Output);

        // logs: an SSE client that prints each output event as a JSON line.
        await using (var logs = ServerProcess.Start(0, ["logs", "--server", url, "--api-key", "k1", "--pipeline-id", id]))
        {
            using var http = new HttpClient { BaseAddress = server.Address };
            http.DefaultRequestHeaders.Add("x-api-key", "k1");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!logs.Output.Contains("\"event_type\":\"Alert\"", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, "no event streamed: " + logs.Output);
                await http.PostAsync($"/api/v1/pipelines/{id}/events", new StringContent("""{"event_type": "TempReading", "fields": {"value": 150}, "timestamp": "2025-01-01T00:00:00Z"}""", Encoding.UTF8, "application/json"));
                await Task.Delay(300);
            }
            Assert.Contains("""{"event_type":"Alert","timestamp":"2025-01-01T00:00:00Z","data":{"alert":true}}""", logs.Output);
        }

        var undeploy = await Run(["undeploy", "--server", url, "--api-key", "k1", "--pipeline-id", id]);
        Assert.Equal(0, undeploy.Code);
        Assert.Contains("\"deleted\": true", undeploy.Output);
    }

    private static async Task<(int Code, string Output)> Run(string[] args)
    {
        await using var p = ServerProcess.Start(0, args);
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(50);
        return (code, p.Output);
    }
}
