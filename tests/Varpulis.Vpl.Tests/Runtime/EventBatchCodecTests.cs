using System.Text;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Runtime;

public class EventBatchCodecTests
{
    private const string Program = """
        event Tick:
            symbol: str
            price: float
            qty: int?
        event Rich:
            at: timestamp
            wait: duration?
            tags: [int]?
            scores: {str: float}?
        stream Out = Tick .where(price > 1.0) .emit(symbol: symbol, doubled: price * 2, tags: [1, "x", null])
        """;

    private const string Events = """
        BATCH 1000
        Tick { symbol: "AAPL", price: 101.5, qty: 3 }
        Tick { symbol: "AAPL", price: 0.5 }
        Tick { symbol: "MSFT", price: -2e10, qty: -9223372036854775808 }
        Rich { at: "2026-01-23T10:00:00Z", wait: "500ms", tags: [1, 2], scores: {a: 1.5, "b c": -0.0} }
        Login { user: "u\u{1F600}", ok: true, bad: false, none: null, nested: [[1], {k: [2.5, "s"]}], big: 1e300 }
        @5s Login { user: "u2", n: 9223372036854775807 }
        Open(1, "two", 3.0)
        Empty { }
        BATCH 0
        Tick { symbol: "AAPL", price: 7 }
        """;

    private static CompiledProgram Compile()
    {
        var c = VplCompiler.Compile(Program);
        return c.Program ?? throw new InvalidOperationException(string.Join("\n", c.Diagnostics.Select(d => d.Format())));
    }

