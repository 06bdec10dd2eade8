using System.Text;
using System.Text.Json;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Pipelines.Routes;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Tests.Pipelines;

/// <summary>The routing state of a pipeline: what it owes each target, under which sequence numbers, and what it applied.</summary>
public sealed class RouteLedgerTests
{
    private const string Program = "stream Big = Order .where(amount > 10) .emit(customer: customer, amount: amount)\nstream Small = Order .where(amount <= 10) .emit(customer: customer)";

    [Fact]
    public void MatchingOutputsBecomeOneBatchPerTargetUnderConsecutiveSequenceNumbers()
    {
        var ledger = new RouteLedger();
        ledger.SetRoutes([new PipelineRoute("big", ["b"], null, ["Big"]), new PipelineRoute("all", ["a"], null, ["*"])]);
        var first = ledger.Route(Outputs(("c1", 20), ("c2", 5), ("c3", 30)));
        Assert.Equal(["b:1", "a:1"], first.Select(b => $"{b.Target}:{b.Sequence}"));
        Assert.Equal(
            """{"events":[{"event_type":"Big","timestamp":"2025-01-01T00:00:00Z","fields":{"customer":"c1","amount":20}},{"event_type":"Big","timestamp":"2025-01-01T00:00:00Z","fields":{"customer":"c3","amount":30}}]}""",
            Encoding.UTF8.GetString(first[0].Body));
        Assert.Equal(3, JsonDocument.Parse(first[1].Body).RootElement.GetProperty("events").GetArrayLength());
        var second = ledger.Route(Outputs(("c4", 1)));
        Assert.Equal(["a:2"], second.Select(b => $"{b.Target}:{b.Sequence}"));
        Assert.Empty(ledger.Route(Outputs()));
        Assert.Equal(["b:1", "a:1", "a:2"], ledger.Pending.Select(b => $"{b.Target}:{b.Sequence}"));

        ledger.Confirm("a", 1);
        Assert.Equal(["b:1", "a:2"], ledger.Pending.Select(b => $"{b.Target}:{b.Sequence}"));
        ledger.Confirm("b", 5);
        ledger.Abandon("a");
        Assert.Equal(0, ledger.PendingCount);
        Assert.Equal(["a:3"], ledger.Route(Outputs(("c5", 2))).Select(b => $"{b.Target}:{b.Sequence}"));
    }

    [Fact]
    public void ASnapshotCarriesTheOutboxTheSequenceNumbersAndWhatWasApplied()
    {
        var ledger = new RouteLedger();
        ledger.SetRoutes([new PipelineRoute("all", ["a"], null, ["*"])]);
        ledger.Route(Outputs(("c1", 20)));
        ledger.Route(Outputs(("c2", 20)));
        ledger.Confirm("a", 1);
        ledger.MarkApplied("upstream", 7);
        ledger.MarkApplied("upstream", 3);

        var copy = new RouteLedger();
        copy.Import(ledger.Export());
        Assert.Equal(["a:2"], copy.Pending.Select(b => $"{b.Target}:{b.Sequence}"));
        Assert.Equal((7L, 0L), (copy.Applied("upstream"), copy.Applied("other")));
        Assert.Equal(["a:3"], copy.Route(Outputs(("c3", 20))).Select(b => $"{b.Target}:{b.Sequence}"));
        Assert.Null(new RouteLedger().Export());
    }

    [Fact]
    public void ReplicasArePickedByAStableHashOfThePartitionKey()
    {
        var ledger = new RouteLedger();
        ledger.SetRoutes([new PipelineRoute("r", ["r0", "r1", "r2"], "customer", ["Big"])]);
        var batches = ledger.Route(Outputs(Enumerable.Range(0, 30).Select(i => ("c" + i, 50)).ToArray()));
        foreach (var b in batches)
        {
            foreach (var e in JsonDocument.Parse(b.Body).RootElement.GetProperty("events").EnumerateArray())
            {
                var key = e.GetProperty("fields").GetProperty("customer").GetString();
                Assert.Equal(b.Target, "r" + RouteLedger.ReplicaOf(key, 3));
            }
        }
        Assert.Equal(3, batches.Count);
        // FNV-1a 32: the same on every node and every run.
        Assert.Equal(unchecked((2166136261u ^ 'a') * 16777619u) % 3, (uint)RouteLedger.ReplicaOf("a", 3));
        Assert.Equal(0, RouteLedger.ReplicaOf(null, 3));
        Assert.Equal(0, RouteLedger.ReplicaOf("anything", 1));
        Assert.Equal(RouteLedger.KeyText(JsonDocument.Parse("42").RootElement), RouteLedger.KeyText(Value.FromInt(42)));
    }

    [Theory]
    [InlineData("*", "Order", true)]
    [InlineData("Order*", "OrderPlaced", true)]
    [InlineData("Order*", "Order", true)]
    [InlineData("Order*", "Refund", false)]
    [InlineData("Order", "Order", true)]
    [InlineData("Order", "OrderPlaced", false)]
    public void PatternsAreExactPrefixOrAll(string pattern, string type, bool matches)
        => Assert.Equal(matches, RouteLedger.Matches(pattern, type));

    private static IReadOnlyList<Event> Outputs(params (string Customer, int Amount)[] orders)
    {
        var program = PipelineCompiler.Compile(Program, out var diagnostics) ?? throw new InvalidOperationException(PipelineCompiler.Summary(diagnostics));
        var runtime = new PipelineRuntime(new PipelineDefined("p", "t", "p", Program, DateTimeOffset.UnixEpoch), program, new EngineOptions());
        var body = "{\"events\":[" + string.Join(",", orders.Select(o => $"{{\"event_type\":\"Order\",\"timestamp\":\"2025-01-01T00:00:00Z\",\"fields\":{{\"customer\":\"{o.Customer}\",\"amount\":{o.Amount}}}}}")) + "]}";
        return runtime.Ingest(Encoding.UTF8.GetBytes(body), true, 0).Outputs;
    }
}
