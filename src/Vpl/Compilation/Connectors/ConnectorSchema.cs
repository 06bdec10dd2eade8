using System.Text.RegularExpressions;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Vpl.Compilation.Connectors;

/// <summary>The type a connector parameter takes.</summary>
public enum ConnectorParameterType
{
    String,
    Int,
    Bool,
    Duration,

    /// <summary><c>["a", "b"]</c>, or one string with comma-separated items.</summary>
    StringList,

    /// <summary><c>{"Name": "value", ...}</c>; values may be <c>env("NAME")</c>.</summary>
    StringMap,
}

/// <summary>Where a parameter may be written.</summary>
[Flags]
public enum ParameterPlace
{
    Declaration = 1,
    From = 2,
    To = 4,
    Bindings = From | To,
    Anywhere = Declaration | From | To,
}

/// <summary>
/// One parameter of a connector kind: its type, where it may be written, its default (per direction), and the
/// check of its value (null: valid; else the message).
/// </summary>
public sealed record ConnectorParameterSpec(string Name, ConnectorParameterType Type, ParameterPlace Places, string Summary)
{
    public Value? Default { get; init; }

    /// <summary>The default when the connector is used as a sink, when it differs from <see cref="Default"/>.</summary>
    public Value? SinkDefault { get; init; }

    /// <summary>Must be given on every declaration of the kind.</summary>
    public bool Required { get; init; }

    /// <summary>Must be given (declaration or <c>.from</c>) when the connector is read with <c>.from</c>.</summary>
    public bool RequiredForSource { get; init; }

    /// <summary>Must be given (declaration, <c>.from</c> or <c>.to</c>) on every binding.</summary>
    public bool RequiredForBinding { get; init; }

    /// <summary>Never logged nor returned by the API; a literal value is warned about (use <c>env("NAME")</c>).</summary>
    public bool Secret { get; init; }

    /// <summary>The value check: (value, direction or null on the declaration) → null when valid, else the message.</summary>
    public Func<Value, BindingDirection?, string?>? Check { get; init; }

    public Value? DefaultFor(BindingDirection direction) => direction == BindingDirection.Sink && SinkDefault is not null ? SinkDefault : Default;
}

/// <summary>One connector kind: its name, the directions it supports and its parameters.</summary>
public sealed record ConnectorKindSpec(ConnectorKind Kind, string Name, bool IsSource, bool IsSink, IReadOnlyList<ConnectorParameterSpec> Parameters)
{
    public ConnectorParameterSpec? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);
}

/// <summary>
/// Every connector kind and parameter (docs/connectors.md describes each; a test keeps the two in step). The
/// compiler checks declarations and bindings against this table and fills in the defaults from it.
/// </summary>
public static partial class ConnectorSchema
{
    private static readonly Value Seconds30 = Value.FromDuration(30 * TimeFormat.NanosPerSecond);

    // ---- parameters shared by several kinds -------------------------------------------------------

    private static ConnectorParameterSpec Topic(string summary) => new("topic", ConnectorParameterType.String, ParameterPlace.Anywhere, summary) { RequiredForBinding = true };

    private static readonly ConnectorParameterSpec[] Guard =
    [
        new("failure_threshold", ConnectorParameterType.Int, ParameterPlace.Declaration, "consecutive failed deliveries that open the circuit breaker")
            { Default = Value.FromInt(5), Check = (v, _) => Range(v, 1, 1_000) },
        new("reset_timeout", ConnectorParameterType.Duration, ParameterPlace.Declaration, "how long the breaker stays open before one probe is sent")
            { Default = Seconds30, Check = (v, _) => PositiveDuration(v) },
        new("retries", ConnectorParameterType.Int, ParameterPlace.Declaration, "extra attempts of a failed delivery before it counts as a failure")
            { Default = Value.FromInt(2), Check = (v, _) => Range(v, 0, 100) },
        new("timeout", ConnectorParameterType.Duration, ParameterPlace.Declaration, "time one delivery attempt may take before it fails")
            { Default = Value.FromDuration(10 * TimeFormat.NanosPerSecond), Check = (v, _) => PositiveDuration(v) },
        new("queue_capacity", ConnectorParameterType.Int, ParameterPlace.Declaration, "output events waiting for the sink; beyond, events go to the DLQ")
            { Default = Value.FromInt(10_000), Check = (v, _) => Range(v, 1, 10_000_000) },
    ];

