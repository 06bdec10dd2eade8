using System.CommandLine;
using Varpulis.ConnectorBench;

// varpulis-connector-bench: connector figures of docs/performance.md against a running `varpulis server`.
var root = new RootCommand("Connector benchmarks against a running varpulis server (docs/performance.md).");
var server = new Option<string>("--server") { Description = "Server base URL.", DefaultValueFactory = _ => "http://127.0.0.1:9000" };
var apiKey = new Option<string>("--api-key") { Description = "API key (default: VARPULIS_API_KEY)." };
var runs = new Option<int>("--runs") { Description = "Measured runs (median and range are reported).", DefaultValueFactory = _ => 3 };
var events = new Option<int>("--events") { Description = "Events per run.", DefaultValueFactory = _ => 50_000 };
var mqttPort = new Option<int>("--mqtt-port") { Description = "Port of the MQTT broker on 127.0.0.1.", DefaultValueFactory = _ => 1883 };
var qos = new Option<int>("--qos") { Description = "MQTT QoS of the source, the sink and the benchmark's clients (0 or 1).", DefaultValueFactory = _ => 1 };
var rate = new Option<int>("--rate") { Description = "Events per second (latency).", DefaultValueFactory = _ => 1000 };
var seconds = new Option<int>("--seconds") { Description = "Seconds per run (latency, hanging-sink).", DefaultValueFactory = _ => 10 };
var batchTimeout = new Option<string>("--batch-timeout") { Description = "The MQTT source's batch_timeout (latency).", DefaultValueFactory = _ => "50ms" };
var serverPid = new Option<int?>("--server-pid") { Description = "Process id of the server, on this machine (hanging-sink: also reports the server's CPU time per event)." };
foreach (var o in new Option[] { server, apiKey, runs, events, mqttPort, qos, rate, seconds, batchTimeout, serverPid }) root.Options.Add(o);
var mode = new Argument<string>("benchmark") { Description = "mqtt | mqtt-latency | kafka | hanging-sink" };
mode.AcceptOnlyFromAmong("mqtt", "mqtt-latency", "kafka", "hanging-sink");
root.Arguments.Add(mode);
root.SetAction(async (parse, ct) =>
{
    var bench = new Bench(new Uri(parse.GetValue(server)!), parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("VARPULIS_API_KEY"),
        Math.Max(1, parse.GetValue(runs)), Console.Out);
    return parse.GetValue(mode) switch
    {
        "mqtt" => await bench.MqttThroughputAsync(parse.GetValue(mqttPort), parse.GetValue(qos), parse.GetValue(events)),
        "mqtt-latency" => await bench.MqttLatencyAsync(parse.GetValue(mqttPort), parse.GetValue(qos), parse.GetValue(rate), parse.GetValue(seconds), parse.GetValue(batchTimeout)!),
        "kafka" => await bench.KafkaAsync(parse.GetValue(events)),
        _ => await bench.HangingSinkAsync(parse.GetValue(seconds), parse.GetValue(serverPid)),
    };
});
return await root.Parse(args).InvokeAsync();
