using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Varpulis.Deploy.Tests.Support;

namespace Varpulis.Deploy.Tests;

/// <summary>
/// <c>varpulis healthcheck</c>, the image's HEALTHCHECK (the built executable, against an HTTP server whose answers the
/// test chooses): exit 0 on a 200 with a status, 1 on anything else (Docker's "unhealthy"), 2 on bad arguments, one line
/// of output each time. Live nodes pass it in the compose test.
/// </summary>
public sealed class HealthcheckTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = LocalProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port));
        _app = builder.Build();
        _app.MapGet("/ok/health", () => Results.Text("""{"status":"degraded","role":"coordinator"}""", "application/json"));
        _app.MapGet("/down/health", () => Results.Text("""{"status":"unavailable"}""", "application/json", statusCode: 503));
        _app.MapGet("/html/health", () => Results.Text("<html>proxy error</html>", "text/html"));
        _app.MapGet("/slow/health", async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
            return Results.Text("""{"status":"healthy"}""", "application/json");
        });
        await _app.StartAsync();
    }

    [Fact]
    public async Task AnAnswerWithAStatusIsHealthyWhateverTheClustersState()
    {
        var (code, output) = await RunAsync("--server", $"http://127.0.0.1:{_port}/ok");
        Assert.Equal(0, code);
        Assert.Equal("degraded: {\"status\":\"degraded\",\"role\":\"coordinator\"}\n", output);
    }

    [Fact]
    public async Task AnErrorStatusIsUnhealthy()
    {
        var (code, output) = await RunAsync("--server", $"http://127.0.0.1:{_port}/down");
        Assert.Equal(1, code);
        Assert.Equal($"unhealthy: http://127.0.0.1:{_port}/down/health answered HTTP 503\n", output);
    }

    [Fact]
    public async Task AnAnswerThatIsNotTheNodesIsUnhealthy()
    {
        var (code, output) = await RunAsync("--server", $"http://127.0.0.1:{_port}/html");
        Assert.Equal(1, code);
        Assert.Equal($"unhealthy: http://127.0.0.1:{_port}/html/health answered 200 without a status: <html>proxy error</html>\n", output);
    }

    [Fact]
    public async Task NoAnswerInTimeIsUnhealthy()
    {
        var (code, output) = await RunAsync("--server", $"http://127.0.0.1:{_port}/slow", "--timeout", "1");
        Assert.Equal(1, code);
        Assert.Equal($"unhealthy: http://127.0.0.1:{_port}/slow/health did not answer within 1 s\n", output);
    }

    [Fact]
    public async Task AClosedPortIsUnhealthy()
    {
        int closed = LocalProcess.FreePort();
        var (code, output) = await RunAsync("--server", $"http://127.0.0.1:{closed}");
        Assert.Equal(1, code);
        Assert.StartsWith($"unhealthy: http://127.0.0.1:{closed}/health unreachable (Connection refused", output);
    }

    [Fact]
    public async Task WithoutArgumentsItProbesTheDefaultServerPort()
    {
        // The image's HEALTHCHECK has no argument: the single server of the image's CMD on 9000.
        var (_, output) = await RunAsync();
        Assert.Contains("http://127.0.0.1:9000/health", output);
    }

    [Theory]
    [InlineData("ftp://host", "error: --server must be an http:// or https:// URL, not 'ftp://host'\n")]
    [InlineData("not a url", "error: --server must be an http:// or https:// URL, not 'not a url'\n")]
    public async Task ABadServerUrlIsAUsageError(string server, string message)
    {
        var (code, output) = await RunAsync("--server", server);
        Assert.Equal(2, code);
        Assert.Equal(message, output);
    }

    private static Task<(int, string)> RunAsync(params string[] args)
        => LocalProcess.RunAsync(Path.Combine(Repo.BinDirectory, "varpulis"), ["healthcheck", .. args],
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["DOTNET_ROOT"] = LocalProcess.DotnetRoot });

    public async Task DisposeAsync() => await _app.DisposeAsync();
}