    private static List<Event> Read(TypeRegistry types, string text)
    {
        using var reader = new EvtReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), types, new EvtReaderOptions { BaseTimeNanos = 1_700_000_000_000_000_000 });
        var list = new List<Event>();
        while (reader.ReadBatch(list, null, 100) > 0)
        {
        }
        return list;
    }

    private static string Describe(Event e)
    {
        var sb = new StringBuilder();
        sb.Append(e.Type.Name).Append('#').Append(e.Type.Id).Append(" @").Append(e.Timestamp).Append(" [").Append(e.Fields.Length).Append("] ");
        foreach (var v in e.Fields)
        {
            sb.Append(v.Kind).Append(':');
            if (v.IsFloat) sb.Append(BitConverter.DoubleToInt64Bits(v.AsFloat));
            else if (!v.IsNull) sb.Append(ValueJson.ToJson(v));
            sb.Append(" | ");
        }
        return sb.ToString();
    }

    private static string Schemas(TypeRegistry types)
        => string.Join("; ", types.All.Select(t => $"{t.Id}:{t.Name}({string.Join(",", t.FieldNames)})"));

    [Fact]
    public void RoundTripRebuildsTheSameEventsInTheSameRegistry()
    {
        var program = Compile();
        var events = Read(program.Types, Events);
        Assert.Equal(9, events.Count);
        var bytes = EventBatchCodec.Encode(events);
        Assert.Equal(EventBatchCodec.Version, bytes[0]);
        var decoded = new List<Event>();
        Assert.True(EventBatchCodec.TryDecode(bytes, program.Types, decoded, out var error), error);
        Assert.Equal(events.Select(Describe), decoded.Select(Describe));
        for (int i = 0; i < events.Count; i++) Assert.Same(events[i].Type, decoded[i].Type);
    }

    [Fact]
    public void RecoveryIntoAFreshCompileOfTheSameProgramRebuildsTheSameEvents()
    {
        // The journal's case: events were accepted (growing open types) and encoded batch by batch; after a restart the
        // program is compiled again and the batches are decoded in order.
        var live = Compile();
        var first = Read(live.Types, Events);
        var second = Read(live.Types, "Login { late: 1, user: \"u3\" }\nNewType { z: 1 }\n");
        var batches = new[] { EventBatchCodec.Encode(first), EventBatchCodec.Encode(second) };

        var recovered = Compile();
        var decoded = new List<Event>();
        foreach (var b in batches) Assert.True(EventBatchCodec.TryDecode(b, recovered.Types, decoded, out var error), error);
        Assert.Equal(first.Concat(second).Select(Describe), decoded.Select(Describe));
        Assert.Equal(Schemas(live.Types), Schemas(recovered.Types));
    }

    [Fact]
    public void OutputEventsWithComputedValuesRoundTrip()
    {
        var program = Compile();
        var engine = program.CreateEngine(new EngineOptions());
        var sink = new ListOutputSink();
        engine.Process(Read(program.Types, Events), sink);
        Assert.Equal(2, sink.Events.Count);
        var decoded = new List<Event>();
        Assert.True(EventBatchCodec.TryDecode(EventBatchCodec.Encode(sink.Events), program.Types, decoded, out var error), error);
        Assert.Equal(sink.Events.Select(Describe), decoded.Select(Describe));
    }

    [Fact]
    public void FieldsArePlacedByNameInARegistryWithOtherSlots()
    {
        var a = new TypeRegistry();
        var ta = a.GetOrAdd("T");
        ta.GetOrAddSlot("x");
        ta.GetOrAddSlot("y");
        var b = new TypeRegistry();
        b.GetOrAdd("Other");
        var tb = b.GetOrAdd("T");
        tb.GetOrAddSlot("y");
        var bytes = EventBatchCodec.Encode([new Event(ta, 42, [Value.FromInt(1), Value.FromString("why")])]);
        var decoded = new List<Event>();
        Assert.True(EventBatchCodec.TryDecode(bytes, b, decoded, out var error), error);
        var e = Assert.Single(decoded);
        Assert.Same(tb, e.Type);
        Assert.Equal(42, e.Timestamp);
        Assert.Equal(["y", "x"], tb.FieldNames);
        Assert.Equal("why", e.Get("y").AsString);
        Assert.Equal(1, e.Get("x").AsInt);
    }

    [Fact]
    public void ABatchThatDoesNotFitTheProgramIsRefusedWithoutChangingIt()
    {
        var other = new TypeRegistry();
        var t = other.GetOrAdd("Tick");
        t.GetOrAddSlot("symbol");
        t.GetOrAddSlot("colour");
        var bytes = EventBatchCodec.Encode([new Event(t, 1, [Value.FromString("A"), Value.FromString("red")]), new Event(other.GetOrAdd("Fresh"), 2, [])]);
        var program = Compile();
        string before = Schemas(program.Types);
        var into = new List<Event>();
        Assert.False(EventBatchCodec.TryDecode(bytes, program.Types, into, out var error));
        Assert.Equal("event type 'Tick' has no field 'colour'", error);
        Assert.Empty(into);
        Assert.Equal(before, Schemas(program.Types));
    }

    [Fact]
    public void AnotherVersionIsRefused()
    {
        var program = Compile();
        var bytes = EventBatchCodec.Encode(Read(program.Types, Events));
        bytes[0] = 2;
        Assert.False(EventBatchCodec.TryDecode(bytes, program.Types, new List<Event>(), out var error));
        Assert.Equal("unsupported event batch version 2 (this build reads version 1)", error);
        Assert.False(EventBatchCodec.TryDecode([], program.Types, new List<Event>(), out error));
        Assert.Equal("empty batch", error);
    }

    [Fact]
    public void AnEmptyBatchRoundTrips()
    {
        var decoded = new List<Event>();
        Assert.True(EventBatchCodec.TryDecode(EventBatchCodec.Encode([]), new TypeRegistry(), decoded, out var error), error);
        Assert.Empty(decoded);
    }

    [Fact]
    public void CorruptBytesFailCleanlyAndChangeNothing()
    {
        var source = Compile();
        var good = EventBatchCodec.Encode(Read(source.Types, Events));
        var rng = new Random(7);
        int refused = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])good.Clone();
            switch (i % 4)
            {
                case 0:
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
                case 1:
                    bytes[1 + rng.Next(bytes.Length - 1)] ^= (byte)(1 << rng.Next(8));
                    break;
                case 2:
                    for (int k = 0; k < 3; k++) bytes[1 + rng.Next(bytes.Length - 1)] = (byte)rng.Next(256);
                    break;
                default:
                    bytes = [EventBatchCodec.Version, .. Enumerable.Range(0, rng.Next(1, 64)).Select(_ => (byte)rng.Next(256))];
                    break;
            }
            var program = Compile();
            string before = Schemas(program.Types);
            var into = new List<Event>();
            if (!EventBatchCodec.TryDecode(bytes, program.Types, into, out var error))
            {
                refused++;
                Assert.False(string.IsNullOrEmpty(error));
                Assert.Empty(into);
                Assert.Equal(before, Schemas(program.Types));
            }
        }
        Assert.True(refused > 10_000, $"only {refused} of 20000 damaged batches were refused");
    }
}
