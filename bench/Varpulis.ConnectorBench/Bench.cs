using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using MQTTnet;
using MQTTnet.Protocol;

namespace Varpulis.ConnectorBench;

/// <summary>
/// The connector figures: MQTT source → pipeline → MQTT sink throughput, MQTT end-to-end latency at a fixed rate,
/// Kafka source throughput from librdkafka's mock cluster (started here), and REST ingestion with a hanging HTTP sink
/// against ingestion without a sink, interleaved in one run. Every run deploys its own pipeline and deletes it.
/// </summary>
public sealed class Bench(Uri server, string? apiKey, int runs, TextWriter output)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private HttpClient Api()
    {
        var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(120) };
        if (!string.IsNullOrEmpty(apiKey)) http.DefaultRequestHeaders.Add("x-api-key", apiKey);
        return http;
    }

    private static async Task<string> DeployAsync(HttpClient http, string name, string source)
    {
        var body = new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString();
        using var resp = await http.PostAsync("/api/v1/pipelines", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await resp.Content.ReadAsStringAsync();
        if (resp.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"deploy failed: {(int)resp.StatusCode} {text}");
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    private static async Task DeleteAsync(HttpClient http, string id) => (await http.DeleteAsync($"/api/v1/pipelines/{id}")).Dispose();

    private static async Task<JsonNode> GetAsync(HttpClient http, string path) => JsonNode.Parse(await http.GetStringAsync(path))!;

    private static async Task WaitSourceConnectedAsync(HttpClient http, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var list = (await GetAsync(http, $"/api/v1/pipelines/{id}/connectors")).AsArray();
            if (list.Any(c => (string?)c!["direction"] == "source" && (string?)c["state"] == "connected")) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("the source did not connect");
    }

    private async Task<IMqttClient> MqttAsync(int port, string clientId)
    {
        var c = new MqttClientFactory().CreateMqttClient();
        await c.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId).WithCleanSession().Build());
        return c;
    }

    private static string MqttProgram(int port, int qos, string run, string batchTimeout) => $$"""
        connector In = mqtt (host: "127.0.0.1", port: {{port}}, client_id: "bench-{{run}}", qos: {{qos}}, batch_timeout: {{batchTimeout}})
        connector Out = mqtt (host: "127.0.0.1", port: {{port}}, client_id: "bench-{{run}}", qos: {{qos}}, batch_size: 1000, queue_capacity: 100000)
        event Reading:
            sensor: str
            value: float
            sent: int
        stream Readings = Reading.from(In, topic: "bench/{{run}}/in")
        stream Copies = Readings .emit(sensor: sensor, value: value, sent: sent) .to(Out, topic: "bench/{{run}}/out")
        """;

    // ------------------------------------------------------------------ MQTT throughput

    /// <summary>
    /// Publishes <paramref name="events"/> readings as fast as the broker takes them (QoS 1: at most 500 PUBACKs
    /// outstanding) and waits for every output on the sink topic: events/s = events / (last output − first publish).
    /// </summary>
    public async Task<int> MqttThroughputAsync(int port, int qos, int events)
    {
        using var http = Api();
        var rates = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            var run = Guid.NewGuid().ToString("N")[..8];
            var id = await DeployAsync(http, "bench-mqtt-" + run, MqttProgram(port, qos, run, "50ms"));
            try
            {
                await WaitSourceConnectedAsync(http, id);
                using var sub = await MqttAsync(port, "bench-sub-" + run);
                int received = 0;
                var done = new TaskCompletionSource<DateTime>(TaskCreationOptions.RunContinuationsAsynchronously);
                sub.ApplicationMessageReceivedAsync += _ =>
                {
                    if (Interlocked.Increment(ref received) == events) done.TrySetResult(DateTime.UtcNow);
                    return Task.CompletedTask;
                };
                await sub.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter($"bench/{run}/out", (MqttQualityOfServiceLevel)qos).Build());
                using var pub = await MqttAsync(port, "bench-pub-" + run);
                var payloads = Enumerable.Range(0, events).Select(i => Encoding.UTF8.GetBytes(
                    string.Create(Inv, $$"""{"event_type":"Reading","sensor":"s{{i % 10}}","value":{{i}}.5,"sent":0}"""))).ToArray();
                var window = new SemaphoreSlim(500);
                var start = DateTime.UtcNow;
                var pending = new List<Task>(events);
                foreach (var p in payloads)
                {
                    var message = new MqttApplicationMessageBuilder().WithTopic($"bench/{run}/in").WithPayload(p).WithQualityOfServiceLevel((MqttQualityOfServiceLevel)qos).Build();
                    if (qos == 0)
                    {
                        await pub.PublishAsync(message);
                        continue;
                    }
                    await window.WaitAsync();
                    pending.Add(pub.PublishAsync(message).ContinueWith(_ => window.Release(), TaskScheduler.Default));
                }
                await Task.WhenAll(pending);
                var published = DateTime.UtcNow;
                var finished = await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(120))) == done.Task ? done.Task.Result : (DateTime?)null;
                if (finished is null)
                {
                    output.WriteLine($"run {r + 1}: only {received} of {events} outputs within 120 s (QoS 0 may drop; a sink whose queue overflows dead-letters)");
                    continue;
                }
                double rate = events / (finished.Value - start).TotalSeconds;
                rates.Add(rate);
                output.WriteLine(string.Create(Inv, $"run {r + 1}: QoS {qos}, {events} events in {(finished.Value - start).TotalSeconds:F2} s (published in {(published - start).TotalSeconds:F2} s): {rate:F0} events/s"));
                await sub.DisconnectAsync();
                await pub.DisconnectAsync();
            }
            finally
            {
                await DeleteAsync(http, id);
            }
        }
        Summary($"MQTT QoS {qos} source → pipeline → sink, events/s", rates);
        return 0;
    }

    // ------------------------------------------------------------------ MQTT latency

    /// <summary>
    /// Publishes at <paramref name="rate"/> events/s for <paramref name="seconds"/> s (after 2 s of warm-up); each
    /// event carries its send time, and the time its output arrives on the sink topic gives the end-to-end latency.
    /// </summary>
    public async Task<int> MqttLatencyAsync(int port, int qos, int rate, int seconds, string batchTimeout)
    {
        using var http = Api();
        var p50s = new List<double>();
        var p99s = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            var run = Guid.NewGuid().ToString("N")[..8];
            var id = await DeployAsync(http, "bench-latency-" + run, MqttProgram(port, qos, run, batchTimeout));
            try
            {
                await WaitSourceConnectedAsync(http, id);
                using var sub = await MqttAsync(port, "bench-sub-" + run);
                var latencies = new List<double>();
                long measureFrom = long.MaxValue;
                sub.ApplicationMessageReceivedAsync += e =>
                {
                    long now = Stopwatch.GetTimestamp();
                    var sent = (long)JsonNode.Parse(Encoding.UTF8.GetString(e.ApplicationMessage.Payload))!["data"]!["sent"]!;
                    if (sent >= Interlocked.Read(ref measureFrom))
                    {
                        lock (latencies) latencies.Add((now - sent) * 1000.0 / Stopwatch.Frequency);
                    }
                    return Task.CompletedTask;
                };
                await sub.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter($"bench/{run}/out", (MqttQualityOfServiceLevel)qos).Build());
                using var pub = await MqttAsync(port, "bench-pub-" + run);
                int total = rate * (seconds + 2);
                var clock = Stopwatch.StartNew();
                var sends = new List<Task>(total);
                for (int i = 0; i < total; i++)
                {
                    // Open loop: each event leaves at its scheduled time whatever the previous ones did.
                    long due = (long)(i * (double)Stopwatch.Frequency / rate);
                    while (clock.ElapsedTicks < due) await Task.Delay(1);
                    if (i == rate * 2) Interlocked.Exchange(ref measureFrom, Stopwatch.GetTimestamp());
                    var payload = string.Create(Inv, $$"""{"event_type":"Reading","sensor":"s{{i % 10}}","value":{{i}}.5,"sent":{{Stopwatch.GetTimestamp()}}}""");
                    sends.Add(pub.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"bench/{run}/in").WithPayload(payload)
                        .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)qos).Build()));
                }
                await Task.WhenAll(sends);
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (DateTime.UtcNow < deadline)
                {
                    lock (latencies)
                    {
                        if (latencies.Count >= rate * seconds) break;
                    }
                    await Task.Delay(50);
                }
                double[] sorted;
                lock (latencies) sorted = latencies.Order().ToArray();
                double p50 = Percentile(sorted, 0.50), p99 = Percentile(sorted, 0.99);
                p50s.Add(p50);
                p99s.Add(p99);
                output.WriteLine(string.Create(Inv, $"run {r + 1}: QoS {qos}, {rate} events/s for {seconds} s, {sorted.Length} outputs: p50 {p50:F1} ms, p99 {p99:F1} ms, max {sorted[^1]:F1} ms"));
                await sub.DisconnectAsync();
                await pub.DisconnectAsync();
            }
            finally
            {
                await DeleteAsync(http, id);
            }
        }
        Summary($"MQTT end-to-end latency p50 (ms) at {rate} events/s, batch_timeout {batchTimeout}", p50s);
        Summary($"MQTT end-to-end latency p99 (ms) at {rate} events/s, batch_timeout {batchTimeout}", p99s);
        return 0;
    }

    private static double Percentile(double[] sorted, double q)
        => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    // ------------------------------------------------------------------ Kafka

    /// <summary>
    /// Fills a topic of the mock cluster (started here, one broker) with <paramref name="events"/> records, then
    /// deploys a pipeline reading it: events/s between the first and the last processed event (metrics polled every 20 ms).
    /// </summary>
    public async Task<int> KafkaAsync(int events)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string> { ["test.mock.num.brokers"] = "1" }))
            .SetLogHandler((_, _) => { }).Build();
        var brokers = string.Join(",", admin.GetMetadata(TimeSpan.FromSeconds(30)).Brokers.Select(b => $"{b.Host}:{b.Port}"));
        using var http = Api();
        var rates = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            var topic = "bench-" + Guid.NewGuid().ToString("N")[..8];
            using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = brokers, LingerMs = 20, BatchNumMessages = 10_000 })
                .SetLogHandler((_, _) => { }).Build())
            {
                for (int i = 0; i < events; i++)
                    producer.Produce(topic, new Message<Null, string> { Value = string.Create(Inv, $$"""{"event_type":"Reading","sensor":"s{{i % 10}}","value":{{i}}.5,"sent":0}""") });
                producer.Flush(TimeSpan.FromSeconds(60));
            }
            var id = await DeployAsync(http, "bench-kafka-" + topic, $$"""
                connector Bus = kafka (brokers: "{{brokers}}", group_id: "{{topic}}")
                event Reading:
                    sensor: str
                    value: float
                    sent: int
                stream Readings = Reading.from(Bus, topic: "{{topic}}")
                stream Hot = Readings .where(value > 100.0) .emit(sensor: sensor, value: value)
                """);
            try
            {
                long first = 0;
                DateTime? t0 = null;
                var deadline = DateTime.UtcNow.AddSeconds(300);
                while (DateTime.UtcNow < deadline)
                {
                    long n = (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["events_processed"]!;
                    var now = DateTime.UtcNow;
                    if (t0 is null && n > 0)
                    {
                        t0 = now;
                        first = n;
                    }
                    if (n >= events)
                    {
                        double rate = (n - first) / (now - t0!.Value).TotalSeconds;
                        rates.Add(rate);
                        output.WriteLine(string.Create(Inv, $"run {r + 1}: {events} records, {n - first} after the first poll in {(now - t0.Value).TotalSeconds:F2} s: {rate:F0} events/s"));
                        break;
                    }
                    await Task.Delay(20);
                }
            }
            finally
            {
                await DeleteAsync(http, id);
            }
        }
        Summary("Kafka source (mock cluster) events/s", rates);
        return 0;
    }

    // ------------------------------------------------------------------ hanging sink

    /// <summary>
    /// Two pipelines of the same program on one server, one without a sink and one whose every output goes to an HTTP
    /// endpoint that accepts connections and never answers. REST batches of 1,000 events over 4 connections for
    /// <paramref name="seconds"/> s into one, then the other, alternately (<c>runs</c> rounds): events/s of each and
    /// the ratio of the medians. A hanging-sink round lasts until the DLQ has caught up (every output dead-lettered but
    /// those the sink's queue holds): the DLQ writes its events cause count in it; the DLQ is cleared (untimed) after each
    /// hanging round, since a full DLQ (server.dlq_max_events) makes the pipeline refuse events. With <paramref name="serverPid"/> (a server on this machine) it also reports the server's
    /// CPU time per 1,000 events of each, which a loaded machine disturbs much less than events per second.
    /// </summary>
    public async Task<int> HangingSinkAsync(int seconds, int? serverPid)
    {
        using var serverProcess = serverPid is { } pid ? Process.GetProcessById(pid) : null;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        // Accepts every connection and reads nothing back: requests hang until the sink's timeout.
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var c = await listener.AcceptTcpClientAsync(stop.Token);
                    lock (held) held.Add(c);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var http = Api();
        const string Body = """
            event Reading:
                sensor: str
                value: float
                sent: int
            """;
        var plain = await DeployAsync(http, "bench-nosink", Body + "\nstream Copies = Reading .emit(sensor: sensor, value: value)\n");
        var hanging = await DeployAsync(http, "bench-hanging", $"connector Hook = http (url: \"http://127.0.0.1:{port}/hook\")\n" + Body
            + "\nstream Copies = Reading .emit(sensor: sensor, value: value) .to(Hook)\n");
        var batch = new StringBuilder("{\"events\":[");
        for (int i = 0; i < 1000; i++)
        {
            if (i > 0) batch.Append(',');
            batch.Append(string.Create(Inv, $$$"""{"event_type":"Reading","fields":{"sensor":"s{{{i % 10}}}","value":{{{i}}}.5,"sent":0}}"""));
        }
        var payload = Encoding.UTF8.GetBytes(batch.Append("]}").ToString());
        var withSink = new List<double>();
        var without = new List<double>();
        var cpuWithSink = new List<double>();
        var cpuWithout = new List<double>();
        try
        {
            await IngestForAsync(http, plain, payload, 2); // warm-up
            await IngestForAsync(http, hanging, payload, 2);
            await SettledAsync(http, hanging, 0);
            // Letters cleared between rounds: the DLQ holds at most server.dlq_max_events (default 1,000,000) letters,
            // then the pipeline refuses events until it is replayed or cleared, so each round starts with an empty DLQ
            // (the clear is not timed).
            long cleared = await ClearDlqAsync(http, hanging);
            for (int r = 0; r < runs; r++)
            {
                var (a, cpuA) = await MeasuredAsync(serverProcess, () => IngestForAsync(http, plain, payload, seconds));
                var (b, cpuB) = await MeasuredAsync(serverProcess, () => IngestForAsync(http, hanging, payload, seconds, () => SettledAsync(http, hanging, cleared)));
                cleared += await ClearDlqAsync(http, hanging);
                without.Add(a);
                withSink.Add(b);
                output.WriteLine(string.Create(Inv, $"round {r + 1}: no sink {a:F0} events/s, hanging HTTP sink {b:F0} events/s, ratio {b / a:F2}"));
                if (serverProcess is null) continue;
                // Server CPU milliseconds per 1,000 events.
                cpuWithout.Add(cpuA);
                cpuWithSink.Add(cpuB);
                output.WriteLine(string.Create(Inv, $"round {r + 1}: server CPU per 1,000 events: no sink {cpuWithout[^1]:F2} ms, hanging HTTP sink {cpuWithSink[^1]:F2} ms, ratio (no sink / hanging) {cpuWithout[^1] / cpuWithSink[^1]:F2}"));
            }
            var hook = (await GetAsync(http, $"/api/v1/pipelines/{hanging}/connectors")).AsArray().Single()!;
            output.WriteLine($"hanging sink afterwards: {hook.ToJsonString()}");
        }
        finally
        {
            await DeleteAsync(http, plain);
            await DeleteAsync(http, hanging);
            stop.Cancel();
            lock (held) held.ForEach(c => c.Dispose());
        }
        Summary("REST ingestion without a sink, events/s", without);
        Summary("REST ingestion with a hanging HTTP sink, events/s", withSink);
        output.WriteLine(string.Create(Inv, $"ratio of medians (hanging / none): {Median(withSink) / Median(without):F2}"));
        if (serverProcess is not null)
        {
            Summary("server CPU ms per 1,000 events without a sink", cpuWithout);
            Summary("server CPU ms per 1,000 events with a hanging HTTP sink", cpuWithSink);
            output.WriteLine(string.Create(Inv, $"CPU ratio of medians (none / hanging; events per CPU-second, hanging relative to none): {Median(cpuWithout) / Median(cpuWithSink):F2}"));
        }
        return 0;
    }

    /// <summary>Runs <paramref name="measure"/> and the server's CPU time (user + system) it took, when the server is known.</summary>
    private static async Task<(double Rate, double CpuMsPer1000)> MeasuredAsync(Process? server, Func<Task<double>> measure)
    {
        server?.Refresh();
        var before = server?.TotalProcessorTime ?? TimeSpan.Zero;
        var sw = Stopwatch.StartNew();
        double rate = await measure();
        double events = rate * sw.Elapsed.TotalSeconds;
        server?.Refresh();
        var cpu = (server?.TotalProcessorTime ?? TimeSpan.Zero) - before;
        return (rate, cpu.TotalMilliseconds / (events / 1000));
    }

    /// <summary>Empties the pipeline's DLQ (<c>DELETE /api/v1/pipelines/{id}/dlq</c>); the number of letters it removed.</summary>
    private static async Task<long> ClearDlqAsync(HttpClient http, string id)
    {
        using var reply = await http.DeleteAsync($"/api/v1/pipelines/{id}/dlq");
        reply.EnsureSuccessStatusCode();
        return (long)JsonNode.Parse(await reply.Content.ReadAsStringAsync())!["removed"]!;
    }

    /// <summary>
    /// Waits until the hanging sink has dead-lettered every output but those its queue and its delivery in flight hold
    /// (the DLQ has caught up), so that a round counts the DLQ work its events cause rather than leave it to the next.
    /// </summary>
    private static async Task SettledAsync(HttpClient http, string id, long cleared)
    {
        const long Held = 10_000 + 100; // the sink's queue_capacity and batch_size (defaults)
        while (true)
        {
            long processed = (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["events_processed"]!;
            long dlq = (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/connectors")).AsArray().Single()!["dlq"]!;
            if (dlq + cleared >= processed - Held) return;
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Events/s of REST batches sent over 4 connections for <paramref name="seconds"/> s; with <paramref name="drained"/>
    /// the time runs until it completes (work the server still does for the events sent).
    /// </summary>
    private async Task<double> IngestForAsync(HttpClient http, string id, byte[] payload, int seconds, Func<Task>? drained = null)
    {
        long events = 0;
        var sw = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, 4).Select(async _ =>
        {
            while (sw.Elapsed < end)
            {
                using var content = new ByteArrayContent(payload);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var resp = await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", content);
                if (resp.StatusCode is System.Net.HttpStatusCode.TooManyRequests or System.Net.HttpStatusCode.ServiceUnavailable)
                {
                    // over the tenant's quota or the DLQ's backlog bound: nothing was accepted, send it again shortly
                    await Task.Delay(resp.Headers.RetryAfter?.Delta is { } wait && wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromMilliseconds(20));
                    continue;
                }
                if (!resp.IsSuccessStatusCode) throw new InvalidOperationException($"ingest answered {(int)resp.StatusCode}: {await resp.Content.ReadAsStringAsync()}");
                Interlocked.Add(ref events, 1000);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        if (drained is not null) await drained();
        return events / sw.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private void Summary(string what, List<double> values)
    {
        if (values.Count == 0)
        {
            output.WriteLine($"{what}: no complete run");
            return;
        }
        output.WriteLine(string.Create(Inv, $"{what}: median {Median(values):F1}, range {values.Min():F1}–{values.Max():F1} ({values.Count} runs)"));
    }
}
