using System.CommandLine;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Configuration;
using Varpulis.Host.Server;

namespace Varpulis.Host.Cli;

/// <summary>
/// <c>varpulis coordinator</c> (operations runbook §1.2): the node with role <c>coordinator</c> that workers join. It
/// hosts the cluster manager and the directory (cluster singletons), serves the coordinator API
/// (<c>/api/v1/cluster/...</c>), the pipeline routes (it reaches pipelines through the workers' shard region),
/// <c>/health</c> in the coordinator shape, <c>/ready</c> and, with <c>--metrics</c>, <c>/metrics</c> on its own port.
/// </summary>
public static class CoordinatorCommand
{
    public static Command Create()
    {
        var node = new NodeOptions(9100, "Serve Prometheus metrics at /metrics on the coordinator's own port.");
        var interval = new Option<double>("--heartbeat-interval") { Description = "Seconds between heartbeats of every node (default 5)." };
        var timeout = new Option<double>("--heartbeat-timeout") { Description = "Seconds of silence after which a worker is downed and its pipelines move (default 15)." };
        var placement = new Option<string>("--placement") { Description = "Placement of new pipelines: least-loaded (default) or round-robin." };
        placement.AcceptOnlyFromAmong("least-loaded", "round-robin");
        var ha = new HaScalingOptions();
        var cmd = new Command("coordinator", "Run a cluster coordinator: workers join it; it places pipelines, drains and removes workers.");
        node.AddTo(cmd, withMetricsPort: false);
        cmd.Options.Add(interval);
        cmd.Options.Add(timeout);
        cmd.Options.Add(placement);
        ha.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            VarpulisSettings settings;
            try
            {
                settings = node.Load(parse, CoordinatorDefaults);
                if (NodeOptions.Given(parse, interval)) settings.Cluster.HeartbeatIntervalSecs = NodeOptions.CheckSeconds(parse.GetValue(interval), "--heartbeat-interval");
                if (NodeOptions.Given(parse, timeout)) settings.Cluster.HeartbeatTimeoutSecs = NodeOptions.CheckSeconds(parse.GetValue(timeout), "--heartbeat-timeout");
                if (NodeOptions.Given(parse, placement)) settings.Cluster.Placement = parse.GetValue(placement)!;
                ha.Apply(parse, settings, NodeOptions.Given(parse, node.StateDir));
                if (settings.Cluster.IsWorker) throw new ConfigurationException("a coordinator has no coordinator: remove cluster.coordinator / VARPULIS_COORDINATOR");
                SettingsLoader.Validate(settings);
            }
            catch (ConfigurationException ex)
            {
                return CliFailure.Fail(ex.Message);
            }
            return await NodeRunner.RunAsync(settings, coordinator: true, ct);
        });
        return cmd;
    }

    /// <summary>What a coordinator changes in the defaults: the API port 9100.</summary>
    private static void CoordinatorDefaults(VarpulisSettings s) => s.Server.Port = 9100;
}
