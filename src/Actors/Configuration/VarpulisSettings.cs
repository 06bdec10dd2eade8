namespace Varpulis.Actors.Configuration;

/// <summary>
/// Every setting of a Varpulis node, bound once by the host (flags &gt; environment &gt; config file &gt; defaults)
/// and handed to the layers that need it. Property names map to snake_case keys in YAML/TOML files.
/// </summary>
public sealed class VarpulisSettings
{
    public ServerSettings Server { get; set; } = new();

    public MetricsSettings Metrics { get; set; } = new();

    public ManagementSettings Management { get; set; } = new();

    public PersistenceSettings Persistence { get; set; } = new();

    public LoggingSettings Logging { get; set; } = new();

    public ClusterSettings Cluster { get; set; } = new();

    public CoordinatorSettings Coordinator { get; set; } = new();
}

/// <summary>The HTTP surface: where it listens, who may call it and how often.</summary>
public sealed class ServerSettings
{
    public string Bind { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 9000;

    /// <summary>The admin key (and the key of the tenant <c>default</c>). Null: authentication off (loopback only).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Requests per second per client IP on <c>/api/v1</c> (burst 2N); 0 disables rate limiting.</summary>
    public int RateLimit { get; set; }

    public const string DefaultStateDir = "varpulis-state";

    /// <summary>Where the embedded SQLite databases live.</summary>
    public string StateDir { get; set; } = DefaultStateDir;

    /// <summary>Seconds between <c>: keep-alive</c> comments on an idle SSE stream.</summary>
    public int SseKeepAliveSecs { get; set; } = 15;

    /// <summary>Output events buffered per SSE subscriber before the oldest are dropped.</summary>
    public int SseBufferEvents { get; set; } = 1024;

    /// <summary>
    /// Dead letters a pipeline may have waiting to be journaled by its DLQ before it takes no new events (REST: 503
    /// <c>unavailable</c>; sources wait); they wait in memory, so this bounds what a DLQ that falls behind can hold.
    /// </summary>
    public int DlqBacklogLimit { get; set; } = 100_000;

    /// <summary>
    /// Dead letters a pipeline's DLQ may hold (in memory, until replayed or cleared) before the pipeline takes no new
    /// events (REST: 503 <c>unavailable</c>; sources wait) until they are replayed or cleared.
    /// </summary>
    public int DlqMaxEvents { get; set; } = 1_000_000;
}

/// <summary>The Prometheus endpoint.</summary>
public sealed class MetricsSettings
{
    public bool Enabled { get; set; }

    public int Port { get; set; } = 9090;
}

/// <summary>Where pipeline journals and snapshots are kept, and how often snapshots are taken.</summary>
public sealed class PersistenceSettings
{
    /// <summary><c>sqlite</c> (embedded, under the state directory) or <c>postgresql</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>PostgreSQL connection string (also <c>VARPULIS_PERSISTENCE_CONNECTION</c>); unused for SQLite.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>A pipeline snapshots its engine after this many accepted events (0: never by count).</summary>
    public int SnapshotEveryEvents { get; set; } = 100_000;

    /// <summary>A pipeline that accepted events snapshots at least this often (0: never by time).</summary>
    public int SnapshotIntervalSecs { get; set; } = 60;

    /// <summary>
    /// SQLite's <c>synchronous</c> mode: <c>normal</c> (WAL without an fsync per commit; survives a process crash or
    /// <c>kill -9</c>, may lose the last commits on power loss) or <c>full</c> (an fsync per commit; survives a power loss).
    /// </summary>
    public string SqliteSynchronous { get; set; } = "normal";

    public bool IsPostgres => string.Equals(Provider, "postgresql", StringComparison.OrdinalIgnoreCase)
        || string.Equals(Provider, "postgres", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Log level, filters and format.</summary>
public sealed class LoggingSettings
{
    /// <summary>A level (<c>info</c>) or a <c>RUST_LOG</c>-style filter list (<c>info,varpulis_runtime::connector=debug</c>).</summary>
    public string Level { get; set; } = "info";

    /// <summary><c>text</c> or <c>json</c>.</summary>
    public string Format { get; set; } = "text";

    public bool Timestamps { get; set; } = true;
}

/// <summary>
/// Akka.NET remoting of this node and its place in a cluster: a single server (a cluster of one that joins itself), a
/// coordinator, or a worker that joins the coordinator at <see cref="Coordinator"/>.
/// </summary>
public sealed class ClusterSettings
{
    /// <summary>The remoting address other nodes use to reach this one; empty: derived (loopback bind: 127.0.0.1; a worker: the host of its advertise address; else the machine's host name).</summary>
    public string Hostname { get; set; } = "";

    /// <summary>Remoting port; 0 picks a free one (workers learn the coordinator's from its <c>/api/v1/cluster/seed</c>).</summary>
    public int Port { get; set; }

    /// <summary>A worker: the coordinator's base URL (<c>--coordinator http://host:9100</c>). Null: a single server.</summary>
    public string? Coordinator { get; set; }

    /// <summary>A worker's id, as the coordinator lists it (<c>--worker-id</c>); default <c>&lt;host&gt;-&lt;port&gt;</c>.</summary>
    public string? WorkerId { get; set; }

    /// <summary>A worker's HTTP address as clients reach it (<c>--advertise-address</c>); default <c>http://&lt;hostname&gt;:&lt;port&gt;</c>.</summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>Seconds between failure-detector heartbeats (and worker reports to the coordinator). Set on the coordinator; workers take it from there.</summary>
    public double HeartbeatIntervalSecs { get; set; } = 5;

    /// <summary>Seconds after which a silent member is downed and its pipelines move. Set on the coordinator; workers take it from there.</summary>
    public double HeartbeatTimeoutSecs { get; set; } = 15;

    /// <summary>A worker's capacity: no pipeline is placed on it beyond this many.</summary>
    public int MaxPipelines { get; set; } = 1000;

    /// <summary>The coordinator's placement of new pipelines: <c>least-loaded</c> (fewest pipelines) or <c>round-robin</c>.</summary>
    public string Placement { get; set; } = "least-loaded";

    /// <summary>True when this node joins a coordinator.</summary>
    public bool IsWorker => !string.IsNullOrEmpty(Coordinator);
}
