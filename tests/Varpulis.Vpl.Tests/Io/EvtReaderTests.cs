using System.Text;
using Varpulis.Vpl.Io;
using Varpulis.Vpl.Runtime;
using Xunit;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Io;

public class EvtReaderTests
{
    private const long Ms = TimeFormat.NanosPerMilli;
    private static readonly Value N = Value.Null;

    private static List<(Event Event, long Offset)> ReadAll(string text, TypeRegistry? reg = null, EvtReaderOptions? options = null)
        => ReadAllBytes(Encoding.UTF8.GetBytes(text), reg, options);

    private static List<(Event Event, long Offset)> ReadAllBytes(byte[] bytes, TypeRegistry? reg = null, EvtReaderOptions? options = null)
    {
        using var reader = new EvtReader(new MemoryStream(bytes), reg ?? new TypeRegistry(), options ?? new EvtReaderOptions { Path = "t.evt" });
        var result = new List<(Event, long)>();
        while (reader.TryRead(out var e, out long offset)) result.Add((e!, offset));
        return result;
    }

    private static Event One(string text, TypeRegistry? reg = null) => Assert.Single(ReadAll(text, reg)).Event;

    private static string Error(string text, TypeRegistry? reg = null) => ErrorBytes(Encoding.UTF8.GetBytes(text), reg);

    private static string ErrorBytes(byte[] bytes, TypeRegistry? reg = null)
        => Assert.Throws<EvtFormatException>(() => ReadAllBytes(bytes, reg)).Message;

    private static TypeRegistry Declared()
    {
        var reg = new TypeRegistry();
        reg.Declare("Tick", null, [("symbol", VplType.String), ("price", VplType.Float), ("qty", VplType.Int.AsNullable())]);
        return reg;
    }

    // ---------------------------------------------------------------- the spec's example

    [Fact]
    public void SpecExampleBlock()
    {
        const string text = """
            # the lines after BATCH get event time = base + 5000 ms (sticky until the next BATCH)
            BATCH 5000
            Login { user_id: "u1", amount: 10.5, ok: true, tags: ["a", "b"], note: null }
            @2s Tick { price: 100 }          # '@' sets this line's offset only (units ms, s, m; none = ms)
            StockPrice("AAPL", 150.5)        # positional: fields field_0, field_1
            {"event_type": "Tick", "timestamp": 1700000000000, "data": {"price": 1.5}}
            """;
        var events = ReadAll(text);
        Assert.Equal(4, events.Count);

        var (login, loginOffset) = events[0];
        Assert.Equal("Login", login.Type.Name);
        Assert.Equal(5000 * Ms, login.Timestamp);
        Assert.Equal(5000 * Ms, loginOffset);
        Assert.Equal(["user_id", "amount", "ok", "tags"], login.PresentFields().Select(kv => kv.Key));
        Same("u1", login.Get("user_id"));
        Same(10.5, login.Get("amount"));
        Same(true, login.Get("ok"));
        Same(Arr("a", "b"), login.Get("tags"));
        Same(N, login.Get("note"));
        Assert.Equal(4, login.Fields.Length);

        var (tick, tickOffset) = events[1];
        Assert.Equal(2000 * Ms, tick.Timestamp);
        Assert.Equal(2000 * Ms, tickOffset);
        Same(100L, tick.Get("price"));

        var (price, priceOffset) = events[2];
        Assert.Equal("StockPrice", price.Type.Name);
        Assert.Equal(5000 * Ms, price.Timestamp);
        Assert.Equal(5000 * Ms, priceOffset);
        Same("AAPL", price.Get("field_0"));
        Same(150.5, price.Get("field_1"));

        var (json, jsonOffset) = events[3];
        Assert.Equal("Tick", json.Type.Name);
        Assert.Same(tick.Type, json.Type);
        Assert.Equal(1_700_000_000_000 * Ms, json.Timestamp);
        Assert.Equal(5000 * Ms, jsonOffset);
        Same(1.5, json.Get("price"));
    }

    // ---------------------------------------------------------------- timing

