using System.Text;
using Varpulis.Actors.Connectors.Sources;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>Broker messages become the pipeline's input format; what is not an event is rejected with the reason.</summary>
public sealed class SourceBatchTests
{
    private static SourceBatch Build(params string[] payloads)
        => SourceBatchBuilder.Build("C", payloads.Select((p, i) => new SourceRecord(Encoding.UTF8.GetBytes(p), new SourcePosition("t", 0, i))).ToList(), _ => "Default");

    [Fact]
    public void EveryAcceptedShapeBecomesEventTypeTimestampAndFields()
    {
        var b = Build(
            """{"event_type":"A","x":1,"timestamp":"2026-01-23T10:00:00Z"}""",
            """{"type":"B","fields":{"x":2},"timestamp":1769162400000}""",
            """{"type":"C","data":{"x":3}}""",
            """{"x":4,"y":"z"}""",
            """{"event_type":"D","type":"fire","x":5}""");
        Assert.Equal(
            """{"events":[{"event_type":"A","timestamp":"2026-01-23T10:00:00Z","fields":{"x":1}},{"event_type":"B","timestamp":1769162400000,"fields":{"x":2}},{"event_type":"C","fields":{"x":3}},{"event_type":"Default","fields":{"x":4,"y":"z"}},{"event_type":"D","fields":{"type":"fire","x":5}}]}""",
            Encoding.UTF8.GetString(b.Body));
        Assert.Equal(5, b.EventCount);
        Assert.Empty(b.Rejected);
        Assert.Equal("""{"event_type":"C","fields":{"x":3}}""", Encoding.UTF8.GetString(b.EventJson(2)));
    }

    [Fact]
    public void MessagesThatAreNotEventsAreRejectedWithTheReason()
    {
        var b = Build("not json", "[1]", """{"event_type":5}""", """{"type":"A","data":{"x":1},"extra":2}""", """{"fields":{},"data":{}}""", """{"event_type":"ok"}""");
        Assert.Equal(
            [
                "not JSON (at byte 1)",
                "a message must be a JSON object",
                "'event_type' must be a non-empty string",
                "unexpected property 'extra' beside 'data'",
                "give either 'fields' or 'data', not both",
            ],
            b.Rejected.Select(r => r.Error));
        Assert.Equal([0L, 1, 2, 3, 4], b.Rejected.Select(r => r.Position.Offset));
        Assert.Equal("""{"events":[{"event_type":"ok","fields":{}}]}""", Encoding.UTF8.GetString(b.Body));
        Assert.Equal(6, b.Records.Count);
    }

    [Fact]
    public void WithoutDropsTheSelectedEventsAndKeepsPositionsAligned()
    {
        var b = Build("""{"n":0}""", """{"n":1}""", """{"n":2}""", """{"n":3}""");
        var kept = b.Without(p => p.Offset is 0 or 2);
        Assert.Equal("""{"events":[{"event_type":"Default","fields":{"n":1}},{"event_type":"Default","fields":{"n":3}}]}""", Encoding.UTF8.GetString(kept.Body));
        Assert.Equal([1L, 3L], kept.Positions.Select(p => p.Offset));
        Assert.Same(b, b.Without(_ => false));
    }
}
