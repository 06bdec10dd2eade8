using Serilog.Events;
using Varpulis.Host.Configuration;
using Varpulis.Host.Logging;

namespace Varpulis.Host.Tests.Server;

/// <summary>Configuration loading (file, environment, validation) and RUST_LOG-style filters.</summary>
public sealed class SettingsTests
{
    [Fact]
    public void YamlAndTomlFilesSetEveryKey()
    {
        var dir = ServerProcess.TempDir();
        var yaml = Path.Combine(dir, "c.yml");
        File.WriteAllText(yaml, "server:\n  port: 9100\n  api_key: k\nmetrics:\n  enabled: true\n  port: 9191\npersistence:\n  provider: postgresql\n  connection_string: Host=x\n  snapshot_every_events: 5\nlogging:\n  level: debug\n  format: json\n  timestamps: false\n");
        var fromYaml = SettingsLoader.Load(yaml, _ => null);
        var toml = Path.Combine(dir, "c.toml");
        File.WriteAllText(toml, "[server]\nport = 9100\napi_key = \"k\"\n[metrics]\nenabled = true\nport = 9191\n[persistence]\nprovider = \"postgresql\"\nconnection_string = \"Host=x\"\nsnapshot_every_events = 5\n[logging]\nlevel = \"debug\"\nformat = \"json\"\ntimestamps = false\n");
        var fromToml = SettingsLoader.Load(toml, _ => null);
        foreach (var s in new[] { fromYaml, fromToml })
        {
            Assert.Equal(9100, s.Server.Port);
            Assert.Equal("k", s.Server.ApiKey);
            Assert.True(s.Metrics.Enabled);
            Assert.Equal(9191, s.Metrics.Port);
            Assert.True(s.Persistence.IsPostgres);
            Assert.Equal("Host=x", s.Persistence.ConnectionString);
            Assert.Equal(5, s.Persistence.SnapshotEveryEvents);
            Assert.Equal("debug", s.Logging.Level);
            Assert.Equal("json", s.Logging.Format);
            Assert.False(s.Logging.Timestamps);
        }
    }

    [Fact]
    public void EnvironmentBeatsTheFile()
    {
        var file = Path.Combine(ServerProcess.TempDir(), "c.yaml");
        File.WriteAllText(file, "server:\n  api_key: from-file\n  rate_limit: 3\n");
        var env = new Dictionary<string, string> { ["VARPULIS_API_KEY"] = "from-env", ["VARPULIS_CONFIG"] = file, ["RUST_LOG"] = "warn" };
        var s = SettingsLoader.Load(null, k => env.GetValueOrDefault(k));
        Assert.Equal("from-env", s.Server.ApiKey);
        Assert.Equal(3, s.Server.RateLimit);
        Assert.Equal("warn", s.Logging.Level);
    }

