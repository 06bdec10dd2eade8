using System.CommandLine;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Configuration;
using Varpulis.Host.Server;

namespace Varpulis.Host.Cli;

/// <summary>
/// <c>varpulis server</c>: the durable single-node server (operations runbook §1.1), or, with <c>--coordinator URL</c>,
/// a worker of a cluster (§1.2): it joins the coordinator's cluster and runs pipelines placed on it.
/// </summary>
public static class ServerCommand
{
    public static Command Create()
    {
        var node = new NodeOptions(9000, "Serve Prometheus metrics on --metrics-port.");
        var coordinator = new Option<string>("--coordinator") { Description = "Join the cluster of the coordinator at this URL (http://host:9100) as a worker (env VARPULIS_COORDINATOR)." };
        var workerId = new Option<string>("--worker-id") { Description = "This worker's id as the coordinator lists it (default <host>-<port>)." };
        var advertise = new Option<string>("--advertise-address") { Description = "This worker's HTTP address as clients reach it (default http://<host>:<port>)." };
        var cmd = new Command("server", "Run the durable CEP server (REST API, persistence, metrics), alone or as a worker of a coordinator.");
        node.AddTo(cmd, withMetricsPort: true);
        cmd.Options.Add(coordinator);
        cmd.Options.Add(workerId);
        cmd.Options.Add(advertise);
        cmd.SetAction(async (parse, ct) =>
        {
            VarpulisSettings settings;
            try
            {
                settings = node.Load(parse);
                if (NodeOptions.Given(parse, coordinator)) settings.Cluster.Coordinator = NodeOptions.NullIfEmpty(parse.GetValue(coordinator));
                if (NodeOptions.Given(parse, workerId)) settings.Cluster.WorkerId = NodeOptions.NullIfEmpty(parse.GetValue(workerId));
                if (NodeOptions.Given(parse, advertise)) settings.Cluster.AdvertiseAddress = NodeOptions.NullIfEmpty(parse.GetValue(advertise));
                // Workers started side by side from one directory (the runbook's commands) each get a state directory of
                // their own (their journal is the cluster's: in the coordinator's directory or PostgreSQL).
                if (settings.Cluster.IsWorker && !NodeOptions.Given(parse, node.StateDir) && settings.Server.StateDir == ServerSettings.DefaultStateDir)
                    settings.Server.StateDir = Path.Combine(settings.Server.StateDir, "workers", Cluster.NodePlanner.WorkerIdentity(settings).WorkerId);
                SettingsLoader.Validate(settings);
            }
            catch (ConfigurationException ex)
            {
                return CliFailure.Fail(ex.Message);
            }
            return await NodeRunner.RunAsync(settings, coordinator: false, ct);
        });
        return cmd;
    }
}
