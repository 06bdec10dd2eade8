using System.Globalization;
using Varpulis.Actors.Configuration;

namespace Varpulis.Host.Configuration;

/// <summary>
/// Every key of the configuration file (<c>section.key</c>, snake_case), its environment variable if it has one,
/// its documentation, and how it is applied to <see cref="VarpulisSettings"/>. The loader, <c>config-gen</c> and
/// the docs all read this one table. An <see cref="Optional"/> key behaves differently when it is not set at all, so
/// <c>config-gen</c> writes it commented out.
/// </summary>
public sealed record SettingKey(string Section, string Key, string Kind, string? EnvVar, string Description, Func<VarpulisSettings, object?> Get, Action<VarpulisSettings, string> Set, bool Optional = false)
{
    public string Path => Section + "." + Key;

    public static readonly IReadOnlyList<SettingKey> All =
    [
        new("server", "bind", "string", null, "Address the REST API listens on. Anything but loopback needs an API key.",
            s => s.Server.Bind, (s, v) => s.Server.Bind = v),
        new("server", "port", "int", null, "REST API port.",
            s => s.Server.Port, (s, v) => s.Server.Port = Port(v, "server.port")),
        new("server", "api_key", "string", "VARPULIS_API_KEY", "Admin API key, also the key of the tenant 'default'. Empty: authentication off (loopback only).",
            s => s.Server.ApiKey ?? "", (s, v) => s.Server.ApiKey = v.Length == 0 ? null : v),
        new("server", "rate_limit", "int", "VARPULIS_RATE_LIMIT", "Requests per second per client IP on /api/v1 (burst 2x); 0 disables.",
            s => s.Server.RateLimit, (s, v) => s.Server.RateLimit = NonNegative(v, "server.rate_limit")),
        new("server", "state_dir", "string", "VARPULIS_STATE_DIR", "Directory of the embedded SQLite journal and snapshot databases.",
            s => s.Server.StateDir, (s, v) => s.Server.StateDir = v),
        new("server", "sse_keep_alive_secs", "int", null, "Seconds between ': keep-alive' comments on idle SSE log streams.",
            s => s.Server.SseKeepAliveSecs, (s, v) => s.Server.SseKeepAliveSecs = Positive(v, "server.sse_keep_alive_secs")),
        new("server", "sse_buffer_events", "int", null, "Output events buffered per SSE client before the oldest are dropped (with a warning event).",
            s => s.Server.SseBufferEvents, (s, v) => s.Server.SseBufferEvents = Positive(v, "server.sse_buffer_events")),
        new("server", "dlq_backlog_limit", "int", null, "Dead letters a pipeline may have waiting to be written by its DLQ before it refuses new events (503 unavailable, Retry-After 1) and its sources wait.",
            s => s.Server.DlqBacklogLimit, (s, v) => s.Server.DlqBacklogLimit = Positive(v, "server.dlq_backlog_limit")),
        new("server", "dlq_max_events", "int", "VARPULIS_DLQ_MAX_EVENTS", "Dead letters a pipeline's DLQ may hold (in memory, until replayed or cleared) before the pipeline refuses new events (503 unavailable, Retry-After 5) and its sources wait until the DLQ is replayed or cleared.",
            s => s.Server.DlqMaxEvents, (s, v) => s.Server.DlqMaxEvents = Positive(v, "server.dlq_max_events")),
        new("metrics", "enabled", "bool", null, "Serve Prometheus metrics at /metrics on metrics.port.",
            s => s.Metrics.Enabled, (s, v) => s.Metrics.Enabled = Bool(v, "metrics.enabled")),
        new("metrics", "port", "int", null, "Prometheus port.",
            s => s.Metrics.Port, (s, v) => s.Metrics.Port = Port(v, "metrics.port")),
        new("management", "port", "int", "VARPULIS_MANAGEMENT_PORT", "Akka.Management HTTP port (cluster routes, pbm) on server.bind; 0 picks a free one. Not set: 8558, skipped with a warning when that port is taken.",
            s => s.Management.EffectivePort, (s, v) => s.Management.Port = NonNegative(v, "management.port") is var p && p <= 65535 ? p : throw Invalid("management.port", v, "a port from 0 to 65535"), Optional: true),
        new("persistence", "provider", "string", "VARPULIS_PERSISTENCE_PROVIDER", "sqlite (embedded, under server.state_dir) or postgresql.",
            s => s.Persistence.Provider, (s, v) => s.Persistence.Provider = Provider(v)),
        new("persistence", "connection_string", "string", "VARPULIS_PERSISTENCE_CONNECTION", "PostgreSQL connection string (Host=...;Database=...;Username=...;Password=...).",
            s => s.Persistence.ConnectionString ?? "", (s, v) => s.Persistence.ConnectionString = v.Length == 0 ? null : v),
        new("persistence", "sqlite_synchronous", "string", null, "SQLite durability: normal (no fsync per commit: acknowledged events survive a process crash or kill -9, not a power loss) or full (an fsync per commit: they also survive a power loss; slower per request).",
            s => s.Persistence.SqliteSynchronous, (s, v) => s.Persistence.SqliteSynchronous = OneOf(v, "persistence.sqlite_synchronous", "normal", "full")),
        new("persistence", "snapshot_every_events", "int", null, "A pipeline snapshots its engine state after this many accepted events (0: never by count).",
            s => s.Persistence.SnapshotEveryEvents, (s, v) => s.Persistence.SnapshotEveryEvents = NonNegative(v, "persistence.snapshot_every_events")),
        new("persistence", "snapshot_interval_secs", "int", null, "A pipeline that accepted events snapshots at least this often (0: never by time).",
            s => s.Persistence.SnapshotIntervalSecs, (s, v) => s.Persistence.SnapshotIntervalSecs = NonNegative(v, "persistence.snapshot_interval_secs")),
        new("logging", "level", "string", "RUST_LOG", "Level or filter list: info, debug, info,varpulis_runtime::connector=debug, Varpulis.Api=trace.",
            s => s.Logging.Level, (s, v) => s.Logging.Level = LogLevelSpec(v)),
        new("logging", "format", "string", null, "text or json.",
            s => s.Logging.Format, (s, v) => s.Logging.Format = OneOf(v, "logging.format", "text", "json")),
        new("logging", "timestamps", "bool", null, "Prefix log lines with an RFC 3339 UTC timestamp.",
            s => s.Logging.Timestamps, (s, v) => s.Logging.Timestamps = Bool(v, "logging.timestamps")),
        new("cluster", "hostname", "string", null, "Akka.NET remoting address other nodes reach this one at. Empty: 127.0.0.1 when bound to loopback, a worker's advertise-address host, else the machine's host name.",
            s => s.Cluster.Hostname, (s, v) => s.Cluster.Hostname = v),
        new("cluster", "port", "int", null, "Akka.NET remoting port; 0 picks a free one (workers learn the coordinator's from its /api/v1/cluster/seed).",
            s => s.Cluster.Port, (s, v) => s.Cluster.Port = NonNegative(v, "cluster.port") is var p && p <= 65535 ? p : throw Invalid("cluster.port", v, "a port from 0 to 65535")),
        new("cluster", "coordinator", "string", "VARPULIS_COORDINATOR", "A worker: the coordinator's URL (http://host:9100). Empty: a single server.",
            s => s.Cluster.Coordinator ?? "", (s, v) => s.Cluster.Coordinator = v.Length == 0 ? null : v),
        new("cluster", "worker_id", "string", "VARPULIS_WORKER_ID", "A worker's id as the coordinator lists it. Empty: <host>-<port>.",
            s => s.Cluster.WorkerId ?? "", (s, v) => s.Cluster.WorkerId = v.Length == 0 ? null : v),
        new("cluster", "advertise_address", "string", null, "A worker's HTTP address as clients reach it. Empty: http://<hostname>:<port>.",
            s => s.Cluster.AdvertiseAddress ?? "", (s, v) => s.Cluster.AdvertiseAddress = v.Length == 0 ? null : v),
        new("cluster", "heartbeat_interval_secs", "number", null, "Coordinator: seconds between failure-detector heartbeats and worker reports (workers take it from the coordinator).",
            s => s.Cluster.HeartbeatIntervalSecs, (s, v) => s.Cluster.HeartbeatIntervalSecs = Seconds(v, "cluster.heartbeat_interval_secs")),
        new("cluster", "heartbeat_timeout_secs", "number", null, "Coordinator: seconds of silence after which a member is downed and its pipelines move elsewhere.",
            s => s.Cluster.HeartbeatTimeoutSecs, (s, v) => s.Cluster.HeartbeatTimeoutSecs = Seconds(v, "cluster.heartbeat_timeout_secs")),
        new("cluster", "max_pipelines", "int", null, "A worker's capacity: pipelines placed on it at most.",
            s => s.Cluster.MaxPipelines, (s, v) => s.Cluster.MaxPipelines = Positive(v, "cluster.max_pipelines")),
        new("cluster", "placement", "string", "VARPULIS_PLACEMENT", "Coordinator: where new pipelines go: least-loaded (fewest pipelines) or round-robin (--placement).",
            s => s.Cluster.Placement, (s, v) => s.Cluster.Placement = OneOf(v, "cluster.placement", "least-loaded", "round-robin")),
        new("coordinator", "raft", "bool", "VARPULIS_RAFT", "High availability (--raft): this coordinator is one of coordinator.raft_peers; the leader runs the cluster manager and the others take over when it fails.",
            s => s.Coordinator.Raft.Enabled, (s, v) => s.Coordinator.Raft.Enabled = Bool(v, "coordinator.raft")),
        new("coordinator", "raft_node_id", "int", "VARPULIS_RAFT_NODE_ID", "This coordinator's position in coordinator.raft_peers, from 1 (--raft-node-id).",
            s => s.Coordinator.Raft.NodeId, (s, v) => s.Coordinator.Raft.NodeId = Positive(v, "coordinator.raft_node_id"), Optional: true),
        new("coordinator", "raft_peers", "string", "VARPULIS_RAFT_PEERS", "Every coordinator's URL, comma-separated, in the same order on each: http://coord-1:9100,http://coord-2:9100,... (--raft-peers).",
            s => string.Join(",", s.Coordinator.Raft.Peers), (s, v) => s.Coordinator.Raft.Peers = Cli.HaScalingOptions.ParsePeers(v)),
        new("coordinator", "raft_data_dir", "string", "VARPULIS_RAFT_DATA_DIR", "This coordinator's durable state: its copy of the coordinator state, and its state directory unless --state-dir is given (--raft-data-dir). Empty: server.state_dir.",
            s => s.Coordinator.Raft.DataDir ?? "", (s, v) => s.Coordinator.Raft.DataDir = v.Length == 0 ? null : v),
        new("coordinator", "scaling_min_workers", "int", "VARPULIS_SCALING_MIN_WORKERS", "Emit scaling recommendations; fewer healthy workers than this recommends scale_up (--scaling-min-workers). Not set: recommendations off.",
            s => s.Coordinator.Scaling.MinWorkers ?? 0, (s, v) => s.Coordinator.Scaling.MinWorkers = NonNegative(v, "coordinator.scaling_min_workers"), Optional: true),
        new("coordinator", "scaling_max_workers", "int", "VARPULIS_SCALING_MAX_WORKERS", "Never recommend more workers than this (--scaling-max-workers).",
            s => s.Coordinator.Scaling.MaxWorkers, (s, v) => s.Coordinator.Scaling.MaxWorkers = Positive(v, "coordinator.scaling_max_workers")),
        new("coordinator", "scaling_up_threshold", "number", "VARPULIS_SCALING_UP_THRESHOLD", "Pipelines per worker above which to recommend scale_up (--scaling-up-threshold).",
            s => s.Coordinator.Scaling.UpThreshold, (s, v) => s.Coordinator.Scaling.UpThreshold = Number(v, "coordinator.scaling_up_threshold")),
        new("coordinator", "scaling_down_threshold", "number", "VARPULIS_SCALING_DOWN_THRESHOLD", "Pipelines per worker below which to recommend scale_down (--scaling-down-threshold).",
            s => s.Coordinator.Scaling.DownThreshold, (s, v) => s.Coordinator.Scaling.DownThreshold = Number(v, "coordinator.scaling_down_threshold")),
        new("coordinator", "scaling_webhook_url", "string", "VARPULIS_SCALING_WEBHOOK_URL", "POST every scale_up/scale_down recommendation here, at most once per 60 s (--scaling-webhook-url). Empty: none.",
            s => s.Coordinator.Scaling.WebhookUrl ?? "", (s, v) => s.Coordinator.Scaling.WebhookUrl = v.Length == 0 ? null : v),
        new("coordinator", "api_keys_file", "string", "VARPULIS_API_KEYS_FILE", "JSON file of role keys {\"keys\": [{\"key\", \"role\": \"viewer|operator|admin\", \"name\"}]} (--api-keys). Empty: none.",
            s => s.Coordinator.ApiKeysFile ?? "", (s, v) => s.Coordinator.ApiKeysFile = v.Length == 0 ? null : v),
    ];

