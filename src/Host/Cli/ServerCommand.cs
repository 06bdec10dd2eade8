using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Persistence;
using Varpulis.Api.Management;
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
                return CliFailure.Fail(ex.Message);
            }
            WebApplication app;
            try
            {
                app = VarpulisServer.Build(settings);
            }
            catch (Exception ex) when (ex is ConfigurationException or StateDirectoryException)
            {
                return CliFailure.Fail(ex.Message);
            }
            try
            {
                await app.StartAsync(ct);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var message = StartFailure(ex, settings);
                await StopQuietlyAsync(app);
                return CliFailure.Fail(message);
            }
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return cmd;
    }

    /// <summary>What went wrong at start, in words that name the setting to change.</summary>
    internal static string StartFailure(Exception ex, VarpulisSettings settings)
    {
        if (ex is ManagementEndpointException) return ex.Message;
        var inner = ex;
        while (inner.InnerException is not null && inner is not AddressInUseException) inner = inner.InnerException;
        if (ex is IOException && ex.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal))
        {
            bool metricsPort = settings.Metrics.Enabled && ex.Message.Contains($":{settings.Metrics.Port}:", StringComparison.Ordinal);
            int port = metricsPort ? settings.Metrics.Port : settings.Server.Port;
            string which = metricsPort ? "the metrics port (--metrics-port, metrics.port)" : "the API port (--port, server.port)";
            string reason = inner is AddressInUseException || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
                ? "it is already in use by another process"
                : inner.Message;
            return $"cannot listen on {settings.Server.Bind}:{port}, {which}: {reason}";
        }
        return "the server failed to start: " + inner.Message;
    }

    private static async Task StopQuietlyAsync(WebApplication app)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(cts.Token);
            await app.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already failing: the first error is the one to report.
        }
    }

    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    private static int CheckPort(int port, string flag)
        => port is >= 1 and <= 65535 ? port : throw new ConfigurationException($"{flag} must be a port from 1 to 65535");

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
