using Confluent.Kafka;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Kafka;

/// <summary>The client settings of a Kafka connector, with secrets resolved (never logged: see <see cref="Describe"/>).</summary>
public sealed record KafkaSettings(
    string Connector,
    IReadOnlyList<string> Brokers,
    string? GroupId,
    string? ClientId,
    string AutoOffsetReset,
    string SecurityProtocol,
    string? SaslMechanism,
    string? SaslUsername,
    string? SaslPassword,
    string? SslCaLocation,
    string Compression,
    TimeSpan Timeout)
{
    /// <summary>The consumer group session timeout (<c>session_timeout</c>); heartbeats go every third of it.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Extra librdkafka properties (operators' tuning, tests' shorter session timeouts); applied last.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    public static KafkaSettings From(ConnectorParameters p, Func<string, string?>? environment = null) => new(
        p.Connector,
        p.GetStringList("brokers", environment),
        p.GetString("group_id", environment),
        p.GetString("client_id", environment),
        p.GetString("auto_offset_reset", environment)!,
        p.GetString("security_protocol", environment)!,
        p.GetString("sasl_mechanism", environment),
        p.GetString("sasl_username", environment),
        p.GetString("sasl_password", environment),
        p.GetString("ssl_ca_location", environment),
        p.GetString("compression", environment)!,
        p.GetDuration("timeout"))
    {
        SessionTimeout = p.Has("session_timeout") ? p.GetDuration("session_timeout") : TimeSpan.FromSeconds(45),
    };

    /// <summary><c>kafka://k1:9092,k2:9092</c>: what logs may show.</summary>
    public string Describe() => "kafka://" + string.Join(",", Brokers);

    /// <summary>A consumer that commits only explicitly (after the pipeline journaled), never on its own.</summary>
    public ConsumerConfig ConsumerConfig()
    {
        var c = new ConsumerConfig(Common())
        {
            GroupId = GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = string.Equals(AutoOffsetReset, "latest", StringComparison.OrdinalIgnoreCase) ? Confluent.Kafka.AutoOffsetReset.Latest : Confluent.Kafka.AutoOffsetReset.Earliest,
            AllowAutoCreateTopics = true,
            SessionTimeoutMs = (int)SessionTimeout.TotalMilliseconds,
            HeartbeatIntervalMs = (int)Math.Max(100, Math.Min(3000, SessionTimeout.TotalMilliseconds / 3)),
        };
        return Apply(c);
    }

    /// <summary>A producer with acks=all and idempotence: a record counts as delivered once every in-sync replica has it.</summary>
    public ProducerConfig ProducerConfig()
    {
        var c = new ProducerConfig(Common())
        {
            Acks = Acks.All,
            EnableIdempotence = true,
            MessageTimeoutMs = (int)Math.Clamp(Timeout.TotalMilliseconds, 1, int.MaxValue),
            LingerMs = 5,
            CompressionType = Compression.ToLowerInvariant() switch
            {
                "gzip" => CompressionType.Gzip,
                "snappy" => CompressionType.Snappy,
                "lz4" => CompressionType.Lz4,
                "zstd" => CompressionType.Zstd,
                _ => CompressionType.None,
            },
        };
        return Apply(c);
    }

    private Dictionary<string, string> Common()
    {
        var d = new Dictionary<string, string>
        {
            ["bootstrap.servers"] = string.Join(",", Brokers),
            ["security.protocol"] = SecurityProtocol.ToLowerInvariant(),
        };
        if (ClientId is not null) d["client.id"] = ClientId;
        if (SaslMechanism is not null) d["sasl.mechanism"] = SaslMechanism;
        if (SaslUsername is not null) d["sasl.username"] = SaslUsername;
        if (SaslPassword is not null) d["sasl.password"] = SaslPassword;
        if (SslCaLocation is not null) d["ssl.ca.location"] = SslCaLocation;
        return d;
    }

    private T Apply<T>(T config)
        where T : ClientConfig
    {
        foreach (var kv in Extra) config.Set(kv.Key, kv.Value);
        return config;
    }
}
