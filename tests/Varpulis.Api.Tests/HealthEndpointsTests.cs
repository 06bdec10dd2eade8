using System.Net;
using Varpulis.Api.Endpoints;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

public sealed class HealthEndpointsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task HealthIsOpenAndReportsVersion()
    {
        using var anonymous = new HttpClient { BaseAddress = f.Server.Address };
        var r = await anonymous.GetJsonAsync("/health");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("healthy", (string?)r.Body["status"]);
        Assert.Equal("0.1.0", (string?)r.Body["version"]);
        Assert.True((long)r.Body["uptime_seconds"]! >= 0);
    }

    [Fact]
    public async Task ReadyWhenMemberUpAndJournalAnswers()
    {
        using var anonymous = new HttpClient { BaseAddress = f.Server.Address };
        var r = await anonymous.GetJsonAsync("/ready");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("ready", (string?)r.Body["status"]);
        Assert.Equal("up", (string?)r.Body["cluster_member"]);
        Assert.Equal("ok", (string?)r.Body["journal"]);
    }

    [Theory]
    [InlineData(0, 0, 0, 0, "no_workers")]
    [InlineData(3, 3, 0, 0, "healthy")]
    [InlineData(3, 2, 0, 1, "healthy")]
    [InlineData(3, 2, 1, 0, "degraded")]
    [InlineData(2, 0, 2, 0, "critical")]
    [InlineData(2, 0, 0, 2, "critical")]
    public void ACoordinatorsHealthFollowsItsWorkers(int total, int healthy, int unhealthy, int draining, string status)
        => Assert.Equal(status, HealthEndpoints.StatusOf(new Varpulis.Contracts.Cluster.WorkerCounts(total, healthy, unhealthy, draining)));

    [Fact]
    public async Task ASingleServerHasNoCoordinatorRoutes()
    {
        var r = await f.Admin.GetJsonAsync("/api/v1/cluster/workers");
        r.AssertError(HttpStatusCode.NotFound, "not_found", "no route GET /api/v1/cluster/workers");
        using var anonymous = new HttpClient { BaseAddress = f.Server.Address };
        (await anonymous.GetJsonAsync("/api/v1/cluster/seed")).AssertError(HttpStatusCode.NotFound, "not_found", "no route GET /api/v1/cluster/seed");
    }

    [Fact]
    public async Task UnknownRouteIsJson404()
    {
        var r = await f.Admin.GetJsonAsync("/api/v1/nothing-here");
        r.AssertError(HttpStatusCode.NotFound, "not_found", "no route GET /api/v1/nothing-here");
    }

    [Fact]
    public async Task WrongMethodIsJson404()
    {
        var r = await f.Admin.SendAsync(HttpMethod.Put, "/api/v1/pipelines", "{}");
        r.AssertError(HttpStatusCode.NotFound, "not_found", "no route PUT /api/v1/pipelines");
    }
}
