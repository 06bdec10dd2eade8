using System.Text;
using System.Text.Json;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Json;

/// <summary>
/// The streaming request reader against the document path it replaces (a <see cref="JsonDocument"/> of the body, the
/// batch envelope checks of the server, <see cref="EventJson.TryReadInput"/> per event): over the same bodies, in the
/// same order, against registries compiled from the same program, both must give the same request error, the same
/// events (type, timestamp, field slots and values), the same per-event errors and leave the same schemas.
/// </summary>
public class JsonEventReaderTests
{
    private const long IngestTime = 1_700_000_000_123_000_000;

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
            ok: bool?
            timestamp: int?
        stream Out = Tick .where(price > 1.0) .emit(symbol: symbol)
        stream Open = Login .emit(user: user)
        """;

    private static TypeRegistry Registry()
    {
        var c = VplCompiler.Compile(Program);
        return (c.Program ?? throw new InvalidOperationException(string.Join("\n", c.Diagnostics.Select(d => d.Format())))).Types;
    }

    /// <summary>What one body gave: a request error, or the events and per-event errors (or the exception thrown).</summary>
    private sealed record Outcome(string? RequestError, List<string> Events, List<string> Errors, string? Thrown);

    /// <summary>Today's path: the server's envelope checks around <see cref="EventJson.TryReadInput"/> over a document.</summary>
    private static Outcome Reference(byte[] body, bool isBatch, EventBuilder builder)
    {
        var events = new List<string>();
        var errors = new List<string>();
        try
        {
            if (JsonText.FindEncodingProblem(body, "request body") is { } problem) return new Outcome(problem, events, errors, null);
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(body, VplJson.DocumentOptions);
            }
            catch (JsonException ex)
            {
                return new Outcome("invalid JSON: " + JsonText.Describe(ex, body), events, errors, null);
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (!isBatch)
                {
                    if (!EventJson.TryReadInput(root, builder, IngestTime, out var e, out var error)) return new Outcome(error ?? "invalid event", events, errors, null);
                    events.Add(Describe(e!));
                    return new Outcome(null, events, errors, null);
                }
                if (root.ValueKind != JsonValueKind.Object) return new Outcome("a batch must be a JSON object {\"events\": [...]}", events, errors, null);
                JsonElement items = default;
                bool found = false;
                foreach (var p in root.EnumerateObject())
                {
                    if (p.NameEquals("events") && !found)
                    {
                        items = p.Value;
                        found = true;
                    }
                    else
                    {
                        return new Outcome($"unknown property '{Truncate(p.Name)}'; a batch is {{\"events\": [...]}}", events, errors, null);
                    }
                }
                if (!found) return new Outcome("missing required field 'events'", events, errors, null);
                if (items.ValueKind != JsonValueKind.Array) return new Outcome("'events' must be an array", events, errors, null);
                int index = 0;
                foreach (var item in items.EnumerateArray())
                {
                    if (EventJson.TryReadInput(item, builder, IngestTime, out var e, out var error)) events.Add(Describe(e!));
                    else errors.Add($"{index}: {error ?? "invalid event"}");
                    index++;
                }
                return new Outcome(null, events, errors, null);
            }
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            return new Outcome(null, [], [], ex.GetType().Name + ": " + ex.Message);
        }
    }

    private static Outcome Streaming(byte[] body, bool isBatch, JsonEventReader reader)
    {
        var accepted = new List<Event>();
        var errors = new List<JsonEventError>();
        try
        {
            var requestError = reader.Read(body, isBatch, IngestTime, accepted, errors);
            return new Outcome(requestError, accepted.Select(Describe).ToList(), errors.Select(e => $"{e.Index}: {e.Error}").ToList(), null);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            return new Outcome(null, [], [], ex.GetType().Name + ": " + ex.Message);
        }
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "...";

    /// <summary>Everything about an event: type, timestamp, the field array's length and each slot's kind and value.</summary>
    private static string Describe(Event e)
    {
        var sb = new StringBuilder();
        sb.Append(e.Type.Name).Append('#').Append(e.Type.Id).Append(" @").Append(e.Timestamp).Append(" [").Append(e.Fields.Length).Append("] ");
        foreach (var v in e.Fields) sb.Append(v.Kind).Append(':').Append(v.IsNull ? "" : ValueJson.ToJson(v)).Append(" | ");
        return sb.ToString();
    }

    private static string Schemas(TypeRegistry types)
        => string.Join("; ", types.All.Select(t => $"{t.Id}:{t.Name}({string.Join(",", t.FieldNames)})"));

    /// <summary>Runs both paths over the bodies in order, each against its own registry, and compares after every body.</summary>
    private static int AssertSame(IEnumerable<(byte[] Body, bool IsBatch)> bodies)
    {
        var refTypes = Registry();
        var newTypes = Registry();
        var builder = new EventBuilder(refTypes);
        var reader = new JsonEventReader(newTypes);
        int n = 0;
        foreach (var (body, isBatch) in bodies)
        {
            var expected = Reference(body, isBatch, builder);
            var actual = Streaming(body, isBatch, reader);
            string what = $"body #{n} ({(isBatch ? "batch" : "single")}): {Encoding.UTF8.GetString(body)}";
            Assert.True(expected.RequestError == actual.RequestError, $"{what}\nrequest error: expected {expected.RequestError}\nactual {actual.RequestError}");
            Assert.True(expected.Thrown == actual.Thrown, $"{what}\nthrown: expected {expected.Thrown}\nactual {actual.Thrown}");
            Assert.True(expected.Events.SequenceEqual(actual.Events), $"{what}\nevents: expected\n{string.Join("\n", expected.Events)}\nactual\n{string.Join("\n", actual.Events)}");
            Assert.True(expected.Errors.SequenceEqual(actual.Errors), $"{what}\nerrors: expected\n{string.Join("\n", expected.Errors)}\nactual\n{string.Join("\n", actual.Errors)}");
            Assert.Equal(Schemas(refTypes), Schemas(newTypes));
            n++;
        }
        return n;
    }

    private static (byte[], bool) Single(string json) => (Encoding.UTF8.GetBytes(json), false);

    private static (byte[], bool) Batch(string json) => (Encoding.UTF8.GetBytes(json), true);

    /// <summary>Event objects, valid and not, used alone and inside batches.</summary>
    private static readonly string[] EventBodies =
    [
        """{"event_type":"Tick","fields":{"symbol":"AAPL","price":101.5,"qty":3}}""",
        """{"event_type":"Tick","fields":{"symbol":"AAPL","price":101,"qty":3.0}}""",
        """{"event_type":"Tick","fields":{"price":7,"symbol":"MSFT"},"timestamp":1700000000000}""",
        """{"timestamp":"2026-01-23T10:00:00.5Z","event_type":"Tick","data":{"symbol":"X","price":2.5}}""",
        """{"event_type":"Tick","timestamp":null,"fields":{"symbol":"X","price":2.5}}""",
        """{"fields":{"symbol":"X","price":2.5},"event_type":"Tick"}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":2.5,"timestamp":5}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":2.5},"timestamp":"yesterday"}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":2.5},"timestamp":1.5}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":2.5},"timestamp":true}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":2.5},"timestamp":{"a":[1, 2]}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":2.5},"timestamp":9223372036854775807}""",
        """{"event_type":"Tick","fields":{"symbol":"X"}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":"high"}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1,"colour":"red"}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1,"prcie":2}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1,"price":2}}""",
        """{"event_type":"Tick","fields":{"symbol":null,"price":1}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1,"qty":null}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1,"qty":2.5}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1e400}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":-0.0}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":123456789012345678901234567890}}""",
        """{"event_type":"Tick","fields":[]}""",
        """{"event_type":"Tick","fields":null}""",
        """{"event_type":"Tick"}""",
        """{"event_type":"Tick","fields":{},"data":{}}""",
        """{"event_type":"Tick","data":{},"data":{}}""",
        """{"event_type":"Tick","event_type":"Tick","fields":{}}""",
        """{"event_type":"","fields":{}}""",
        """{"event_type":5,"fields":{}}""",
        """{"event_type":null}""",
        """{"fields":{"a":1}}""",
        """{}""",
        """{"type":"Tick","fields":{}}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1},"extra":1}""",
        """{"event_type":"Login","fields":{"user":"u1","n":1}}""",
        """{"event_type":"Login","fields":{"n":2,"user":"u2","new_field":[1,{"k":"v"}]}}""",
        """{"event_type":"Login","fields":{"user":"u3","timestamp":"2026-01-23T10:00:00Z"}}""",
        """{"event_type":"Login","timestamp":42,"fields":{"user":"u3","timestamp":"kept"}}""",
        """{"event_type":"Login","fields":{"user":"u4","timestamp":null}}""",
        """{"event_type":"Login","fields":{"user":"u4","timestamp":7,"timestamp":8}}""",
        """{"event_type":"Login","fields":{"m":{"a":1,"a":2}}}""",
        """{"event_type":"Login","fields":{"m":{"a":1,"b":[true,false,null,"s",1.25,-3]}}}""",
        """{"event_type":"Brand\u004eew","fields":{"x":1}}""",
        """{"event_\u0074ype":"Login","fields":{"us\u0065r":"esc","text":"a\"b\\c\u00e9\ud83d\ude00"}}""",
        """{"event_type":"Login","fields":{"":1}}""",
        """{"event_type":"Rich","fields":{"at":"2026-01-23T10:00:00Z","wait":"500ms","tags":[1,2.0],"scores":{"a":1,"b":2.5},"ok":true}}""",
        """{"event_type":"Rich","fields":{"at":1700000000000,"wait":5,"tags":[],"scores":{}}}""",
        """{"event_type":"Rich","fields":{"at":"not a time"}}""",
        """{"event_type":"Rich","fields":{"at":1,"tags":[1,"x"]}}""",
        """{"event_type":"Rich","fields":{"at":1,"scores":{"a":"x"}}}""",
        """{"event_type":"Rich","fields":{"at":1,"wait":"forever"}}""",
        """{"event_type":"Rich","fields":{"at":1,"timestamp":5}}""",
        """{"event_type":"Rich","fields":{"at":1,"ok":"yes"}}""",
        """{"event_type":"Rich","timestamp":3,"fields":{"at":1,"timestamp":5}}""",
        """{"event_type":"Deep","fields":{"d":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}""",
        """{"event_type":"Deep","fields":{"d":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}""",
        "[1,2]",
        "\"Tick\"",
        "null",
        "5",
        "",
        "   ",
        "{",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1}} x""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1}} {}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":1,}}""",
        """{"event_type":"Tick",/*c*/"fields":{"symbol":"X","price":1}}""",
        """{'event_type':"Tick"}""",
        """{"event_type":"Tick","fields":{"symbol":"X","price":NaN}}""",
        """{"event_type":"Tick","fields":{"symbol":"tab	inside","price":1}}""",
        """  {"event_type":"Tick","fields":{"symbol":"ws","price":1}}  """,
    ];

    [Fact]
    public void SingleEventBodiesMatchTheDocumentPath()
    {
        Assert.Equal(EventBodies.Length, AssertSame(EventBodies.Select(Single)));
    }

    [Fact]
    public void BatchesMatchTheDocumentPath()
    {
        var valid = EventBodies.Where(b => b.Length > 0 && b.TrimStart().StartsWith('{') && IsJson(b)).ToList();
        var bodies = new List<(byte[], bool)>
        {
            Batch("{\"events\":[" + string.Join(",", valid) + "]}"),
            Batch("{\"events\":[]}"),
            Batch("{\"events\":[1,\"x\",null,[],{}]}"),
            Batch("{\"events\":{}}"),
            Batch("{\"events\":null}"),
            Batch("{}"),
            Batch("[]"),
            Batch("5"),
            Batch("{\"events\":[],\"events\":[]}"),
            Batch("{\"extra\":1,\"events\":[]}"),
            Batch("{\"events\":[" + valid[0] + "],\"extra\":1}"),
            Batch("{\"events\":[{\"event_type\":\"NewType\",\"fields\":{\"a\":1}}],\"extra\":1}"),
            Batch("{\"events\":[{\"event_type\":\"NewType2\",\"fields\":{\"a\":1}}]} x"),
            Batch("{\"events\":[{\"event_type\":\"NewType3\",\"fields\":{\"a\":1}}, {\"event_type\":\"Tick\",\"fields\":{\"symbol\":\"X\",\"price\":1}"),
            Batch("{\"ev\\u0065nts\":[" + valid[0] + "]}"),
            Batch("{\"events\":[" + valid[0] + "," + valid[0] + "]}"),
            Batch("{\"events\":[" + string.Join(",", valid.AsEnumerable().Reverse()) + "]}"),
        };
        Assert.Equal(bodies.Count, AssertSame(bodies));
    }

    private static bool IsJson(string s)
    {
        try
        {
            using var _ = JsonDocument.Parse(s, VplJson.DocumentOptions);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [Fact]
    public void InvalidUtf8MatchesTheDocumentPath()
    {
        byte[] Bytes(string prefix, byte[] bad, string suffix) => [.. Encoding.UTF8.GetBytes(prefix), .. bad, .. Encoding.UTF8.GetBytes(suffix)];
        byte[][] bad = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]];
        var bodies = new List<(byte[], bool)>();
        foreach (var b in bad)
        {
            bodies.Add((Bytes("{\"event_type\":\"Tick\",\"fields\":{\"symbol\":\"", b, "\",\"price\":1}}"), false));
            bodies.Add((Bytes("{\"event_type\":\"Login\",\"fields\":{\"", b, "\":1}}"), false));
            bodies.Add((Bytes("{\"event_type\":\"", b, "\",\"fields\":{}}"), false));
            bodies.Add((Bytes("{\"events\":[{\"event_type\":\"Login\",\"fields\":{\"m\":{\"", b, "\":1}}}]}"), true));
            bodies.Add((Bytes("{\"event_type\":\"Tick\",\"timestamp\":\"", b, "\",\"fields\":{}}"), false));
        }
        // Valid UTF-8 whose escapes leave a surrogate unpaired: not text either.
        bodies.Add(Single("{\"event_type\":\"Tick\",\"fields\":{\"symbol\":\"\\ud800\",\"price\":1}}"));
        bodies.Add(Batch("{\"events\":[{\"event_type\":\"Login\",\"fields\":{\"\\udc00x\":1}}]}"));
        Assert.Equal(bodies.Count, AssertSame(bodies));
    }

    [Fact]
    public void RandomlyDamagedBodiesMatchTheDocumentPath()
    {
        var rng = new Random(20261207);
        var seeds = EventBodies.Where(IsJson).ToArray();
        byte[] junk = "{}[],:\"\\ 0123456789.eE+-tfnaulrsx\u00e9"u8.ToArray();
        var bodies = new List<(byte[], bool)>();
        for (int i = 0; i < 3000; i++)
        {
            bool batch = rng.Next(2) == 0;
            string text = batch
                ? "{\"events\":[" + string.Join(",", Enumerable.Range(0, rng.Next(1, 5)).Select(_ => seeds[rng.Next(seeds.Length)])) + "]}"
                : seeds[rng.Next(seeds.Length)];
            var bytes = Encoding.UTF8.GetBytes(text).ToList();
            int edits = rng.Next(0, 4);
            for (int k = 0; k < edits && bytes.Count > 0; k++)
            {
                int at = rng.Next(bytes.Count);
                switch (rng.Next(4))
                {
                    case 0: bytes.RemoveAt(at); break;
                    case 1: bytes.Insert(at, junk[rng.Next(junk.Length)]); break;
                    case 2: bytes[at] = junk[rng.Next(junk.Length)]; break;
                    default: bytes.RemoveRange(at, bytes.Count - at); break;
                }
            }
            bodies.Add((bytes.ToArray(), batch));
        }
        Assert.Equal(3000, AssertSame(bodies));
    }

    [Fact]
    public void ARejectedBodyLeavesTheListsAsTheyWere()
    {
        var reader = new JsonEventReader(Registry());
        var accepted = new List<Event>();
        var errors = new List<JsonEventError>();
        string body = "{\"events\":[{\"event_type\":\"Tick\",\"fields\":{\"symbol\":\"X\",\"price\":1}},{\"event_type\":\"Tick\"}],\"extra\":true}";
        Assert.Equal("unknown property 'extra'; a batch is {\"events\": [...]}", reader.Read(Encoding.UTF8.GetBytes(body), true, 0, accepted, errors));
        Assert.Empty(accepted);
        Assert.Empty(errors);
    }

    [Fact]
    public void ABatchKeepsValidEventsAndNamesTheRejectedOnesByIndex()
    {
        var reader = new JsonEventReader(Registry());
        var accepted = new List<Event>();
        var errors = new List<JsonEventError>();
        string body = """
            {"events":[
              {"event_type":"Tick","fields":{"symbol":"A","price":1.5}},
              {"event_type":"Tick","fields":{"symbol":"B"}},
              {"event_type":"Tick","timestamp":1000,"fields":{"symbol":"C","price":2}}
            ]}
            """;
        Assert.Null(reader.Read(Encoding.UTF8.GetBytes(body), true, 77, accepted, errors));
        Assert.Equal(2, accepted.Count);
        Assert.Equal("A", accepted[0].Get("symbol").AsString);
        Assert.Equal(77, accepted[0].Timestamp);
        Assert.Equal(2.0, accepted[1].Get("price").AsFloat);
        Assert.True(accepted[1].Get("price").IsFloat);
        Assert.Equal(1000 * TimeFormat.NanosPerMilli, accepted[1].Timestamp);
        Assert.Equal([new JsonEventError(1, "missing field 'price' for event type 'Tick'")], errors);
    }

    [Fact]
    public void KnownTypesAndFieldsTakeTheOnePassPath()
    {
        var reader = new JsonEventReader(Registry());
        var accepted = new List<Event>();
        var errors = new List<JsonEventError>();
        string one = "{\"event_type\":\"Login\",\"fields\":{\"user\":\"u\",\"n\":1}}";
        Assert.Null(reader.Read(Encoding.UTF8.GetBytes(one), false, 0, accepted, errors));
        Assert.Equal(1, reader.SlowPathEvents); // field 'n' was new to the open type
        string batch = "{\"events\":[" + string.Join(",", Enumerable.Repeat(one, 100)) + ",{\"event_type\":\"Tick\",\"timestamp\":5,\"fields\":{\"symbol\":\"S\",\"price\":2,\"qty\":null}}]}";
        Assert.Null(reader.Read(Encoding.UTF8.GetBytes(batch), true, 0, accepted, errors));
        Assert.Equal(102, accepted.Count);
        Assert.Empty(errors);
        Assert.Equal(1, reader.SlowPathEvents);
    }
}
