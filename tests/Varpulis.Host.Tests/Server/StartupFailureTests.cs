using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Varpulis.Host.Tests.Server;

/// <summary>
/// Startup and command-line failures as an operator sees them: one line on standard error, exit code 2, never a stack
/// trace; one server per state directory; log lines that values cannot forge.
/// </summary>
public sealed class StartupFailureTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SecondServerOnTheSameStateDirectoryIsRefusedNamingTheDirectoryAndTheHolder()
    {
        var dir = Path.Combine(ServerProcess.TempDir(), "state");
        await using var first = ServerProcess.StartServer(dir);
        await first.WaitReadyAsync();
        Assert.Equal(first.Pid.ToString(CultureInfo.InvariantCulture) + "\n", await ReadSharedAsync(Path.Combine(dir, "varpulis.lock")));

        await using var second = ServerProcess.StartServer(dir);
        Assert.Equal(2, await second.WaitForExitAsync(ExitTimeout));
        AssertOneLine(second.Output,
            $"error: state directory '{dir}' is in use by another Varpulis process (PID {first.Pid}): stop it, or give this one another --state-dir");

        // The first one is untouched, and a kill -9 releases the lock: the next server starts on the same directory.
        using (var http = new HttpClient { BaseAddress = first.Address })
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);
        first.Kill9();
        await using var third = ServerProcess.StartServer(dir);
        await third.WaitReadyAsync();
    }

    [Fact]
    public async Task ApiPortInUseIsOneLineNamingThePortAndTheFlag()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        await using var p = ServerProcess.StartServer(Path.Combine(ServerProcess.TempDir(), "state"), port);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, $"error: cannot listen on 127.0.0.1:{port}, the API port (--port, server.port): it is already in use by another process");
    }

    [Theory]
    [InlineData("server")]
    [InlineData("coordinator")]
    public async Task ManagementPortInUseIsOneLineNamingTheFlag(string command)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        int port = ServerProcess.FreePort();
        await using var p = ServerProcess.Start(port,
        [
            command, "--port", port.ToString(CultureInfo.InvariantCulture), "--management-port", taken.ToString(CultureInfo.InvariantCulture),
            "--state-dir", Path.Combine(ServerProcess.TempDir(), "state"),
        ]);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output,
            $"error: cannot serve Akka.Management HTTP on 127.0.0.1:{taken}: Failed to bind to address http://127.0.0.1:{taken}: address already in use. " +
            "Choose another port with --management-port (0 picks a free one).");
    }

    [Fact]
    public async Task MetricsPortInUseIsOneLineNamingIt()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        await using var p = ServerProcess.StartServer(Path.Combine(ServerProcess.TempDir(), "state"),
            extra: ["--metrics", "--metrics-port", port.ToString(CultureInfo.InvariantCulture)]);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, $"error: cannot listen on 127.0.0.1:{port}, the metrics port (--metrics-port, metrics.port): it is already in use by another process");
    }

    [Fact]
    public async Task StateDirectoryThatCannotBeCreatedIsOneLineNamingItAndTheUser()
    {
        // A path through a regular file can be created by nobody, root included.
        var file = Path.Combine(ServerProcess.TempDir(), "a-file");
        await File.WriteAllTextAsync(file, "x");
        var dir = Path.Combine(file, "state");
        await using var p = ServerProcess.StartServer(dir);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        var line = AssertOneLine(p.Output);
        Assert.StartsWith($"error: state directory '{dir}' is not writable by user '{Environment.UserName}': ", line);
    }

    [Fact]
    public async Task UnwritableStateDirectoryIsOneLineNamingItAndTheUser()
    {
        var dir = Path.Combine(ServerProcess.TempDir(), "state");
        Directory.CreateDirectory(dir);
        if (Environment.UserName == "root")
        {
            // Root passes every permission check: a directory where the lock file goes fails the open for everyone.
            Directory.CreateDirectory(Path.Combine(dir, "varpulis.lock"));
        }
        else if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        await using var p = ServerProcess.StartServer(dir);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        var line = AssertOneLine(p.Output);
        Assert.StartsWith($"error: state directory '{dir}' is not writable by user '{Environment.UserName}': ", line);
    }

    [Theory]
    [InlineData("RUST_LOG", "loud", "error: RUST_LOG: invalid value 'loud' for logging.level: unknown log level 'loud': use trace, debug, info, warn, error or off")]
    [InlineData("RUST_LOG", "info,varpulis_runtime::engine=chatty", "error: RUST_LOG: invalid value 'info,varpulis_runtime::engine=chatty' for logging.level: unknown log level 'chatty': use trace, debug, info, warn, error or off")]
    public async Task UnknownLogLevelFromTheEnvironmentNamesTheVariableAndTheLevels(string variable, string value, string expected)
    {
        await using var p = ServerProcess.Start(0, ["server", "--state-dir", Path.Combine(ServerProcess.TempDir(), "state")], new Dictionary<string, string> { [variable] = value });
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, expected);
    }

    [Fact]
    public async Task UnknownLogLevelInTheConfigFileNamesTheKey()
    {
        var file = Path.Combine(ServerProcess.TempDir(), "c.yaml");
        await File.WriteAllTextAsync(file, "logging:\n  level: verbose\n");
        await using var p = ServerProcess.Start(0, ["server", "--config", file]);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, $"error: config file '{file}': invalid value 'verbose' for logging.level: unknown log level 'verbose': use trace, debug, info, warn, error or off");
    }

    [Fact]
    public async Task TomlValueOfTheWrongTypeNamesTheKey()
    {
        var file = Path.Combine(ServerProcess.TempDir(), "c.toml");
        await File.WriteAllTextAsync(file, "[server]\nport = \"9000\"\n");
        await using var p = ServerProcess.Start(0, ["server", "--config", file]);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, $"error: config file '{file}': server.port must be an integer, not a string (\"9000\")");
    }

    [Fact]
    public async Task DeployOfAMissingFileIsOneLine()
    {
        var missing = Path.Combine(ServerProcess.TempDir(), "nope.vpl");
        await using var p = ServerProcess.Start(0, ["deploy", "--name", "x", "--file", missing]);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, $"error: cannot read --file '{missing}': no such file");
    }

    [Fact]
    public async Task ConfigGenIntoAMissingDirectoryIsOneLine()
    {
        var target = Path.Combine(ServerProcess.TempDir(), "no-such-dir", "varpulis.yaml");
        await using var p = ServerProcess.Start(0, ["config-gen", "-o", target]);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, $"error: cannot write -o '{target}': its directory does not exist");
    }

    [Fact]
    public async Task UnknownOptionIsOneLinePointingAtHelp()
    {
        await using var p = ServerProcess.Start(0, ["server", "--prot", "9000"]);
        Assert.Equal(2, await p.WaitForExitAsync(ExitTimeout));
        AssertOneLine(p.Output, "error: Unrecognized command or argument '--prot'. (see 'varpulis server --help')");
    }

    [Fact]
    public async Task TextLogLinesCannotBeForgedByAPipelineName()
    {
        var dir = ServerProcess.TempDir();
        await using var server = ServerProcess.StartServer(Path.Combine(dir, "state"));
        await server.WaitReadyAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        var name = "evil\nERROR Varpulis.Host.Server: forged line\u0000\u001b[31m";
        var body = new JsonObject { ["name"] = name, ["source"] = "stream A = T .emit(x: 1)" }.ToJsonString();
        var deploy = await http.PostAsync("/api/v1/pipelines", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, deploy.StatusCode);
        var id = (string)JsonNode.Parse(await deploy.Content.ReadAsStringAsync())!["id"]!;
        await WaitForAsync(() => server.Output.Contains("Pipeline deployed: " + id, StringComparison.Ordinal));

        var lines = server.Output.Split('\n');
        Assert.DoesNotContain(lines, l => l.StartsWith("ERROR Varpulis.Host.Server: forged line", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith(
            $"Pipeline deployed: {id} (evil\\nERROR Varpulis.Host.Server: forged line\\u0000\\u001b[31m), 1 stream", StringComparison.Ordinal));
    }

    [Fact]
    public async Task JsonLogModeWritesOnlyJsonLinesAkkaShutdownIncluded()
    {
        var dir = ServerProcess.TempDir();
        var file = Path.Combine(dir, "c.yaml");
        await File.WriteAllTextAsync(file, "logging:\n  format: json\n");
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(port,
            ["server", "--config", file, "--port", port.ToString(CultureInfo.InvariantCulture), "--state-dir", Path.Combine(dir, "state")],
            new Dictionary<string, string> { ["RUST_LOG"] = "info,akka=info" });
        await server.WaitReadyAsync();
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(ExitTimeout));

        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line); // throws on any line that is not JSON
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
        // Akka's own shutdown lines (written after its loggers stopped) are among them.
        Assert.Contains(lines, l => l.Contains("Remoting shut down", StringComparison.Ordinal));
    }

    private static string AssertOneLine(string output, string? expected = null)
    {
        var trimmed = output.TrimEnd('\n', '\r');
        Assert.False(trimmed.Contains('\n'), "expected one line, got:\n" + output);
        if (expected is not null) Assert.Equal(expected, trimmed);
        return trimmed;
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(s);
        return await r.ReadToEndAsync();
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 60 s");
            await Task.Delay(100);
        }
    }
}
