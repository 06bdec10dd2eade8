using System.Net;
using System.Net.Http.Json;
using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster.Raft;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Node;
using Varpulis.Contracts.Cluster;
using Varpulis.Host.Configuration;

namespace Varpulis.Host.Cluster;

/// <summary>
/// How a coordinator started with <c>--raft</c> finds its cluster. Every second, until it is a member, it asks each
/// other peer's <c>GET /api/v1/cluster/seed</c>:
/// <list type="bullet">
/// <item>a peer that is a member of a cluster answers with the cluster's coordinators: this one joins them (Akka.NET
/// <c>JoinSeedNodes</c>);</item>
/// <item>when no peer is a member, the coordinator with the lowest <c>--raft-node-id</c> among those that answer (and
/// those that answer them: each publishes the ids it saw in its seed answer) starts the cluster (joins itself) after
/// seeing that for two rounds in a row; the others join it on their next round.</item>
/// </list>
/// A cluster is only started when a majority of the peers answer. So any majority of peers started in any order forms
/// one cluster, a restarted coordinator rejoins the survivors, and after a full stop the lowest live id starts again.
/// With the embedded journal every coordinator must use the same journal files (<see cref="RaftBootstrap"/>): one that
/// finds the cluster on another journal stops and starts again on it.
/// </summary>
public sealed class RaftJoiner(ActorSystem system, NodePlanHolder holder, JournalInfo journal, IHostApplicationLifetime lifetime, ILogger<RaftJoiner> log) : BackgroundService
{
    private static int _restartRequested;

    /// <summary>True once (then reset) when the coordinator stopped to start again on its peers' embedded journal.</summary>
    public static bool TakeRestartRequest() => Interlocked.Exchange(ref _restartRequested, 0) == 1;

