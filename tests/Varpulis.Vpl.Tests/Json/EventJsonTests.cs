using System.Buffers;
using System.Text;
using System.Text.Json;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;
using Xunit;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Json;

public class EventJsonTests
{
    private const long DefaultTs = 777;
    private static readonly Value N = Value.Null;

    private static Event Sample()
    {
        var reg = new TypeRegistry();
        var t = reg.DefineOpen("Alert", ["sensor", "value", "missing", "at", "tags"]);
        return new Event(t, 1_769_162_400L * TimeFormat.NanosPerSecond, ["S1", 95.0, N, Ts(0), Arr(1L, "x")]);
    }

    private static string Output(Event e, OutputShape shape)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, VplJson.WriterOptions)) EventJson.WriteOutput(w, e, shape);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void DataShape()
    {
        Assert.Equal(
            "{\"event_type\":\"Alert\",\"timestamp\":\"2026-01-23T10:00:00Z\",\"data\":{\"sensor\":\"S1\",\"value\":95.0,\"at\":\"1970-01-01T00:00:00Z\",\"tags\":[1,\"x\"]}}",
            Output(Sample(), OutputShape.Data));
    }

    [Fact]
    public void FieldsShape()
    {
        Assert.Equal(
            "{\"event_type\":\"Alert\",\"timestamp\":\"2026-01-23T10:00:00Z\",\"fields\":{\"sensor\":\"S1\",\"value\":95.0,\"at\":\"1970-01-01T00:00:00Z\",\"tags\":[1,\"x\"]}}",
            Output(Sample(), OutputShape.Fields));
    }

    [Fact]
    public void FlatShape()
    {
        Assert.Equal(
            "{\"event_type\":\"Alert\",\"timestamp\":\"2026-01-23T10:00:00Z\",\"sensor\":\"S1\",\"value\":95.0,\"at\":\"1970-01-01T00:00:00Z\",\"tags\":[1,\"x\"]}",
            Output(Sample(), OutputShape.Flat));
    }

    [Fact]
    public void FlatShapeLetsADataFieldNamedEventTypeReplaceTheHeader()
    {
        var reg = new TypeRegistry();
        var e = new Event(reg.DefineOpen("S", ["event_type", "n"]), 0, ["Custom", 1L]);
        Assert.Equal("{\"timestamp\":\"1970-01-01T00:00:00Z\",\"event_type\":\"Custom\",\"n\":1}", Output(e, OutputShape.Flat));
        Assert.Equal("{\"event_type\":\"S\",\"timestamp\":\"1970-01-01T00:00:00Z\",\"data\":{\"event_type\":\"Custom\",\"n\":1}}", Output(e, OutputShape.Data));
    }

    [Fact]
    public void EventWithFieldsBeyondTheArrayAndNoFields()
    {
        var reg = new TypeRegistry();
        var e = new Event(reg.DefineOpen("E", ["a", "b"]), 0, []);
        Assert.Equal("{\"event_type\":\"E\",\"timestamp\":\"1970-01-01T00:00:00Z\",\"data\":{}}", EventJson.ToJsonLine(e));
    }

    [Fact]
    public void FieldsAddedToAnOpenTypeAfterAFirstWriteAreWritten()
    {
        var reg = new TypeRegistry();
        var t = reg.DefineOpen("Grow", ["a"]);
        Assert.Equal("{\"event_type\":\"Grow\",\"timestamp\":\"1970-01-01T00:00:00Z\",\"data\":{\"a\":1}}", EventJson.ToJsonLine(new Event(t, 0, [1L])));
        t.GetOrAddSlot("b");
        Assert.Equal("{\"event_type\":\"Grow\",\"timestamp\":\"1970-01-01T00:00:00Z\",\"data\":{\"a\":1,\"b\":\"x\"}}", EventJson.ToJsonLine(new Event(t, 0, [1L, "x"])));
        var other = reg.DefineOpen("Other \"quoted\" é", ["k\"ey"]);
        Assert.Equal("{\"event_type\":\"Other \\\"quoted\\\" é\",\"timestamp\":\"1970-01-01T00:00:00Z\",\"data\":{\"k\\\"ey\":true}}", EventJson.ToJsonLine(new Event(other, 0, [true])));
    }

    [Fact]
    public void JsonLineConveniences()
    {
        var e = Sample();
        var expected = Output(e, OutputShape.Data);
        Assert.Equal(expected, EventJson.ToJsonLine(e));
        Assert.Equal(expected, Encoding.UTF8.GetString(EventJson.ToJsonLineUtf8(e)));
        Assert.Equal(Output(e, OutputShape.Flat), EventJson.ToJsonLine(e, OutputShape.Flat));
        // Repeated calls reuse the per-thread buffer and must not leak earlier output.
        Assert.Equal(expected, EventJson.ToJsonLine(e));
        var sink = new ArrayBufferWriter<byte>();
        EventJson.WriteJsonLine(sink, e);
        EventJson.WriteJsonLine(sink, e, OutputShape.Fields);
        Assert.Equal(expected + "\n" + Output(e, OutputShape.Fields) + "\n", Encoding.UTF8.GetString(sink.WrittenSpan));
    }

    // ---------------------------------------------------------------- input

    private static (Event? Event, string? Error) Input(string json, TypeRegistry? reg = null)
    {
        reg ??= new TypeRegistry();
        using var doc = JsonDocument.Parse(json, VplJson.DocumentOptions);
        var ok = EventJson.TryReadInput(doc.RootElement, new EventBuilder(reg), DefaultTs, out var e, out var error);
        Assert.Equal(ok, e is not null);
        Assert.Equal(ok, error is null);
        return (e, error);
    }

    private static Event Ok(string json, TypeRegistry? reg = null)
    {
        var (e, error) = Input(json, reg);
        Assert.True(e is not null, error);
        return e!;
    }

    private static string Err(string json, TypeRegistry? reg = null) => Input(json, reg).Error!;

    [Fact]
    public void ReadsARunbookEvent()
    {
        var e = Ok("{\"event_type\": \"TempReading\", \"fields\": {\"sensor\": \"S1\", \"value\": 95.5}}");
        Assert.Equal("TempReading", e.Type.Name);
        Assert.Equal(DefaultTs, e.Timestamp);
        Same("S1", e.Get("sensor"));
        Same(95.5, e.Get("value"));
    }

    [Fact]
    public void DataIsAnAliasOfFields()
    {
        var e = Ok("{\"event_type\": \"T\", \"data\": {\"n\": 1}}");
        Same(1L, e.Get("n"));
        Assert.Equal("give either 'fields' or 'data', not both", Err("{\"event_type\": \"T\", \"data\": {}, \"fields\": {}}"));
    }

    [Fact]
    public void FieldsMayBeAbsent()
    {
        Assert.Empty(Ok("{\"event_type\": \"T\"}").Fields);
    }

    [Fact]
    public void TopLevelTimestamp()
    {
        Assert.Equal(1_700_000_000_000 * TimeFormat.NanosPerMilli, Ok("{\"event_type\": \"T\", \"timestamp\": 1700000000000, \"fields\": {}}").Timestamp);
        Assert.Equal(1_769_162_400_500_000_000, Ok("{\"event_type\": \"T\", \"timestamp\": \"2026-01-23T10:00:00.5Z\"}").Timestamp);
        Assert.Equal(1_769_155_200L * TimeFormat.NanosPerSecond, Ok("{\"event_type\": \"T\", \"timestamp\": \"2026-01-23T10:00:00+02:00\"}").Timestamp);
        Assert.Equal(DefaultTs, Ok("{\"event_type\": \"T\", \"timestamp\": null}").Timestamp);
    }

    [Fact]
    public void TimestampInsideFieldsIsTheEventTimeAndLeavesTheData()
    {
        var e = Ok("{\"event_type\": \"T\", \"fields\": {\"timestamp\": 1000, \"v\": 1}}");
        Assert.Equal(1000 * TimeFormat.NanosPerMilli, e.Timestamp);
        Assert.Equal(["v"], e.PresentFields().Select(kv => kv.Key));
    }

    [Fact]
    public void TopLevelTimestampWinsAndFieldTimestampStaysData()
    {
        var e = Ok("{\"event_type\": \"T\", \"timestamp\": 5, \"fields\": {\"timestamp\": \"x\"}}");
        Assert.Equal(5 * TimeFormat.NanosPerMilli, e.Timestamp);
        Same("x", e.Get("timestamp"));
    }

    [Fact]
    public void DeclaredTimestampFieldIsKeptAsData()
    {
        var reg = new TypeRegistry();
        reg.Declare("R", null, [("timestamp", VplType.Timestamp), ("v", VplType.Float)]);
        var e = Ok("{\"event_type\": \"R\", \"fields\": {\"timestamp\": \"2026-01-23T10:00:00Z\", \"v\": 1}}", reg);
        Assert.Equal(1_769_162_400L * TimeFormat.NanosPerSecond, e.Timestamp);
        Same(Ts(1_769_162_400L * TimeFormat.NanosPerSecond), e.Get("timestamp"));
        Same(1.0, e.Get("v"));
    }

    [Fact]
    public void InvalidTimestamps()
    {
        Assert.Equal("invalid timestamp 'yesterday': expected RFC 3339 or epoch milliseconds",
            Err("{\"event_type\": \"T\", \"timestamp\": \"yesterday\"}"));
        Assert.Equal("invalid timestamp '1.5': expected RFC 3339 or epoch milliseconds",
            Err("{\"event_type\": \"T\", \"timestamp\": 1.5}"));
        Assert.Equal("invalid timestamp 'true': expected RFC 3339 or epoch milliseconds",
            Err("{\"event_type\": \"T\", \"fields\": {\"timestamp\": true}}"));
    }

    [Fact]
    public void OutOfRangeTimestampsStateTheRange()
    {
        const string range = "timestamps go from 1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z (epoch milliseconds -9223372036854 to 9223372036854)";
        Assert.Equal("timestamp '9999-12-31T00:00:00Z' is out of range: " + range,
            Err("{\"event_type\": \"T\", \"timestamp\": \"9999-12-31T00:00:00Z\"}"));
        Assert.Equal("timestamp '1600-01-01T00:00:00Z' is out of range: " + range,
            Err("{\"event_type\": \"T\", \"fields\": {\"timestamp\": \"1600-01-01T00:00:00Z\"}}"));
        Assert.Equal("timestamp 9223372036854775807 is out of range: " + range,
            Err("{\"event_type\": \"T\", \"timestamp\": 9223372036854775807}"));
        Assert.Equal("timestamp 9223372036855 is out of range: " + range,
            Err("{\"event_type\": \"T\", \"timestamp\": 9223372036855}"));
        Assert.Equal("timestamp -99999999999999999999999 is out of range: " + range,
            Err("{\"event_type\": \"T\", \"timestamp\": -99999999999999999999999}"));
        // The stated ends are accepted, in both forms.
        Assert.Equal(9_223_372_036_854L * TimeFormat.NanosPerMilli, Ok("{\"event_type\": \"T\", \"timestamp\": 9223372036854}").Timestamp);
        Assert.Equal(-9_223_372_036_854L * TimeFormat.NanosPerMilli, Ok("{\"event_type\": \"T\", \"timestamp\": -9223372036854}").Timestamp);
        Assert.Equal(9_223_372_036_854L * TimeFormat.NanosPerMilli, Ok("{\"event_type\": \"T\", \"timestamp\": \"2262-04-11T23:47:16.854Z\"}").Timestamp);
        Assert.Equal(-9_223_372_036_854L * TimeFormat.NanosPerMilli, Ok("{\"event_type\": \"T\", \"timestamp\": \"1677-09-21T00:12:43.146Z\"}").Timestamp);
    }

    [Fact]
    public void EnvelopeErrors()
    {
        Assert.Equal("missing required field 'event_type'", Err("{\"fields\": {}}"));
        Assert.Equal("'event_type' must be a non-empty string", Err("{\"event_type\": \"\"}"));
        Assert.Equal("'event_type' must be a non-empty string", Err("{\"event_type\": 5}"));
        Assert.Equal("'event_type' must be a non-empty string", Err("{\"event_type\": null}"));
        Assert.Equal("'fields' must be an object", Err("{\"event_type\": \"T\", \"fields\": [1]}"));
        Assert.Equal("'data' must be an object", Err("{\"event_type\": \"T\", \"data\": null}"));
        Assert.Equal("an event must be a JSON object", Err("[1]"));
        Assert.Equal("duplicate property 'event_type'", Err("{\"event_type\": \"T\", \"event_type\": \"U\"}"));
        Assert.Equal("unknown property 'evnt'; an event has 'event_type', 'fields' (or 'data') and 'timestamp'",
            Err("{\"event_type\": \"T\", \"evnt\": 1}"));
    }

    [Fact]
    public void FieldErrorsComeFromTheBuilder()
    {
        var reg = new TypeRegistry();
        reg.Declare("Order", null, [("qty", VplType.Int), ("price", VplType.Float)]);
        Assert.Equal("field 'qty' of 'Order' expects int, got float 2.5",
            Err("{\"event_type\": \"Order\", \"fields\": {\"qty\": 2.5, \"price\": 1}}", reg));
        Assert.Equal("unknown field 'pricee' for event type 'Order' (did you mean 'price'?)",
            Err("{\"event_type\": \"Order\", \"fields\": {\"pricee\": 1}}", reg));
        Assert.Equal("missing field 'price' for event type 'Order'",
            Err("{\"event_type\": \"Order\", \"fields\": {\"qty\": 2}}", reg));
        Assert.Equal("duplicate field 'a' for event type 'T'", Err("{\"event_type\": \"T\", \"fields\": {\"a\": 1, \"a\": 2}}"));
        var ok = Ok("{\"event_type\": \"Order\", \"fields\": {\"qty\": 2.0, \"price\": 3}}", reg);
        Same(2L, ok.Get("qty"));
        Same(3.0, ok.Get("price"));
    }

    [Fact]
    public void FieldValueErrorsNameTheField()
    {
        Assert.Equal("field 'big': number 1e999 is out of range", Err("{\"event_type\": \"T\", \"fields\": {\"big\": 1e999}}"));
        string deep = new string('[', 65) + new string(']', 65);
        Assert.Equal("field 'd': nesting deeper than 64 levels", Err("{\"event_type\": \"T\", \"fields\": {\"d\": " + deep + "}}"));
    }

    [Fact]
    public void NestedValuesAreRead()
    {
        var e = Ok("{\"event_type\": \"T\", \"fields\": {\"m\": {\"k\": [1, 2.0]}, \"s\": \"2026-01-23\"}}");
        Same(Map(("k", Arr(1L, 2.0))), e.Get("m"));
        Same("2026-01-23", e.Get("s"));
    }
}
