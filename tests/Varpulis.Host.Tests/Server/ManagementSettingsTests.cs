using System.Globalization;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Configuration;

namespace Varpulis.Host.Tests.Server;

/// <summary><c>--management-port</c>, <c>VARPULIS_MANAGEMENT_PORT</c> and <c>management.port</c>.</summary>
public sealed class ManagementSettingsTests
{
    [Fact]
    public void UnsetMeansTheDefaultPortBestEffort()
    {
        var s = SettingsLoader.Load(null, _ => null);
        Assert.Null(s.Management.Port);
        Assert.Equal(8558, s.Management.EffectivePort);
    }

    [Fact]
    public void TheFileSetsItAndTheEnvironmentBeatsTheFile()
    {
        var dir = ServerProcess.TempDir();
        var yaml = Path.Combine(dir, "c.yaml");
        File.WriteAllText(yaml, "management:\n  port: 8600\n");
        var toml = Path.Combine(dir, "c.toml");
        File.WriteAllText(toml, "[management]\nport = 0\n");
        Assert.Equal(8600, SettingsLoader.Load(yaml, _ => null).Management.Port);
        Assert.Equal(0, SettingsLoader.Load(toml, _ => null).Management.Port);
        Assert.Equal(8700, SettingsLoader.Load(yaml, k => k == "VARPULIS_MANAGEMENT_PORT" ? "8700" : null).Management.Port);
        var ex = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(null, k => k == "VARPULIS_MANAGEMENT_PORT" ? "70000" : null));
        Assert.Equal("VARPULIS_MANAGEMENT_PORT: invalid value '70000' for management.port: expected a port from 0 to 65535", ex.Message);
    }

    [Theory]
    [InlineData(9000, false, "--management-port 9000 is the API port; choose another")]
    [InlineData(9090, true, "--management-port 9090 is the metrics port; choose another")]
    public void ItMayNotShareAPortWithTheApiOrMetrics(int port, bool metrics, string message)
    {
        var s = new VarpulisSettings();
        s.Metrics.Enabled = metrics;
        s.Management.Port = port;
        Assert.Equal(message, Assert.Throws<ConfigurationException>(() => SettingsLoader.Validate(s)).Message);
        s.Management.Port = 0;
        SettingsLoader.Validate(s);
    }

    [Fact]
    public void OnACoordinatorTheMetricsPortIsFreeForIt()
    {
        // A coordinator serves /metrics on its API port, so the metrics port is not taken.
        var s = new VarpulisSettings();
        s.Server.Port = 9100;
        s.Metrics.Enabled = true;
        s.Management.Port = 9090;
        SettingsLoader.Validate(s, coordinator: true);
        s.Management.Port = 9100;
        Assert.Equal("--management-port 9100 is the API port; choose another", Assert.Throws<ConfigurationException>(() => SettingsLoader.Validate(s, coordinator: true)).Message);
    }

    [Fact]
    public void ConfigGenWritesItCommentedOutSoTheGeneratedFileKeepsTheDefaultBehaviour()
    {
        Assert.Contains("\nmanagement:\n  # Akka.Management HTTP port", ConfigTemplate.Render("yaml"));
        Assert.Contains("\n  # port: 8558\n", ConfigTemplate.Render("yaml"));
        Assert.Contains("\n[management]\n# Akka.Management HTTP port", ConfigTemplate.Render("toml"));
        Assert.Contains("\n# port = 8558\n", ConfigTemplate.Render("toml"));
        var file = Path.Combine(ServerProcess.TempDir(), "generated.yaml");
        File.WriteAllText(file, ConfigTemplate.Render("yaml"));
        Assert.Null(SettingsLoader.Load(file, _ => null).Management.Port);
    }

    [Fact]
    public async Task TheServerFlagSetsThePortAndABadOneIsAStartupError()
    {
        int port = ServerProcess.FreePort();
        await using (var bad = ServerProcess.Start(port, ["server", "--port", port.ToString(CultureInfo.InvariantCulture), "--management-port", "-1", "--state-dir", ServerProcess.TempDir()]))
        {
            Assert.Equal(2, await bad.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("error: --management-port must be a port from 0 to 65535", bad.Output);
        }
        int management = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(port, ["server", "--port", port.ToString(CultureInfo.InvariantCulture), "--management-port", management.ToString(CultureInfo.InvariantCulture), "--state-dir", ServerProcess.TempDir()]);
        await server.WaitReadyAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{management}") };
        using var r = await http.GetAsync("/cluster/shards");
        Assert.Equal("{\"entityTypeKeys\":[\"pipeline\"]}", await r.Content.ReadAsStringAsync());
        Assert.Contains($"Akka.Management HTTP on http://127.0.0.1:{management}/ (no API key: loopback callers only)", server.Output);
    }
}
