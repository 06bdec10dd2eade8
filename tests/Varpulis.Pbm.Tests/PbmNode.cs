using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;

namespace Varpulis.Pbm.Tests;

/// <summary>
/// A real <c>varpulis server</c> process (a cluster of one) with its API key, management endpoint and remoting port
/// chosen here, so every address pbm prints is known in advance.
/// </summary>
public sealed class PbmNode : IAsyncDisposable
{
    public const string Key = "pbm-key";

    private PbmNode(ServerProcess process, int managementPort, int remotingPort)
    {
        Process = process;
        ManagementPort = managementPort;
        Address = $"akka.tcp://varpulis@127.0.0.1:{remotingPort}";
    }

    public ServerProcess Process { get; }

    public int ManagementPort { get; }

    /// <summary><c>127.0.0.1:PORT</c> of the management endpoint, as pbm takes it.</summary>
    public string Target => "127.0.0.1:" + ManagementPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>The node's Akka address.</summary>
    public string Address { get; }

    public static async Task<PbmNode> StartAsync()
    {
        var dir = ServerProcess.TempDir();
        int remoting = ServerProcess.FreePort();
        var config = Path.Combine(dir, "varpulis.yaml");
        await File.WriteAllTextAsync(config, $"cluster:\n  port: {remoting}\n");
        int port = ServerProcess.FreePort();
        int management = ServerProcess.FreePort();
        var process = ServerProcess.Start(port,
        [
            "server", "--port", Str(port), "--management-port", Str(management), "--api-key", Key,
            "--state-dir", Path.Combine(dir, "state"), "--config", config,
        ]);
        try
        {
            await process.WaitReadyAsync();
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        return new PbmNode(process, management, remoting);
    }

    /// <summary>Deploys a pipeline through the REST API; returns its id.</summary>
    public async Task<string> DeployAsync(string name)
    {
        using var http = new HttpClient { BaseAddress = Process.Address };
        http.DefaultRequestHeaders.Add("x-api-key", Key);
        using var r = await http.PostAsJsonAsync("/api/v1/pipelines", new Dictionary<string, string>
        {
            ["name"] = name,
            ["source"] = "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)",
        });
        var body = await r.Content.ReadFromJsonAsync<Dictionary<string, object>>();
        Assert.True(r.IsSuccessStatusCode, $"deploy failed: {(int)r.StatusCode}");
        return body!["id"].ToString()!;
    }

    /// <summary>Runs pbm in this process against any target; returns its exit code and what it wrote.</summary>
    public static async Task<PbmRun> RunAsync(string[] args, IReadOnlyDictionary<string, string>? env = null)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int code = await PbmApp.RunAsync(args, stdout, stderr, name => env is not null && env.TryGetValue(name, out var v) ? v : null);
        return new PbmRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs <c>pbm TARGET --api-key KEY ARGS</c> against this node.</summary>
    public Task<PbmRun> PbmAsync(params string[] args) => RunAsync([Target, "--api-key", Key, .. args]);

    /// <summary>Runs the built <c>pbm</c> executable as its own process.</summary>
    public static async Task<PbmRun> RunExecutableAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pbm.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("VARPULIS_API_KEY");
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await p.WaitForExitAsync(cts.Token);
        return new PbmRun(p.ExitCode, await stdout, await stderr);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static string Str(int n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What one pbm run returned and printed.</summary>
public sealed record PbmRun(int ExitCode, string Stdout, string Stderr);

/// <summary>One node shared by the tests of a class.</summary>
public sealed class PbmNodeFixture : IAsyncLifetime
{
    public PbmNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await PbmNode.StartAsync();

    public Task DisposeAsync() => Node.DisposeAsync().AsTask();
}
