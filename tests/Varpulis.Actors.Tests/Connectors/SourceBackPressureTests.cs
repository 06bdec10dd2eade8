using System.Text;
using Akka.Actor;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>
/// A source whose pipeline refuses a batch because its DLQ is at one of its bounds (the backlog, the letters held) offers the same batch again until it
/// is taken (the source reads nothing more meanwhile: its graph waits on this delivery); any other refusal still fails
/// the delivery (the graph reconnects and reads again from the last acknowledged position).
/// </summary>
public sealed class SourceBackPressureTests : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("source-back-pressure");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.Terminate();

    /// <summary>Refuses the first <c>refusals</c> offers as a pipeline at its DLQ backlog bound does, then takes the batch.</summary>
    private sealed class BackloggedPipeline : ReceiveActor
    {
        public BackloggedPipeline(int refusals, PipelineError refusal, List<int> offers)
        {
            Receive<IngestSourceBatch>(b =>
            {
                offers.Add(b.Positions.Count);
                Sender.Tell(offers.Count <= refusals ? refusal : new IngestResult(b.Positions.Count, 0, Array.Empty<IngestError>(), "[]"u8.ToArray(), 0, 0));
            });
        }
    }

    private static SourceBatch Batch(int n) => SourceBatchBuilder.Build(
        "C", Enumerable.Range(0, n).Select(i => new SourceRecord(Encoding.UTF8.GetBytes($$"""{"event_type":"R","v":{{i}}}"""), new SourcePosition("t", 0, i))).ToList(), _ => "R");

    public static TheoryData<string> DeadLetterRefusals => new() { "backlog", "full" };

    [Theory]
    [MemberData(nameof(DeadLetterRefusals))]
    public async Task ABatchRefusedForTheDlqIsOfferedAgainUntilThePipelineTakesIt(string why)
    {
        var offers = new List<int>();
        var refusal = why == "backlog" ? PipelineError.DeadLetterBacklogFull("p1", 1000) : PipelineError.DeadLetterQueueFull("p1", 1_000_000, 1_000_000);
        var pipeline = _system.ActorOf(Props.Create(() => new BackloggedPipeline(3, refusal, offers)));
        var target = new ActorSourceTarget(pipeline, "p1", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10));

        var outcome = await target.DeliverAsync(Batch(5), CancellationToken.None);

        Assert.Equal(new[] { 5, 5, 5, 5 }, offers);
        Assert.Equal(5, outcome.Accepted);
        Assert.Equal(0, outcome.Rejected);
    }

    [Fact]
    public async Task ABatchRefusedForAnotherReasonFailsTheDeliveryAtOnce()
    {
        var offers = new List<int>();
        var pipeline = _system.ActorOf(Props.Create(() => new BackloggedPipeline(3, PipelineError.Unavailable("p1", "moving to another worker"), offers)));
        var target = new ActorSourceTarget(pipeline, "p1", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => target.DeliverAsync(Batch(2), CancellationToken.None));

        Assert.Equal("pipeline p1 refused the batch: unavailable: pipeline 'p1' is moving to another worker; retry shortly", ex.Message);
        Assert.Single(offers);
    }
}
