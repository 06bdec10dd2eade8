using System.CommandLine;
using System.Globalization;
using Varpulis.Host.Simulate;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Host.Cli;

/// <summary>
/// <c>varpulis simulate</c>: runs a program over an <c>.evt</c> file and prints the output events as JSON lines,
/// then a summary with machine-read labels (<c>Events processed</c>, <c>Output events emitted</c>, <c>Duration</c>,
/// <c>Event rate</c>, and with <c>--preload</c> <c>Engine rate</c>).
/// </summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var program = new Option<string>("--program", "-p") { Description = "The VPL program", Required = true };
        var events = new Option<string>("--events", "-e") { Description = "The .evt event file", Required = true };
        var immediate = new Option<bool>("--immediate") { Description = "Do not wait in wall-clock time for each event's offset" };
        var preload = new Option<bool>("--preload") { Description = "Read and parse every event before processing (reports Engine rate)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print output events or progress (with --output the file is still written)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print per-stream counters and engine notices" };
        var output = new Option<string?>("--output", "-o") { Description = "Write output events to this file instead of standard output" };
        var startTime = new Option<string?>("--start-time") { Description = "Base event time for the .evt file: RFC 3339, or epoch milliseconds (default 1970-01-01T00:00:00Z)" };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip malformed event lines (counted and reported) instead of stopping" };
        var checkpointDir = new Option<string?>("--checkpoint-dir") { Description = "Write checkpoints here and resume from the newest one at start" };
        var checkpointInterval = new Option<int>("--checkpoint-interval") { Description = "Seconds between checkpoints (default 60)", DefaultValueFactory = _ => 60 };
        var flush = new Option<bool>("--flush") { Description = "With --checkpoint-dir: treat the end of this file as the end of input (flush open windows)" };
        var workers = new Option<int>("--workers", "-w") { Description = "Run partitions on N parallel engines (default 1)", DefaultValueFactory = _ => 1 };
        var partitionBy = new Option<string?>("--partition-by") { Description = "Field to split events by across workers (default: the program's partition key)" };

        var cmd = new Command("simulate", "Run a VPL program over an .evt file")
        {
            program, events, immediate, preload, quiet, verbose, output, startTime, skipInvalid, checkpointDir, checkpointInterval, flush, workers, partitionBy,
        };
        cmd.SetAction(parse =>
        {
            var opts = new SimulateOptions
            {
                ProgramPath = parse.GetValue(program)!,
                EventsPath = parse.GetValue(events)!,
                Immediate = parse.GetValue(immediate),
                Preload = parse.GetValue(preload),
                Quiet = parse.GetValue(quiet),
                Verbose = parse.GetValue(verbose),
                OutputPath = parse.GetValue(output),
                StartTime = parse.GetValue(startTime),
                SkipInvalid = parse.GetValue(skipInvalid),
                CheckpointDir = parse.GetValue(checkpointDir),
                CheckpointIntervalSeconds = parse.GetValue(checkpointInterval),
                Flush = parse.GetValue(flush),
                Workers = parse.GetValue(workers),
                PartitionBy = parse.GetValue(partitionBy),
            };
            return new Simulation(opts, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, Console.OpenStandardOutput).Run();
        });
        return cmd;
    }
}

internal sealed class SimulateOptions
{
    public required string ProgramPath { get; init; }

    public required string EventsPath { get; init; }

    public bool Immediate { get; init; }

    public bool Preload { get; init; }

    public bool Quiet { get; init; }

    public bool Verbose { get; init; }

    public string? OutputPath { get; init; }

    public string? StartTime { get; init; }

    public bool SkipInvalid { get; init; }

    public string? CheckpointDir { get; init; }

    public int CheckpointIntervalSeconds { get; init; } = 60;

    public bool Flush { get; init; }

    public int Workers { get; init; } = 1;

    public string? PartitionBy { get; init; }

    public static bool TryParseStartTime(string text, out long nanos)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms))
        {
            nanos = ms * TimeFormat.NanosPerMilli;
            return true;
        }
        return TimeFormat.TryParseTimestamp(text, out nanos);
    }
}
