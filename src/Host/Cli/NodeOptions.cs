using System.CommandLine;
using System.Globalization;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Configuration;

namespace Varpulis.Host.Cli;

/// <summary>
/// The flags <c>varpulis server</c> and <c>varpulis coordinator</c> share, declared once: where to listen, the key,
/// the state directory, metrics, rate limit, the management port, the config file. Flags win over the environment and the config file,
/// but only the ones given.
/// </summary>
internal sealed class NodeOptions
{
    private readonly Option<string> _bind = new("--bind") { Description = "Address to listen on (default 127.0.0.1). Non-loopback needs --api-key." };
    private readonly Option<int> _port;
    private readonly Option<bool> _metrics;
    private readonly Option<int> _metricsPort = new("--metrics-port") { Description = "Prometheus port (default 9090)." };
    private readonly Option<string> _apiKey = new("--api-key") { Description = "Admin API key (env VARPULIS_API_KEY)." };
    private readonly Option<string> _stateDir = new("--state-dir") { Description = "Directory of the embedded journal and snapshots (env VARPULIS_STATE_DIR, default ./varpulis-state)." };
    private readonly Option<int> _rateLimit = new("--rate-limit") { Description = "Requests per second per client IP on /api/v1, burst 2x; 0 disables (env VARPULIS_RATE_LIMIT)." };
    private readonly Option<int> _managementPort = new("--management-port") { Description = "Akka.Management HTTP port: cluster routes and pbm (env VARPULIS_MANAGEMENT_PORT, default 8558; 0 picks a free one)." };
    private readonly Option<string> _config = new("--config") { Description = "YAML (.yaml/.yml) or TOML (.toml) config file (env VARPULIS_CONFIG)." };

    public NodeOptions(int defaultPort, string metricsDescription)
    {
        _port = new Option<int>("--port") { Description = $"REST API port (default {defaultPort})." };
        _metrics = new Option<bool>("--metrics") { Description = metricsDescription };
    }

    public Option<string> StateDir => _stateDir;

    public void AddTo(Command cmd, bool withMetricsPort)
    {
        cmd.Options.Add(_bind);
        cmd.Options.Add(_port);
        cmd.Options.Add(_metrics);
        if (withMetricsPort) cmd.Options.Add(_metricsPort);
        cmd.Options.Add(_apiKey);
        cmd.Options.Add(_stateDir);
        cmd.Options.Add(_rateLimit);
        cmd.Options.Add(_managementPort);
        cmd.Options.Add(_config);
    }

    /// <summary>Defaults, then the config file and environment, then <paramref name="defaults"/> for what they left unset, then the flags given.</summary>
    public VarpulisSettings Load(ParseResult parse, Action<VarpulisSettings>? defaults = null)
    {
        var settings = SettingsLoader.Load(parse.GetValue(_config), Environment.GetEnvironmentVariable, defaults);
        if (Given(parse, _bind)) settings.Server.Bind = parse.GetValue(_bind)!;
        if (Given(parse, _port)) settings.Server.Port = CheckPort(parse.GetValue(_port), "--port");
        if (Given(parse, _metrics)) settings.Metrics.Enabled = parse.GetValue(_metrics);
        if (Given(parse, _metricsPort)) settings.Metrics.Port = CheckPort(parse.GetValue(_metricsPort), "--metrics-port");
        if (Given(parse, _managementPort))
        {
            int m = parse.GetValue(_managementPort);
            settings.Management.Port = m is >= 0 and <= 65535 ? m : throw new ConfigurationException("--management-port must be a port from 0 to 65535");
        }
        if (Given(parse, _apiKey)) settings.Server.ApiKey = NullIfEmpty(parse.GetValue(_apiKey));
        if (Given(parse, _stateDir)) settings.Server.StateDir = parse.GetValue(_stateDir)!;
        if (Given(parse, _rateLimit))
        {
            int r = parse.GetValue(_rateLimit);
            settings.Server.RateLimit = r >= 0 ? r : throw new ConfigurationException("--rate-limit must be 0 or more");
        }
        return settings;
    }

    public static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    public static int CheckPort(int port, string flag)
        => port is >= 1 and <= 65535 ? port : throw new ConfigurationException($"{flag} must be a port from 1 to 65535");

    public static double CheckSeconds(double secs, string flag)
        => secs is > 0 and <= 3600 ? secs : throw new ConfigurationException($"{flag} must be a number of seconds above 0 (at most 3600)");

    public static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    public static string Invariant(double d) => d.ToString(CultureInfo.InvariantCulture);
}
