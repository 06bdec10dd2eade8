using Varpulis.Deploy.Tests.Support;

namespace Varpulis.Deploy.Tests;

/// <summary>
/// The image's entrypoint script (deploy/docker/entrypoint.sh), run by /bin/sh as in the image, in front of a stand-in
/// <c>varpulis</c> that prints what it was given: secrets mounted as files become variables, a misconfiguration stops
/// the container with a one-line error, and commands other than varpulis' run as given.
/// </summary>
public sealed class EntrypointTests : IDisposable
{
    private readonly string _dir = LocalProcess.TempDirectory("varpulis-entrypoint");

    public EntrypointTests()
    {
        var bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        var stub = Path.Combine(bin, "varpulis");
        File.WriteAllText(stub, "#!/bin/sh\necho \"args: $*\"\necho \"key: ${VARPULIS_API_KEY-unset}\"\necho \"connection: ${VARPULIS_PERSISTENCE_CONNECTION-unset}\"\necho \"key file: ${VARPULIS_API_KEY_FILE-unset}\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public async Task ArgumentsGoToVarpulisAndFileSecretsBecomeVariables()
    {
        var key = Secret("api_key", "s3cret-key\n");
        var connection = Secret("db", "Host=db;Password=p w;Database=varpulis");
        var (code, output) = await RunAsync(["coordinator", "--port", "9100"], new()
        {
            ["VARPULIS_API_KEY_FILE"] = key,
            ["VARPULIS_PERSISTENCE_CONNECTION_FILE"] = connection,
        });
        Assert.Equal(0, code);
        Assert.Equal("args: coordinator --port 9100\nkey: s3cret-key\nconnection: Host=db;Password=p w;Database=varpulis\nkey file: unset\n", output);
    }

    [Fact]
    public async Task WithoutFileVariablesTheEnvironmentIsPassedUnchanged()
    {
        var (code, output) = await RunAsync(["server"], new() { ["VARPULIS_API_KEY"] = "plain" });
        Assert.Equal(0, code);
        Assert.Equal("args: server\nkey: plain\nconnection: unset\nkey file: unset\n", output);
    }

    [Fact]
    public async Task AVariableGivenBothWaysIsRefused()
    {
        var (code, output) = await RunAsync(["server"], new() { ["VARPULIS_API_KEY"] = "plain", ["VARPULIS_API_KEY_FILE"] = Secret("k", "other") });
        Assert.Equal(2, code);
        Assert.Equal("error: both VARPULIS_API_KEY and VARPULIS_API_KEY_FILE are set: keep one\n", output);
    }

    [Fact]
    public async Task AnUnreadableSecretFileIsNamed()
    {
        var missing = Path.Combine(_dir, "no-such-secret");
        var (code, output) = await RunAsync(["server"], new() { ["VARPULIS_API_KEY_FILE"] = missing });
        Assert.Equal(2, code);
        Assert.Equal($"error: VARPULIS_API_KEY_FILE names {missing}, which cannot be read\n", output);
    }

    [Theory]
    [InlineData("sh")]
    [InlineData("varpulis")]
    public async Task OtherCommandsRunAsGiven(string command)
    {
        var args = command == "sh" ? new[] { "sh", "-c", "echo shell: $VARPULIS_API_KEY" } : ["varpulis", "status"];
        var (code, output) = await RunAsync(args, new() { ["VARPULIS_API_KEY_FILE"] = Secret("k2", "from-file") });
        Assert.Equal(0, code);
        Assert.StartsWith(command == "sh" ? "shell: from-file" : "args: status\nkey: from-file", output);
    }

    private string Secret(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private async Task<(int, string)> RunAsync(string[] args, Dictionary<string, string> env)
    {
        env["PATH"] = Path.Combine(_dir, "bin") + ":/usr/bin:/bin";
        return await LocalProcess.RunAsync("/bin/sh", [Repo.File("entrypoint.sh"), .. args], env);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