    [Fact]
    public void BatchIsStickyAndAtAppliesToItsLineOnly()
    {
        var events = ReadAll("A {}\nBATCH 100\nA {}\n@500 A {}\n@500ms A {}\n@2s A {}\n@1m A {}\nA {}\nBATCH 0\nA {}\n",
            options: new EvtReaderOptions { BaseTimeNanos = 1_000_000 * Ms });
        long[] offsets = [0, 100, 500, 500, 2000, 60_000, 100, 0];
        Assert.Equal(offsets.Select(o => o * Ms), events.Select(e => e.Offset));
        Assert.Equal(offsets.Select(o => (1_000_000 + o) * Ms), events.Select(e => e.Event.Timestamp));
    }

    [Fact]
    public void JsonLinesUseTheirTimestampElseTheOffset()
    {
        var events = ReadAll("""
            BATCH 7
            {"event_type": "T", "fields": {"v": 1}}
            {"event_type": "T", "timestamp": "2026-01-23T10:00:00Z", "fields": {}}
            @3s {"event_type": "T"}
            {"event_type": "T", "fields": {"timestamp": 5, "v": 2}}   # trailing comment
            """, options: new EvtReaderOptions { BaseTimeNanos = 1000 * Ms });
        Assert.Equal([1007 * Ms, 1_769_162_400_000 * Ms, 4000 * Ms, 5 * Ms], events.Select(e => e.Event.Timestamp));
        Assert.Equal([7 * Ms, 7 * Ms, 3000 * Ms, 7 * Ms], events.Select(e => e.Offset));
        Assert.Equal(["v"], events[3].Event.PresentFields().Select(kv => kv.Key));
    }

    // ---------------------------------------------------------------- lines and comments

    [Fact]
    public void CommentsBlankLinesAndLineEndings()
    {
        var bytes = Encoding.UTF8.GetBytes("\uFEFF# c\r\n\r\n   \t\n  // c2\nA { s: \"a # b\" }  // trailing\r\nB(1) #x\n\t# indented\nC { u: 'x//y' }");
        using var reader = new EvtReader(new MemoryStream(bytes), new TypeRegistry(), new EvtReaderOptions());
        var events = new List<Event>();
        Assert.Equal(3, reader.ReadBatch(events, null, 10));
        Assert.Equal(8, reader.LinesRead);
        Same("a # b", events[0].Get("s"));
        Same(1L, events[1].Get("field_0"));
        Same("x//y", events[2].Get("u"));
        Assert.Equal(0, reader.ReadBatch(events, null, 10));
    }

    [Fact]
    public void EmptyInput()
    {
        Assert.Empty(ReadAll(""));
        Assert.Empty(ReadAll("\n\n# only comments\n"));
    }

    [Fact]
    public void ReadBatchReturnsOffsetsAndRespectsMax()
    {
        using var reader = new EvtReader(new MemoryStream("A {}\n@5 A {}\nA {}\n"u8.ToArray()), new TypeRegistry(), new EvtReaderOptions());
        var events = new List<Event>();
        var offsets = new List<long>();
        Assert.Equal(2, reader.ReadBatch(events, offsets, 2));
        Assert.Equal(1, reader.ReadBatch(events, offsets, 2));
        Assert.Equal(0, reader.ReadBatch(events, offsets, 2));
        Assert.Equal([0, 5 * Ms, 0], offsets);
        Assert.Equal(3, events.Count);
    }

    [Fact]
    public void LinesSplitAcrossReadsAreAssembled()
    {
        var text = "BATCH 1\nTick { symbol: \"AAPL\", price: 40.5, tags: [1, [2, 3]], m: {k: 'v'} }\n\nTick(\"é\", 2)\n";
        using var reader = new EvtReader(new TrickleStream(Encoding.UTF8.GetBytes(text)), new TypeRegistry(), new EvtReaderOptions());
        var events = new List<Event>();
        Assert.Equal(2, reader.ReadBatch(events, null, 10));
        Same(40.5, events[0].Get("price"));
        Same(Arr(1L, Arr(2L, 3L)), events[0].Get("tags"));
        Same(Map(("k", "v")), events[0].Get("m"));
        Same("é", events[1].Get("field_0"));
    }

    // ---------------------------------------------------------------- values

