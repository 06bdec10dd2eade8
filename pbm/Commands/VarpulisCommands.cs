using System.CommandLine;
using Varpulis.Contracts.Cluster;
using Varpulis.Pbm.Output;

namespace Varpulis.Pbm.Commands;

/// <summary>
/// <c>pbm HOST:PORT varpulis workers | drain ID | pipelines</c>: the cluster manager's view, through the node's
/// <c>/varpulis/...</c> management routes, in the coordinator API's shapes (<c>--json</c> prints them as they are).
/// </summary>
public static class VarpulisCommands
{
    /// <summary>How long <c>drain</c> waits by default: the manager's drain timeout (5 min) and a margin.</summary>
    public static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(360);

    public static Command Create(PbmGlobals g)
    {
        var varpulis = new Command("varpulis", "Varpulis workers and pipelines: workers, drain ID, pipelines.");
        varpulis.Subcommands.Add(Workers(g));
        varpulis.Subcommands.Add(Drain(g));
        varpulis.Subcommands.Add(Pipelines(g));
        return varpulis;
    }

    private static Command Workers(PbmGlobals g)
        => QueryCommand.Create(g, "workers", "List the workers: id, status, pipelines running of the most it takes, events processed, addresses.",
            "/varpulis/workers", ClusterJsonContext.Default.IReadOnlyListWorkerInfo, WriteWorkers);

    internal static void WriteWorkers(TextWriter output, IReadOnlyList<WorkerInfo> workers)
    {
        Table.Write(output, ["ID", "STATUS", "PIPELINES", "EVENTS", "ADDRESS", "AKKA-ADDRESS"], workers.Select(w => (IReadOnlyList<string>)
        [
            w.Id,
            w.Status,
            $"{Words.Number(w.PipelinesRunning)}/{Words.Number(w.MaxPipelines)}",
            w.EventsProcessed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            w.Address,
            w.AkkaAddress,
        ]));
        var byStatus = workers.GroupBy(w => w.Status).OrderBy(s => StatusOrder(s.Key)).ThenBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => $"{Words.Number(s.Count())} {s.Key}");
        output.WriteLine(workers.Count == 0 ? "Count: 0 workers" : $"Count: {Words.Plural(workers.Count, "worker")} ({string.Join(", ", byStatus)})");
    }

    private static int StatusOrder(string status) => status switch
    {
        WorkerStatus.Ready => 0,
        WorkerStatus.Draining => 1,
        WorkerStatus.Unhealthy => 2,
        _ => 3,
    };

    private static Command Drain(PbmGlobals g)
    {
        var id = new Argument<string>("ID") { Description = "The worker's id, as `varpulis workers` lists it." };
        var cmd = new Command("drain",
            "Drain worker ID: no new pipelines go to it; each of its pipelines snapshots and moves to another worker. Answers once it runs none (waits up to 360 s unless --timeout).")
        {
            id,
        };
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var path = $"/varpulis/workers/{Uri.EscapeDataString(parse.GetValue(id)!)}/drain";
            var result = await client.SendAsync(HttpMethod.Post, path, ClusterJsonContext.Default.DrainResult, ct);
            printer.Write(result, ClusterJsonContext.Default.DrainResult, output =>
                output.WriteLine($"Worker {result.WorkerId} {result.Status}: {Words.Plural(result.PipelinesMigrated, "pipeline")} migrated"));
        }, ct, DrainWait));
        return cmd;
    }

    private static Command Pipelines(PbmGlobals g)
        => QueryCommand.Create(g, "pipelines", "List the pipelines and the worker each runs on.",
            "/varpulis/pipelines", ClusterJsonContext.Default.IReadOnlyListPipelinePlacementInfo, WritePipelines);

    internal static void WritePipelines(TextWriter output, IReadOnlyList<PipelinePlacementInfo> pipelines)
    {
        Table.Write(output, ["NAME", "ID", "TENANT", "WORKER", "STATUS"], pipelines.Select(p => (IReadOnlyList<string>)
        [
            p.Name,
            p.PipelineId,
            p.TenantId,
            p.WorkerId ?? "-",
            p.Status,
        ]));
        int workers = pipelines.Where(p => p.WorkerId is not null).Select(p => p.WorkerId).Distinct(StringComparer.Ordinal).Count();
        output.WriteLine($"Count: {Words.Plural(pipelines.Count, "pipeline")} on {Words.Plural(workers, "worker")}");
    }
}
