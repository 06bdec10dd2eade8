using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Node;
using Varpulis.Actors.Persistence;
using Varpulis.Api.Management;
using Varpulis.Host.Cluster;
using Varpulis.Host.Configuration;
using Varpulis.Host.Logging;
using Varpulis.Host.Server;

namespace Varpulis.Host.Cli;

/// <summary>Runs a server, worker or coordinator until it is stopped (Ctrl-C, SIGTERM) or its actor system ends.</summary>
internal static class NodeRunner
{
    public static async Task<int> RunAsync(VarpulisSettings settings, bool coordinator, CancellationToken ct)
    {
        while (true)
        {
            NodePlan? workerPlan = null;
            if (coordinator && settings.Coordinator.Raft.Enabled)
            {
                using var logger = VarpulisLogging.Create(settings.Logging);
                using var loggers = new SerilogLoggerFactory(logger);
                try
                {
                    workerPlan = await RaftBootstrap.PlanAsync(settings, loggers.CreateLogger("Varpulis.Host.Cluster.RaftBootstrap"), ct);
                }
                catch (ConfigurationException ex)
                {
                    return CliFailure.Fail(ex.Message);
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }
            }
            else if (settings.Cluster.IsWorker)
            {
                using var logger = VarpulisLogging.Create(settings.Logging);
                using var loggers = new SerilogLoggerFactory(logger);
                try
                {
                    workerPlan = await WorkerBootstrap.PlanAsync(settings, loggers.CreateLogger("Varpulis.Host.Cluster.WorkerBootstrap"), ct);
                }
                catch (ConfigurationException ex)
                {
                    return CliFailure.Fail(ex.Message);
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }
            }
            // Ports are tried before anything starts, so a taken one is the only line the operator sees (no actor
            // system log lines before it); a port lost between this probe and the bind is still reported by StartFailure.
            if (TakenPort(settings, coordinator) is string taken) return CliFailure.Fail(taken);
            WebApplication app;
            try
            {
                app = VarpulisServer.Build(settings, coordinator: coordinator, workerPlan: workerPlan);
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
            var reason = CoordinatedShutdown.Get(app.Services.GetRequiredService<ActorSystem>()).ShutdownReason;
            await app.DisposeAsync();
            // A worker downed by its cluster (cut off from the coordinators), or one that left a cluster without
            // coordinators, joins again through the coordinator's URL; one removed by the coordinator stops.
            if (coordinator && !ct.IsCancellationRequested && RaftJoiner.TakeRestartRequest()) continue;
            bool rejoin = settings.Cluster.IsWorker && !ct.IsCancellationRequested
                && (reason is CoordinatedShutdown.ClusterDowningReason || (reason is CoordinatedShutdown.ClusterLeavingReason && WorkerAgent.RejoinRequested));
            if (!rejoin) return Environment.ExitCode;
            WorkerAgent.ResetRejoin();
            Environment.ExitCode = 0;
            using (var logger = VarpulisLogging.Create(settings.Logging))
            {
                logger.Error("Heartbeat failed: this worker left its cluster ({Reason}); joining again through {Coordinator}",
                    reason is CoordinatedShutdown.ClusterDowningReason ? "downed: cut off from the coordinators" : "no coordinator left in it",
                    settings.Cluster.Coordinator);
            }
        }
    }

    /// <summary>
    /// The first of the node's configured ports (API, metrics on a server, a configured management port) that cannot
    /// be bound on the bind address, in the words <see cref="StartFailure"/> uses; null when all can. Port 0 is skipped.
    /// </summary>
    internal static string? TakenPort(VarpulisSettings settings, bool coordinator)
    {
        if (SettingsLoader.ParseBind(settings.Server.Bind) is not System.Net.IPAddress ip) return null;
        var bind = settings.Server.Bind;
        if (Taken(ip, settings.Server.Port) is string api)
            return $"cannot listen on {bind}:{settings.Server.Port}, the API port (--port, server.port): {api}";
        if (settings.Metrics.Enabled && !coordinator && settings.Metrics.Port != settings.Server.Port && Taken(ip, settings.Metrics.Port) is string metrics)
            return $"cannot listen on {bind}:{settings.Metrics.Port}, the metrics port (--metrics-port, metrics.port): {metrics}";
        if (settings.Management.Port is int mp && Taken(ip, mp) is string management)
        {
            var reason = management == InUse ? "address already in use" : management;
            return $"cannot serve Akka.Management HTTP on {bind.Trim('[', ']')}:{mp}: Failed to bind to address http://{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString())}:{mp}: {reason}. " +
                "Choose another port with --management-port (0 picks a free one).";
        }
        return null;
    }

    private const string InUse = "it is already in use by another process";

    private static string? Taken(System.Net.IPAddress ip, int port)
    {
        if (port == 0) return null;
        try
        {
            // As Kestrel binds: exclusive use of the address, so a listener of another process is seen.
            using var probe = new System.Net.Sockets.Socket(ip.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            probe.Bind(new System.Net.IPEndPoint(ip, port));
            probe.Listen(1);
            return null;
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            return InUse;
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Other failures (address not on this host, permission) are left to the real bind, which names them.
            return null;
        }
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
}
