using System.Text;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Io;

/// <summary>
/// The parallel loader of <c>simulate --preload --workers N</c> against one reader going through the same input in
/// order: the same events (types, timestamps, field values), offsets, type and field numbering, and the same first
/// error with its line number, whatever the block size and the number of threads.
/// </summary>
public class EvtParallelLoaderTests
{
    private static TypeRegistry Registry()
    {
        var reg = new TypeRegistry();
        reg.Declare("Declared", null, [("symbol", VplType.String), ("price", VplType.Float), ("qty", VplType.Int.AsNullable())]);
        return reg;
    }

    /// <summary>
    /// A generated input: types and fields that first appear late, BATCH lines (so offsets carry across blocks),
    /// @offsets, comments, blank lines, JSON and positional events, CRLF line ends, a byte-order mark.
    /// </summary>
    private static byte[] Generated(int seed, int lines, bool withBatch = true)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder("\uFEFF");
        for (int i = 0; i < lines; i++)
        {
            // New types and new fields keep appearing through the input, not only at its start.
            int types = 2 + (i * 6 / lines);
            string type = "T" + rng.Next(types);
            string nl = rng.Next(10) == 0 ? "\r\n" : "\n";
            switch (rng.Next(14))
            {
                case 0 when withBatch:
                    sb.Append("BATCH ").Append(rng.Next(100_000)).Append(nl);
                    break;
                case 1:
                    sb.Append("# comment ").Append(i).Append(nl);
                    break;
                case 2:
                    sb.Append(nl);
                    break;
                case 3:
                    sb.Append('@').Append(rng.Next(5000)).Append(rng.Next(2) == 0 ? "ms " : "s ").Append(type).Append(" { v: ").Append(rng.Next(100)).Append(" }").Append(nl);
                    break;
                case 4:
                    sb.Append("{\"event_type\": \"").Append(type).Append("\", \"data\": {\"j").Append(rng.Next(3)).Append("\": ").Append(rng.Next(9)).Append("}}").Append(nl);
                    break;
                case 5:
                    sb.Append(type).Append('(').Append(rng.Next(50)).Append(", \"p").Append(rng.Next(4)).Append("\")").Append(nl);
                    break;
                case 6:
                    sb.Append("Declared { symbol: \"S").Append(rng.Next(20)).Append("\", price: ").Append(rng.Next(1000) / 10.0).Append(" }").Append(nl);
                    break;
                default:
                    sb.Append(type).Append(" { v: ").Append(rng.Next(1000));
                    int extra = rng.Next(3 + (i * 8 / lines));
                    for (int f = 0; f < extra; f++) sb.Append(", f").Append(rng.Next(1 + (i * 12 / lines))).Append('_').Append(f).Append(": \"x").Append(rng.Next(5)).Append('"');
                    sb.Append(" }").Append(nl);
                    break;
            }
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static (PackedEventList Events, List<long> Offsets, TypeRegistry Types) InOrder(byte[] input)
    {
        var reg = Registry();
        using var reader = new EvtReader(new MemoryStream(input), reg, new EvtReaderOptions { BaseTimeNanos = 11, Path = "in.evt" });
        var events = new PackedEventList();
        var offsets = new List<long>();
        while (reader.ReadBatch(events, offsets, 1000) > 0)
        {
        }
        return (events, offsets, reg);
    }

    private static (PackedEventList Events, List<long> Offsets, TypeRegistry Types) Parallel(byte[] input, int threads, int blockBytes)
    {
        var reg = Registry();
        var events = new PackedEventList();
        var offsets = new List<long>();
        EvtParallelLoader.Load(new MemoryStream(input), reg, new EvtReaderOptions { BaseTimeNanos = 11, Path = "in.evt" }, threads, events, offsets, blockBytes);
        return (events, offsets, reg);
    }

    private static void AssertSame((PackedEventList Events, List<long> Offsets, TypeRegistry Types) expected, (PackedEventList Events, List<long> Offsets, TypeRegistry Types) actual)
    {
        Assert.Equal(expected.Types.All.Select(t => t.Name + "(" + string.Join(",", t.FieldNames) + ")"), actual.Types.All.Select(t => t.Name + "(" + string.Join(",", t.FieldNames) + ")"));
        Assert.Equal(expected.Offsets, actual.Offsets);
        Assert.Equal(expected.Events.Count, actual.Events.Count);
        for (int i = 0; i < expected.Events.Count; i++)
        {
            var e = expected.Events.Materialize(i);
            var a = actual.Events.Materialize(i);
            Assert.Equal(e.Type.Id, a.Type.Id);
            Assert.Same(actual.Types[e.Type.Id], a.Type);
            Assert.Equal(e.Timestamp, a.Timestamp);
            Assert.Equal(e.Fields.Length, a.Fields.Length);
            for (int f = 0; f < e.Fields.Length; f++) Assert.Equal(e.Fields[f], a.Fields[f]);
            Assert.Equal(e.ToString(), a.ToString());
        }
    }

    [Theory]
    [InlineData(1, 2, 1)]
    [InlineData(2, 2, 97)]
    [InlineData(3, 3, 1024)]
    [InlineData(4, 4, 4096)]
    [InlineData(5, 2, 1 << 20)]
    [InlineData(6, 1, 512)]
    public void ReadsWhatOneReaderReadsInOrder(int seed, int threads, int blockBytes)
    {
        var input = Generated(seed, 6000);
        var expected = InOrder(input);
        Assert.True(expected.Events.Count > 4000);
        Assert.True(expected.Types.Count > 6);
        AssertSame(expected, Parallel(input, threads, blockBytes));
    }

    [Fact]
    public void AnInputWithoutBatchLinesOrNewNamesAfterItsStartIsReadInParallelAsInOrder()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 20_000; i++) sb.Append("Tick { price: ").Append(i).Append(", sym: \"S").Append(i % 7).Append("\" }\n");
        var input = Encoding.UTF8.GetBytes(sb.ToString());
        AssertSame(InOrder(input), Parallel(input, 2, 4096));
    }

    [Fact]
    public void AFinalLineWithoutLineEndIsRead()
    {
        var input = Encoding.UTF8.GetBytes("A { v: 1 }\nBATCH 5\nA { v: 2 }\nB { w: 3 }");
        var loaded = Parallel(input, 2, 3);
        AssertSame(InOrder(input), loaded);
        Assert.Equal(3, loaded.Events.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(4096)]
    public void TheFirstMalformedLineIsReportedWithItsLineNumber(int blockBytes)
    {
        var lines = Encoding.UTF8.GetString(Generated(9, 3000)).Split('\n').ToList();
        // A late new type right before the bad line (its block is parsed again in order), and a second bad line after it.
        lines.Insert(2000, "Brand_New { q: 1 }");
        lines.Insert(2001, "Declared { symbol: \"X\", price: 1, nope: 2 }");
        lines.Insert(2600, "Broken {");
        var input = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        var expected = Assert.Throws<EvtFormatException>(() => InOrder(input));
        Assert.StartsWith("in.evt:2002:", expected.Message);
        var actual = Assert.Throws<EvtFormatException>(() => Parallel(input, 2, blockBytes));
        Assert.Equal(expected.Message, actual.Message);
    }

    [Fact]
    public void AByteOrderMarkIsSkippedOnlyAtTheStartOfTheInput()
    {
        var input = Encoding.UTF8.GetBytes("\uFEFFA { v: 1 }\nA { v: 2 }\n\uFEFFA { v: 3 }\n");
        var expected = Assert.Throws<EvtFormatException>(() => InOrder(input));
        Assert.StartsWith("in.evt:3:", expected.Message);
        Assert.Equal(expected.Message, Assert.Throws<EvtFormatException>(() => Parallel(input, 2, 1)).Message);
    }

    [Fact]
    public void SkippingMalformedLinesIsLeftToOneReader()
    {
        var ex = Assert.Throws<ArgumentException>(() => EvtParallelLoader.Load(new MemoryStream([]), new TypeRegistry(), new EvtReaderOptions { SkipInvalid = true }, 2, new PackedEventList(), null));
        Assert.StartsWith("skipping invalid lines needs one reader going through the input in order", ex.Message);
    }
}
