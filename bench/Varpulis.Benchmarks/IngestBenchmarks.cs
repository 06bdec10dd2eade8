using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Benchmarks;

/// <summary>
/// The ingestion path on 100,000 W1 events (`StockTick { symbol, price, volume }`): the `.evt` reader into event
/// objects and into a <see cref="PackedEventList"/>; request bodies of 1,000 events read by the streaming
/// <see cref="JsonEventReader"/> and by the document path it replaces; the binary batch codec. Each benchmark reports
/// time per 100,000 events.
/// </summary>
[MemoryDiagnoser]
public class IngestBenchmarks
{
    private const int N = 100_000;
    private const int PerRequest = 1_000;

    private byte[] _evt = [];
    private byte[][] _bodies = [];
    private byte[][] _batches = [];
    private List<Event>[] _eventBatches = [];
    private CompiledProgram _program = null!;

    [GlobalSetup]
    public void Setup()
    {
        _program = VplCompiler.Compile("stream Filtered = StockTick .where(price > 50.0) .emit(symbol: symbol, price: price)").Program!;
        string[] syms = ["AAPL", "GOOG", "MSFT"];
        var evt = new StringBuilder();
        var bodies = new List<byte[]>();
        var body = new StringBuilder();
        for (int i = 0; i < N; i++)
        {
            if (i % 10 == 0) evt.Append("BATCH ").Append(i).Append('\n');
            string sym = syms[i % 3];
            double price = 40.0 + (i % 100);
            int volume = 1000 + (i % 5000);
            evt.Append($"StockTick {{ symbol: \"{sym}\", price: {price:F1}, volume: {volume} }}\n");
            body.Append(body.Length == 0 ? "{\"events\":[" : ",");
            body.Append($"{{\"event_type\":\"StockTick\",\"fields\":{{\"symbol\":\"{sym}\",\"price\":{price:F1},\"volume\":{volume}}}}}");
            if ((i + 1) % PerRequest == 0)
            {
                bodies.Add(Encoding.UTF8.GetBytes(body.Append("]}").ToString()));
                body.Clear();
            }
        }
        _evt = Encoding.UTF8.GetBytes(evt.ToString());
        _bodies = bodies.ToArray();
        var reader = new JsonEventReader(_program.Types);
        _eventBatches = _bodies.Select(b =>
        {
            var list = new List<Event>();
            reader.Read(b, true, 0, list, new List<JsonEventError>());
            return list;
        }).ToArray();
        _batches = _eventBatches.Select(EventBatchCodec.Encode).ToArray();
    }

    [Benchmark(Description = ".evt reader -> event objects")]
    public int EvtToObjects()
    {
        var list = new List<Event>(N);
        using var reader = new EvtReader(new MemoryStream(_evt), _program.Types, new EvtReaderOptions());
        while (reader.ReadBatch(list, null, 4096) > 0)
        {
        }
        return list.Count;
    }

    [Benchmark(Description = ".evt reader -> packed list")]
    public int EvtToPacked()
    {
        var list = new PackedEventList();
        using var reader = new EvtReader(new MemoryStream(_evt), _program.Types, new EvtReaderOptions());
        while (reader.ReadBatch(list, null, 4096) > 0)
        {
        }
        return list.Count;
    }

    [Benchmark(Description = "JSON batches, streaming reader")]
    public int JsonStreaming()
    {
        var reader = new JsonEventReader(_program.Types);
        var accepted = new List<Event>(PerRequest);
        var errors = new List<JsonEventError>();
        int n = 0;
        foreach (var body in _bodies)
        {
            accepted.Clear();
            reader.Read(body, true, 0, accepted, errors);
            n += accepted.Count;
        }
        return n;
    }

    [Benchmark(Description = "JSON batches, document + TryReadInput", Baseline = true)]
    public int JsonDocumentPath()
    {
        var builder = new EventBuilder(_program.Types);
        var accepted = new List<Event>(PerRequest);
        int n = 0;
        foreach (var body in _bodies)
        {
            accepted.Clear();
            using var doc = JsonDocument.Parse(body, VplJson.DocumentOptions);
            foreach (var item in doc.RootElement.GetProperty("events").EnumerateArray())
            {
                if (EventJson.TryReadInput(item, builder, 0, out var e, out _)) accepted.Add(e!);
            }
            n += accepted.Count;
        }
        return n;
    }

    [Benchmark(Description = "batch codec: encode")]
    public int Encode()
    {
        int bytes = 0;
        foreach (var batch in _eventBatches) bytes += EventBatchCodec.Encode(batch).Length;
        return bytes;
    }

    [Benchmark(Description = "batch codec: decode")]
    public int Decode()
    {
        var into = new List<Event>(PerRequest);
        int n = 0;
        foreach (var batch in _batches)
        {
            into.Clear();
            EventBatchCodec.TryDecode(batch, _program.Types, into, out _);
            n += into.Count;
        }
        return n;
    }
}