    private static readonly TimeSpan Round = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var raft = holder.Plan.Raft!;
        var cluster = Akka.Cluster.Cluster.Get(system);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        int lowestRounds = 0;
        string? lastProblem = null;
        DateTime joinSentAt = DateTime.MinValue;
        try
        {
            while (!ct.IsCancellationRequested && !IsMember(cluster))
            {
                var answers = await AskPeersAsync(http, raft, ct);
                var members = answers.Where(a => a.Info.SeedNodes.Count > 0).ToList();
                string? problem = null;
                if (members.Count > 0)
                {
                    lowestRounds = 0;
                    var mismatch = members.FirstOrDefault(m => !SameJournal(m.Info.Journal, journal));
                    if (mismatch.Info is not null && journal.Mode == "embedded" && mismatch.Info.Journal.Mode == "embedded")
                    {
                        // The cluster's journal wins: start again on it (NodeRunner rebuilds the node, RaftBootstrap finds it).
                        log.LogWarning("Raft: coordinator {Peer} keeps the cluster's journal in {Theirs}, this one in {Ours}: restarting this coordinator on the cluster's journal",
                            mismatch.Url, Describe(mismatch.Info.Journal), Describe(journal));
                        Interlocked.Exchange(ref _restartRequested, 1);
                        lifetime.StopApplication();
                        return;
                    }
                    else if (mismatch.Info is not null)
                    {
                        problem = $"coordinator {mismatch.Url} keeps the cluster's journal in {Describe(mismatch.Info.Journal)}, this one in {Describe(journal)}: " +
                            "give every coordinator the same persistence settings";
                    }
                    else if (DateTime.UtcNow - joinSentAt > TimeSpan.FromSeconds(10))
                    {
                        var seeds = members.SelectMany(m => m.Info.SeedNodes).Distinct(StringComparer.Ordinal).Select(Address.Parse).ToList();
                        log.LogInformation("Raft peers found: joining the coordinators' cluster through {Seeds}", string.Join(", ", seeds));
                        cluster.JoinSeedNodes(seeds);
                        joinSentAt = DateTime.UtcNow;
                    }
                }
                else
                {
                    // Only a majority of the peers may start a cluster (as a Raft election needs a majority of votes):
                    // a coordinator alone, or two that cannot see each other, never start two clusters.
                    holder.RaftPeersAnswering = answers.Where(a => a.Info.RaftNodeId is not null).Select(a => a.Info.RaftNodeId!.Value).Order().ToList();
                    bool lowest = IsLowest(raft.NodeId, answers.Select(a => a.Info));
                    bool majority = answers.Count(a => a.Info.RaftNodeId is not null) + 1 >= raft.Majority;
                    lowestRounds = lowest && majority ? lowestRounds + 1 : 0;
                    if (lowestRounds >= 2)
                    {
                        log.LogInformation("Raft: no peer is in a cluster and coordinator {NodeId} has the lowest id of the {Count} that answer: starting the cluster", raft.NodeId, answers.Count + 1);
                        cluster.Join(cluster.SelfAddress);
                        break;
                    }
                }
                if (problem != lastProblem && problem is not null) log.LogError("Raft: cannot join: {Problem}", problem);
                lastProblem = problem;
                await Task.Delay(Round, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Whether no lower id answers this coordinator, nor any of the peers that answer it. Two coordinators started at once
    /// may see different peers for a moment (the lowest id's HTTP endpoint up for one, not yet for the other): the one
    /// that does not see the lowest learns of it from a peer that does, and waits instead of starting a second cluster.
    /// </summary>
    internal static bool IsLowest(int nodeId, IEnumerable<SeedInfo> answers)
        => answers.All(a => (a.RaftNodeId is not { } id || id > nodeId) && a.RaftPeersAnswering?.Any(seen => seen < nodeId) != true);

    private static bool IsMember(Akka.Cluster.Cluster cluster)
        => cluster.SelfMember.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Exiting;

    private static bool SameJournal(JournalInfo a, JournalInfo b)
        => a.Mode == b.Mode && (a.Mode == "postgresql" || a.ClusterId == b.ClusterId);

    private static string Describe(JournalInfo j) => j.Mode == "postgresql" ? "PostgreSQL" : $"embedded SQLite under {j.StateDir}";

    /// <summary>The seed answers of the other peers that answer now.</summary>
    internal static async Task<List<(string Url, SeedInfo Info)>> AskPeersAsync(HttpClient http, RaftPlan raft, CancellationToken ct)
    {
        var others = raft.Peers.Where((_, i) => i + 1 != raft.NodeId).ToList();
        var tasks = others.Select(async url =>
        {
            try
            {
                using var resp = await http.GetAsync(url.TrimEnd('/') + "/api/v1/cluster/seed", ct);
                if (resp.StatusCode != HttpStatusCode.OK) return ((string, SeedInfo)?)null;
                var info = await resp.Content.ReadFromJsonAsync(ClusterJsonContext.Default.SeedInfo, ct);
                return info is null ? null : (url, info);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                if (ct.IsCancellationRequested) throw;
                return null;
            }
        });
        var results = await Task.WhenAll(tasks);
        return results.Where(r => r is not null).Select(r => r!.Value).ToList();
    }
}

/// <summary>
/// Before a raft coordinator's host is built: where its journal is. With PostgreSQL, there (shared by every node).
/// With the embedded journal, a cluster runs on one host and every node shares one set of SQLite files: a coordinator
/// uses the journal of a peer that answers (the cluster's), else the one it used last time
/// (<c>journal.location</c> in its <c>--raft-data-dir</c>), else its own state directory (a new cluster).
/// </summary>
public static class RaftBootstrap
{
    public const string JournalLocationFile = "journal.location";

    public static async Task<NodePlan> PlanAsync(VarpulisSettings settings, ILogger log, CancellationToken ct)
    {
        if (settings.Persistence.IsPostgres) return NodePlanner.Coordinator(settings);
        var raft = settings.Coordinator.Raft;
        var own = Path.GetFullPath(settings.Server.StateDir);
        var recordFile = Path.Combine(own, JournalLocationFile);
        string? shared = null;
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) })
        {
            var answers = await RaftJoiner.AskPeersAsync(http, new RaftPlan(raft.NodeId, raft.Peers), ct);
            var peer = answers.OrderBy(a => a.Info.SeedNodes.Count > 0 ? 0 : 1).ThenBy(a => a.Info.RaftNodeId ?? int.MaxValue).FirstOrDefault();
            if (peer.Info is { } info)
            {
                if (info.Journal.Mode == "postgresql")
                {
                    throw new ConfigurationException($"coordinator {peer.Url} uses PostgreSQL: give this coordinator the same persistence.provider and persistence.connection_string");
                }
                shared = NodePlanner.SharedStateDir(WithCoordinator(settings, peer.Url), info.Journal);
                log.LogInformation("Raft: using the cluster's embedded journal under {Dir} (from coordinator {Peer})", shared, peer.Url);
            }
        }
        if (shared is null && File.Exists(recordFile))
        {
            var recorded = File.ReadAllText(recordFile).Trim();
            if (recorded.Length > 0 && recorded != own && File.Exists(Path.Combine(recorded, NodePlanner.ClusterIdFile)))
            {
                shared = recorded;
                log.LogInformation("Raft: no peer answers; using the cluster's embedded journal under {Dir} as last time ({File})", shared, recordFile);
            }
        }
        var journalDir = shared ?? own;
        Directory.CreateDirectory(own);
        File.WriteAllText(recordFile, journalDir + "\n");
        return NodePlanner.Coordinator(settings, shared is null || shared == own ? null : shared);
    }

    private static VarpulisSettings WithCoordinator(VarpulisSettings s, string url)
    {
        // SharedStateDir names "the coordinator" in its errors: here, the peer whose journal this one would share.
        var copy = new VarpulisSettings { Server = s.Server, Metrics = s.Metrics, Persistence = s.Persistence, Logging = s.Logging, Coordinator = s.Coordinator };
        copy.Cluster.Coordinator = url;
        return copy;
    }
}
