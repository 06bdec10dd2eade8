using System.CommandLine;
using System.Text.Json.Serialization;
using Varpulis.Contracts.Cluster;
using Varpulis.Contracts.Management;
using Varpulis.Pbm.Http;
using Varpulis.Pbm.Output;

namespace Varpulis.Pbm.Commands;

/// <summary><c>pbm HOST:PORT cluster show | leader | join ADDR | leave ADDR | down ADDR | down-unreachable</c>.</summary>
public static class ClusterCommands
{
    public static Command Create(PbmGlobals g)
    {
        var cluster = new Command("cluster", "Cluster membership: show, leader, join, leave, down, down-unreachable.");
        cluster.Subcommands.Add(Show(g));
        cluster.Subcommands.Add(Leader(g));
        cluster.Subcommands.Add(Join(g));
        cluster.Subcommands.Add(Member(g, "leave", "Leave", "Make the member leave the cluster gracefully (its shards are handed off)."));
        cluster.Subcommands.Add(Member(g, "down", "Down", "Mark the member down (for a member that is gone: its shards are re-allocated)."));
        cluster.Subcommands.Add(DownUnreachable(g));
        return cluster;
    }

    private static Command Show(PbmGlobals g)
        => QueryCommand.Create(g, "show", "List the members: address, status, roles, worker id, reachability.",
            "/cluster/members", ClusterHttpJsonContext.Default.ClusterMembers, WriteMembers);

    internal static void WriteMembers(TextWriter output, ClusterMembers members)
    {
        var unreachable = members.Unreachable.Select(u => u.Node).ToHashSet(StringComparer.Ordinal);
        // Roles as the API shows them; a worker's id comes from its metadata role (its advertised address is in --json).
        Table.Write(output, ["ADDRESS", "STATUS", "ROLES", "WORKER-ID", "REACHABLE"], members.Members.Select(m => (IReadOnlyList<string>)
        [
            m.Node,
            m.Status,
            ClusterRoles.Visible(m.Roles) is { Count: > 0 } roles ? string.Join(",", roles) : "-",
            ClusterRoles.WorkerIdOf(m.Roles) ?? "-",
            unreachable.Contains(m.Node) ? "no" : "yes",
        ]));
        var count = Words.Plural(members.Members.Count, "member");
        var bad = unreachable.Count == 0 ? "" : $" ({unreachable.Count} unreachable)";
        output.WriteLine($"Count: {count}{bad}; leader {members.Leader ?? "none"}");
    }

    private static Command Leader(PbmGlobals g)
    {
        var cmd = new Command("leader", "Print the address of the cluster's leader.");
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var members = await client.GetAsync("/cluster/members", ClusterHttpJsonContext.Default.ClusterMembers, ct);
            var leader = members.Leader ?? throw new PbmFailure(ExitCodes.Refused, "the cluster has no leader yet: no member is Up");
            printer.Write(new LeaderResult(leader), PbmJsonContext.Default.LeaderResult, output => output.WriteLine(leader));
        }, ct));
        return cmd;
    }

    private static Command Join(PbmGlobals g)
    {
        var address = new Argument<string>("ADDRESS") { Description = "A member of the cluster to join, e.g. akka.tcp://varpulis@10.0.0.1:4053." };
        var cmd = new Command("join", "Make this node join the cluster at ADDRESS.") { address };
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var form = new Dictionary<string, string> { ["address"] = parse.GetValue(address)! };
            var reply = await client.SendFormAsync(HttpMethod.Post, "/cluster/members", form, ClusterHttpJsonContext.Default.ManagementMessage, ct);
            printer.Write(reply, ClusterHttpJsonContext.Default.ManagementMessage, output => output.WriteLine(reply.Message));
        }, ct));
        return cmd;
    }

    private static Command Member(PbmGlobals g, string name, string operation, string description)
    {
        var address = new Argument<string>("ADDRESS") { Description = "The member: akka.tcp://varpulis@HOST:PORT, varpulis@HOST:PORT or HOST:PORT (its remoting address)." };
        var cmd = new Command(name, description) { address };
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var reply = await OperateAsync(client, parse.GetValue(address)!, operation, ct);
            printer.Write(reply, ClusterHttpJsonContext.Default.ManagementMessage, output => output.WriteLine(reply.Message));
        }, ct));
        return cmd;
    }

    private static Command DownUnreachable(PbmGlobals g)
    {
        var cmd = new Command("down-unreachable", "Mark every unreachable member down.");
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var members = await client.GetAsync("/cluster/members", ClusterHttpJsonContext.Default.ClusterMembers, ct);
            var downed = new List<string>();
            foreach (var node in members.Unreachable.Select(u => u.Node))
            {
                var reply = await OperateAsync(client, node, "Down", ct);
                downed.Add(reply.Message);
            }
            printer.Write(new DownUnreachableResult(downed), PbmJsonContext.Default.DownUnreachableResult, output =>
            {
                if (downed.Count == 0) output.WriteLine("No unreachable members");
                foreach (var line in downed) output.WriteLine(line);
            });
        }, ct));
        return cmd;
    }

    private static Task<ManagementMessage> OperateAsync(ManagementClient client, string address, string operation, CancellationToken ct)
        => client.SendFormAsync(HttpMethod.Put, "/cluster/members/" + Uri.EscapeDataString(address),
            new Dictionary<string, string> { ["operation"] = operation }, ClusterHttpJsonContext.Default.ManagementMessage, ct);
}

/// <summary><c>cluster leader --json</c>.</summary>
public sealed record LeaderResult(string Leader);

/// <summary><c>cluster down-unreachable --json</c>: the replies of the members marked down.</summary>
public sealed record DownUnreachableResult(IReadOnlyList<string> Downed);

/// <summary>The JSON of results <c>pbm</c> composes itself (the node's own answers keep their contract context).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(LeaderResult))]
[JsonSerializable(typeof(DownUnreachableResult))]
public sealed partial class PbmJsonContext : JsonSerializerContext
{
}
