using System.Text;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Io;

public class PackedEventListTests
{
    private const string Mixed = """
        BATCH 5000
        Login { user_id: "u1", amount: 10.5, ok: true, tags: ["a", "b"], note: null }
        @2s Tick { price: 100 }
        StockPrice("AAPL", 150.5)
        {"event_type": "Tick", "timestamp": 1700000000000, "data": {"price": 1.5}}
        Empty { }
        Declared { symbol: "X", price: 3 }
        Declared { price: 2.5, symbol: "Y", qty: 7 }
        Login { note: null }
        Login { amount: -1e3, meta: {k: [1, 2.5, "z"]}, user_id: 'u\u{1F600}' }
        BATCH 9000
        Tick { price: 101, extra: 10.0.0.1 }
        """;

    private static TypeRegistry Registry()
    {
        var reg = new TypeRegistry();
        reg.Declare("Declared", null, [("symbol", VplType.String), ("price", VplType.Float), ("qty", VplType.Int.AsNullable())]);
        return reg;
    }

    private static (List<Event> Events, List<long> Offsets) ReadObjects(string text, TypeRegistry reg)
    {
        using var reader = new EvtReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), reg, new EvtReaderOptions { BaseTimeNanos = 7 });
        var events = new List<Event>();
        var offsets = new List<long>();
        while (reader.ReadBatch(events, offsets, 3) > 0)
        {
        }
        return (events, offsets);
    }

    private static (PackedEventList Events, List<long> Offsets) ReadPacked(string text, TypeRegistry reg)
    {
        using var reader = new EvtReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), reg, new EvtReaderOptions { BaseTimeNanos = 7 });
        var events = new PackedEventList();
        var offsets = new List<long>();
        while (reader.ReadBatch(events, offsets, 3) > 0)
        {
        }
        return (events, offsets);
    }

    private static void AssertSameEvent(Event expected, Event actual)
    {
        Assert.Same(expected.Type, actual.Type);
        Assert.Equal(expected.Timestamp, actual.Timestamp);
        Assert.Equal(expected.Fields.Length, actual.Fields.Length);
        for (int i = 0; i < expected.Fields.Length; i++)
        {
            Assert.Equal(expected.Fields[i].Kind, actual.Fields[i].Kind);
            Assert.Equal(expected.Fields[i], actual.Fields[i]);
        }
        Assert.Equal(expected.ToString(), actual.ToString());
    }

    [Fact]
    public void PackedReadingRebuildsTheEventsAnObjectReaderBuilds()
    {
        var reg = Registry();
        var (objects, objectOffsets) = ReadObjects(Mixed, reg);
        var (packed, packedOffsets) = ReadPacked(Mixed, reg);
        Assert.Equal(10, objects.Count);
        Assert.Equal(objects.Count, packed.Count);
        Assert.Equal(objectOffsets, packedOffsets);
        for (int i = 0; i < objects.Count; i++)
        {
            AssertSameEvent(objects[i], packed.Materialize(i));
            Assert.Same(objects[i].Type, packed.TypeAt(i));
        }
        var range = new List<Event>();
        packed.MaterializeRange(2, 7, range);
        Assert.Equal(7, range.Count);
        for (int i = 0; i < 7; i++) AssertSameEvent(objects[i + 2], range[i]);
    }

    [Fact]
    public void MaterializedEventsOwnTheirFieldArrays()
    {
        var reg = new TypeRegistry();
        var t = reg.GetOrAdd("T");
        int slot = t.GetOrAddSlot("x");
        var list = new PackedEventList();
        var values = new[] { Value.FromInt(1) };
        list.Add(t, 5, values);
        values[0] = Value.FromInt(2);
        var a = list.Materialize(0);
        var b = list.Materialize(0);
        Assert.NotSame(a.Fields, b.Fields);
        Assert.Equal(1, a[slot].AsInt);
        Assert.Equal(5, a.Timestamp);
    }

    [Fact]
    public void ManyEventsAcrossChunksKeepTheirOrderAndValues()
    {
        var reg = new TypeRegistry();
        var t = reg.GetOrAdd("T");
        t.GetOrAddSlot("i");
        t.GetOrAddSlot("s");
        var list = new PackedEventList();
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            // Events of 0, 1 and 2 fields interleaved, so value offsets differ from a fixed stride.
            Value[] fields = (i % 3) switch
            {
                0 => [],
                1 => [Value.FromInt(i)],
                _ => [Value.FromInt(i), Value.FromString("s" + i)],
            };
            list.Add(t, i * 10L, fields);
        }
        Assert.Equal(n, list.Count);
        var all = new List<Event>();
        list.MaterializeRange(0, n, all);
        for (int i = 0; i < n; i++)
        {
            var e = all[i];
            Assert.Equal(i * 10L, e.Timestamp);
            Assert.Equal(i % 3, e.Fields.Length);
            if (i % 3 >= 1) Assert.Equal(i, e.Fields[0].AsInt);
            if (i % 3 == 2) Assert.Equal("s" + i, e.Fields[1].AsString);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Materialize(n));
        Assert.Throws<ArgumentOutOfRangeException>(() => list.MaterializeRange(n - 1, 2, all));
    }

    [Fact]
    public void PackedReadingReportsTheSameErrors()
    {
        const string text = "Declared { symbol: \"X\" }\n";
        using var reader = new EvtReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), Registry(), new EvtReaderOptions { Path = "p.evt" });
        var ex = Assert.Throws<EvtFormatException>(() => reader.ReadBatch(new PackedEventList(), null, 10));
        Assert.Equal("p.evt:1:1: missing field 'price' for event type 'Declared'", ex.Message);
    }

    [Fact]
    public void AClearedListIsFilledAgainAndAppendsInOrder()
    {
        var t = new TypeRegistry().GetOrAdd("T");
        var list = new PackedEventList();
        for (int i = 0; i < 40_000; i++) list.Add(t, i, [Value.FromInt(i)]);
        list.Clear();
        Assert.Equal(0, list.Count);
        // Fewer events than before, over reused chunks: nothing of the earlier content shows.
        for (int i = 0; i < 20_000; i++) list.Add(t, -i, i % 2 == 0 ? [] : [Value.FromString("x" + i), Value.FromInt(i)]);
        var into = new PackedEventList();
        into.Add(t, 5, [Value.FromInt(5)]);
        into.AddRange(list);
        Assert.Equal(20_001, into.Count);
        Assert.Equal("5", into.Materialize(0).Fields[0].ToString());
        for (int i = 0; i < 20_000; i++)
        {
            var e = into.Materialize(i + 1);
            Assert.Equal(-i, e.Timestamp);
            Assert.Equal(i % 2 == 0 ? 0 : 2, e.Fields.Length);
            if (i % 2 == 1) Assert.Equal(("x" + i, (long)i), (e.Fields[0].AsString, e.Fields[1].AsInt));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Materialize(20_000));
    }
}
