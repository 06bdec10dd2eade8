using System.Collections.Immutable;
using Akka.Cluster;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// The cluster manager's state without actor machinery. Persistent part (journaled): drains in progress and the
/// migration history. Volatile part, rebuilt from cluster events and node reports after the manager moves: the
/// members, each node's last heartbeat, and where each pipeline runs. Decisions (may this worker be drained, which
/// pipelines a rebalance moves) and the migration bookkeeping live here; the actor persists, logs and replies.
/// Where pipelines run is complete only once every worker has reported to this manager: after it takes over
/// (<see cref="TakeOver"/>) it is <see cref="CaughtUp"/> when each worker that was there has reported, left, or was
/// given up on (<see cref="GiveUpWaiting"/>); until then the actor holds back every answer built from placements.
/// </summary>
public sealed class ClusterManagerState
{
    public const int MigrationHistory = 1000;

    private readonly Dictionary<string, DrainBegun> _drains = new(StringComparer.Ordinal);
    private readonly List<MigrationInfo> _migrations = new();
    private readonly Dictionary<string, MemberView> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WorkerHeartbeat> _heartbeats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _heardAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Placement> _placement = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _moves = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unreported = new(StringComparer.Ordinal);

    /// <summary>A member as the manager sees it.</summary>
    public sealed record MemberView(Member Member, bool Reachable);

    /// <summary>A pipeline on a node.</summary>
    public sealed record Placement(string Address, HostedPipeline Pipeline);

    public IReadOnlyDictionary<string, DrainBegun> Drains => _drains;

    public IReadOnlyList<MigrationInfo> Migrations => _migrations;

    public IReadOnlyDictionary<string, string> Moves => _moves;

    public IEnumerable<MigrationInfo> ActiveMigrations => _migrations.Where(m => m.Status == MigrationStatus.InProgress);

    // ------------------------------------------------------------------ journal

    public void Apply(IClusterManagerEvent e)
    {
        switch (e)
        {
            case DrainBegun d:
                _drains[d.AkkaAddress] = d;
                break;
            case DrainEnded d:
                _drains.Remove(d.AkkaAddress);
                break;
            case MigrationRecorded m:
                Record(m.Migration);
                break;
            case ClusterManagerSnapshot s:
                _drains.Clear();
                _migrations.Clear();
                foreach (var d in s.Drains) _drains[d.AkkaAddress] = d;
                _migrations.AddRange(s.Migrations);
                break;
        }
    }

    public ClusterManagerSnapshot Snapshot() => new(_drains.Values.ToList(), _migrations.ToList());

    private void Record(MigrationInfo m)
    {
        int i = _migrations.FindIndex(x => x.Id == m.Id);
        if (i >= 0) _migrations[i] = m;
        else _migrations.Add(m);
        if (_migrations.Count > MigrationHistory)
        {
            // Forget the oldest finished ones first.
            int finished = _migrations.FindIndex(x => x.Status != MigrationStatus.InProgress);
            _migrations.RemoveAt(finished >= 0 ? finished : 0);
        }
        if (m.Status != MigrationStatus.InProgress) _moves.Remove(m.PipelineId);
    }

    // ------------------------------------------------------------------ catching up

