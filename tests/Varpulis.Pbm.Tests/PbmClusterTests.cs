using System.Globalization;

namespace Varpulis.Pbm.Tests;

/// <summary>
/// pbm against a real three-node cluster (a coordinator and two workers as processes on loopback): membership with
/// roles and status, the workers, where pipelines run, and a drain. Exact tables.
/// </summary>
public sealed class PbmClusterTests(PbmCluster c) : IClassFixture<PbmCluster>
{
    private const int MaxPipelines = 1000;

    [Fact]
    public async Task ClusterShowListsEveryMemberWithItsRolesAndStatusFromAnyNode()
    {
        var members = new[] { c.Coordinator, c.Workers[0], c.Workers[1] }.OrderBy(n => Port(n.Address)).ToList();
        int width = members.Max(m => m.Address.Length);
        var expected =
            $"{"ADDRESS".PadRight(width)}  STATUS  ROLES        WORKER-ID  REACHABLE\n" +
            string.Concat(members.Select(m => $"{m.Address.PadRight(width)}  Up      {(m.WorkerId is null ? "coordinator" : "worker"),-11}  {m.WorkerId ?? "-",-9}  yes\n")) +
            $"Count: 3 members; leader {members[0].Address}\n";

        // Every node answers for the cluster once it has seen all three members Up; each with its own key.
        foreach (var node in new[] { c.Coordinator, c.Workers[0], c.Workers[1] })
        {
            PbmRun run = null!;
            await PbmCluster.EventuallyAsync($"{node.Target} to see three members Up", async () => (run = await node.PbmAsync("cluster", "show")).Stdout == expected);
            Assert.Equal(new PbmRun(0, expected, ""), run);
        }

        // --json is the node's answer: a worker's id and advertised address are roles there.
        var json = await c.Coordinator.PbmAsync("--json", "cluster", "show");
        var w0 = c.Workers[0];
        Assert.Contains(
            "      \"status\": \"Up\",\n" +
            "      \"roles\": [\n" +
            $"        \"varpulis-advertise:http://127.0.0.1:{w0.ApiPort.ToString(CultureInfo.InvariantCulture)}\",\n" +
            "        \"varpulis-worker-id:worker-0\",\n" +
            "        \"worker\"\n" +
            "      ]\n", json.Stdout);

        // A node's key is its own: the coordinator's key is refused on a worker's endpoint.
        Assert.Equal(
            new PbmRun(4, "", $"pbm: {w0.Target} refused the request: invalid API key (give the node's admin key with --api-key or VARPULIS_API_KEY)\n"),
            await PbmNode.RunAsync([w0.Target, "--api-key", PbmCluster.CoordinatorKey, "cluster", "show"]));
    }

