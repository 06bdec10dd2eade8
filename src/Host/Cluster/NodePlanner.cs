using System.Net;
using System.Net.Http.Json;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Node;
using Varpulis.Contracts.Cluster;
using Varpulis.Host.Configuration;

namespace Varpulis.Host.Cluster;

/// <summary>Plans for the three kinds of node.</summary>
public static class NodePlanner
{
    public const string ClusterIdFile = "cluster.id";

    /// <summary>
    /// A coordinator: role <c>coordinator</c>, its own seed, remoting on the bind address (all interfaces when bound
    /// to them) under its public host name; the journal under its state directory (embedded) or in PostgreSQL. The
    /// embedded journal's directory gets a <c>cluster.id</c> that same-host workers prove they can read.
    /// </summary>
    public static NodePlan Coordinator(VarpulisSettings s, string? sharedJournalDir = null)
    {
        var (publicHost, bindHost) = Hostnames(s, advertise: null);
        var journalDir = sharedJournalDir ?? s.Server.StateDir;
        if (!s.Persistence.IsPostgres && sharedJournalDir is null) EnsureClusterId(s.Server.StateDir);
        var raft = s.Coordinator.Raft;
        return new NodePlan(
            NodeKind.Coordinator, publicHost, bindHost, s.Cluster.Port, [], s.Persistence, journalDir, OwnsJournalFiles: sharedJournalDir is null,
            TimeSpan.FromSeconds(s.Cluster.HeartbeatIntervalSecs), TimeSpan.FromSeconds(s.Cluster.HeartbeatTimeoutSecs),
            WorkerId: null, AdvertiseAddress: null, s.Cluster.MaxPipelines, s.Cluster.Placement)
        {
            // With the embedded journal the coordinator state is replicated over the coordinators' own data directories.
            Raft = raft.Enabled
                ? new Varpulis.Actors.Cluster.Raft.RaftPlan(raft.NodeId, raft.Peers) { StateDataDir = s.Persistence.IsPostgres ? null : Path.GetFullPath(raft.DataDir ?? s.Server.StateDir) }
                : null,
        };
    }

    /// <summary>What <c>GET /api/v1/cluster/seed</c> says of a coordinator's journal (<paramref name="journalDir"/>: the plan's, default the state directory).</summary>
    public static JournalInfo JournalOf(VarpulisSettings s, string? journalDir = null)
        => s.Persistence.IsPostgres
            ? new JournalInfo("postgresql", null, null, null)
            : new JournalInfo("embedded", Path.GetFullPath(journalDir ?? s.Server.StateDir), BootId(), EnsureClusterId(journalDir ?? s.Server.StateDir));

    /// <summary>A worker's id (<c>--worker-id</c>, else <c>&lt;host&gt;-&lt;port&gt;</c>) and advertise address (else <c>http://&lt;public host&gt;:&lt;port&gt;</c>).</summary>
    public static (string WorkerId, string Advertise) WorkerIdentity(VarpulisSettings s)
    {
        var advertise = s.Cluster.AdvertiseAddress;
        var (publicHost, _) = Hostnames(s, advertise);
        var id = s.Cluster.WorkerId ?? $"{Dns.GetHostName()}-{s.Server.Port}";
        return (id, advertise ?? $"http://{publicHost}:{s.Server.Port}");
    }

    /// <summary>
    /// The worker's plan from its coordinator's seed information: the same failure-detector timings, the coordinator's
    /// journal (unless the worker has a PostgreSQL journal of its own): PostgreSQL from the join handshake, or the
    /// coordinator's SQLite files when this worker runs on the same host — else an error that says what to configure.
    /// </summary>
    public static async Task<NodePlan> WorkerAsync(VarpulisSettings s, SeedInfo seed, Func<string, CancellationToken, Task<JoinGrant>> handshake, CancellationToken ct)
    {
        var (workerId, advertise) = WorkerIdentity(s);
        var (publicHost, bindHost) = Hostnames(s, advertise);
        if (seed.SeedNodes.Count == 0) throw new ConfigurationException($"the coordinator at {s.Cluster.Coordinator} gave no seed nodes");
        PersistenceSettings persistence = s.Persistence;
        string journalDir = s.Server.StateDir;
        if (!s.Persistence.IsPostgres)
        {
            if (seed.Journal.Mode == "postgresql")
            {
                var grant = await handshake(seed.SeedNodes[0], ct);
                if (grant.Provider != "postgresql" || string.IsNullOrEmpty(grant.ConnectionString))
                    throw new ConfigurationException($"the coordinator at {s.Cluster.Coordinator} did not hand out its PostgreSQL settings");
                persistence = Copy(s.Persistence, "postgresql", grant.ConnectionString);
            }
            else
            {
                journalDir = SharedStateDir(s, seed.Journal);
            }
        }
        return new NodePlan(
            NodeKind.Worker, publicHost, bindHost, s.Cluster.Port, seed.SeedNodes, persistence, journalDir, OwnsJournalFiles: persistence.IsPostgres,
            TimeSpan.FromSeconds(seed.HeartbeatIntervalSecs), TimeSpan.FromSeconds(seed.HeartbeatTimeoutSecs),
            workerId, advertise, s.Cluster.MaxPipelines, s.Cluster.Placement);
    }

