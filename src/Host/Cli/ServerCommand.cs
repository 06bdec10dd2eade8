using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Configuration;
using Varpulis.Host.Server;

namespace Varpulis.Host.Cli;

/// <summary><c>varpulis server</c>: the durable single-node server (operations runbook §1.1).</summary>
public static class ServerCommand
{
    public static Command Create()
    {
        var bind = new Option<string>("--bind") { Description = "Address to listen on (default 127.0.0.1). Non-loopback needs --api-key." };
        var port = new Option<int>("--port") { Description = "REST API port (default 9000)." };
        var metrics = new Option<bool>("--metrics") { Description = "Serve Prometheus metrics on --metrics-port." };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Prometheus port (default 9090)." };
        var apiKey = new Option<string>("--api-key") { Description = "Admin API key (env VARPULIS_API_KEY)." };
        var stateDir = new Option<string>("--state-dir") { Description = "Directory of the embedded journal and snapshots (env VARPULIS_STATE_DIR, default ./varpulis-state)." };
        var rateLimit = new Option<int>("--rate-limit") { Description = "Requests per second per client IP on /api/v1, burst 2x; 0 disables (env VARPULIS_RATE_LIMIT)." };
        var managementPort = new Option<int>("--management-port") { Description = "Akka.Management HTTP port: cluster routes and pbm (env VARPULIS_MANAGEMENT_PORT, default 8558; 0 picks a free one)." };
        var config = new Option<string>("--config") { Description = "YAML (.yaml/.yml) or TOML (.toml) config file (env VARPULIS_CONFIG)." };

        var cmd = new Command("server", "Run the durable single-node CEP server (REST API, persistence, metrics).")
        {
            bind, port, metrics, metricsPort, apiKey, stateDir, rateLimit, config, managementPort,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            VarpulisSettings settings;
            try
            {
                settings = SettingsLoader.Load(parse.GetValue(config), Environment.GetEnvironmentVariable);
                // Flags win over everything, but only the ones given.
                if (Given(parse, bind)) settings.Server.Bind = parse.GetValue(bind)!;
                if (Given(parse, port)) settings.Server.Port = CheckPort(parse.GetValue(port), "--port");
                if (Given(parse, metrics)) settings.Metrics.Enabled = parse.GetValue(metrics);
                if (Given(parse, metricsPort)) settings.Metrics.Port = CheckPort(parse.GetValue(metricsPort), "--metrics-port");
                if (Given(parse, managementPort))
                {
                    int m = parse.GetValue(managementPort);
                    settings.Management.Port = m is >= 0 and <= 65535 ? m : throw new ConfigurationException("--management-port must be a port from 0 to 65535");
                }
                if (Given(parse, apiKey)) settings.Server.ApiKey = NullIfEmpty(parse.GetValue(apiKey));
                if (Given(parse, stateDir)) settings.Server.StateDir = parse.GetValue(stateDir)!;
                if (Given(parse, rateLimit))
                {
                    int r = parse.GetValue(rateLimit);
                    settings.Server.RateLimit = r >= 0 ? r : throw new ConfigurationException("--rate-limit must be 0 or more");
                }
                SettingsLoader.Validate(settings);
            }
            catch (ConfigurationException ex)
            {
                await Console.Error.WriteLineAsync("error: " + ex.Message);
                return 2;
            }
            var app = VarpulisServer.Build(settings);
            await app.StartAsync(ct);
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return cmd;
    }

    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    private static int CheckPort(int port, string flag)
        => port is >= 1 and <= 65535 ? port : throw new ConfigurationException($"{flag} must be a port from 1 to 65535");

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