    private static readonly ConnectorParameterSpec[] Batching =
    [
        new("batch_size", ConnectorParameterType.Int, ParameterPlace.Declaration, "events per batch into the pipeline (sources); most events per delivery (sinks)")
            { Default = Value.FromInt(1000), SinkDefault = Value.FromInt(100), Check = (v, _) => Range(v, 1, 100_000) },
        new("batch_timeout", ConnectorParameterType.Duration, ParameterPlace.Declaration, "longest wait for a source batch to fill")
            { Default = Value.FromDuration(50 * TimeFormat.NanosPerMilli), Check = (v, _) => PositiveDuration(v) },
    ];

    private static readonly ConnectorParameterSpec MaxInFlight =
        new("max_in_flight", ConnectorParameterType.Int, ParameterPlace.Declaration, "source batches sent to the pipeline and not yet journaled")
            { Default = Value.FromInt(2), Check = (v, _) => Range(v, 1, 64) };

    // ---- the kinds --------------------------------------------------------------------------------

    public static IReadOnlyList<ConnectorKindSpec> Kinds { get; } =
    [
        new(ConnectorKind.Mqtt, "mqtt", IsSource: true, IsSink: true,
        [
            new("host", ConnectorParameterType.String, ParameterPlace.Declaration, "broker host name or address") { Required = true, Check = (v, _) => NonEmpty(v) },
            new("port", ConnectorParameterType.Int, ParameterPlace.Declaration, "broker port") { Default = Value.FromInt(1883), Check = (v, _) => Range(v, 1, 65_535) },
            new("client_id", ConnectorParameterType.String, ParameterPlace.Declaration, "MQTT client id (default varpulis-<pipeline>-<connector>)") { Check = (v, _) => NonEmpty(v) },
            new("username", ConnectorParameterType.String, ParameterPlace.Declaration, "user name"),
            new("password", ConnectorParameterType.String, ParameterPlace.Declaration, "password") { Secret = true },
            new("tls", ConnectorParameterType.Bool, ParameterPlace.Declaration, "connect with TLS") { Default = Value.FromBool(false) },
            new("ca_file", ConnectorParameterType.String, ParameterPlace.Declaration, "PEM file of the certificate authorities the broker's certificate must chain to (turns TLS on)")
                { Check = (v, _) => NonEmpty(v) },
            new("qos", ConnectorParameterType.Int, ParameterPlace.Anywhere, "quality of service: 0 (at most once) or 1 (at least once)")
                { Default = Value.FromInt(1), Check = (v, _) => v.AsInt is 0 or 1 ? null : "must be 0 or 1 (QoS 2 is not supported)" },
            Topic("topic (filter with + and # for .from; plain topic for .to)") with { Check = (v, d) => MqttTopic(v.AsString, d) },
            new("retain", ConnectorParameterType.Bool, ParameterPlace.Declaration | ParameterPlace.To, "publish with the retain flag") { Default = Value.FromBool(false) },
            new("keep_alive", ConnectorParameterType.Duration, ParameterPlace.Declaration, "MQTT keep-alive period") { Default = Seconds30, Check = (v, _) => PositiveDuration(v) },
            new("session_expiry", ConnectorParameterType.Duration, ParameterPlace.Declaration, "how long the broker keeps the source's session (and its QoS 1 messages) while disconnected")
                { Default = Value.FromDuration(3600 * TimeFormat.NanosPerSecond), Check = (v, _) => v.AsNanos >= 0 ? null : "session_expiry must not be negative" },
            .. Batching, MaxInFlight, .. Guard,
        ]),
        new(ConnectorKind.Kafka, "kafka", IsSource: true, IsSink: true,
        [
            new("brokers", ConnectorParameterType.StringList, ParameterPlace.Declaration, "bootstrap servers, host:port") { Required = true, Check = (v, _) => Brokers(v) },
            new("group_id", ConnectorParameterType.String, ParameterPlace.Declaration, "consumer group of the source") { RequiredForSource = true, Check = (v, _) => NonEmpty(v) },
            Topic("Kafka topic") with { Check = (v, _) => KafkaTopic(v.AsString) },
            new("key", ConnectorParameterType.String, ParameterPlace.Declaration | ParameterPlace.To, "output field whose value becomes the record key") { Check = (v, _) => NonEmpty(v) },
            new("client_id", ConnectorParameterType.String, ParameterPlace.Declaration, "Kafka client id") { Check = (v, _) => NonEmpty(v) },
            new("auto_offset_reset", ConnectorParameterType.String, ParameterPlace.Declaration, "where a group without a committed offset starts: earliest or latest")
                { Default = Value.FromString("earliest"), Check = (v, _) => OneOf(v, "earliest", "latest") },
            new("security_protocol", ConnectorParameterType.String, ParameterPlace.Declaration, "plaintext, ssl, sasl_plaintext or sasl_ssl")
                { Default = Value.FromString("plaintext"), Check = (v, _) => OneOf(v, "plaintext", "ssl", "sasl_plaintext", "sasl_ssl") },
            new("sasl_mechanism", ConnectorParameterType.String, ParameterPlace.Declaration, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
                { Check = (v, _) => OneOf(v, "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512") },
            new("sasl_username", ConnectorParameterType.String, ParameterPlace.Declaration, "SASL user name"),
            new("sasl_password", ConnectorParameterType.String, ParameterPlace.Declaration, "SASL password") { Secret = true },
            new("ssl_ca_location", ConnectorParameterType.String, ParameterPlace.Declaration, "CA certificate file for ssl and sasl_ssl"),
            new("compression", ConnectorParameterType.String, ParameterPlace.Declaration, "none, gzip, snappy, lz4 or zstd")
                { Default = Value.FromString("none"), Check = (v, _) => OneOf(v, "none", "gzip", "snappy", "lz4", "zstd") },
            new("session_timeout", ConnectorParameterType.Duration, ParameterPlace.Declaration, "how long the group waits for a silent source (a crashed server) before giving its partitions to another member")
                { Default = Value.FromDuration(45 * TimeFormat.NanosPerSecond), Check = (v, _) => v.AsNanos >= TimeFormat.NanosPerSecond && v.AsNanos <= 3600 * TimeFormat.NanosPerSecond ? null : "session_timeout must be between 1s and 1h" },
            .. Batching, MaxInFlight, .. Guard,
        ]),
        new(ConnectorKind.Http, "http", IsSource: false, IsSink: true,
        [
            new("url", ConnectorParameterType.String, ParameterPlace.Declaration, "endpoint the events are sent to (http or https)") { Required = true, Check = (v, _) => HttpUrl(v.AsString) },
            new("method", ConnectorParameterType.String, ParameterPlace.Declaration, "POST or PUT") { Default = Value.FromString("POST"), Check = (v, _) => OneOf(v, "POST", "PUT") },
            new("headers", ConnectorParameterType.StringMap, ParameterPlace.Declaration, "extra request headers; values may be env(\"NAME\")"),
            new("bearer_token", ConnectorParameterType.String, ParameterPlace.Declaration, "sent as Authorization: Bearer <token>") { Secret = true },
            new("batch_size", ConnectorParameterType.Int, ParameterPlace.Declaration, "events per request: 1 sends one JSON object, more send a JSON array")
                { Default = Value.FromInt(1), Check = (v, _) => Range(v, 1, 10_000) },
            .. Guard,
        ]),
        new(ConnectorKind.File, "file", IsSource: true, IsSink: true,
        [
            new("path", ConnectorParameterType.String, ParameterPlace.Declaration, "the JSON-lines file (read and followed by .from, appended to by .to)") { Required = true, Check = (v, _) => NonEmpty(v) },
            new("poll_interval", ConnectorParameterType.Duration, ParameterPlace.Declaration, "how often a source looks for new lines at the end of the file")
                { Default = Value.FromDuration(200 * TimeFormat.NanosPerMilli), Check = (v, _) => PositiveDuration(v) },
            .. Batching, MaxInFlight, .. Guard,
        ]),
        new(ConnectorKind.Console, "console", IsSource: false, IsSink: true, []),
    ];

    public static IReadOnlyList<string> KindNames { get; } = Kinds.Select(k => k.Name).ToList();

    public static ConnectorKindSpec? FindKind(string name) => Kinds.FirstOrDefault(k => k.Name == name);

    public static ConnectorKindSpec Of(ConnectorKind kind) => Kinds.First(k => k.Kind == kind);

    public static string NameOf(ConnectorKind kind) => Of(kind).Name;

    public static bool IsSecret(ConnectorKind kind, string parameter) => Of(kind).Find(parameter)?.Secret == true;

    public static string TypeName(ConnectorParameterType t) => t switch
    {
        ConnectorParameterType.String => "str",
        ConnectorParameterType.Int => "int",
        ConnectorParameterType.Bool => "bool",
        ConnectorParameterType.Duration => "duration",
        ConnectorParameterType.StringList => "[str]",
        _ => "{str: str}",
    };

    // ---- value checks -----------------------------------------------------------------------------

    private static string? Range(Value v, long min, long max)
        => v.AsInt >= min && v.AsInt <= max ? null : $"must be between {min:N0} and {max:N0}, not {v.AsInt}";

    private static string? PositiveDuration(Value v) => v.AsNanos > 0 ? null : "must be a positive duration";

    private static string? NonEmpty(Value v) => v.AsString.Length > 0 ? null : "must not be empty";

    private static string? OneOf(Value v, params string[] allowed)
        => allowed.Contains(v.AsString, StringComparer.OrdinalIgnoreCase) ? null : $"must be one of {string.Join(", ", allowed)}, not '{v.AsString}'";

    private static string? Brokers(Value v)
    {
        var items = v.IsArray ? v.AsArray.Select(x => x.AsString).ToList()
            : v.AsString.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (items.Count == 0) return "must name at least one broker (host:port)";
        foreach (var b in items)
        {
            int colon = b.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(b.AsSpan(colon + 1), out int port) || port is < 1 or > 65_535)
                return $"'{b}' is not host:port";
        }
        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,249}$")]
    private static partial Regex KafkaTopicRegex();