    /// <summary>
    /// This manager starts answering for the cluster (it started, or moved here from a coordinator that went): it knows
    /// the members but not yet what runs on them. Returns the workers whose report it waits for: every worker member
    /// that may host pipelines (up or leaving, reachable or not).
    /// </summary>
    public IReadOnlyList<string> TakeOver()
    {
        _unreported.Clear();
        foreach (var v in _members.Values.Where(v => v.Member.HasRole(MemberRoles.Worker) && v.Member.Status is MemberStatus.Up or MemberStatus.Leaving))
            _unreported.Add(v.Member.Address.ToString());
        return _unreported.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every worker there at <see cref="TakeOver"/> has reported (or left, or was given up on): placements are complete.</summary>
    public bool CaughtUp => _unreported.Count == 0;

    /// <summary>The workers not heard from since <see cref="TakeOver"/>.</summary>
    public IReadOnlyCollection<string> Unreported => _unreported;

    /// <summary>Stops waiting for the workers that did not report in time; returns them. Placements are what was reported.</summary>
    public IReadOnlyList<string> GiveUpWaiting()
    {
        var silent = _unreported.Order(StringComparer.Ordinal).ToList();
        _unreported.Clear();
        return silent;
    }

    // ------------------------------------------------------------------ members and reports

    public void MemberChanged(Member m, bool? reachable = null)
    {
        var key = m.Address.ToString();
        bool r = reachable ?? (!_members.TryGetValue(key, out var old) || old.Reachable);
        _members[key] = new MemberView(m, r);
    }

    /// <summary>The member is gone: forget it; returns the pipelines that were placed on it.</summary>
    public IReadOnlyList<Placement> MemberRemoved(string address)
    {
        _members.Remove(address);
        _unreported.Remove(address);
        _heartbeats.Remove(address);
        _heardAt.Remove(address);
        var lost = _placement.Values.Where(p => p.Address == address).ToList();
        foreach (var p in lost) _placement.Remove(p.Pipeline.PipelineId);
        return lost;
    }

    public MemberView? Member(string address) => _members.GetValueOrDefault(address);

    /// <summary>A node's report: its pipelines replace what was known of it. Returns the migrations it shows finished.</summary>
    public IReadOnlyList<MigrationInfo> Heartbeat(WorkerHeartbeat hb, DateTimeOffset now)
    {
        _heartbeats[hb.AkkaAddress] = hb;
        _heardAt[hb.AkkaAddress] = now;
        _unreported.Remove(hb.AkkaAddress);
        var reported = hb.Pipelines.Select(p => p.PipelineId).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in _placement.Values.Where(p => p.Address == hb.AkkaAddress && !reported.Contains(p.Pipeline.PipelineId)).ToList())
            _placement.Remove(stale.Pipeline.PipelineId);
        var done = new List<MigrationInfo>();
        foreach (var p in hb.Pipelines)
        {
            if (Hosted(hb.AkkaAddress, p, now) is { } m) done.Add(m);
        }
        return done;
    }

    public WorkerHeartbeat? LastHeartbeat(string address) => _heartbeats.GetValueOrDefault(address);

    /// <summary>When the manager last heard from the node (its own clock, not the node's).</summary>
    public DateTimeOffset? HeardAt(string address) => _heardAt.TryGetValue(address, out var t) ? t : null;

    /// <summary>A pipeline runs at <paramref name="address"/> now; returns the migration this completes, if any.</summary>
    public MigrationInfo? Hosted(string address, HostedPipeline p, DateTimeOffset now)
    {
        _placement[p.PipelineId] = new Placement(address, p);
        var open = ActiveMigrations.FirstOrDefault(m => m.PipelineId == p.PipelineId);
        if (open is null) return null;
        var to = WorkerIdOf(address) ?? address;
        // Still (or again) where it was: not moved yet. Only a lost worker's pipelines may come back under the same id
        // (the worker restarted, a new incarnation).
        if (to == open.FromWorker && open.Reason != MigrationReason.WorkerLost) return null;
        var done = open with
        {
            ToWorker = to,
            Status = MigrationStatus.Completed,
            CompletedAt = now,
            DurationMs = (long)Math.Max(0, (now - open.StartedAt).TotalMilliseconds),
        };
        Record(done);
        return done;
    }

    /// <summary>A pipeline stopped at <paramref name="address"/>.</summary>
    public void Released(string address, string pipelineId)
    {
        if (_placement.TryGetValue(pipelineId, out var p) && p.Address == address) _placement.Remove(pipelineId);
    }

    /// <summary>Opens a migration unless one is open for the pipeline; returns it when opened.</summary>
    public MigrationInfo? OpenMigration(string pipelineId, string name, string? fromWorker, string? toWorker, string reason, DateTimeOffset now)
    {
        if (ActiveMigrations.Any(m => m.PipelineId == pipelineId)) return null;
        var m = new MigrationInfo(Guid.NewGuid().ToString(), pipelineId, name, fromWorker, toWorker, reason, MigrationStatus.InProgress, now, null, null, null);
        Record(m);
        return m;
    }

