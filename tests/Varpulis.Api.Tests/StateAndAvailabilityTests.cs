using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Persistence;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Errors;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>One server per state directory (in one process too), and what a client gets when an actor does not answer.</summary>
public sealed class StateAndAvailabilityTests
{
    [Fact]
    public async Task SecondServerInTheSameProcessOnTheSameStateDirectoryIsRefused()
    {
        var settings = TestServer.DefaultSettings();
        await using (var first = await TestServer.StartAsync(settings))
        {
            var again = TestServer.DefaultSettings(settings.Server.StateDir);
            var ex = await Assert.ThrowsAsync<StateDirectoryException>(() => TestServer.StartAsync(again));
            Assert.Equal(
                $"state directory '{Path.GetFullPath(settings.Server.StateDir)}' is in use by another Varpulis process (PID {Environment.ProcessId}): stop it, or give this one another --state-dir",
                ex.Message);
            using var http = first.Client();
            Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync("/api/v1/pipelines")).Status);
        }
        // Released when the first one stops.
        await using var next = await TestServer.StartAsync(TestServer.DefaultSettings(settings.Server.StateDir));
    }

    [Fact]
    public async Task ActorThatDoesNotAnswerInTimeIsUnavailableWithRetryAfter()
    {
        using var system = ActorSystem.Create("gateway-timeout");
        var silent = system.ActorOf(Props.Create(() => new Silent()));
        var gateway = new PipelineGateway(new Fixed<PipelineEntity>(silent), new Fixed<ServerDirectory>(silent)) { Timeout = TimeSpan.FromMilliseconds(200) };

        var ex = await Assert.ThrowsAsync<ApiException>(() => gateway.AskPipelineAsync<PipelineInfo>(new GetPipelineInfo("p1", "default"), CancellationToken.None));
        Assert.Equal(503, ex.Status);
        Assert.Equal("unavailable", ex.Code);
        Assert.Equal("pipeline 'p1' did not answer within 0.2 s (busy, recovering or moving); retry in 5 s", ex.Message);
        Assert.Equal("5", ex.Headers!["Retry-After"]);

        var dir = await Assert.ThrowsAsync<ApiException>(() => gateway.AskDirectoryAsync<TenantList>(GetTenants.Instance, CancellationToken.None));
        Assert.Equal(503, dir.Status);
        Assert.Equal("unavailable", dir.Code);
        Assert.Equal("the directory did not answer within 0.2 s (busy, recovering or moving); retry in 5 s", dir.Message);
        await system.Terminate();
    }

    private sealed class Silent : ReceiveActor
    {
        public Silent() => ReceiveAny(_ => { });
    }

    private sealed class Fixed<T>(IActorRef actor) : IRequiredActor<T>
    {
        public IActorRef ActorRef => actor;

        public Task<IActorRef> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(actor);
    }
}
