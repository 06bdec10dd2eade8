using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog.Extensions.Logging;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Node;
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
        NodePlan? workerPlan = null;
        if (settings.Cluster.IsWorker)
        {
            using var logger = VarpulisLogging.Create(settings.Logging);
            using var loggers = new SerilogLoggerFactory(logger);
            try
            {
                workerPlan = await WorkerBootstrap.PlanAsync(settings, loggers.CreateLogger("Varpulis.Host.Cluster.WorkerBootstrap"), ct);
            }
            catch (ConfigurationException ex)
            {
                await Console.Error.WriteLineAsync("error: " + ex.Message);
                return 2;
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
        var app = VarpulisServer.Build(settings, coordinator: coordinator, workerPlan: workerPlan);
        await app.StartAsync(ct);
        await app.WaitForShutdownAsync(ct);
        return Environment.ExitCode;
    }
}
