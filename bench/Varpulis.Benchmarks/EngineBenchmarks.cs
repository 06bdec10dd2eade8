using System.Text;
using BenchmarkDotNet.Attributes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Benchmarks;

/// <summary>
/// The engine's hot paths on 100,000 events shaped like the benchmark workloads: parsing `.evt` text,
/// routing + filtering + projection (W1), count windows with aggregates (W2), time windows, partitioned
/// aggregation and compiled expression evaluation. Each benchmark reports time per 100,000 events.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private const int N = 100_000;

    private byte[] _w1Text = Array.Empty<byte>();
    private byte[] _w2Text = Array.Empty<byte>();
    private CompiledProgram _filter = null!;
    private CompiledProgram _countWindow = null!;
    private CompiledProgram _timeWindow = null!;
    private CompiledProgram _partitioned = null!;
    private CompiledProgram _manyFilters = null!;
    private List<Event> _ticks = null!;
    private List<Event> _trades = null!;
    private List<Event> _tradesPartitioned = null!;
    private List<Event> _ticksTime = null!;
    private List<Event> _ticksMany = null!;

    [GlobalSetup]
    public void Setup()
    {
        var w1 = new StringBuilder();
        var w2 = new StringBuilder();
        string[] syms = ["AAPL", "GOOG", "MSFT"];
        for (int i = 0; i < N; i++)
        {
            if (i % 10 == 0)
            {
                w1.Append("BATCH ").Append(i / 10 * 10).Append('\n');
                w2.Append("BATCH ").Append(i / 10 * 10).Append('\n');
            }
            w1.Append($"StockTick {{ symbol: \"{syms[i % 3]}\", price: {40.0 + i % 100:F1}, volume: {1000 + i % 5000} }}\n");
            w2.Append($"Trade {{ symbol: \"S{i % 1000}\", price: {100.0 + i % 50 * 0.1:F1}, volume: {100 + i % 900}.0 }}\n");
        }
        _w1Text = Encoding.UTF8.GetBytes(w1.ToString());
        _w2Text = Encoding.UTF8.GetBytes(w2.ToString());

        _filter = Compile("stream Filtered = StockTick .where(price > 50.0) .emit(symbol: symbol, price: price)");
        _countWindow = Compile("stream Vwap = Trade .window(100) .aggregate(total_pv: sum(price * volume), total_volume: sum(volume), trades: count()) .emit(vwap: total_pv / total_volume, trades: trades)");
        _timeWindow = Compile("stream PerSecond = StockTick .window(1s) .aggregate(n: count(), avg_price: avg(price)) .emit(n: n, avg_price: avg_price)");
        _partitioned = Compile("stream Vwap = Trade .partition_by(symbol) .window(100) .aggregate(total_pv: sum(price * volume), total_volume: sum(volume), trades: count()) .emit(symbol: symbol, vwap: total_pv / total_volume)");
        _manyFilters = Compile(string.Concat(Enumerable.Range(0, 100).Select(j => $"stream F{j} = StockTick .where(price > {50 + j % 40}.0) .emit(p: price)\n")));
        _ticks = Parse(_w1Text, _filter.Types);
        _trades = Parse(_w2Text, _countWindow.Types);
        _tradesPartitioned = Parse(_w2Text, _partitioned.Types);
        _ticksTime = Parse(_w1Text, _timeWindow.Types);
        _ticksMany = Parse(_w1Text, _manyFilters.Types);
    }

    private static CompiledProgram Compile(string source)
    {
        var c = VplCompiler.Compile(source);
        return c.Program ?? throw new InvalidOperationException(string.Join("\n", c.Diagnostics.Select(d => d.Format())));
    }

    private static List<Event> Parse(byte[] text, TypeRegistry types)
    {
        var list = new List<Event>(N);
        using var reader = new EvtReader(new MemoryStream(text), types, new EvtReaderOptions());
        while (reader.ReadBatch(list, null, 4096) > 0)
        {
        }
        return list;
    }

    [Benchmark(Description = "parse .evt (W1 lines)")]
    public int ParseEvt() => Parse(_w1Text, _filter.Types).Count;

    [Benchmark(Description = "W1 filter + emit")]
    public long FilterEmit() => Run(_filter, _ticks);

    [Benchmark(Description = "W2 count window + aggregate")]
    public long CountWindowAggregate() => Run(_countWindow, _trades);

    [Benchmark(Description = "W2k partitioned count window (1,000 keys)")]
    public long PartitionedAggregate() => Run(_partitioned, _tradesPartitioned);

    [Benchmark(Description = "tumbling 1s time window + aggregate")]
    public long TimeWindowAggregate() => Run(_timeWindow, _ticksTime);

    [Benchmark(Description = "W7 100 filters, route to every stream")]
    public long ManyFilters() => Run(_manyFilters, _ticksMany);

    // Per-stream latency sampling as the server runs it (one input event in 64, plus the first of each Process call,
    // timed stream by stream), against the same workloads with sampling off just above: the cost of the
    // varpulis_processing_latency_seconds measurement.
    private static readonly EngineOptions Sampled = new() { LatencySampleInterval = 64 };

    [Benchmark(Description = "W1 filter + emit, latency sampled 1/64")]
    public long FilterEmitSampled() => Run(_filter, _ticks, Sampled);

    [Benchmark(Description = "W2k partitioned count window, latency sampled 1/64")]
    public long PartitionedAggregateSampled() => Run(_partitioned, _tradesPartitioned, Sampled);

    [Benchmark(Description = "W7 100 filters, latency sampled 1/64")]
    public long ManyFiltersSampled() => Run(_manyFilters, _ticksMany, Sampled);

    private static long Run(CompiledProgram program, List<Event> events, EngineOptions? options = null)
    {
        var sink = new CountingOutputSink();
        var engine = program.CreateEngine(options ?? EngineOptions.Default);
        engine.Process(events, sink);
        engine.Finish(sink);
        return sink.Count;
    }
}
