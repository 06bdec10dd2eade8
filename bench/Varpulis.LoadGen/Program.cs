using System.CommandLine;
using Varpulis.LoadGen;

// varpulis-loadgen: drives a running `varpulis server` with a workload from shared/bench/gen_events.py.
var root = new RootCommand("Load generator for varpulis server (REST ingestion).");
var server = new Option<string>("--server") { Description = "Server base URL.", DefaultValueFactory = _ => "http://127.0.0.1:9000" };
var apiKey = new Option<string>("--api-key") { Description = "API key (default: VARPULIS_API_KEY)." };
var workload = new Option<string>("--workload") { Description = "A workload directory of gen_events.py (program.vpl, events.evt, expected.json).", Required = true };
var mode = new Option<string>("--mode") { Description = "batch: events-batch throughput; single: single-event latency at a fixed rate.", DefaultValueFactory = _ => "batch" };
mode.AcceptOnlyFromAmong("batch", "single");
var batchSize = new Option<int>("--batch-size") { Description = "Events per events-batch request.", DefaultValueFactory = _ => 1000 };
var connections = new Option<int>("--connections") { Description = "Concurrent keep-alive connections (batch mode).", DefaultValueFactory = _ => 4 };
var passes = new Option<int>("--passes") { Description = "Times the event file is sent (batch mode).", DefaultValueFactory = _ => 5 };
var duration = new Option<int>("--duration-secs") { Description = "Run for this long instead of a number of passes (batch), or the measurement length (single).", DefaultValueFactory = _ => 0 };
var rate = new Option<int>("--rate") { Description = "Requests per second (single mode); events per second cap (batch mode, 0 = unlimited).", DefaultValueFactory = _ => 0 };
var serverPid = new Option<int>("--server-pid") { Description = "Report this process's RSS (from /proc) at the end." };
var pipeline = new Option<string>("--pipeline") { Description = "Drive this existing pipeline (deployed with the workload's program) instead of deploying one." };
root.Options.Add(server);
root.Options.Add(apiKey);
root.Options.Add(workload);
root.Options.Add(mode);
root.Options.Add(batchSize);
root.Options.Add(connections);
root.Options.Add(passes);
root.Options.Add(duration);
root.Options.Add(rate);
root.Options.Add(serverPid);
root.Options.Add(pipeline);
root.SetAction(async (parse, ct) =>
{
    var options = new LoadOptions(
        new Uri(parse.GetValue(server)!),
        parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("VARPULIS_API_KEY"),
        parse.GetValue(workload)!,
        parse.GetValue(batchSize),
        Math.Max(1, parse.GetValue(connections)),
        Math.Max(1, parse.GetValue(passes)),
        parse.GetValue(duration),
        parse.GetValue(rate),
        parse.GetValue(serverPid),
        parse.GetValue(pipeline));
    var run = new LoadRun(options, Console.Out);
    return parse.GetValue(mode) == "single" ? await run.SingleAsync(ct) : await run.BatchAsync(ct);
});
return await root.Parse(args).InvokeAsync();
