using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog.Extensions.Logging;
using Varpulis.Actors.Cluster;
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
        while (true)
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
            var reason = CoordinatedShutdown.Get(app.Services.GetRequiredService<ActorSystem>()).ShutdownReason;
            await app.DisposeAsync();
            // A worker downed by its cluster (cut off from the coordinators), or one that left a cluster without
            // coordinators, joins again through the coordinator's URL; one removed by the coordinator stops.
            bool rejoin = settings.Cluster.IsWorker && !ct.IsCancellationRequested
                && (reason is CoordinatedShutdown.ClusterDowningReason || (reason is CoordinatedShutdown.ClusterLeavingReason && WorkerAgent.RejoinRequested));
            if (!rejoin) return Environment.ExitCode;
            WorkerAgent.ResetRejoin();
            Environment.ExitCode = 0;
            await Console.Out.WriteLineAsync("Lost the cluster: joining again through " + settings.Cluster.Coordinator);
        }
    }
}
