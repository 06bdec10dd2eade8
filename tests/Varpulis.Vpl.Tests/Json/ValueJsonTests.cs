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
}
