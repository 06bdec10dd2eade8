using System.Buffers;
using System.Text;
using System.Text.Json;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;
using Xunit;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Json;

public class ValueJsonTests
{
    private static readonly Value N = Value.Null;

    private static Value ReadPlain(string json)
    {
        using var doc = JsonDocument.Parse(json, VplJson.DocumentOptions);
        Assert.True(ValueJson.TryRead(doc.RootElement, out var v, out var error), error);
        // The reader overload agrees with the element overload.
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), VplJson.ReaderOptions);
        Assert.True(ValueJson.TryRead(ref reader, out var v2, out error), error);
        Same(v, v2);
        return v;
    }

    private static string? PlainError(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 200 });
        Assert.False(ValueJson.TryRead(doc.RootElement, out _, out var error));
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 200 });
        Assert.False(ValueJson.TryRead(ref reader, out _, out var error2));
        Assert.Equal(error, error2);
        return error;
    }

    private static string Typed(Value v)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, VplJson.WriterOptions)) ValueJson.WriteTyped(w, v);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static Value ReadTyped(string json, TypeRegistry? reg = null)
    {
        reg ??= new TypeRegistry();
        using var doc = JsonDocument.Parse(json);
        return ValueJson.ReadTyped(doc.RootElement, reg.GetOrAdd);
    }

    [Fact]
    public void WritesScalars()
    {
        Assert.Equal("null", ValueJson.ToJson(N));
        Assert.Equal("true", ValueJson.ToJson(true));
        Assert.Equal("-42", ValueJson.ToJson(-42L));
        Assert.Equal("100.0", ValueJson.ToJson(100.0));
        Assert.Equal("0.1", ValueJson.ToJson(0.1));
        Assert.Equal("-0.0", ValueJson.ToJson(-0.0));
        Assert.Equal("1E+20", ValueJson.ToJson(1e20));
        Assert.Equal("1E-07", ValueJson.ToJson(1e-7));
        Assert.Equal("null", ValueJson.ToJson(double.NaN));
        Assert.Equal("null", ValueJson.ToJson(double.PositiveInfinity));
        Assert.Equal("null", ValueJson.ToJson(double.NegativeInfinity));
        Assert.Equal("\"a\\\"b é <> \\n\"", ValueJson.ToJson("a\"b é <> \n"));
        Assert.Equal("\"2026-01-23T10:00:00.500Z\"", ValueJson.ToJson(Ts((1_769_162_400L * TimeFormat.NanosPerSecond) + 500_000_000)));
        Assert.Equal("5000000000", ValueJson.ToJson(Sec(5)));
    }

    [Fact]
    public void WritesContainersAndEvents()
    {
        Assert.Equal("[1,2.0,\"x\",null]", ValueJson.ToJson(Arr(1L, 2.0, "x", N)));
        Assert.Equal("{\"b\":1,\"a\":[]}", ValueJson.ToJson(Map(("b", 1L), ("a", Arr()))));
        var reg = new TypeRegistry();
        var e = new Event(reg.DefineOpen("Tick", ["price", "gone", "sym"]), 1_000_000_000, [1.5, N, "A"]);
        Assert.Equal("{\"event_type\":\"Tick\",\"timestamp\":\"1970-01-01T00:00:01Z\",\"data\":{\"price\":1.5,\"sym\":\"A\"}}",
            ValueJson.ToJson(Value.FromEvent(e)));
    }

    [Fact]
    public void ReadsNumbersByTheirLiteral()
    {
        Same(1L, ReadPlain("1"));
        Same(-7L, ReadPlain("-7"));
        Same(1.0, ReadPlain("1.0"));
        Same(1000.0, ReadPlain("1e3"));
        Same(0.5, ReadPlain("0.5"));
        Same(1.2345678901234567E19, ReadPlain("12345678901234567890"));
        Same(long.MaxValue, ReadPlain("9223372036854775807"));
    }

    [Fact]
    public void ReadsStringsArraysAndObjects()
    {
        Same("2026-01-23T10:00:00Z", ReadPlain("\"2026-01-23T10:00:00Z\""));
        Same(Arr(1L, "a", N, true, false), ReadPlain("[1, \"a\", null, true, false]"));
        var m = ReadPlain("{\"z\": 1, \"a\": {\"k\": [2.5]}}");
        Same(Map(("z", 1L), ("a", Map(("k", Arr(2.5))))), m);
        Assert.Equal(["z", "a"], m.AsMap.Keys);
    }

    [Fact]
    public void NumbersBeyondTheFloatRangeAreErrors()
    {
        Assert.Equal("number 1e400 is out of range", PlainError("1e400"));
        Assert.Equal("number -1e400 is out of range", PlainError("[-1e400]"));
    }

    [Fact]
    public void NestingIsLimitedTo64Levels()
    {
        string ok = new string('[', 64) + new string(']', 64);
        Assert.Single(ReadPlain(ok).AsArray);
        string deep = new string('[', 65) + new string(']', 65);
        Assert.Equal("nesting deeper than 64 levels", PlainError(deep));
        string deepObj = string.Concat(Enumerable.Repeat("{\"a\":", 65)) + "1" + new string('}', 65);
        Assert.Equal("nesting deeper than 64 levels", PlainError(deepObj));
    }

    [Fact]
    public void RepeatedKeysInOneObjectAreErrors()
    {
        Assert.Equal("duplicate key 'k'", PlainError("{\"k\": 1, \"k\": 2}"));
        Assert.Equal("duplicate key 'k'", PlainError("[{\"a\": {\"k\": 1, \"k\": 2}}]"));
        using var doc = JsonDocument.Parse("{\"k\": 1, \"k\": 2}");
        Assert.Equal("duplicate key 'k'", Assert.Throws<JsonException>(() => ValueJson.ReadTyped(doc.RootElement, new TypeRegistry().GetOrAdd)).Message);
    }

    [Fact]
    public void FloatsAreWrittenAsTheirShortestRoundTripTextWithAFraction()
    {
        var rng = new Random(42);
        var samples = new List<double>
        {
            0.0, -0.0, 1.0, -1.0, 40.0, 1e14, 999999999999999.0, 1e15, -1e15, 1e16, 123456789012345.0, 0.5, 1.0 / 3, 1e-300,
            double.MaxValue, double.MinValue, double.Epsilon, 9007199254740993.0, -2.5,
        };
        for (int i = 0; i < 2000; i++)
        {
            samples.Add(BitConverter.Int64BitsToDouble(rng.NextInt64()));
            samples.Add(Math.Round(rng.NextDouble() * 2e6 - 1e6, rng.Next(0, 4)));
            samples.Add(Math.Floor(rng.NextDouble() * Math.Pow(10, rng.Next(0, 17))));
        }
        foreach (var d in samples.Where(double.IsFinite))
        {
            Assert.Equal(Value.FormatFloat(d), ValueJson.ToJson(d));
        }
    }

    [Fact]
    public void TimestampsAreWrittenAsTimeFormatRendersThem()
    {
        var rng = new Random(7);
        var samples = new List<long> { 0, -1, 1, long.MinValue, long.MaxValue, 1_000_000, 1_000, 999_999_999, -1_000_000_000, 1_769_162_400_123_000_000 };
        for (int i = 0; i < 2000; i++)
        {
            long t = rng.NextInt64(long.MinValue, long.MaxValue);
            samples.Add(t);
            samples.Add(t / 1000 * 1000);
            samples.Add(t / 1_000_000 * 1_000_000);
            samples.Add(t / 1_000_000_000 * 1_000_000_000);
        }
        foreach (var t in samples)
        {
            Assert.Equal("\"" + TimeFormat.FormatTimestamp(t) + "\"", ValueJson.ToJson(Ts(t)));
        }
    }

    [Fact]
    public void ReadThrowsJsonExceptionWithTheMessage()
    {
        using var doc = JsonDocument.Parse("1e400");
        Assert.Equal("number 1e400 is out of range", Assert.Throws<JsonException>(() => ValueJson.Read(doc.RootElement)).Message);
    }

    [Fact]
    public void ReaderOverloadReportsMalformedJson()
    {
        var reader = new Utf8JsonReader("[1, 2"u8, isFinalBlock: true, state: default);
        Assert.False(ValueJson.TryRead(ref reader, out _, out var error));
        Assert.NotNull(error);
        var ok = new Utf8JsonReader("{\"a\": [1.5]}"u8);
        Same(Map(("a", Arr(1.5))), ValueJson.Read(ref ok));
    }

    [Fact]
    public void TypedCodecWritesTagsOnlyWhereNeeded()
    {
        Assert.Equal("1", Typed(1L));
        Assert.Equal("1.0", Typed(1.0));
        Assert.Equal("{\"$float\":\"NaN\"}", Typed(double.NaN));
        Assert.Equal("{\"$float\":\"-Infinity\"}", Typed(double.NegativeInfinity));
        Assert.Equal("{\"$ts\":5}", Typed(Ts(5)));
        Assert.Equal("{\"$dur\":-5}", Typed(Dur(-5)));
        Assert.Equal("{\"a\":{\"$ts\":1}}", Typed(Map(("a", Ts(1)))));
        Assert.Equal("{\"$map\":{\"$ts\":1}}", Typed(Map(("$ts", 1L))));
        Assert.Equal("{\"$a\":1,\"$b\":2}", Typed(Map(("$a", 1L), ("$b", 2L))));
        Assert.Equal("\"$ts\"", Typed("$ts"));
    }

    [Fact]
    public void TypedCodecRoundTripsEveryKindExactly()
    {
        var reg = new TypeRegistry();
        var inner = new Event(reg.DefineOpen("B", ["p", "q"]), 7, [Value.FromFloat(2.0), Value.Null]);
        var outer = new Event(reg.DefineOpen("A", ["b", "t"]), -3, [Value.FromEvent(inner), Ts(9)]);
        Value[] samples =
        [
            N, true, false, 0L, long.MinValue, long.MaxValue, 0.0, -0.0, 100.0, 0.1, 1e-300, 1e300, 123456789.125,
            double.Epsilon, double.MaxValue, double.NaN, double.PositiveInfinity, double.NegativeInfinity, "", "é\"\\\n\u0001",
            "$float", Ts(long.MinValue), Ts(0), Ts(1_769_162_400_123_456_789), Dur(long.MaxValue), Dur(-1),
            Arr(), Arr(1L, 1.0, Arr(Ts(1)), Map()), Map(), Map(("k", Dur(3)), ("n", N)), Map(("$event", 1L)), Map(("$x", Map(("$y", 2.5)))),
            Value.FromEvent(inner), Value.FromEvent(outer), Arr(Value.FromEvent(inner), Value.FromEvent(inner)),
        ];
        foreach (var v in samples)
        {
            var json = Typed(v);
            var back = ReadTyped(json, reg);
            Same(v, back);
            Assert.Equal(json, Typed(back));
        }
        Assert.Equal(-0.0, ReadTyped(Typed(-0.0)).AsFloat);
        Assert.True(double.IsNegative(ReadTyped(Typed(-0.0)).AsFloat));
    }

    [Fact]
    public void TypedEventsResolveTheirTypeByName()
    {
        var reg = new TypeRegistry();
        var declared = reg.Declare("D", null, [("x", VplType.Int), ("y", VplType.String.AsNullable())]);
        var v = ReadTyped("{\"$event\":{\"type\":\"D\",\"ts\":5,\"fields\":{\"y\":\"s\",\"x\":2}}}", reg);
        Assert.Same(declared, v.AsEvent.Type);
        Assert.Equal(5, v.AsEvent.Timestamp);
        Same(2L, v.AsEvent.Fields[0]);
        Same("s", v.AsEvent.Fields[1]);
    }

    [Fact]
    public void TypedCodecRejectsMalformedInput()
    {
        var reg = new TypeRegistry();
        reg.Declare("D", null, [("x", VplType.Int)]);
        string Err(string json)
        {
            using var doc = JsonDocument.Parse(json, VplJson.DocumentOptions);
            return Assert.Throws<JsonException>(() => ValueJson.ReadTyped(doc.RootElement, reg.GetOrAdd)).Message;
        }
        Assert.Equal("unknown value tag '$nope'", Err("{\"$nope\": 1}"));
        Assert.Equal("'$ts' must be an integer number of nanoseconds", Err("{\"$ts\": 1.5}"));
        Assert.Equal("'$dur' must be an integer number of nanoseconds", Err("{\"$dur\": \"5s\"}"));
        Assert.Equal("'$float' must be \"NaN\", \"Infinity\" or \"-Infinity\"", Err("{\"$float\": \"nan\"}"));
        Assert.Equal("'$map' must be an object", Err("{\"$map\": []}"));
        Assert.Equal("a checkpoint event must be {\"type\": string, \"ts\": integer, \"fields\": object}", Err("{\"$event\": {\"type\": \"D\"}}"));
        Assert.Equal("unknown field 'z' for event type 'D' in checkpoint", Err("{\"$event\": {\"type\": \"D\", \"ts\": 1, \"fields\": {\"z\": 1}}}"));
        Assert.Equal("nesting deeper than 64 levels", Err(new string('[', 65) + new string(']', 65)));
    }

    [Fact]
    public void CheckpointEventsRoundTrip()
    {
        var reg = new TypeRegistry();
        var t = reg.DefineOpen("T", ["a", "b", "c"]);
        var e = new Event(t, 1_700_000_000_123_456_789, [double.NaN, N, Map(("$ts", Ts(4)))]);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, VplJson.WriterOptions)) EventJson.WriteCheckpointEvent(w, e);
        var json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.Equal("{\"type\":\"T\",\"ts\":1700000000123456789,\"fields\":{\"a\":{\"$float\":\"NaN\"},\"c\":{\"$map\":{\"$ts\":{\"$ts\":4}}}}}", json);

        // Restored into a fresh registry: the open type is recreated from the field names.
        var fresh = new TypeRegistry();
        using var doc = JsonDocument.Parse(json);
        var back = EventJson.ReadCheckpointEvent(doc.RootElement, fresh.GetOrAdd);
        SameEvent(e, back);
        Assert.Equal(["a", "c"], fresh.GetOrAdd("T").FieldNames);
    }

    [Fact]
    public void CheckpointEventWithAnUnresolvableTypeIsAnError()
    {
        using var doc = JsonDocument.Parse("{\"type\":\"Gone\",\"ts\":1,\"fields\":{}}");
        var ex = Assert.Throws<JsonException>(() => EventJson.ReadCheckpointEvent(doc.RootElement, name => throw new KeyNotFoundException(name)));
        Assert.Equal("unknown event type 'Gone' in checkpoint", ex.Message);
    }
}
