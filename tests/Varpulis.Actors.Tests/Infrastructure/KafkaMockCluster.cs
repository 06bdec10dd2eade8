using Confluent.Kafka;

namespace Varpulis.Actors.Tests.Infrastructure;

/// <summary>
/// librdkafka's built-in mock cluster (<c>test.mock.num.brokers</c>): real Kafka protocol on loopback sockets, topics
/// created on first use (4 partitions). It lives as long as the admin client that created it.
/// </summary>
public sealed class KafkaMockCluster : IDisposable
{
    private readonly IAdminClient _admin;

    public KafkaMockCluster(int brokers = 3)
    {
        _admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string> { ["test.mock.num.brokers"] = brokers.ToString() }))
            .SetLogHandler((_, _) => { })
            .Build();
        var md = _admin.GetMetadata(TimeSpan.FromSeconds(30));
        BootstrapServers = string.Join(",", md.Brokers.Select(b => $"{b.Host}:{b.Port}"));
    }

    public string BootstrapServers { get; }

    /// <summary>Consumer settings the tests use: a short session so a restarted group member is assigned quickly.</summary>
    public static IReadOnlyDictionary<string, string> FastGroup { get; } = new Dictionary<string, string>
    {
        ["session.timeout.ms"] = "6000",
        ["heartbeat.interval.ms"] = "500",
    };

    /// <summary>The group's committed offset of each partition of <paramref name="topic"/> (partitions 0..3).</summary>
    public IReadOnlyDictionary<int, long> Committed(string group, string topic)
    {
        using var c = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = group }).Build();
        var offsets = c.Committed(Enumerable.Range(0, 4).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(30));
        return offsets.ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }

    /// <summary>The end offset of each partition of <paramref name="topic"/>.</summary>
    public IReadOnlyDictionary<int, long> EndOffsets(string topic)
    {
        using var c = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "probe" }).Build();
        return Enumerable.Range(0, 4).ToDictionary(p => p, p => c.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(30)).High.Value);
    }

    public async Task ProduceAsync(string topic, IEnumerable<string> values)
    {
        using var p = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = BootstrapServers, Acks = Acks.All }).Build();
        foreach (var v in values) await p.ProduceAsync(topic, new Message<Null, string> { Value = v });
    }

    /// <summary>Reads every record of <paramref name="topic"/> from the beginning until <paramref name="count"/> are read.</summary>
    public List<(string? Key, string Value)> ReadAll(string topic, int count)
    {
        using var c = new ConsumerBuilder<string?, string>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        c.Subscribe(topic);
        var result = new List<(string?, string)>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (result.Count < count && DateTime.UtcNow < deadline)
        {
            var r = c.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null) result.Add((r.Message.Key, r.Message.Value));
        }
        c.Close();
        return result;
    }

    public void Dispose() => _admin.Dispose();
}
