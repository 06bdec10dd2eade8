using Akka.Actor;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Cluster.Tests.InProcess;

/// <summary>
/// The supervision every pipeline entity runs under (<see cref="PipelineHostingExtensions.Supervised"/>): a failing
/// entity is started again after a backoff, answers <c>unavailable</c> meanwhile, and the hand-off message stops it
/// for good. A stand-in entity that fails on request shows it.
/// </summary>
public sealed class EntitySupervisionSpecs : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void AFailedPipelineAnswersUnavailableThenRestarts()
    {
        var starts = CreateTestProbe();
        var supervisor = Sys.ActorOf(PipelineHostingExtensions.Supervised("p1", Props.Create(() => new FlakyEntity(starts.Ref)), TimeSpan.FromSeconds(2)));
        starts.ExpectMsg("started");

        supervisor.Tell("fail");
        // Once the failed entity has stopped, and until it starts again (after at least 2 s here), every command is
        // answered at once: unavailable.
        object? reply = null;
        AwaitCondition(() =>
        {
            supervisor.Tell(new GetPipelineInfo("p1", "default"));
            reply = ReceiveOne(TimeSpan.FromMilliseconds(300));
            return reply is PipelineError;
        }, TimeSpan.FromSeconds(2));
        Assert.Equal(new PipelineError("unavailable", "pipeline 'p1' is restarting after a failure; retry shortly"), reply);

        starts.ExpectMsg("started", TimeSpan.FromSeconds(10));
        supervisor.Tell(new GetPipelineInfo("p1", "default"));
        ExpectMsg("info");
    }

    [Fact]
    public void TheHandOffMessageReachesTheEntityAndStopsTheSupervisor()
    {
        var starts = CreateTestProbe();
        var supervisor = Sys.ActorOf(PipelineHostingExtensions.Supervised("p1", Props.Create(() => new FlakyEntity(starts.Ref))));
        starts.ExpectMsg("started");
        Watch(supervisor);
        supervisor.Tell(HandOffPipeline.Instance);
        starts.ExpectMsg("handed off");
        ExpectTerminated(supervisor);
    }

    /// <summary>Answers info requests, fails on "fail", stops itself on the hand-off message.</summary>
    private sealed class FlakyEntity : ReceiveActor
    {
        public FlakyEntity(IActorRef starts)
        {
            starts.Tell("started");
            Receive<string>(m => m == "fail", _ => throw new InvalidOperationException("engine failure"));
            Receive<GetPipelineInfo>(_ => Sender.Tell("info"));
            Receive<HandOffPipeline>(_ =>
            {
                starts.Tell("handed off");
                Context.Stop(Self);
            });
        }
    }
}