    /// <summary>The coordinator's state directory when this process can share its SQLite files; else a startup error.</summary>
    internal static string SharedStateDir(VarpulisSettings s, JournalInfo journal)
    {
        var dir = journal.StateDir ?? "";
        string? problem = null;
        var bootId = BootId();
        if (journal.BootId is not null && bootId is not null && journal.BootId != bootId)
        {
            problem = "this worker runs on another host";
        }
        else
        {
            try
            {
                var id = File.ReadAllText(Path.Combine(dir, ClusterIdFile)).Trim();
                if (id != journal.ClusterId) problem = $"{Path.Combine(dir, ClusterIdFile)} here belongs to another cluster";
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problem = $"this worker cannot read {Path.Combine(dir, ClusterIdFile)} ({ex.Message})";
            }
        }
        problem ??= UnwritableJournal(dir);
        if (problem is null) return dir;
        throw new ConfigurationException(
            $"the coordinator at {s.Cluster.Coordinator} keeps the cluster's journal in embedded SQLite under {dir} on its own host, " +
            $"and {problem}. Workers on other hosts need PostgreSQL: set persistence.provider = postgresql and persistence.connection_string " +
            "(or VARPULIS_PERSISTENCE_PROVIDER and VARPULIS_PERSISTENCE_CONNECTION) on the coordinator, which hands them to its workers, or on this worker.");
    }

    /// <summary>Why this process could not write the coordinator's journal files (null: it can).</summary>
    private static string? UnwritableJournal(string dir)
    {
        foreach (var name in Varpulis.Actors.Persistence.VarpulisPersistence.SqliteFileNames.Where(f => f.EndsWith(".db", StringComparison.Ordinal)))
        {
            var path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue;
            try
            {
                using var _ = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return $"this worker cannot write {path} ({ex.Message}; run it as the coordinator's user)";
            }
        }
        return null;
    }

    /// <summary>The remoting host names: what others reach this node at, and what it listens on.</summary>
    internal static (string Public, string Bind) Hostnames(VarpulisSettings s, string? advertise)
    {
        bool loopback = SettingsLoader.IsLoopback(s.Server.Bind);
        string bind = loopback ? "127.0.0.1" : s.Server.Bind;
        if (!string.IsNullOrEmpty(s.Cluster.Hostname)) return (s.Cluster.Hostname, loopback ? s.Cluster.Hostname : bind);
        if (advertise is not null && Uri.TryCreate(advertise, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host))
            return (uri.Host, bind);
        return (loopback ? "127.0.0.1" : Dns.GetHostName(), bind);
    }