    [Fact]
    public void TheDlqBoundsComeFromTheFileOrTheEnvironmentAndMustBePositive()
    {
        var defaults = SettingsLoader.Load(null, _ => null);
        Assert.Equal((100_000, 1_000_000), (defaults.Server.DlqBacklogLimit, defaults.Server.DlqMaxEvents));
        var file = Path.Combine(ServerProcess.TempDir(), "c.toml");
        File.WriteAllText(file, "[server]\ndlq_backlog_limit = 500\ndlq_max_events = 2000\n");
        var fromFile = SettingsLoader.Load(file, _ => null);
        Assert.Equal((500, 2000), (fromFile.Server.DlqBacklogLimit, fromFile.Server.DlqMaxEvents));
        var fromEnv = SettingsLoader.Load(file, k => k == "VARPULIS_DLQ_MAX_EVENTS" ? "30" : null);
        Assert.Equal(30, fromEnv.Server.DlqMaxEvents);
        var ex = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(null, k => k == "VARPULIS_DLQ_MAX_EVENTS" ? "0" : null));
        Assert.Equal("VARPULIS_DLQ_MAX_EVENTS: invalid value '0' for server.dlq_max_events: expected a positive integer", ex.Message);
    }

    [Fact]
    public void BadValuesNameTheKey()
    {
        var file = Path.Combine(ServerProcess.TempDir(), "c.yaml");
        File.WriteAllText(file, "server:\n  port: ninety\n");
        var ex = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(file, _ => null));
        Assert.Equal($"config file '{file}': invalid value 'ninety' for server.port: expected a port from 1 to 65535", ex.Message);
        var envEx = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(null, k => k == "VARPULIS_RATE_LIMIT" ? "-1" : null));
        Assert.Equal("VARPULIS_RATE_LIMIT: invalid value '-1' for server.rate_limit: expected a non-negative integer", envEx.Message);
    }

    [Theory]
    [InlineData("c.toml", "[server]\nport = \"9000\"\n", "server.port must be an integer, not a string (\"9000\")")]
    [InlineData("c.toml", "[metrics]\nenabled = \"yes\"\n", "metrics.enabled must be true or false, not a string (\"yes\")")]
    [InlineData("c.toml", "[server]\napi_key = 12345\n", "server.api_key must be a string, not an integer (12345)")]
    [InlineData("c.toml", "[server]\nrate_limit = 1.5\n", "server.rate_limit must be an integer, not a number (1.5)")]
    [InlineData("c.yaml", "server:\n  port: \"9000\"\n", "server.port must be an integer, not a string (\"9000\")")]
    public void ValuesOfTheWrongTypeNameTheKey(string name, string text, string expected)
    {
        var file = Path.Combine(ServerProcess.TempDir(), name);
        File.WriteAllText(file, text);
        var ex = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(file, _ => null));
        Assert.Equal($"config file '{file}': {expected}", ex.Message);
    }

    [Fact]
    public void UnknownLogLevelNamesTheKeyWhereverItComesFrom()
    {
        var env = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(null, k => k == "RUST_LOG" ? "info,akka=loud" : null));
        Assert.Equal("RUST_LOG: invalid value 'info,akka=loud' for logging.level: unknown log level 'loud': use trace, debug, info, warn, error or off", env.Message);
        var file = Path.Combine(ServerProcess.TempDir(), "c.toml");
        File.WriteAllText(file, "[logging]\nlevel = \"verbose\"\n");
        var fromFile = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(file, _ => null));
        Assert.Equal($"config file '{file}': invalid value 'verbose' for logging.level: unknown log level 'verbose': use trace, debug, info, warn, error or off", fromFile.Message);
    }

    [Fact]
    public void TextLogLinesEscapeControlCharacters()
    {
        var output = new StringWriter();
        using (var logger = VarpulisLogging.Create(new Varpulis.Actors.Configuration.LoggingSettings { Format = "text", Timestamps = false }, output))
        {
            logger.ForContext("SourceContext", "Varpulis.Actors.Pipelines.PipelineEntity")
                .Information("Pipeline deployed: {PipelineId} ({PipelineName}), {StreamCount} streams", "p1", "a\nINFO  forged\r\t\0\u2028", 2);
            logger.ForContext("SourceContext", "Varpulis.X").Error(new InvalidOperationException("two\nlines"), "Failed");
        }
        var text = output.ToString();
        Assert.Equal(
            "INFO  Varpulis.Actors.Pipelines.PipelineEntity: Pipeline deployed: p1 (a\\nINFO  forged\\r\\t\\u0000\\u2028), 2 streams\n" +
            "ERROR Varpulis.X: Failed | System.InvalidOperationException: two\\nlines\n",
            text);
    }

    [Fact]
    public void PostgresWithoutConnectionStringIsRefused()
    {
        var s = new Varpulis.Actors.Configuration.VarpulisSettings();
        s.Persistence.Provider = "postgresql";
        var ex = Assert.Throws<ConfigurationException>(() => SettingsLoader.Validate(s));
        Assert.Contains("VARPULIS_PERSISTENCE_CONNECTION", ex.Message);
    }

    [Fact]
    public void ConfigGenCoversEveryKey()
    {
        var yaml = ConfigTemplate.Render("yaml");
        var toml = ConfigTemplate.Render("toml");
        foreach (var key in SettingKey.All)
        {
            // An optional key is written commented out (unset keeps its default behaviour).
            string comment = key.Optional ? "# " : "";
            Assert.Contains($"\n  {comment}{key.Key}: ", yaml);
            Assert.Contains($"\n{comment}{key.Key} = ", toml);
        }
    }

    [Fact]
    public void RustLogFiltersMapOntoNamespaces()
    {
        var f = LogFilter.Parse("info,varpulis_runtime::connector=debug");
        Assert.Equal(LogEventLevel.Information, f.Default);
        Assert.Equal(LogEventLevel.Debug, f.Overrides["Varpulis.Actors.Connectors"]);
        Assert.Equal(LogEventLevel.Warning, f.Overrides["Akka"]);

        var engine = LogFilter.Parse("info,varpulis_runtime::engine=trace");
        Assert.Equal(LogEventLevel.Verbose, engine.Overrides["Varpulis.Actors.Pipelines"]);
        Assert.Equal(LogEventLevel.Verbose, engine.Overrides["Varpulis.Vpl"]);

        var dotnet = LogFilter.Parse("warn,Varpulis.Api=debug,akka=info");
        Assert.Equal(LogEventLevel.Warning, dotnet.Default);
        Assert.Equal(LogEventLevel.Debug, dotnet.Overrides["Varpulis.Api"]);
        Assert.Equal(LogEventLevel.Information, dotnet.Overrides["Akka"]);

        var ex = Assert.Throws<ConfigurationException>(() => LogFilter.Parse("loud"));
        Assert.Equal("unknown log level 'loud': use trace, debug, info, warn, error or off", ex.Message);
    }

    [Fact]
    public void JsonLogLinesCarryLevelTargetMessageAndFields()
    {
        var output = new StringWriter();
        using (var logger = VarpulisLogging.Create(new Varpulis.Actors.Configuration.LoggingSettings { Format = "json", Timestamps = false }, output))
        {
            logger.ForContext("SourceContext", "Varpulis.Actors.Pipelines.PipelineEntity")
                .Information("Pipeline deployed: {PipelineId} ({PipelineName}), {StreamCount} streams", "p1", "fraud", 2);
        }
        Assert.Equal(
            """{"level":"INFO","target":"Varpulis.Actors.Pipelines.PipelineEntity","message":"Pipeline deployed: p1 (fraud), 2 streams","fields":{"PipelineId":"p1","PipelineName":"fraud","StreamCount":2}}""" + "\n",
            output.ToString());
    }
}