    private static string? KafkaTopic(string topic)
        => KafkaTopicRegex().IsMatch(topic) && topic is not "." and not ".."
            ? null
            : $"'{topic}' is not a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -)";

    /// <summary>MQTT topics: filters (<c>.from</c>, and the declaration) may use <c>+</c> for one whole level and <c>#</c> as the last level; published topics (<c>.to</c>) use neither.</summary>
    internal static string? MqttTopic(string topic, BindingDirection? direction)
    {
        if (topic.Length == 0) return "must not be empty";
        if (topic.Contains('\0')) return "must not contain NUL";
        var levels = topic.Split('/');
        for (int i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            bool wild = level.Contains('+') || level.Contains('#');
            if (!wild) continue;
            if (direction == BindingDirection.Sink) return $"'{topic}' has a wildcard; .to publishes to one topic";
            if (level.Contains('#') && (level != "#" || i != levels.Length - 1)) return $"invalid MQTT topic filter '{topic}': '#' must be a whole level and the last one";
            if (level.Contains('+') && level != "+") return $"invalid MQTT topic filter '{topic}': '+' must be a whole level";
        }
        return null;
    }

    private static string? HttpUrl(string url)
        => Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && u.Host.Length > 0
            ? null
            : $"'{url}' is not an absolute http:// or https:// URL";
}
