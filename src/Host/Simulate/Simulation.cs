using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Varpulis.Host.Cli;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Host.Simulate;

/// <summary>One run of <c>varpulis simulate</c>.</summary>
internal sealed class Simulation(SimulateOptions options, TextWriter stdout, TextWriter stderr, Func<Stream> openStandardOutput)
{
    private const int BatchSize = 4096;
    private const int KeepCheckpoints = 3;

    private long _checkpointNumber;
    private long _eventsBefore;

    public int Run()
    {
        var startup = Stopwatch.StartNew();
        var text = ProgramFiles.Read(options.ProgramPath, stderr);
        if (text is null) return 1;
        var compilation = ProgramFiles.Compile(options.ProgramPath, text);
        foreach (var d in compilation.Diagnostics) stderr.Write(d.Format());
        if (compilation.Program is not { } program) return 1;

        long baseTime = 0;
        if (options.StartTime is { } st && !SimulateOptions.TryParseStartTime(st, out baseTime))
        {
            stderr.WriteLine($"error: invalid --start-time '{st}': expected RFC 3339 (2026-01-23T10:00:00Z) or epoch milliseconds");
            return 1;
        }
        if (options.Workers < 1)
        {
            stderr.WriteLine("error: --workers must be at least 1");
            return 1;
        }

        Stream eventsStream;
        try
        {
            eventsStream = new FileStream(options.EventsPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            stderr.WriteLine($"error: cannot read '{options.EventsPath}': {ex.Message}");
            return 1;
        }

        bool eventsToStdout = options.OutputPath is null && !options.Quiet;
        var summaryOut = eventsToStdout ? stderr : stdout;
        OutputWriter writer;
        try
        {
            writer = options.OutputPath is not null
                ? new OutputWriter(new FileStream(options.OutputPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16), ownsStream: true)
                : new OutputWriter(options.Quiet ? null : openStandardOutput(), ownsStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            stderr.WriteLine($"error: cannot write '{options.OutputPath}': {ex.Message}");
            eventsStream.Dispose();
            return 1;
        }

        using var host = new SimulationHost(stderr, options.Quiet, options.Verbose, program);
        var engineOptions = new EngineOptions { Host = host };
        var (runner, note) = EngineRunnerFactory.Create(
            types => ProgramFiles.Compile(options.ProgramPath, text, types).Program, program, options.Workers, options.PartitionBy, writer, engineOptions);
        if (note is not null && !options.Quiet) stderr.WriteLine(note);
        else if (note is not null && options.Workers > 1) summaryOut.WriteLine(note);

        // Event rate counts from before reading the event file to the last output (docs/cli.md): compiling the
        // program and creating the engines is reported apart (--verbose), as the original Varpulis does.
        startup.Stop();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var total = Stopwatch.StartNew();

        using (writer)
        using (runner)
        using (eventsStream)
        {
            if (options.CheckpointDir is { } dir && !RestoreNewest(dir, runner, summaryOut)) return 1;

            var readerOptions = new EvtReaderOptions { BaseTimeNanos = baseTime, SkipInvalid = options.SkipInvalid, Path = options.EventsPath, LeaveOpen = true };
            using var reader = new EvtReader(eventsStream, program.Types, readerOptions);
            long engineTicks;
            try
            {
                engineTicks = options.Preload ? RunPreloaded(reader, eventsStream, program.Types, readerOptions, runner) : RunStreaming(reader, runner);
            }
            catch (EvtFormatException ex)
            {
                runner.FlushOutput();
                stderr.WriteLine($"error: {ex.Message}");
                return 1;
            }

            var endOfInput = Stopwatch.StartNew();
            bool carryOver = options.CheckpointDir is not null && !options.Flush;
            if (options.CheckpointDir is { } cpDir) WriteCheckpoint(cpDir, runner);
            if (!carryOver) runner.Finish();
            runner.FlushOutput();
            writer.Flush();
            engineTicks += endOfInput.ElapsedTicks;
            total.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

            long processed = runner.EventsProcessed - _eventsBefore;
            summaryOut.WriteLine($"Events processed: {processed}");
            summaryOut.WriteLine($"Output events emitted: {runner.OutputEvents}");
            summaryOut.WriteLine($"Duration: {total.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture)} s");
            summaryOut.WriteLine($"Event rate: {Rate(processed, total.Elapsed.TotalSeconds)} events/sec");
            if (options.Preload)
                summaryOut.WriteLine($"Engine rate: {Rate(processed, (double)engineTicks / Stopwatch.Frequency)} events/sec");
            if (options.SkipInvalid)
            {
                summaryOut.WriteLine($"Skipped invalid lines: {reader.SkippedLines}");
                foreach (var err in reader.SkippedErrors.Take(options.Verbose ? 100 : 5))
                    stderr.WriteLine($"skipped {err.Path}:{err.Line}:{err.Column}: {err.Message}");
            }
            if (host.UndeliveredSinkEvents > 0)
                summaryOut.WriteLine($"Sink events not delivered: {host.UndeliveredSinkEvents} (simulate delivers only to console and file connectors)");
            if (carryOver)
                summaryOut.WriteLine($"Open windows and runs carried over in checkpoint {_checkpointNumber}; pass --flush to end the input with this file");
            if (options.Verbose)
            {
                foreach (var s in runner.StreamStats)
                    stderr.WriteLine($"stream {s.Stream}: in {s.EventsIn}, out {s.EventsOut}, late {s.LateEvents}, active runs {s.ActiveRuns}");
                stderr.WriteLine(RunStats(startup.Elapsed, options.Preload ? total.Elapsed - TimeSpan.FromSeconds((double)engineTicks / Stopwatch.Frequency) : null, cpu, processed));
            }
        }
        return 0;
    }

    /// <summary>
    /// Where the run's time went: compiling, reading (the counted time before the engine started, with --preload), the
    /// CPU time of all threads during the counted time (per event), and the garbage collector.
    /// </summary>
    private static string RunStats(TimeSpan startup, TimeSpan? reading, TimeSpan cpu, long events)
    {
        var inv = CultureInfo.InvariantCulture;
        double cpuPerEvent = events > 0 ? cpu.TotalNanoseconds / events : 0;
        string read = reading is { } r ? string.Create(inv, $"reading {r.TotalMilliseconds:F1} ms; ") : string.Empty;
        return string.Create(inv,
            $"startup (compile, engines) {startup.TotalMilliseconds:F1} ms; {read}CPU {cpu.TotalMilliseconds:F1} ms ({cpuPerEvent:F0} ns per event); GC collections gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}, " +
            $"paused {GC.GetTotalPauseDuration().TotalMilliseconds:F1} ms, allocated {GC.GetTotalAllocatedBytes() / 1048576.0:F1} MB, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:F1} MB");
    }

    private static string Rate(long events, double seconds)
        => (seconds <= 0 ? 0 : events / seconds).ToString("F0", CultureInfo.InvariantCulture);

    private long RunPreloaded(EvtReader reader, Stream eventsStream, TypeRegistry types, EvtReaderOptions readerOptions, IEngineRunner runner)
    {
        // Parsed events are held in columns, not as a million objects the GC would mark and promote on every
        // collection; each batch's events are built just before the engine takes them (docs/performance.md).
        var all = new PackedEventList();
        var offsets = options.Immediate ? null : new List<long>(1 << 16);
        if (options.Workers > 1 && !options.SkipInvalid)
        {
            // --workers N parses the file on N threads too: the same events in the same order (docs/cli.md).
            EvtParallelLoader.Load(eventsStream, types, readerOptions, options.Workers, all, offsets);
        }
        else
        {
            while (reader.ReadBatch(all, offsets, int.MaxValue) > 0)
            {
            }
        }
        var sw = Stopwatch.StartNew();
        var pacing = options.Immediate ? null : new Pacing();
        var progress = new Progress(stderr, !options.Quiet);
        var checkpoint = CheckpointClock();
        var batch = new List<Event>(BatchSize);
        var chunk = new List<Event>(BatchSize);
        for (int i = 0; i < all.Count; i += BatchSize)
        {
            int n = Math.Min(BatchSize, all.Count - i);
            if (pacing is not null)
            {
                chunk.Clear();
                all.MaterializeRange(i, n, chunk);
                for (int k = 0; k < n; k++)
                {
                    if (pacing.MustWait(offsets![i + k]))
                    {
                        Submit(runner, batch);
                        runner.FlushOutput();
                        pacing.Wait(offsets[i + k]);
                    }
                    batch.Add(chunk[k]);
                }
            }
            else
            {
                // The runner builds the events (a parallel runner on its workers, each its own partition's).
                runner.ProcessRange(all, i, n);
            }
            Submit(runner, batch);
            progress.Tick(runner);
            checkpoint?.Invoke(runner);
        }
        runner.Drain();
        return sw.ElapsedTicks;
    }

    private long RunStreaming(EvtReader reader, IEngineRunner runner)
    {
        var sw = Stopwatch.StartNew();
        var pacing = options.Immediate ? null : new Pacing();
        var progress = new Progress(stderr, !options.Quiet);
        var checkpoint = CheckpointClock();
        var batch = new List<Event>(BatchSize);
        var offsets = pacing is null ? null : new List<long>(BatchSize);
        var read = new List<Event>(BatchSize);
        while (true)
        {
            read.Clear();
            offsets?.Clear();
            if (reader.ReadBatch(read, offsets, BatchSize) == 0) break;
            if (pacing is not null)
            {
                for (int k = 0; k < read.Count; k++)
                {
                    if (pacing.MustWait(offsets![k]))
                    {
                        Submit(runner, batch);
                        runner.FlushOutput();
                        pacing.Wait(offsets[k]);
                    }
                    batch.Add(read[k]);
                }
            }
            else
            {
                batch.AddRange(read);
            }
            Submit(runner, batch);
            progress.Tick(runner);
            checkpoint?.Invoke(runner);
        }
        runner.Drain();
        return sw.ElapsedTicks;
    }

    private static void Submit(IEngineRunner runner, List<Event> batch)
    {
        if (batch.Count == 0) return;
        runner.Process(batch);
        batch.Clear();
    }

    private Action<IEngineRunner>? CheckpointClock()
    {
        if (options.CheckpointDir is not { } dir) return null;
        var every = TimeSpan.FromSeconds(Math.Max(1, options.CheckpointIntervalSeconds));
        var clock = Stopwatch.StartNew();
        return runner =>
        {
            if (clock.Elapsed < every) return;
            WriteCheckpoint(dir, runner);
            clock.Restart();
        };
    }

    // ------------------------------------------------------------------------------------------
    // Checkpoint files: DIR/checkpoint-000001.json ... (the newest three are kept)

    private static IEnumerable<(long Number, string Path)> CheckpointFiles(string dir)
    {
        if (!Directory.Exists(dir)) yield break;
        foreach (var f in Directory.EnumerateFiles(dir, "checkpoint-*.json"))
        {
            var name = Path.GetFileNameWithoutExtension(f);
            if (long.TryParse(name.AsSpan("checkpoint-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) yield return (n, f);
        }
    }

    private bool RestoreNewest(string dir, IEngineRunner runner, TextWriter summaryOut)
    {
        var newest = CheckpointFiles(dir).OrderByDescending(c => c.Number).FirstOrDefault();
        if (newest.Path is null) return true;
        try
        {
            var doc = JsonNode.Parse(File.ReadAllText(newest.Path)) as JsonObject ?? throw new CheckpointException("not a JSON object");
            var state = doc["state"] as JsonObject ?? throw new CheckpointException("no 'state' object");
            var report = runner.Restore(state);
            _checkpointNumber = newest.Number;
            _eventsBefore = runner.EventsProcessed;
            (options.Quiet ? summaryOut : stderr).WriteLine($"Auto-restored from checkpoint {newest.Number} ({report.EventsRestored} events)");
            return true;
        }
        catch (Exception ex) when (ex is CheckpointException or JsonException or IOException or InvalidOperationException or FormatException)
        {
            stderr.WriteLine($"error: cannot restore checkpoint '{newest.Path}': {ex.Message}");
            return false;
        }
    }

    private void WriteCheckpoint(string dir, IEngineRunner runner)
    {
        Directory.CreateDirectory(dir);
        var state = runner.CreateCheckpoint();
        _checkpointNumber = Math.Max(_checkpointNumber, CheckpointFiles(dir).Select(c => c.Number).DefaultIfEmpty(0).Max()) + 1;
        var doc = new JsonObject
        {
            ["checkpoint"] = _checkpointNumber,
            ["events_processed"] = runner.EventsProcessed,
            ["created_at"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["program"] = Path.GetFileName(options.ProgramPath),
            ["state"] = state,
        };
        string path = Path.Combine(dir, $"checkpoint-{_checkpointNumber:D6}.json");
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, doc.ToJsonString());
        File.Move(tmp, path, overwrite: true);
        foreach (var old in CheckpointFiles(dir).OrderByDescending(c => c.Number).Skip(KeepCheckpoints)) File.Delete(old.Path);
    }

    /// <summary>Wall-clock pacing: waits until each event's offset since the first event.</summary>
    private sealed class Pacing
    {
        private readonly Stopwatch _clock = new();
        private long _firstOffset = long.MinValue;

        public bool MustWait(long offsetNanos)
        {
            if (_firstOffset == long.MinValue)
            {
                _firstOffset = offsetNanos;
                _clock.Start();
                return false;
            }
            return Due(offsetNanos) > TimeSpan.FromMilliseconds(1);
        }

        private TimeSpan Due(long offsetNanos) => TimeSpan.FromTicks((offsetNanos - _firstOffset) / 100) - _clock.Elapsed;

        public void Wait(long offsetNanos)
        {
            var due = Due(offsetNanos);
            if (due > TimeSpan.Zero) Thread.Sleep(due);
        }
    }

    /// <summary>A progress line on standard error every 2 s for long runs.</summary>
    private sealed class Progress(TextWriter stderr, bool enabled)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _next = TimeSpan.FromSeconds(2);

        public void Tick(IEngineRunner runner)
        {
            if (!enabled || _clock.Elapsed < _next) return;
            _next = _clock.Elapsed + TimeSpan.FromSeconds(2);
            long n = runner.EventsProcessed;
            stderr.WriteLine($"Progress: {n} events, {runner.OutputEvents} outputs, {Rate(n, _clock.Elapsed.TotalSeconds)} events/sec");
        }
    }
}