    /// <summary>The kernel's boot id (Linux): equal on two processes exactly when they run on the same host since its last boot.</summary>
    internal static string? BootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static string EnsureClusterId(string stateDir)
    {
        var path = Path.Combine(Path.GetFullPath(stateDir), ClusterIdFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var id = Guid.NewGuid().ToString();
        File.WriteAllText(path, id + "\n");
        return id;
    }

    private static PersistenceSettings Copy(PersistenceSettings p, string provider, string? connection) => new()
    {
        Provider = provider,
        ConnectionString = connection,
        SnapshotEveryEvents = p.SnapshotEveryEvents,
        SnapshotIntervalSecs = p.SnapshotIntervalSecs,
        SqliteSynchronous = p.SqliteSynchronous,
    };
}

/// <summary>
/// A worker's start, before its host is built: asks its coordinator for the cluster's seed nodes until it answers
/// (logging <c>Heartbeat failed</c> at ERROR each time it cannot, retrying after 1, 2, 4 ... up to 30 s), fetches the
/// PostgreSQL settings over remoting when the cluster uses them, and returns the node plan.
/// </summary>
public static class WorkerBootstrap
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public static async Task<NodePlan> PlanAsync(VarpulisSettings settings, ILogger log, CancellationToken ct)
    {
        var seed = await FetchSeedAsync(settings, log, ct);
        var plan = await NodePlanner.WorkerAsync(settings, seed, (node, c) => HandshakeAsync(settings, log, node, c), ct);
        log.LogInformation("Joining the cluster of {Coordinator} as worker {WorkerId} ({Advertise}) through {Seeds}; journal: {Journal}",
            settings.Cluster.Coordinator, plan.WorkerId, plan.AdvertiseAddress, string.Join(", ", plan.SeedNodes),
            plan.Persistence.IsPostgres ? "PostgreSQL" : "embedded SQLite in " + plan.JournalDir);
        return plan;
    }

    private static async Task<SeedInfo> FetchSeedAsync(VarpulisSettings settings, ILogger log, CancellationToken ct)
    {
        var baseUri = new Uri(settings.Cluster.Coordinator!.TrimEnd('/') + "/");
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(5) };
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            string reason;
            try
            {
                using var resp = await http.GetAsync("api/v1/cluster/seed", ct);
                if (resp.StatusCode == HttpStatusCode.OK)
                {
                    var seed = await resp.Content.ReadFromJsonAsync(ClusterJsonContext.Default.SeedInfo, ct);
                    if (seed is not null && seed.SeedNodes.Count > 0) return seed;
                    reason = "it has not joined its own cluster yet";
                }
                else
                {
                    reason = $"HTTP {(int)resp.StatusCode} from {baseUri}api/v1/cluster/seed (is it a coordinator?)";
                }
            }
            catch (HttpRequestException ex)
            {
                reason = ex.Message;
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                reason = "no answer within 5 s";
            }
            catch (System.Text.Json.JsonException ex)
            {
                reason = "unexpected answer: " + ex.Message;
            }
            log.LogError("Heartbeat failed: coordinator {Coordinator} unreachable ({Reason}); retrying in {Delay} s", settings.Cluster.Coordinator, reason, delay.TotalSeconds);
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, delay.Ticks * 2));
        }
    }

    /// <summary>Asks the coordinator's bootstrap actor for the journal settings, from a short-lived remoting-only actor system.</summary>
    private static async Task<JoinGrant> HandshakeAsync(VarpulisSettings settings, ILogger log, string seedNode, CancellationToken ct)
    {
        var (publicHost, bindHost) = NodePlanner.Hostnames(settings, settings.Cluster.AdvertiseAddress);
        var config = Akka.Configuration.ConfigurationFactory.ParseString(
            $$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.hostname = "{{bindHost}}"
            akka.remote.dot-netty.tcp.public-hostname = "{{publicHost}}"
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = WARNING
            akka.actor.serializers.varpulis = "Varpulis.Actors.Serialization.VarpulisSerializer, Varpulis.Actors"
            akka.actor.serialization-bindings {
              "Varpulis.Actors.Cluster.IClusterBootstrapProtocol, Varpulis.Actors" = varpulis
            }
            """);
        using var system = ActorSystem.Create(NodePlan.SystemName + "-join", config);
        try
        {
            var delay = TimeSpan.FromSeconds(1);
            while (true)
            {
                try
                {
                    var target = system.ActorSelection($"{seedNode}/user/{ClusterBootstrapResponder.Name}");
                    return await target.Ask<JoinGrant>(new RequestJoinGrant(NodePlanner.WorkerIdentity(settings).WorkerId), TimeSpan.FromSeconds(5), ct);
                }
                catch (AskTimeoutException)
                {
                    log.LogError("Heartbeat failed: the coordinator's remoting at {Seed} did not answer the join handshake; retrying in {Delay} s", seedNode, delay.TotalSeconds);
                    await Task.Delay(delay, ct);
                    delay = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, delay.Ticks * 2));
                }
            }
        }
        finally
        {
            await system.Terminate();
        }
    }
}
