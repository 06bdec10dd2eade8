using System.Text.Json.Nodes;

namespace Varpulis.Host.Tests.Server;

/// <summary>The client commands' exact output, now that they read the shared pipeline contract (src/Contracts/Pipelines).</summary>
public sealed class ClientCommandOutputTests
{
    [Fact]
    public async Task PipelinesTableAndParseErrorsPrintExactly()
    {
        var dir = ServerProcess.TempDir();
        await using var server = ServerProcess.StartServer(Path.Combine(dir, "state"), extra: ["--api-key", "k2"]);
        await server.WaitReadyAsync();
        var url = server.Address.ToString().TrimEnd('/');

        var deploy = await Run(["deploy", "--server", url, "--api-key", "k2", "--name", "table", "--source", "stream A = TempReading .emit(x: 1)"]);
        Assert.Equal(0, deploy.Code);
        var id = (string)JsonNode.Parse(deploy.Output)!["id"]!;
        Assert.Equal($"{{\n  \"id\": \"{id}\",\n  \"name\": \"table\",\n  \"status\": \"running\"\n}}\n", deploy.Output);

        var list = await Run(["pipelines", "--server", url, "--api-key", "k2"]);
        Assert.Equal(0, list.Code);
        var lines = list.Output.Split('\n');
        Assert.Equal("ID                                    NAME                      STATUS    UPTIME", lines[0]);
        Assert.Matches($"^{id}  table                     running   [0-9]+s$", lines[1]);
        Assert.Equal("1 pipeline(s)", lines[2]);

        var bad = await Run(["deploy", "--server", url, "--api-key", "k2", "--name", "bad", "--source", "stream X = Y .where("]);
        Assert.Equal(1, bad.Code);
        Assert.StartsWith("error: ", bad.Output);
        Assert.Contains(" (parse_error, HTTP 400)\n  1:", bad.Output);
    }

    private static async Task<(int Code, string Output)> Run(string[] args)
    {
        await using var p = ServerProcess.Start(0, args);
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(50);
        return (code, p.Output.ReplaceLineEndings("\n"));
    }
}
