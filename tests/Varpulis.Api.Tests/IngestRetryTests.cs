using Akka.Actor;
using Akka.Hosting;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Errors;
using Varpulis.Api.Pipelines;

namespace Varpulis.Api.Tests;

/// <summary>
/// How the gateway sends input events when the pipeline is moving: an <c>unavailable</c> answer (refused, not
/// processed) is retried; a keyed request that gets no answer (dropped in a hand-off) is sent again, safely; an
/// unkeyed one is not, and ends as 503.
/// </summary>
public sealed class IngestRetryTests : IDisposable
{
    private static readonly IngestResult Ok = new(1, 0, [], "[]"u8.ToArray(), 0, 5);
    private readonly ActorSystem _system = ActorSystem.Create("ingest-retry");

    [Fact]
    public async Task AnUnavailablePipelineIsAskedAgain()
    {
        var region = _system.ActorOf(Props.Create(() => new ScriptedPipeline(new[] { "unavailable", "answer" })));
        var result = await Gateway(region, TimeSpan.FromSeconds(10)).AskIngestAsync(Command(key: null), CancellationToken.None);
        Assert.Same(Ok.OutputEventsJson, result.OutputEventsJson);
    }

    [Fact]
    public async Task AKeyedRequestDroppedOnTheWayIsSentAgain()
    {
        var region = _system.ActorOf(Props.Create(() => new ScriptedPipeline(new[] { "drop", "answer" })));
        var result = await Gateway(region, TimeSpan.FromSeconds(20)).AskIngestAsync(Command(key: "k-1"), CancellationToken.None);
        Assert.Equal(1, result.Accepted);
    }

    [Fact]
    public async Task AnUnkeyedRequestDroppedOnTheWayEndsAs503()
    {
        var region = _system.ActorOf(Props.Create(() => new ScriptedPipeline(new[] { "drop", "answer" })));
        var ex = await Assert.ThrowsAsync<ApiException>(() => Gateway(region, TimeSpan.FromSeconds(2)).AskIngestAsync(Command(key: null), CancellationToken.None));
        Assert.Equal((503, "unavailable", "pipeline 'p1' did not answer within 2 s (busy, recovering or moving); retry in 5 s"), (ex.Status, ex.Code, ex.Message));
    }

    private static IngestEvents Command(string? key) => new("p1", "default", "{}"u8.ToArray(), IsBatch: false, key);

    private static PipelineGateway Gateway(IActorRef region, TimeSpan timeout)
        => new(new Fixed<PipelineEntity>(region), new Fixed<ServerDirectory>(ActorRefs.Nobody)) { Timeout = timeout };

    public void Dispose() => _system.Dispose();

    private sealed class Fixed<T>(IActorRef actor) : IRequiredActor<T>
    {
        public IActorRef ActorRef => actor;

        public Task<IActorRef> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(actor);
    }

    /// <summary>Answers each request as its script says: drop it, refuse it as unavailable, or answer.</summary>
    private sealed class ScriptedPipeline : ReceiveActor
    {
        public ScriptedPipeline(string[] script)
        {
            int n = 0;
            Receive<IngestEvents>(e =>
            {
                switch (script[Math.Min(n++, script.Length - 1)])
                {
                    case "unavailable":
                        Sender.Tell(PipelineError.Unavailable(e.PipelineId, "moving to another worker"));
                        break;
                    case "answer":
                        Sender.Tell(Ok);
                        break;
                }
            });
        }
    }
}