    public static SettingKey? Find(string section, string key) => All.FirstOrDefault(k => k.Section == section && k.Key == key);

    private static int Port(string v, string name)
        => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is >= 1 and <= 65535 ? p : throw Invalid(name, v, "a port from 1 to 65535");

    private static int NonNegative(string v, string name)
        => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw Invalid(name, v, "a non-negative integer");

    private static int Positive(string v, string name)
        => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw Invalid(name, v, "a positive integer");

    private static double Seconds(string v, string name)
        => double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double d) && d > 0 && d <= 3600
            ? d
            : throw Invalid(name, v, "a number of seconds above 0 (at most 3600)");

    private static double Number(string v, string name)
        => double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double d) && d >= 0 && double.IsFinite(d)
            ? d
            : throw Invalid(name, v, "a non-negative number");

    private static bool Bool(string v, string name) => v.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw Invalid(name, v, "true or false"),
    };

    private static string Provider(string v) => v.ToLowerInvariant() switch
    {
        "sqlite" => "sqlite",
        "postgresql" or "postgres" => "postgresql",
        _ => throw Invalid("persistence.provider", v, "sqlite or postgresql"),
    };

    private static string OneOf(string v, string name, params string[] allowed)
        => allowed.Contains(v.ToLowerInvariant()) ? v.ToLowerInvariant() : throw Invalid(name, v, string.Join(" or ", allowed));

    /// <summary>A level or filter list, checked now so that a typo is a startup error naming the key, not a crash later.</summary>
    private static string LogLevelSpec(string v)
    {
        try
        {
            Logging.LogFilter.Parse(v);
            return v;
        }
        catch (ConfigurationException ex)
        {
            throw new ConfigurationException($"invalid value '{v}' for logging.level: {ex.Message}");
        }
    }

    private static ConfigurationException Invalid(string name, string value, string expected)
        => new($"invalid value '{value}' for {name}: expected {expected}");
}

/// <summary>A configuration problem the server refuses to start with; the message says what to fix.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
