namespace Varpulis.Actors.Configuration;

/// <summary>
/// What only a coordinator reads (issue 10): high availability (<c>--raft*</c>), scaling recommendations
/// (<c>--scaling-*</c>) and role-based keys (<c>--api-keys FILE</c>).
/// </summary>
public sealed class CoordinatorSettings
{
    public RaftSettings Raft { get; set; } = new();

    public ScalingSettings Scaling { get; set; } = new();

    /// <summary><c>--api-keys FILE</c>: JSON <c>{"keys": [{"key", "role": "viewer|operator|admin", "name"?}]}</c>.</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>The keys of <see cref="ApiKeysFile"/>, read and checked at startup.</summary>
    public IReadOnlyList<RoleKey> RoleKeys { get; set; } = [];
}

/// <summary>The roles of coordinator keys, weakest first: each includes the rights of the ones before it.</summary>
public enum ApiRole
{
    Viewer = 1,
    Operator = 2,
    Admin = 3,
}

/// <summary>One key of <c>--api-keys FILE</c>. <see cref="Name"/> is what logs and errors show; the key itself never is.</summary>
public sealed record RoleKey(string Key, ApiRole Role, string Name);

/// <summary>
/// Coordinator high availability (runbook §1.3): the peers are the coordinators, in the same order on every one of
/// them; node id N is the N-th peer (1-based). They are the cluster's seed nodes; the cluster manager runs on one of
/// them (the leader).
/// </summary>
public sealed class RaftSettings
{
    public bool Enabled { get; set; }

    public int NodeId { get; set; }

    public IReadOnlyList<string> Peers { get; set; } = [];

    /// <summary>Where this coordinator keeps its durable state (its state directory unless <c>--state-dir</c> is also given).</summary>
    public string? DataDir { get; set; }

    /// <summary>How many coordinators make a majority of the configured peers.</summary>
    public int Majority => Peers.Count / 2 + 1;

    /// <summary>This node's own URL in the peer list.</summary>
    public string SelfUrl => Peers[NodeId - 1];
}

/// <summary>
/// Scaling recommendations (runbook §1.4, rest-api.md ScalingRecommendation): emitted when a minimum is set; POSTed to
/// the webhook on every non-<c>stable</c> recommendation, at most once per <see cref="WebhookIntervalSecs"/>.
/// </summary>
public sealed class ScalingSettings
{
    /// <summary><c>--scaling-min-workers</c>; null: recommendations off (<c>GET /api/v1/cluster/scaling</c> still answers, with min 0).</summary>
    public int? MinWorkers { get; set; }

    public int MaxWorkers { get; set; } = 10;

    public double UpThreshold { get; set; } = 5.0;

    public double DownThreshold { get; set; } = 1.0;

    public string? WebhookUrl { get; set; }

    /// <summary>At most one webhook call per this many seconds (60 by default; the tests shorten it).</summary>
    public double WebhookIntervalSecs { get; set; } = 60;

    /// <summary>Seconds between evaluations of the rules.</summary>
    public double EvaluateIntervalSecs { get; set; } = 5;

    public bool Enabled => MinWorkers is not null;
}