    /// <summary>Closes an open migration as failed (the pipeline was deleted on the way).</summary>
    public MigrationInfo? FailMigration(string pipelineId, string error, DateTimeOffset now)
    {
        var open = ActiveMigrations.FirstOrDefault(m => m.PipelineId == pipelineId);
        if (open is null) return null;
        var failed = open with { Status = MigrationStatus.Failed, CompletedAt = now, DurationMs = (long)Math.Max(0, (now - open.StartedAt).TotalMilliseconds), Error = error };
        Record(failed);
        return failed;
    }

    public void RequestMove(string pipelineId, string targetAddress) => _moves[pipelineId] = targetAddress;

    // ------------------------------------------------------------------ views

    public IEnumerable<MemberView> Workers
        => _members.Values.Where(v => v.Member.HasRole(MemberRoles.Worker) && IsLive(v.Member));

    public IEnumerable<MemberView> Coordinators
        => _members.Values.Where(v => v.Member.HasRole(MemberRoles.Coordinator) && IsLive(v.Member));

    public bool IsDraining(string address) => _drains.ContainsKey(address);

    /// <summary>The worker members that can take a pipeline: reachable, up, not draining.</summary>
    public IEnumerable<MemberView> AvailableWorkers
        => Workers.Where(v => v.Reachable && v.Member.Status == MemberStatus.Up && !IsDraining(v.Member.Address.ToString()));

    /// <summary>The live member with this worker id (the newest incarnation when an old one has not left yet).</summary>
    public MemberView? FindWorker(string workerId)
    {
        MemberView? best = null;
        foreach (var v in Workers.Where(v => MemberRoles.WorkerIdOf(v.Member) == workerId))
        {
            if (best is null
                || (v.Reachable && !best.Reachable)
                || (v.Reachable == best.Reachable && best.Member.IsOlderThan(v.Member)))
            {
                best = v;
            }
        }
        return best;
    }

    public string? WorkerIdOf(string address)
        => _members.TryGetValue(address, out var v) ? MemberRoles.WorkerIdOf(v.Member) : null;

    public IReadOnlyList<Placement> PlacedOn(string address)
        => _placement.Values.Where(p => p.Address == address).OrderBy(p => p.Pipeline.Name, StringComparer.Ordinal).ThenBy(p => p.Pipeline.PipelineId, StringComparer.Ordinal).ToList();

    public IReadOnlyCollection<Placement> AllPlacements => _placement.Values;

    public Placement? PlacementOf(string pipelineId) => _placement.GetValueOrDefault(pipelineId);

