using System.Text.Json.Nodes;
using Varpulis.Vpl.Runtime;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Runtime;

/// <summary>The lossless value and event codec of checkpoints: exact round trips, through text and in memory, and precise errors.</summary>
public class CheckpointCodecTests
{
    private static readonly Value N = Value.Null;

    private static string Text(Value v) => CheckpointCodec.EncodeValue(v)?.ToJsonString() ?? "null";

    private static Value FromText(string json, TypeRegistry? reg = null)
        => CheckpointCodec.DecodeValue(JsonNode.Parse(json), reg ?? new TypeRegistry());

    [Fact]
    public void TagsOnlyWhatPlainJsonWouldLose()
    {
        Assert.Equal("1", Text(1L));
        Assert.Equal("0.5", Text(0.5));
        Assert.Equal("{\"$f\":1}", Text(1.0));
        Assert.Equal("{\"$f\":\"NaN\"}", Text(double.NaN));
        Assert.Equal("{\"$f\":\"-Infinity\"}", Text(double.NegativeInfinity));
        Assert.Equal("{\"$ts\":5}", Text(Ts(5)));
        Assert.Equal("{\"$dur\":-5}", Text(Dur(-5)));
        Assert.Equal("{\"$map\":{\"a\":{\"$ts\":1}}}", Text(Map(("a", Ts(1)))));
        Assert.Equal("\"$ts\"", Text("$ts"));
        Assert.Equal("[1,null,true]", Text(Arr(1L, N, true)));
    }

    [Fact]
    public void EveryKindRoundTripsExactlyThroughTextAndInMemory()
    {
        var reg = new TypeRegistry();
        var inner = new Event(reg.DefineOpen("B", ["p", "q"]), 7, [Value.FromFloat(2.0), Value.Null]);
        var outer = new Event(reg.DefineOpen("A", ["b", "t"]), -3, [Value.FromEvent(inner), Ts(9)]);
        Value[] samples =
        [
            N, true, false, 0L, long.MinValue, long.MaxValue, 0.0, -0.0, 100.0, 0.1, 1e-300, 1e300, 123456789.125,
            double.Epsilon, double.MaxValue, double.NaN, double.PositiveInfinity, double.NegativeInfinity, "", "é\"\\\n\u0001",
            "$f", Ts(long.MinValue), Ts(0), Ts(1_769_162_400_123_456_789), Dur(long.MaxValue), Dur(-1),
            Arr(), Arr(1L, 1.0, Arr(Ts(1)), Map()), Map(), Map(("k", Dur(3)), ("n", N)), Map(("$event", 1L)), Map(("$x", Map(("$y", 2.5)))),
            Value.FromEvent(inner), Value.FromEvent(outer), Arr(Value.FromEvent(inner), Value.FromEvent(inner)),
        ];
        foreach (var v in samples)
        {
            var json = Text(v);
            Same(v, FromText(json, reg));
            Same(v, CheckpointCodec.DecodeValue(CheckpointCodec.EncodeValue(v), reg));
            Assert.Equal(json, Text(FromText(json, reg)));
        }
        Assert.True(double.IsNegative(FromText(Text(-0.0)).AsFloat));
    }

    [Fact]
    public void EventsResolveTheirTypeByNameAndRecreateOpenTypes()
    {
        var reg = new TypeRegistry();
        var declared = reg.Declare("D", null, [("x", VplType.Int), ("y", VplType.String.AsNullable())]);
        var v = FromText("{\"$event\":{\"type\":\"D\",\"ts\":5,\"fields\":{\"y\":\"s\",\"x\":2}}}", reg);
        Assert.Same(declared, v.AsEvent.Type);
        Assert.Equal(5, v.AsEvent.Timestamp);
        Same(2L, v.AsEvent.Fields[0]);
        Same("s", v.AsEvent.Fields[1]);

        var t = new TypeRegistry().DefineOpen("T", ["a", "b", "c"]);
        var e = new Event(t, 1_700_000_000_123_456_789, [double.NaN, N, Map(("$ts", Ts(4)))]);
        var json = CheckpointCodec.EncodeEvent(e).ToJsonString();
        Assert.Equal("{\"type\":\"T\",\"ts\":1700000000123456789,\"fields\":{\"a\":{\"$f\":\"NaN\"},\"c\":{\"$map\":{\"$ts\":{\"$ts\":4}}}}}", json);
        var fresh = new TypeRegistry();
        var back = CheckpointCodec.DecodeEvent(JsonNode.Parse(json)!, fresh);
        SameEvent(e, back);
        Assert.Equal(["a", "c"], fresh.GetOrAdd("T").FieldNames);
    }

    [Fact]
    public void MalformedDocumentsAreRejectedWithTheReason()
    {
        var reg = new TypeRegistry();
        reg.Declare("D", null, [("x", VplType.Int)]);
        string Err(string json) => Assert.Throws<CheckpointException>(() => FromText(json, reg)).Message;
        Assert.Equal("unknown value tag '$nope'", Err("{\"$nope\": 1}"));
        Assert.Equal("a checkpoint value object must have exactly one tag ($f, $ts, $dur, $map or $event)", Err("{\"$ts\": 1, \"$dur\": 2}"));
        Assert.Equal("'$ts' must be an integer number of nanoseconds", Err("{\"$ts\": 1.5}"));
        Assert.Equal("'$dur' must be an integer number of nanoseconds", Err("{\"$dur\": \"5s\"}"));
        Assert.Equal("'$f' must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"", Err("{\"$f\": \"nan\"}"));
        Assert.Equal("'$map' must be an object", Err("{\"$map\": []}"));
        Assert.Equal("a checkpoint event must be {\"type\": string, \"ts\": integer, \"fields\": object}", Err("{\"$event\": {\"type\": \"D\"}}"));
        Assert.Equal("unknown field 'z' for event type 'D' in checkpoint", Err("{\"$event\": {\"type\": \"D\", \"ts\": 1, \"fields\": {\"z\": 1}}}"));
        var deep = JsonNode.Parse(new string('[', 60) + new string(']', 60));
        for (int i = 0; i < 10; i++) deep = new JsonArray(deep);
        Assert.Equal("checkpoint values are nested deeper than 64 levels",
            Assert.Throws<CheckpointException>(() => CheckpointCodec.DecodeValue(deep, reg)).Message);
    }
}
