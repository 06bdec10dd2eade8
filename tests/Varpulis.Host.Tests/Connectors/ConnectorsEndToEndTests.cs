using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using MQTTnet;
using MQTTnet.Protocol;
using Varpulis.Actors.Tests.Infrastructure;

namespace Varpulis.Host.Tests.Connectors;

/// <summary>
/// Connectors end to end through a real <c>varpulis server</c> process: MQTT source → pipeline → MQTT sink (Mosquitto on
/// loopback); a Kafka source killed with <c>kill -9</c> mid-stream whose window results equal a run without a crash
/// (librdkafka's mock cluster); an HTTP sink that fails, opens its circuit and fills the DLQ, then
/// <c>varpulis dlq replay</c> delivers each event exactly once; the runbook §2.3 commands on <c>dlq.jsonl</c>.
/// </summary>
public sealed class ConnectorsEndToEndTests
{
    private const string Key = "k1";

    private static HttpClient Api(ServerProcess server)
    {
        var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("x-api-key", Key);
        return http;
    }

    private static async Task<string> DeployAsync(HttpClient http, string name, string source)
    {
        var resp = await http.PostAsync("/api/v1/pipelines", Json(new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString()));
        var text = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == HttpStatusCode.Created, text);
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    private static async Task<JsonNode> GetAsync(HttpClient http, string path)
    {
        var resp = await http.GetAsync(path);
        var text = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, $"{path}: {(int)resp.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private static async Task<JsonNode> ConnectorAsync(HttpClient http, string id, string name, string direction)
        => (await GetAsync(http, $"/api/v1/pipelines/{id}/connectors")).AsArray()
            .Single(c => (string?)c!["name"] == name && (string?)c["direction"] == direction)!;

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    private static async Task<long> EventsProcessedAsync(HttpClient http, string id)
        => (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["events_processed"]!;

    private static async Task<(int Code, string Output)> CliAsync(params string[] args)
    {
        await using var p = ServerProcess.Start(0, args);
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(120));
        return (code, p.Output);
    }

    /// <summary>A server (API key <see cref="Key"/>) with these <c>[server]</c> keys in its config file and metrics on a free port.</summary>
    private static async Task<(ServerProcess Server, string StateDir, int MetricsPort)> StartWithServerKeysAsync(string serverKeys)
    {
        var dir = ServerProcess.TempDir();
        var state = Path.Combine(dir, "state");
        int metricsPort = ServerProcess.FreePort();
        var config = Path.Combine(dir, "varpulis.toml");
        await File.WriteAllTextAsync(config, $"[server]\n{serverKeys}\n\n[metrics]\nenabled = true\nport = {metricsPort}\n");
        var server = ServerProcess.StartServer(state, extra: ["--api-key", Key, "--config", config]);
        try
        {
            await server.WaitReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return (server, state, metricsPort);
    }

    private static async Task<string> ShellAsync(string command)
    {
        using var p = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = await p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{command}: exit {p.ExitCode}: {stderr}");
        return stdout;
    }

    // ------------------------------------------------------------------ MQTT

    [MosquittoFact]
    public async Task MqttReadingsFlowThroughThePipelineToAnMqttSink()
    {
        await using var broker = new MosquittoBroker();
        await broker.InitializeAsync();
        var dir = ServerProcess.TempDir();
        await using var server = ServerProcess.StartServer(Path.Combine(dir, "state"), extra: ["--api-key", Key]);
        await server.WaitReadyAsync();
        using var http = Api(server);

        var received = new List<string>();
        using var subscriber = new MqttClientFactory().CreateMqttClient();
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            lock (received) received.Add(e.ApplicationMessage.Topic + " " + Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
        await subscriber.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("e2e-alerts-reader").Build());
        await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("alerts", MqttQualityOfServiceLevel.AtLeastOnce).Build());

        var id = await DeployAsync(http, "mqtt-e2e", $$"""
            connector Sensors = mqtt (host: "127.0.0.1", port: {{broker.Port}}, client_id: "e2e-src", qos: 1)
            connector Alerts = mqtt (host: "127.0.0.1", port: {{broker.Port}}, client_id: "e2e-sink", qos: 1)
            event TemperatureReading:
                sensor_id: str
                value: float
            stream Temps = TemperatureReading.from(Sensors, topic: "sensors/#")
            stream Hot = Temps .where(value > 40) .emit(sensor: sensor_id, value: value) .to(Alerts, topic: "alerts")
            """);
        // QoS 1 messages reach a source once its subscription exists.
        await WaitAsync(async () => (string?)(await ConnectorAsync(http, id, "Sensors", "source"))["state"] == "connected", "the MQTT source to connect");

        using var publisher = new MqttClientFactory().CreateMqttClient();
        await publisher.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("e2e-publisher").Build());
        for (int i = 0; i < 50; i++)
        {
            var json = string.Create(CultureInfo.InvariantCulture, $$"""{"event_type":"TemperatureReading","sensor_id":"s{{i % 3}}","value":{{i}}.5,"timestamp":"2026-01-23T10:00:{{i:00}}Z"}""");
            await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"sensors/s{i % 3}").WithPayload(json)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        var expected = Enumerable.Range(40, 10).Select(i => string.Create(CultureInfo.InvariantCulture,
            $$$"""alerts {"event_type":"Hot","timestamp":"2026-01-23T10:00:{{{i}}}Z","data":{"sensor":"s{{{i % 3}}}","value":{{{i}}}.5}}""")).ToList();
        await WaitAsync(() => Task.FromResult(Count(received) >= 10), "10 alerts on the MQTT sink topic");
        await WaitAsync(async () => await EventsProcessedAsync(http, id) == 50, "50 events processed");
        await Task.Delay(500);
        lock (received) Assert.Equal(expected, received);

        var source = await ConnectorAsync(http, id, "Sensors", "source");
        Assert.Equal("""{"name":"Sensors","kind":"mqtt","direction":"source","state":"connected","circuit":null,"delivered":50,"failed":0,"dlq":0,"last_error":null,"rejected":0}""",
            source.ToJsonString());
        var sink = await ConnectorAsync(http, id, "Alerts", "sink");
        Assert.Equal("""{"name":"Alerts","kind":"mqtt","direction":"sink","state":"connected","circuit":"closed","delivered":10,"failed":0,"dlq":0,"last_error":null,"rejected":0}""",
            sink.ToJsonString());
        Assert.Equal(0, (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["dlq_events"]!);
        await subscriber.DisconnectAsync();
        await publisher.DisconnectAsync();
    }

    private static int Count(List<string> list)
    {
        lock (list) return list.Count;
    }

    [MosquittoFact]
    public async Task AnMqttSourceReconnectsAfterTheBrokerRestartsAndLosesNoAcknowledgedMessage()
    {
        await using var broker = new MosquittoBroker();
        await broker.InitializeAsync();
        var dir = ServerProcess.TempDir();
        var output = Path.Combine(dir, "copies.jsonl");
        await using var server = ServerProcess.StartServer(Path.Combine(dir, "state"), extra: ["--api-key", Key]);
        await server.WaitReadyAsync();
        using var http = Api(server);
        // Receive maximum = batch_size · (max_in_flight + 1) = 60 messages delivered to the source and not yet acknowledged.
        var id = await DeployAsync(http, "mqtt-restart", $$"""
            connector Sensors = mqtt (host: "127.0.0.1", port: {{broker.Port}}, client_id: "restart-src", qos: 1, batch_size: 20, max_in_flight: 2)
            connector Out = file (path: "{{output}}")
            event Reading:
                n: int
            stream Readings = Reading.from(Sensors, topic: "in/#")
            stream Copies = Readings .emit(n: n) .to(Out)
            """);
        await WaitAsync(async () => (string?)(await ConnectorAsync(http, id, "Sensors", "source"))["state"] == "connected", "the MQTT source to connect");

        // A QoS 1 publisher that resends until the broker acknowledges: every id it got a PUBACK for must come out once.
        const int Messages = 600;
        var acked = new List<int>();
        int resent = 0;
        using var publisher = new MqttClientFactory().CreateMqttClient();
        var pubOptions = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("restart-pub")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(2)).Build();
        await publisher.ConnectAsync(pubOptions);
        async Task PublishAsync(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                for (bool first = true; ; first = false)
                {
                    if (!first) Interlocked.Increment(ref resent);
                    try
                    {
                        if (!publisher.IsConnected) await publisher.ConnectAsync(pubOptions);
                        var r = await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("in/x")
                            .WithPayload($$"""{"event_type":"Reading","n":{{i}}}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                        if (r.IsSuccess)
                        {
                            lock (acked) acked.Add(i);
                            break;
                        }
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        await Task.Delay(100);
                    }
                }
                await Task.Delay(2);
            }
        }

        // Half the stream, then the broker stops (SIGTERM: it saves its sessions) while the second half is being published,
        // and starts again on the same port a second later.
        await PublishAsync(0, Messages / 2);
        await WaitAsync(async () => await EventsProcessedAsync(http, id) >= 200, "a third of the stream in the pipeline");
        var secondHalf = Task.Run(() => PublishAsync(Messages / 2, Messages));
        await broker.RestartAsync(TimeSpan.FromSeconds(1));
        await secondHalf;

        List<int> Copies() => File.Exists(output)
            ? File.ReadAllLines(output).Where(l => l.Length > 0).Select(l => (int)JsonNode.Parse(l)!["data"]!["n"]!).ToList()
            : new();
        await WaitAsync(() => Task.FromResult(Copies().Distinct().Count() == Messages), "every acknowledged message in the output", 120);
        lock (acked) Assert.Equal(Enumerable.Range(0, Messages), acked);
        var copies = Copies();
        Assert.Equal(Enumerable.Range(0, Messages), copies.Distinct().Order());
        // At least once: a message journaled whose PUBACK the stopping broker never got comes again (at most the receive
        // maximum), as does one the publisher sent again after a lost acknowledgement; the pipeline processed each copy once.
        Assert.InRange(copies.Count - Messages, 0, 60 + Volatile.Read(ref resent));
        await WaitAsync(async () => await EventsProcessedAsync(http, id) == copies.Count, "the output to hold every processed event");
        Assert.Contains("Source Sensors of pipeline " + id + " lost its connection", server.Output, StringComparison.Ordinal);
        var source = await ConnectorAsync(http, id, "Sensors", "source");
        Assert.Equal(("connected", (long)copies.Count), ((string?)source["state"], (long)source["delivered"]!));
        await publisher.DisconnectAsync();
    }

    // ------------------------------------------------------------------ Kafka

    private const int KafkaRecords = 6000;

    /// <summary>Reading i: value i, event time 2026-01-01T00:00:00Z + 10 ms · i; 100 per one-second window.</summary>
    private static string Reading(int i)
        => string.Create(CultureInfo.InvariantCulture, $$"""{"event_type":"Reading","value":{{i}},"timestamp":{{1767225600000L + 10L * i}}}""");

    private static string KafkaProgram(string brokers, string group, string outTopic) => $$"""
        connector Bus = kafka (brokers: "{{brokers}}", group_id: "{{group}}", session_timeout: 6s, batch_size: 200)
        event Reading:
            value: int
        stream Readings = Reading.from(Bus, topic: "readings")
        stream PerSecond = Readings .window(1s) .aggregate(n: count(), total: sum(value)) .emit(n: n, total: total, start: window_start) .to(Bus, topic: "{{outTopic}}")
        """;

    /// <summary>The window results of a run without a crash: 59 full windows (the 60th waits for later event time).</summary>
    private static SortedSet<string> ExpectedWindows()
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        for (int k = 0; k < KafkaRecords / 100 - 1; k++)
        {
            long total = Enumerable.Range(k * 100, 100).Sum(i => (long)i);
            set.Add(string.Create(CultureInfo.InvariantCulture, $"n={100} total={total} k={k}"));
        }
        return set;
    }

    /// <summary>Reads the output topic until <paramref name="distinct"/> distinct window results are in (records may repeat: sinks are at-least-once).</summary>
    private static (SortedSet<string> Windows, int Records) ReadWindows(KafkaMockCluster kafka, string topic, int distinct)
    {
        using var c = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).SetLogHandler((_, _) => { }).Build();
        c.Subscribe(topic);
        var windows = new SortedSet<string>(StringComparer.Ordinal);
        int records = 0;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (windows.Count < distinct && DateTime.UtcNow < deadline)
        {
            var r = c.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            records++;
            var data = JsonNode.Parse(r.Message.Value)!["data"]!;
            var start = DateTimeOffset.Parse((string)data["start"]!, CultureInfo.InvariantCulture);
            long k = (start.ToUnixTimeMilliseconds() - 1767225600000L) / 1000;
            windows.Add(string.Create(CultureInfo.InvariantCulture, $"n={(long)data["n"]!} total={(long)data["total"]!} k={k}"));
        }
        // Anything more that is already there (a wrong extra window would show here).
        while (c.Consume(TimeSpan.FromSeconds(1)) is { } more)
        {
            records++;
            var data = JsonNode.Parse(more.Message.Value)!["data"]!;
            var start = DateTimeOffset.Parse((string)data["start"]!, CultureInfo.InvariantCulture);
            long k = (start.ToUnixTimeMilliseconds() - 1767225600000L) / 1000;
            windows.Add(string.Create(CultureInfo.InvariantCulture, $"n={(long)data["n"]!} total={(long)data["total"]!} k={k}"));
        }
        c.Close();
        return (windows, records);
    }

    [Fact]
    public async Task AKafkaSourceKilledMidStreamEndsWithTheWindowResultsOfARunWithoutACrash()
    {
        using var kafka = new KafkaMockCluster();
        var dir = ServerProcess.TempDir();
        var state = Path.Combine(dir, "state");
        int port = ServerProcess.FreePort();
        var server = ServerProcess.StartServer(state, port, ["--api-key", Key]);
        try
        {
            await server.WaitReadyAsync();
            string id;
            using (var http = Api(server)) id = await DeployAsync(http, "kafka-crash", KafkaProgram(kafka.BootstrapServers, "g-crash", "windows-crash"));

            // One partition: the records' order, hence the windows, is the same in every run.
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, Acks = Acks.All, LingerMs = 5 })
                .SetLogHandler((_, _) => { }).Build();
            var partition = new TopicPartition("readings", 0);
            var producing = Task.Run(async () =>
            {
                for (int i = 0; i < KafkaRecords; i++)
                {
                    producer.Produce(partition, new Message<Null, string> { Value = Reading(i) });
                    if (i % 100 == 99)
                    {
                        producer.Flush(TimeSpan.FromSeconds(30));
                        await Task.Delay(30);
                    }
                }
                producer.Flush(TimeSpan.FromSeconds(30));
            });

            // kill -9 while records stream in: batches are in flight, offsets not all committed.
            using (var http = Api(server)) await WaitAsync(async () => await EventsProcessedAsync(http, id) >= 1500, "1500 events processed before the crash");
            server.Kill9();
            await server.DisposeAsync();
            server = ServerProcess.StartServer(state, port, ["--api-key", Key]);
            await server.WaitReadyAsync();
            await producing;

            using (var http = Api(server))
            {
                // Every record once: no gap, no double count.
                await WaitAsync(async () => await EventsProcessedAsync(http, id) >= KafkaRecords, $"{KafkaRecords} events processed after the restart", 120);
                await Task.Delay(2000);
                Assert.Equal(KafkaRecords, await EventsProcessedAsync(http, id));

                // The same records through a pipeline that never crashed.
                var baseline = await DeployAsync(http, "kafka-baseline", KafkaProgram(kafka.BootstrapServers, "g-baseline", "windows-baseline"));
                await WaitAsync(async () => await EventsProcessedAsync(http, baseline) >= KafkaRecords, "the baseline pipeline to read every record", 120);
                Assert.Equal(KafkaRecords, await EventsProcessedAsync(http, baseline));
            }

            var expected = ExpectedWindows();
            var (crashed, _) = ReadWindows(kafka, "windows-crash", expected.Count);
            var (clean, cleanRecords) = ReadWindows(kafka, "windows-baseline", expected.Count);
            Assert.Equal(expected, clean);
            Assert.Equal(expected.Count, cleanRecords);
            Assert.Equal(clean, crashed);
            // Every offset is committed in the end (the source acknowledged each batch after its journal write).
            await WaitAsync(() => Task.FromResult(kafka.Committed("g-crash", "readings").GetValueOrDefault(0) == KafkaRecords), "the crashed group's commit of every record");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    // ------------------------------------------------------------------ HTTP sink, circuit breaker, DLQ, replay

    [Fact]
    public async Task AFailingHttpSinkOpensItsCircuitFillsTheDlqAndReplayDeliversEachEventOnce()
    {
        using var endpoint = new HttpEndpoint { Behaviour = HttpEndpoint.Mode.Fail };
        var dir = ServerProcess.TempDir();
        var state = Path.Combine(dir, "state");
        await using var server = ServerProcess.StartServer(state, extra: ["--api-key", Key]);
        await server.WaitReadyAsync();
        using var http = Api(server);
        var url = server.Address.ToString().TrimEnd('/');
        var id = await DeployAsync(http, "alerts", $$"""
            connector Hook = http (url: "{{endpoint.Url}}", failure_threshold: 3, reset_timeout: 1s, retries: 0, timeout: 2s)
            event Reading:
                sensor: str
                value: float
            stream Hot = Reading .where(value > 40) .emit(sensor: sensor, value: value) .to(Hook)
            """);

        var batch = new JsonObject
        {
            ["events"] = new JsonArray(Enumerable.Range(0, 10).Select(i => (JsonNode)new JsonObject
            {
                ["event_type"] = "Reading",
                ["timestamp"] = $"2026-01-23T10:00:{i:00}Z",
                ["fields"] = new JsonObject { ["sensor"] = "s" + i, ["value"] = 41.5 + i },
            }).ToArray()),
        };
        var ingest = await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Json(batch.ToJsonString()));
        Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);
        var outputs = Enumerable.Range(0, 10).Select(i => string.Create(CultureInfo.InvariantCulture,
            $$$"""{"event_type":"Hot","timestamp":"2026-01-23T10:00:{{{i:00}}}Z","data":{"sensor":"s{{{i}}}","value":{{{41.5 + i}}}}}""")).ToList();

        // 3 failed deliveries open the circuit; the other 7 events go straight to the DLQ.
        await WaitAsync(async () => (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["dlq_events"]! == 10, "10 events in the DLQ");
        Assert.Equal(3, endpoint.FailedRequests);
        // The server logs these lines after the state the API shows (the DLQ's line after its write is applied), and its
        // output reaches the test through a pipe: wait for them rather than read the output once.
        string opened = "Circuit breaker opened: sink Hook of pipeline " + id + " after 3 consecutive failed deliveries; last error: ";
        string written = "DLQ write: pipeline " + id + " (alerts) sink Hook";
        await WaitAsync(() => Task.FromResult(server.Output.Contains(opened) && server.Output.Contains(written)), "the circuit and DLQ log lines", 30);
        Assert.Contains(opened, server.Output);
        Assert.Contains(written, server.Output);
        var hook = await ConnectorAsync(http, id, "Hook", "sink");
        Assert.Equal("open", (string?)hook["circuit"]);
        Assert.Equal(10, (long)hook["dlq"]!);
        Assert.Equal(3, (long)hook["failed"]!);

        var page = await GetAsync(http, $"/api/v1/pipelines/{id}/dlq?limit=4&offset=2");
        Assert.Equal(10, (long)page["total"]!);
        Assert.Equal("""{"total":10,"limit":4,"offset":2,"has_more":true}""", page["pagination"]!.ToJsonString());
        Assert.Equal(outputs.Skip(2).Take(4), page["events"]!.AsArray().Select(e => e!["event"]!.ToJsonString()));
        Assert.Equal([3L, 4L, 5L, 6L], page["events"]!.AsArray().Select(e => (long)e!["id"]!));

        // Runbook §2.3, as written (with this test's state directory).
        var file = Path.Combine(state, "dlq.jsonl");
        var all = await ShellAsync($"cat {file} | jq .");
        Assert.Equal(10, all.Split('\n').Count(l => l.StartsWith("  \"connector\": \"Hook\"", StringComparison.Ordinal)));
        Assert.Equal($"10 {file}\n", await ShellAsync($"wc -l {file}"));
        var projected = (await ShellAsync($"cat {file} | jq -c '{{time: .timestamp, sink: .connector, err: .error}}'")).TrimEnd('\n').Split('\n');
        Assert.Equal(10, projected.Length);
        Assert.All(projected.Take(3), l => Assert.Matches("""^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","sink":"Hook","err":"http://127\.0\.0\.1:\d+/alerts answered 500 Internal Server Error"\}$""", l));
        Assert.All(projected.Skip(3), l => Assert.Matches("""^\{"time":"[^"]+","sink":"Hook","err":"circuit breaker open: http://127\.0\.0\.1:\d+/alerts answered 500 Internal Server Error"\}$""", l));
        Assert.Equal(outputs, (await ShellAsync($"jq -c .event {file}")).TrimEnd('\n').Split('\n'));

        // A replay while the endpoint hangs: the probe times out, the letters stay; a second replay meanwhile is refused.
        endpoint.Behaviour = HttpEndpoint.Mode.Hang;
        await Task.Delay(1500); // past reset_timeout: the replay's first event is the half-open probe
        var first = http.PostAsync($"/api/v1/pipelines/{id}/dlq/replay", null);
        await WaitAsync(async () => (string?)(await ConnectorAsync(http, id, "Hook", "sink"))["circuit"] == "half_open", "the probe");
        var second = await http.PostAsync($"/api/v1/pipelines/{id}/dlq/replay", null);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("replay_in_progress", (string?)JsonNode.Parse(await second.Content.ReadAsStringAsync())!["code"]);
        var firstReply = JsonNode.Parse(await (await first).Content.ReadAsStringAsync())!;
        Assert.Equal($$"""{"pipeline_id":"{{id}}","delivered":0,"failed":10,"skipped":0,"remaining":10}""", firstReply.ToJsonString());

        // The endpoint is back: `varpulis dlq replay` delivers every event once, in order, and empties the DLQ.
        endpoint.Behaviour = HttpEndpoint.Mode.Accept;
        await Task.Delay(1500);
        var replay = await CliAsync("dlq", "replay", "--server", url, "--api-key", Key, "--pipeline-id", id);
        Assert.True(replay.Code == 0, replay.Output);
        Assert.Contains("\"delivered\": 10,", replay.Output);
        Assert.Contains("\"remaining\": 0", replay.Output);
        Assert.Equal(outputs, endpoint.AcceptedSnapshot());
        Assert.Equal("", await File.ReadAllTextAsync(file));
        Assert.Equal(0, (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["dlq_events"]!);
        Assert.Equal("closed", (string?)(await ConnectorAsync(http, id, "Hook", "sink"))["circuit"]);

        // Nothing is left to deliver a second time.
        var again = await CliAsync("dlq", "replay", "--server", url, "--api-key", Key, "--pipeline-id", id);
        Assert.Contains("\"delivered\": 0,", again.Output);
        Assert.Equal(10, endpoint.AcceptedSnapshot().Count);

        // New outputs go straight through; list and clear from the CLI.
        var list = await CliAsync("dlq", "list", "--server", url, "--api-key", Key, "--pipeline-id", id);
        Assert.True(list.Code == 0, list.Output);
        Assert.Contains("\"total\": 0", list.Output);
        var clear = await CliAsync("dlq", "clear", "--server", url, "--api-key", Key, "--pipeline-id", id);
        Assert.True(clear.Code == 0, clear.Output);
        Assert.Contains("\"removed\": 0", clear.Output);
    }

    // ------------------------------------------------------------------ DLQ backlog bound (back-pressure)

    [Fact]
    public async Task APipelineRefusesEventsWith503WhileItsDlqBacklogIsAtTheBoundAndTakesThemAgainOnceItCaughtUp()
    {
        using var endpoint = new HttpEndpoint { Behaviour = HttpEndpoint.Mode.Hang };
        var (started, state, metricsPort) = await StartWithServerKeysAsync("dlq_backlog_limit = 1000");
        await using var server = started;
        using var http = Api(server);
        // Every output goes to an endpoint that never answers: one delivery hangs, 10 wait, the rest are dead-lettered
        // ("sink queue full"), 10,000 letters a request: far more than the DLQ may have waiting.
        var id = await DeployAsync(http, "backlog", $$"""
            connector Hook = http (url: "{{endpoint.Url}}", timeout: 1s, retries: 0, failure_threshold: 1, queue_capacity: 10, batch_size: 1)
            event Reading:
                sensor: str
                value: float
            stream Out = Reading .emit(sensor: sensor, value: value) .to(Hook)
            """);
        const int PerBatch = 10_000;
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["events"] = new JsonArray(Enumerable.Range(0, PerBatch).Select(i => (JsonNode)new JsonObject
            {
                ["event_type"] = "Reading",
                ["timestamp"] = "2026-01-23T10:00:00Z",
                ["fields"] = new JsonObject { ["sensor"] = "s" + i, ["value"] = 1.5 },
            }).ToArray()),
        }.ToJsonString());
        async Task<HttpResponseMessage> PostAsync()
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            return await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", content);
        }

        // Batches one after the other: one arrives while the letters of the one before are still on their way to the
        // DLQ's journal, and is refused; nothing of it is processed.
        int accepted = 0;
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 100 && refused is null; i++)
        {
            var resp = await PostAsync();
            if (resp.StatusCode == HttpStatusCode.OK) accepted++;
            else refused = resp;
        }
        Assert.NotNull(refused);
        Assert.True(accepted >= 1, "the first batch is taken");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
        Assert.Equal(
            $$"""{"error":"pipeline '{{id}}' takes no events while its dead-letter queue has 1000 or more events waiting to be written (server.dlq_backlog_limit); retry in 1 s","code":"unavailable","retry_after_seconds":1}""",
            await refused.Content.ReadAsStringAsync());

        // The DLQ catches up: the same batch is taken again.
        HttpStatusCode again = HttpStatusCode.ServiceUnavailable;
        await WaitAsync(async () => (again = (await PostAsync()).StatusCode) != HttpStatusCode.ServiceUnavailable, "the pipeline to take events again");
        Assert.Equal(HttpStatusCode.OK, again);
        accepted++;

        // Every output of every accepted batch is dead-lettered exactly once, and nothing of the refused ones.
        long expected = (long)accepted * PerBatch;
        await WaitAsync(async () => (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["dlq_events"]! == expected, $"{expected} events in the DLQ", seconds: 120);
        Assert.Equal(expected, await EventsProcessedAsync(http, id));
        Assert.Equal(expected, (long)(await ConnectorAsync(http, id, "Hook", "sink"))["dlq"]!);
        Assert.Equal(expected, File.ReadLines(Path.Combine(state, "dlq.jsonl")).LongCount());
        using var metrics = new HttpClient();
        var scrape = await metrics.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Contains($"varpulis_dlq_backlog{{pipeline=\"{id}\"}} 0\n", scrape);
    }

    // ------------------------------------------------------------------ DLQ size bound (server.dlq_max_events)

    [Fact]
    public async Task APipelineWhoseDlqHoldsTheMaximumRefusesEventsWith503UntilItIsReplayedOrCleared()
    {
        using var endpoint = new HttpEndpoint { Behaviour = HttpEndpoint.Mode.Fail };
        var (started, state, metricsPort) = await StartWithServerKeysAsync("dlq_max_events = 20");
        await using var server = started;
        using var http = Api(server);
        using var metrics = new HttpClient();
        var url = server.Address.ToString().TrimEnd('/');
        // Every output fails (500, no retry) and is dead-lettered; the circuit stays closed (a replay delivers at once).
        var id = await DeployAsync(http, "bounded", $$"""
            connector Hook = http (url: "{{endpoint.Url}}", retries: 0, failure_threshold: 1000, batch_size: 1)
            event Reading:
                sensor: str
                value: float
            stream Out = Reading .emit(sensor: sensor, value: value) .to(Hook)
            """);
        int next = 0;
        async Task<HttpResponseMessage> PostBatchAsync()
        {
            var events = new JsonArray(Enumerable.Range(next, 10).Select(i => (JsonNode)new JsonObject
            {
                ["event_type"] = "Reading",
                ["timestamp"] = "2026-01-23T10:00:00Z",
                ["fields"] = new JsonObject { ["sensor"] = "s" + i, ["value"] = 1.5 },
            }).ToArray());
            var resp = await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Json(new JsonObject { ["events"] = events }.ToJsonString()));
            if (resp.StatusCode == HttpStatusCode.OK) next += 10;
            return resp;
        }
        async Task<long> DlqEventsAsync() => (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["dlq_events"]!;
        long DlqLines() => File.ReadLines(Path.Combine(state, "dlq.jsonl")).LongCount();
        string Refusal(long held) => $$"""{"error":"pipeline '{{id}}' takes no events while its dead-letter queue holds {{held}} events (server.dlq_max_events = 20): replay or clear it (varpulis dlq replay / varpulis dlq clear, POST /api/v1/pipelines/{{id}}/dlq/replay / DELETE /api/v1/pipelines/{{id}}/dlq); retry in 5 s","code":"unavailable","retry_after_seconds":5}""";
        async Task AssertRefusedAsync(HttpResponseMessage resp, long held)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, resp.StatusCode);
            Assert.Equal("5", resp.Headers.GetValues("Retry-After").Single());
            Assert.Equal(Refusal(held), await resp.Content.ReadAsStringAsync());
        }

        // Two batches: 20 letters, the maximum.
        for (int i = 1; i <= 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostBatchAsync()).StatusCode);
            long expected = i * 10;
            await WaitAsync(async () => await DlqEventsAsync() == expected, $"{expected} events in the DLQ");
        }

        // Full: a batch and a single event are refused; nothing of them is processed or dead-lettered.
        await AssertRefusedAsync(await PostBatchAsync(), 20);
        var single = await http.PostAsync($"/api/v1/pipelines/{id}/events", Json("""{"event_type":"Reading","timestamp":"2026-01-23T10:00:00Z","fields":{"sensor":"x","value":1}}"""));
        await AssertRefusedAsync(single, 20);
        Assert.Equal(20, await EventsProcessedAsync(http, id));
        Assert.Equal((20L, 20L), (await DlqEventsAsync(), DlqLines()));
        Assert.Contains($"varpulis_dlq_held_events{{pipeline=\"{id}\"}} 20\n", await metrics.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics"));

        // A replay of 5 (the endpoint is back) brings it under the bound: the next batch is taken, and its 10 letters
        // (the endpoint fails again) take it past the bound, which only stops what comes after.
        endpoint.Behaviour = HttpEndpoint.Mode.Accept;
        var replay = await CliAsync("dlq", "replay", "--server", url, "--api-key", Key, "--pipeline-id", id, "--limit", "5");
        Assert.True(replay.Code == 0, replay.Output);
        Assert.Contains("\"delivered\": 5,", replay.Output);
        Assert.Contains("\"remaining\": 15", replay.Output);
        Assert.Equal(5, endpoint.AcceptedSnapshot().Count);
        Assert.Equal((15L, 15L), (await DlqEventsAsync(), DlqLines()));
        endpoint.Behaviour = HttpEndpoint.Mode.Fail;
        Assert.Equal(HttpStatusCode.OK, (await PostBatchAsync()).StatusCode);
        await WaitAsync(async () => await DlqEventsAsync() == 25, "25 events in the DLQ");
        await AssertRefusedAsync(await PostBatchAsync(), 25);
        Assert.Equal((30L, 25L), (await EventsProcessedAsync(http, id), DlqLines()));

        // Cleared: events are taken again.
        var clear = await CliAsync("dlq", "clear", "--server", url, "--api-key", Key, "--pipeline-id", id);
        Assert.True(clear.Code == 0, clear.Output);
        Assert.Contains("\"removed\": 25", clear.Output);
        Assert.Equal((0L, 0L), (await DlqEventsAsync(), DlqLines()));
        Assert.Equal(HttpStatusCode.OK, (await PostBatchAsync()).StatusCode);
        await WaitAsync(async () => await DlqEventsAsync() == 10, "10 events in the DLQ");
        Assert.Equal((40L, 10L), (await EventsProcessedAsync(http, id), DlqLines()));
        // Every accepted event's output was delivered or dead-lettered once: 5 replayed, 25 cleared, 10 held.
        Assert.Equal(40, next);
        Assert.Contains($"varpulis_dlq_held_events{{pipeline=\"{id}\"}} 10\n", await metrics.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics"));
    }

    [MosquittoFact]
    public async Task AnMqttSourceWaitsWhileThePipelinesDlqIsFullAndDeliversEveryMessageOnceItIsCleared()
    {
        await using var broker = new MosquittoBroker();
        await broker.InitializeAsync();
        using var endpoint = new HttpEndpoint { Behaviour = HttpEndpoint.Mode.Fail };
        var (started, state, _) = await StartWithServerKeysAsync("dlq_max_events = 10");
        await using var server = started;
        using var http = Api(server);
        var id = await DeployAsync(http, "mqtt-bounded", $$"""
            connector Sensors = mqtt (host: "127.0.0.1", port: {{broker.Port}}, client_id: "bounded-src", qos: 1, batch_size: 5)
            connector Hook = http (url: "{{endpoint.Url}}", retries: 0, failure_threshold: 1000, batch_size: 1)
            event Reading:
                n: int
            stream In = Reading.from(Sensors, topic: "in/#")
            stream Out = In .emit(n: n) .to(Hook)
            """);
        await WaitAsync(async () => (string?)(await ConnectorAsync(http, id, "Sensors", "source"))["state"] == "connected", "the MQTT source to connect");
        using var publisher = new MqttClientFactory().CreateMqttClient();
        await publisher.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("bounded-publisher").Build());
        async Task PublishAsync(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("in/x")
                    .WithPayload(string.Create(CultureInfo.InvariantCulture, $$"""{"event_type":"Reading","n":{{i}},"timestamp":"2026-01-23T10:00:00Z"}"""))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            }
        }
        async Task<long> DlqEventsAsync() => (long)(await GetAsync(http, $"/api/v1/pipelines/{id}/metrics"))["dlq_events"]!;

        // 10 readings, 10 letters: the DLQ is full.
        await PublishAsync(0, 10);
        await WaitAsync(async () => await DlqEventsAsync() == 10, "10 events in the DLQ");
        Assert.Equal(10, await EventsProcessedAsync(http, id));

        // 15 more wait at the broker (the source offers its batch again and reads nothing more): none is processed.
        await PublishAsync(10, 25);
        for (int i = 0; i < 20; i++)
        {
            await Task.Delay(100);
            Assert.Equal(10, await EventsProcessedAsync(http, id));
        }
        Assert.Equal(10, await DlqEventsAsync());

        // The endpoint is back and the DLQ cleared: every waiting reading is processed and delivered, once.
        endpoint.Behaviour = HttpEndpoint.Mode.Accept;
        var cleared = await http.DeleteAsync($"/api/v1/pipelines/{id}/dlq");
        Assert.Equal($$"""{"pipeline_id":"{{id}}","cleared":true,"removed":10}""", await cleared.Content.ReadAsStringAsync());
        await WaitAsync(async () => await EventsProcessedAsync(http, id) == 25, "25 events processed");
        await WaitAsync(() => Task.FromResult(endpoint.AcceptedSnapshot().Count == 15), "15 deliveries");
        Assert.Equal(
            Enumerable.Range(10, 15).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(),
            endpoint.AcceptedSnapshot().Select(b => JsonNode.Parse(b)!["data"]!["n"]!.ToJsonString()).OrderBy(int.Parse).ToList());
        Assert.Equal(0, await DlqEventsAsync());
        Assert.Equal(0, File.ReadLines(Path.Combine(state, "dlq.jsonl")).LongCount());
        var source = await ConnectorAsync(http, id, "Sensors", "source");
        Assert.Equal((25L, 0L), ((long)source["delivered"]!, (long)source["rejected"]!));
        await publisher.DisconnectAsync();
    }
}