    /// <summary>Where the given pipelines (every known one when null) run, by name then id; a pipeline running nowhere is left out.</summary>
    public IReadOnlyList<PipelinePlacementInfo> Placements(IReadOnlyList<string>? ids)
    {
        IEnumerable<Placement> placed = ids is null ? _placement.Values : ids.Select(PlacementOf).OfType<Placement>();
        return placed
            .Select(p => new PipelinePlacementInfo(p.Pipeline.PipelineId, p.Pipeline.Name, p.Pipeline.TenantId, WorkerIdOf(p.Address), "running"))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.PipelineId, StringComparer.Ordinal)
            .ToList();
    }

    public WorkerInfo Describe(MemberView v)
    {
        var address = v.Member.Address.ToString();
        var hb = LastHeartbeat(address);
        var placed = PlacedOn(address);
        string status = IsDraining(address) ? WorkerStatus.Draining
            : !v.Reachable || v.Member.Status != MemberStatus.Up ? WorkerStatus.Unhealthy
            : WorkerStatus.Ready;
        return new WorkerInfo(
            MemberRoles.WorkerIdOf(v.Member) ?? address,
            MemberRoles.AdvertiseAddressOf(v.Member) ?? "",
            address,
            status,
            MemberRoles.Visible(v.Member),
            placed.Count,
            hb?.MaxPipelines ?? 0,
            hb?.CpuCores ?? 0,
            placed.Select(p => p.Pipeline.Name).ToList(),
            hb?.Pipelines.Sum(p => p.EventsIn) ?? 0,
            HeardAt(address));
    }

    public IReadOnlyList<WorkerInfo> DescribeWorkers()
        => Workers.Select(Describe).OrderBy(w => w.Id, StringComparer.Ordinal).ThenBy(w => w.AkkaAddress, StringComparer.Ordinal).ToList();

    /// <summary>Each worker's last report: its totals and its pipelines' counters (<c>GET /api/v1/cluster/metrics</c>).</summary>
    public ClusterMetricsReport Metrics()
    {
        var workers = new List<WorkerMetricsInfo>();
        var pipelines = new List<PipelineMetricsInfo>();
        foreach (var v in Workers.OrderBy(v => MemberRoles.WorkerIdOf(v.Member) ?? "", StringComparer.Ordinal))
        {
            var address = v.Member.Address.ToString();
            var id = MemberRoles.WorkerIdOf(v.Member) ?? address;
            var hosted = LastHeartbeat(address)?.Pipelines ?? [];
            workers.Add(new WorkerMetricsInfo(id, hosted.Count, hosted.Sum(p => p.EventsIn), hosted.Sum(p => p.EventsOut), Math.Round(hosted.Sum(p => p.EventsPerSecond), 1), HeardAt(address)));
            pipelines.AddRange(hosted.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.PipelineId, StringComparer.Ordinal)
                .Select(p => new PipelineMetricsInfo(null, p.Name, p.PipelineId, id, p.EventsIn, p.EventsOut, Math.Round(p.EventsPerSecond, 1))));
        }
        return new ClusterMetricsReport(workers, pipelines);
    }

    public WorkerCounts Counts()
    {
        var all = DescribeWorkers();
        return new WorkerCounts(
            all.Count,
            all.Count(w => w.Status == WorkerStatus.Ready),
            all.Count(w => w.Status == WorkerStatus.Unhealthy),
            all.Count(w => w.Status == WorkerStatus.Draining));
    }

    /// <summary>What the allocation strategy must know, as of now.</summary>
    public PlacementDirectives Directives(string mode, IReadOnlyDictionary<string, string> affinity)
    {
        var capacity = _heartbeats.Values.ToImmutableDictionary(h => h.AkkaAddress, h => h.MaxPipelines);
        var ids = Workers
            .Select(v => (Address: v.Member.Address.ToString(), Id: MemberRoles.WorkerIdOf(v.Member)))
            .Where(x => x.Id is not null)
            .ToImmutableDictionary(x => x.Address, x => x.Id!);
        return new PlacementDirectives(
            _drains.Keys.OrderBy(a => a, StringComparer.Ordinal).ToList(),
            _moves.ToImmutableDictionary(StringComparer.Ordinal),
            capacity,
            affinity,
            ids,
            mode);
    }

    /// <summary>
    /// The moves of a rebalance: from the most to the least loaded available workers, one pipeline at a time, until the
    /// counts differ by at most one. Pipelines already moving stay out of it.
    /// </summary>
    public IReadOnlyList<(Placement Pipeline, string Target)> PlanRebalance()
    {
        var available = AvailableWorkers.Select(v => v.Member.Address.ToString()).OrderBy(a => a, StringComparer.Ordinal).ToList();
        if (available.Count < 2) return [];
        var moving = ActiveMigrations.Select(m => m.PipelineId).ToHashSet(StringComparer.Ordinal);
        var load = available.ToDictionary(a => a, a => PlacedOn(a).Where(p => !moving.Contains(p.Pipeline.PipelineId)).ToList(), StringComparer.Ordinal);
        var plan = new List<(Placement, string)>();
        while (true)
        {
            var most = load.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal).First();
            var least = load.OrderBy(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal).First();
            if (most.Value.Count - least.Value.Count <= 1) break;
            var p = most.Value[^1];
            most.Value.RemoveAt(most.Value.Count - 1);
            least.Value.Add(p);
            plan.Add((p, least.Key));
        }
        return plan;
    }

    private static bool IsLive(Member m) => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Joining;
}