    [Fact]
    public void ScalarValues()
    {
        var e = One("T { t: true, f: false, n: null, i: 42, neg: -2, z: -0, big: 9223372036854775807, huge: 12345678901234567890, "
            + "x: 150.5, nx: -0.25, e: 1e3, ee: 2.5E-3, mz: -0.0, long_float: 3.14159265358979323846, w: hello, ip: 10.0.0.1, d: 5s, dash: - }");
        Same(true, e.Get("t"));
        Same(false, e.Get("f"));
        Same(N, e.Get("n"));
        Same(42L, e.Get("i"));
        Same(-2L, e.Get("neg"));
        Same(0L, e.Get("z"));
        Same(long.MaxValue, e.Get("big"));
        Same(1.2345678901234567E19, e.Get("huge"));
        Same(150.5, e.Get("x"));
        Same(-0.25, e.Get("nx"));
        Same(1000.0, e.Get("e"));
        Same(0.0025, e.Get("ee"));
        Assert.True(double.IsNegative(e.Get("mz").AsFloat));
        Same(3.141592653589793, e.Get("long_float"));
        Same("hello", e.Get("w"));
        Same("10.0.0.1", e.Get("ip"));
        Same("5s", e.Get("d"));
        Same("-", e.Get("dash"));
    }

    [Fact]
    public void NumbersOfEveryLengthReadAsLongParseAndDoubleParseReadThem()
    {
        // Short numbers take a one-pass path, the rest the general one: the value must not depend on which.
        var rnd = new Random(14);
        var tokens = new List<string>();
        for (int k = 0; k < 20_000; k++)
        {
            var sb = new StringBuilder();
            if (rnd.Next(3) == 0) sb.Append('-');
            int intDigits = rnd.Next(1, 19);
            for (int d = 0; d < intDigits; d++) sb.Append((char)('0' + rnd.Next(10)));
            if (rnd.Next(2) == 0)
            {
                sb.Append('.');
                int fracDigits = rnd.Next(1, 19);
                for (int d = 0; d < fracDigits; d++) sb.Append((char)('0' + rnd.Next(10)));
            }
            if (rnd.Next(8) == 0) sb.Append(rnd.Next(2) == 0 ? "e" : "E-").Append(rnd.Next(0, 30));
            tokens.Add(sb.ToString());
        }
        string[] after = [" }", "}", ", w: 1 }", ",w:1}", "\t}"];
        var text = new StringBuilder();
        for (int k = 0; k < tokens.Count; k++) text.Append("T { v: ").Append(tokens[k]).Append(after[k % after.Length]).Append('\n');
        var events = ReadAll(text.ToString());
        Assert.Equal(tokens.Count, events.Count);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        for (int k = 0; k < tokens.Count; k++)
        {
            var v = events[k].Event.Get("v");
            string t = tokens[k];
            if (t.Contains('.') || t.Contains('e') || t.Contains('E'))
            {
                double expected = double.Parse(t, inv);
                Assert.True(v.IsFloat, t);
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(v.AsFloat));
            }
            else
            {
                Assert.True(v.IsInt, t);
                Assert.Equal(long.Parse(t, inv), v.AsInt);
            }
        }
    }

    [Fact]
    public void ShortDecimalsParseExactlyLikeDoubleParse()
    {
        string[] samples = ["0.1", "0.3", "40.0", "139.9", "123456789.12345", "99999.99999", "0.000001", "7.000000000000001", "1.7976931348623157e308", "5e-324"];
        foreach (var s in samples)
        {
            var e = One("T { v: " + s + " }");
            Same(double.Parse(s, System.Globalization.CultureInfo.InvariantCulture), e.Get("v"));
        }
    }

    [Fact]
    public void Strings()
    {
        var e = One("T { a: \"q\\\"q\", b: 'it\\'s', c: \"\\\\ \\n \\t \\r\", d: \"\\u{1F600}\", e: \"\\u00e9\", f: \"\\uD83D\\uDE00\", g: 'say \"hi\"', h: \"\", i: \"tab\there\", \"quoted key\": 1, 'k2': 2 }");
        Same("q\"q", e.Get("a"));
        Same("it's", e.Get("b"));
        Same("\\ \n \t \r", e.Get("c"));
        Same("\U0001F600", e.Get("d"));
        Same("é", e.Get("e"));
        Same("\U0001F600", e.Get("f"));
        Same("say \"hi\"", e.Get("g"));
        Same("", e.Get("h"));
        Same("tab\there", e.Get("i"));
        Same(1L, e.Get("quoted key"));
        Same(2L, e.Get("k2"));
    }

    [Fact]
    public void ArraysMapsAndTrailingCommas()
    {
        var e = One("T { a: [], b: [1, \"x\", [true, null], {k: 1.5}], c: {}, d: {\"x y\": [1,], z: {q: 'r'},}, }");
        Same(Arr(), e.Get("a"));
        Same(Arr(1L, "x", Arr(true, N), Map(("k", 1.5))), e.Get("b"));
        Same(Map(), e.Get("c"));
        Same(Map(("x y", Arr(1L)), ("z", Map(("q", "r")))), e.Get("d"));
        Assert.Empty(One("Empty {}").Fields);
        Assert.Empty(One("Empty()").Fields);
        Same(3L, One("P(1, 2, 3,)").Get("field_2"));
    }

    [Fact]
    public void RepeatedStringsAreInterned()
    {
        var events = ReadAll("T { s: \"AAPL\", w: GOOG }\nT { s: \"AAPL\", w: GOOG }\nT { s: 'AAPL' }\n");
        Assert.Same(events[0].Event.Get("s").AsString, events[1].Event.Get("s").AsString);
        Assert.Same(events[0].Event.Get("s").AsString, events[2].Event.Get("s").AsString);
        Assert.Same(events[0].Event.Get("w").AsString, events[1].Event.Get("w").AsString);
    }

    [Fact]
    public void FieldOrderMayChangeBetweenLines()
    {
        var events = ReadAll("T { a: 1, b: 2 }\nT { b: 3, a: 4 }\nT { c: 5, a: 6 }\n");
        Same(1L, events[0].Event.Get("a"));
        Same(2L, events[0].Event.Get("b"));
        Same(4L, events[1].Event.Get("a"));
        Same(3L, events[1].Event.Get("b"));
        Same(5L, events[2].Event.Get("c"));
        Same(6L, events[2].Event.Get("a"));
        Same(N, events[2].Event.Get("b"));
    }

    // ---------------------------------------------------------------- declared types

    [Fact]
    public void DeclaredTypesAreCheckedAndCoerced()
    {
        var reg = Declared();
        var e = One("Tick { symbol: \"A\", price: 100, qty: 2.0 }", reg);
        Same(100.0, e.Get("price"));
        Same(2L, e.Get("qty"));
        var p = One("Tick(\"B\", 3)", reg);
        Same("B", p.Get("symbol"));
        Same(3.0, p.Get("price"));
        Same(N, p.Get("qty"));
    }

    [Fact]
    public void DeclaredTypeErrorsPointAtTheValueOrName()
    {
        var reg = Declared();
        Assert.Equal("t.evt:1:36: field 'qty' of 'Tick' expects int?, got float 2.5", Error("Tick { symbol: \"A\", price: 1, qty: 2.5 }", reg));
        Assert.Equal("t.evt:1:21: unknown field 'pricee' for event type 'Tick' (did you mean 'price'?)", Error("Tick { symbol: \"A\", pricee: 1 }", reg));
        Assert.Equal("t.evt:1:1: missing field 'price' for event type 'Tick'", Error("Tick { symbol: \"A\" }", reg));
        Assert.Equal("t.evt:1:15: missing field 'price' for event type 'Tick'", Error("Tick { price: null }", reg));
        Assert.Equal("t.evt:1:17: too many values for event type 'Tick' (it declares 3 fields)", Error("Tick(\"A\", 1, 2, 3)", reg));
        Assert.Equal("t.evt:1:1: missing field 'price' for event type 'Tick'", Error("{\"event_type\": \"Tick\", \"fields\": {\"symbol\": \"A\"}}", reg));
    }

    // ---------------------------------------------------------------- malformed lines

    [Fact]
    public void SyntaxErrorsNameLineColumnAndProblem()
    {
        Assert.Equal("t.evt:3:14: expected ':' after field name", Error("# c\n\nTick { price 1 }"));
        Assert.Equal("t.evt:1:11: unterminated string", Error("Tick { s: \"abc }"));
        Assert.Equal("t.evt:1:6: unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object", Error("Tick price"));
        Assert.Equal("t.evt:1:5: unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object", Error("Tick"));
        Assert.Equal("t.evt:1:1: unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object", Error("123 { }"));
        Assert.Equal("t.evt:1:1: unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object", Error("[1]"));
        Assert.Equal("t.evt:1:15: unexpected text after the event; a comment starts with '#'", Error("Tick { a: 1 } extra"));
        Assert.Equal("t.evt:1:12: expected '}' to close the event", Error("Tick { a: 1"));
        Assert.Equal("t.evt:1:13: expected ',' or '}' after field value", Error("Tick { a: 1 b: 2 }"));
        Assert.Equal("t.evt:1:8: expected a field name", Error("Tick { , }"));
        Assert.Equal("t.evt:1:11: expected a value", Error("Tick { a: }"));
        Assert.Equal("t.evt:1:10: expected a value", Error("Tick { a:"));
        Assert.Equal("t.evt:1:13: unknown escape '\\q'", Error("Tick { a: \"x\\q\" }"));
        Assert.Equal("t.evt:1:12: invalid unicode escape", Error("Tick { a: \"\\u{110000}\" }"));
        Assert.Equal("t.evt:1:12: invalid unicode escape", Error("Tick { a: \"\\u12\" }"));
        Assert.Equal("t.evt:1:12: invalid unicode escape: unpaired surrogate", Error("Tick { a: \"\\uD83D\" }"));
        Assert.Equal("t.evt:1:17: expected ',' or ']' after array element", Error("Tick { a: [1, 2 }"));
        Assert.Equal("t.evt:1:16: expected ']' to close the array", Error("Tick { a: [1, 2"));
        Assert.Equal("t.evt:1:11: number '1e999' is out of range", Error("Tick { a: 1e999 }"));
        Assert.Equal("t.evt:1:17: duplicate field 'a' for event type 'Tick'", Error("Tick { a: 1, a: 2 }"));
        Assert.Equal("t.evt:1:18: duplicate key 'k'", Error("Tick { m: {k: 1, k: 2} }"));
        Assert.Equal("t.evt:1:14: expected ':' after key", Error("Tick { m: {k 1} }"));
        Assert.Equal("t.evt:1:8: expected ',' or ')' after value", Error("P(1, 2 3)"));
        Assert.Equal("t.evt:1:7: expected ')' to close the event", Error("P(1, 2"));
        Assert.Equal("t.evt:1:17: unexpected text after the event; a comment starts with '#'", Error("Tick { a: 'x' } ;"));
    }

    [Fact]
    public void DirectiveErrors()
    {
        Assert.Equal("t.evt:1:7: BATCH expects a non-negative integer (ms)", Error("BATCH x"));
        Assert.Equal("t.evt:1:7: BATCH expects a non-negative integer (ms)", Error("BATCH -5"));
        Assert.Equal("t.evt:1:6: BATCH expects a non-negative integer (ms)", Error("BATCH"));
        Assert.Equal("t.evt:1:7: BATCH expects a non-negative integer (ms)", Error("BATCH 5s"));
        Assert.Equal("t.evt:1:7: BATCH expects a non-negative integer (ms)", Error("BATCH 99999999999999999999"));
        Assert.Equal("t.evt:1:1: '@' expects a non-negative offset like 500, 500ms, 2s or 1m", Error("@5x Tick {}"));
        Assert.Equal("t.evt:1:1: '@' expects a non-negative offset like 500, 500ms, 2s or 1m", Error("@ Tick {}"));
        Assert.Equal("t.evt:1:1: '@' expects a non-negative offset like 500, 500ms, 2s or 1m", Error("@2sTick {}"));
        Assert.Equal("t.evt:1:1: '@' expects a non-negative offset like 500, 500ms, 2s or 1m", Error("@999999999999999999m A {}"));
        Assert.Equal("t.evt:1:5: expected an event after the '@' offset", Error("@5s # nothing"));
        Assert.Empty(ReadAll("BATCH 5 # comment\n"));
        // A type named BATCH is still an event when written as one.
        Assert.Equal("BATCH", One("BATCH { n: 1 }").Type.Name);
    }

    [Fact]
    public void JsonLineErrors()
    {
        Assert.Equal("t.evt:1:1: missing required field 'event_type'", Error("{\"fields\": {}}"));
        Assert.Equal("t.evt:1:1: 'event_type' must be a non-empty string", Error("{\"event_type\": \"\"}"));
        Assert.Equal("t.evt:1:1: invalid timestamp 'x': expected RFC 3339 or epoch milliseconds", Error("{\"event_type\": \"T\", \"timestamp\": \"x\"}"));
        Assert.StartsWith("t.evt:1:16: invalid JSON: ", Error("{\"event_type\": }"));
        Assert.StartsWith("t.evt:1:19: invalid JSON: ", Error("{\"event_type\": \"T\""));
        Assert.Equal("t.evt:1:21: unexpected text after the event; a comment starts with '#'", Error("{\"event_type\": \"T\"} x"));
    }

    [Fact]
    public void ColumnsCountCharactersNotBytes()
    {
        Assert.Equal("t.evt:1:17: unknown escape '\\q'", Error("T { s: \"é\", t: \"\\q\" }"));
        Assert.Equal("t.evt:1:17: unknown escape '\\q'", Error("T { s: \"😀\", t: \"\\q\" }"));
    }

    [Fact]
    public void ReadingContinuesAfterAnException()
    {
        using var reader = new EvtReader(new MemoryStream("A { x: 1 }\nbad line\nA { x: 3 }\n"u8.ToArray()), new TypeRegistry(), new EvtReaderOptions());
        Assert.True(reader.TryRead(out var e1, out _));
        var ex = Assert.Throws<EvtFormatException>(() => reader.TryRead(out _, out _));
        Assert.Equal("<events>", ex.Path);
        Assert.Equal(2, ex.Line);
        Assert.Equal(5, ex.Column);
        Assert.Equal("unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object", ex.Reason);
        Assert.True(reader.TryRead(out var e3, out _));
        Same(3L, e3!.Get("x"));
        Assert.False(reader.TryRead(out _, out _));
    }

    [Fact]
    public void SkipInvalidCountsAndRecordsTheFirstHundred()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 150; i++) sb.Append("A { x: ").Append(i).Append(" }\nbroken ").Append(i).Append('\n');
        using var reader = new EvtReader(new MemoryStream(Encoding.UTF8.GetBytes(sb.ToString())), new TypeRegistry(),
            new EvtReaderOptions { SkipInvalid = true, Path = "s.evt" });
        var events = new List<Event>();
        Assert.Equal(150, reader.ReadBatch(events, null, 1000));
        Assert.Equal(150, reader.SkippedLines);
        Assert.Equal(100, reader.SkippedErrors.Count);
        Assert.Equal(new EvtFormatError("s.evt", 2, 8, "unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object"), reader.SkippedErrors[0]);
        Assert.Equal("s.evt:200:8: unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object", reader.SkippedErrors[99].ToString());
        Assert.Equal(300, reader.LinesRead);
        Same(149L, events[^1].Get("x"));
    }

    // ---------------------------------------------------------------- hostile input

    [Fact]
    public void AHundredMegabyteLineIsRejectedWithBoundedMemory()
    {
        var stream = new GeneratedStream(100L << 20, "\nA { x: 1 }\n"u8.ToArray());
        using var reader = new EvtReader(stream, new TypeRegistry(), new EvtReaderOptions { SkipInvalid = true });
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(reader.TryRead(out var e, out _));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Same(1L, e!.Get("x"));
        Assert.Equal(1, reader.SkippedLines);
        Assert.Equal(new EvtFormatError("<events>", 1, 1, "line is longer than 1048576 bytes"), reader.SkippedErrors[0]);
        Assert.True(allocated < 8 << 20, $"allocated {allocated} bytes");
        Assert.Equal(2, reader.LinesRead);
    }

    [Fact]
    public void AnOverlongLineWithoutSkipThrows()
    {
        var bytes = new byte[(1 << 20) + 10];
        bytes.AsSpan().Fill((byte)'a');
        Assert.Equal("<events>:1:1: line is longer than 1048576 bytes",
            Assert.Throws<EvtFormatException>(() => ReadAllBytes(bytes, options: new EvtReaderOptions())).Message);
        // Exactly the limit is fine (it is then an ordinary syntax error here).
        var atLimit = new byte[1 << 20];
        atLimit.AsSpan().Fill((byte)'a');
        Assert.Equal("<events>:1:1048577: unknown event syntax; expected 'Type { ... }', 'Type(...)' or a JSON object",
            Assert.Throws<EvtFormatException>(() => ReadAllBytes(atLimit, options: new EvtReaderOptions())).Message);
    }

    [Fact]
    public void NulBytes()
    {
        Assert.Equal("t.evt:1:12: unexpected control character U+0000", ErrorBytes("Tick { a: 1\0 }"u8.ToArray()));
        Assert.Equal("t.evt:1:13: unexpected control character U+0000 in string", ErrorBytes("Tick { a: \"x\0\" }"u8.ToArray()));
        Assert.Equal("t.evt:1:1: unexpected control character U+0000", ErrorBytes("\0\0\0"u8.ToArray()));
        Assert.Equal("t.evt:1:11: unexpected control character U+0001", ErrorBytes("Tick { a: \u0001 }"u8.ToArray()));
    }

    [Fact]
    public void InvalidUtf8()
    {
        Assert.Equal("t.evt:1:13: invalid UTF-8", ErrorBytes([.. "Tick { a: \"x"u8, 0xFF, .. "\" }"u8]));
        Assert.Equal("t.evt:1:13: invalid UTF-8 in string", ErrorBytes([.. "Tick { a: \"x"u8, 0xC3, .. "\\n\" }"u8]));
        Assert.Equal("t.evt:1:12: invalid UTF-8", ErrorBytes([.. "Tick { a: x"u8, 0xFE, .. " }"u8]));
        Assert.Equal("t.evt:1:1: invalid UTF-8", ErrorBytes([0xC0, 0xAF, .. " {}"u8]));
    }

    [Fact]
    public void DeepNestingIsAnErrorNotACrash()
    {
        Assert.Equal("t.evt:1:75: nesting deeper than 64 levels", Error("Tick { a: " + new string('[', 10_000)));
        Assert.Equal("t.evt:1:267: nesting deeper than 64 levels", Error("Tick { a: " + string.Concat(Enumerable.Repeat("{k: ", 10_000))));
        var ok = One("Tick { a: " + new string('[', 64) + new string(']', 64) + " }");
        Assert.Single(ok.Get("a").AsArray);
        Assert.StartsWith("t.evt:1:", Error("{\"event_type\": \"T\", \"fields\": {\"a\": " + new string('[', 10_000) + "}}"));
    }

    [Fact]
    public void RandomGarbageNeverEscapesAsAnythingButFormatErrors()
    {
        var rng = new Random(12345);
        byte[] alphabet = "{}[]()\"':,#/@\\ \tabcTBATCH0123456789.-eE\0\u00ff\r"u8.ToArray();
        for (int round = 0; round < 200; round++)
        {
            var bytes = new byte[rng.Next(1, 400)];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = rng.Next(4) == 0 ? (byte)rng.Next(256) : alphabet[rng.Next(alphabet.Length)];
            using var reader = new EvtReader(new MemoryStream(bytes), new TypeRegistry(), new EvtReaderOptions { SkipInvalid = true });
            while (reader.TryRead(out _, out _))
            {
            }
            Assert.True(reader.SkippedLines <= reader.LinesRead);
        }
    }

    [Fact]
    public void DisposeClosesTheStreamUnlessLeaveOpen()
    {
        var s1 = new MemoryStream("A {}"u8.ToArray());
        new EvtReader(s1, new TypeRegistry(), new EvtReaderOptions()).Dispose();
        Assert.False(s1.CanRead);
        var s2 = new MemoryStream("A {}"u8.ToArray());
        var reader = new EvtReader(s2, new TypeRegistry(), new EvtReaderOptions { LeaveOpen = true });
        reader.Dispose();
        Assert.True(s2.CanRead);
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out _, out _));
    }

    /// <summary>A stream that hands out one byte per read, to exercise line assembly across reads.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1)]);
    }

    /// <summary>Produces <paramref name="fillerBytes"/> bytes of 'x' and then <paramref name="tail"/>, without holding them.</summary>
    private sealed class GeneratedStream(long fillerBytes, byte[] tail) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => fillerBytes + tail.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = 0;
            if (_position < fillerBytes)
            {
                n = (int)Math.Min(buffer.Length, fillerBytes - _position);
                buffer[..n].Fill((byte)'x');
                _position += n;
            }
            while (n < buffer.Length && _position < Length)
            {
                buffer[n++] = tail[_position - fillerBytes];
                _position++;
            }
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