    [Fact]
    public async Task WorkersPipelinesAndDrainShowTheClusterManagersView()
    {
        var ids = new List<string> { await c.DeployAsync("p0"), await c.DeployAsync("p1") };
        IReadOnlyDictionary<string, string?> placed = null!;
        await PbmCluster.EventuallyAsync("both pipelines placed", async () => (placed = await c.PlacementsAsync()).Count == 2 && placed.Values.All(w => w is not null));
        var names = new Dictionary<string, string> { [ids[0]] = "p0", [ids[1]] = "p1" };

        // Where pipelines run, as the coordinator's REST API says, from a worker's endpoint.
        var worker = c.Workers[1];
        await AssertEventuallyAsync(worker, PipelinesTable(ids.Select(id => (names[id], id, placed[id]!))), "varpulis", "pipelines");

        // Both workers, with the pipelines each runs.
        int Count(string w) => placed.Values.Count(v => v == w);
        await AssertEventuallyAsync(c.Coordinator, WorkersTable(
            [(c.Workers[0], "ready", Count("worker-0")), (c.Workers[1], "ready", Count("worker-1"))]), "varpulis", "workers");

        // Drain the worker running p0: its pipelines move to the other, and the answer comes once it runs none.
        var drained = placed[ids[0]]!;
        var other = drained == "worker-0" ? "worker-1" : "worker-0";
        int moved = Count(drained);
        Assert.Equal(new PbmRun(0, $"Worker {drained} drained: {moved} pipeline{(moved == 1 ? "" : "s")} migrated\n", ""),
            await worker.PbmAsync("varpulis", "drain", drained));

        await AssertEventuallyAsync(c.Coordinator, PipelinesTable(ids.Select(id => (names[id], id, other))), "varpulis", "pipelines");
        var sorted = ids.OrderBy(id => names[id], StringComparer.Ordinal).ToList();
        Assert.Equal(new PbmRun(0,
            "[\n" + string.Join(",\n", sorted.Select(id =>
                "  {\n" +
                $"    \"pipeline_id\": \"{id}\",\n" +
                $"    \"name\": \"{names[id]}\",\n" +
                "    \"tenant_id\": \"default\",\n" +
                $"    \"worker_id\": \"{other}\",\n" +
                "    \"status\": \"running\"\n" +
                "  }")) + "\n]\n", ""),
            await c.Coordinator.PbmAsync("--json", "varpulis", "pipelines"));
        await AssertEventuallyAsync(c.Coordinator, WorkersTable(
            c.Workers.Select(w => (w, w.WorkerId == drained ? "draining" : "ready", w.WorkerId == drained ? 0 : 2)).ToList()), "varpulis", "workers");

        // Refusals: an unknown worker, and the last worker that could take pipelines.
        Assert.Equal(new PbmRun(1, "", "pbm: worker 'nope' not found (404 worker_not_found)\n"), await c.Coordinator.PbmAsync("varpulis", "drain", "nope"));
        Assert.Equal(new PbmRun(1, "", $"pbm: worker '{other}' is the last worker that can run pipelines: start another worker before draining it (409 conflict)\n"),
            await c.Coordinator.PbmAsync("varpulis", "drain", other));
    }

    private static string PipelinesTable(IEnumerable<(string Name, string Id, string Worker)> pipelines)
    {
        var rows = pipelines.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        int idWidth = rows.Max(r => r.Id.Length);
        return $"NAME  {"ID".PadRight(idWidth)}  TENANT   WORKER    STATUS\n" +
            string.Concat(rows.Select(r => $"{r.Name,-4}  {r.Id.PadRight(idWidth)}  default  {r.Worker,-8}  running\n")) +
            $"Count: {rows.Count} pipelines on {rows.Select(r => r.Worker).Distinct().Count()} worker{(rows.Select(r => r.Worker).Distinct().Count() == 1 ? "" : "s")}\n";
    }

    private static string WorkersTable(IReadOnlyList<(PbmCluster.Node Node, string Status, int Pipelines)> workers)
    {
        int statusWidth = Math.Max("STATUS".Length, workers.Max(w => w.Status.Length));
        int addressWidth = workers.Max(w => w.Node.Api.ToString().TrimEnd('/').Length);
        var counts = workers.GroupBy(w => w.Status).OrderBy(g => g.Key == "ready" ? 0 : 1).Select(g => $"{g.Count()} {g.Key}");
        return $"ID        {"STATUS".PadRight(statusWidth)}  PIPELINES  EVENTS  {"ADDRESS".PadRight(addressWidth)}  AKKA-ADDRESS\n" +
            string.Concat(workers.Select(w =>
                $"{w.Node.WorkerId}  {w.Status.PadRight(statusWidth)}  {$"{w.Pipelines}/{MaxPipelines}",-9}  0       {w.Node.Api.ToString().TrimEnd('/').PadRight(addressWidth)}  {w.Node.Address}\n")) +
            $"Count: 2 workers ({string.Join(", ", counts)})\n";
    }

    /// <summary>Runs pbm until it prints <paramref name="expected"/> (reports travel with heartbeats), then asserts the whole run.</summary>
    private static async Task AssertEventuallyAsync(PbmCluster.Node node, string expected, params string[] args)
    {
        PbmRun run = null!;
        try
        {
            await PbmCluster.EventuallyAsync($"pbm {string.Join(' ', args)} to print the expected table", async () => (run = await node.PbmAsync(args)).Stdout == expected, 60);
        }
        catch (TimeoutException)
        {
            // Fall through to the assertion, which shows the difference.
        }
        Assert.Equal(new PbmRun(0, expected, ""), run);
    }

    private static int Port(string address) => int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
}
