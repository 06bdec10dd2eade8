using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>
/// <c>Idempotency-Key</c> on <c>events</c> and <c>events-batch</c>: a repeat gets the first reply and nothing is
/// processed again, within a run, after a restart from the journal, and after a restart from a snapshot; a key reused
/// with another body is refused.
/// </summary>
public sealed class IdempotencyTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static readonly string Batch = Programs.Batch([Programs.Reading("S1", 150, 1000), Programs.Reading("S1", 20, 2000), Programs.Reading("S1", 30, 3000)]);

    [Fact]
    public async Task ARepeatedKeyGetsTheFirstReplyAndProcessesNothing()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow);
        var first = await f.Admin.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", Batch, "batch-1");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(3, (int)first.Body["accepted"]!);
        var again = await f.Admin.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", Batch, "batch-1");
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(first.Body.ToJsonString(), again.Body.ToJsonString());
        Assert.Equal(3, await f.Admin.ProcessedAsync(id));

        var single = Programs.Reading("S2", 200, 4000);
        var s1 = await f.Admin.PostKeyedAsync($"/api/v1/pipelines/{id}/events", single, "one");
        var s2 = await f.Admin.PostKeyedAsync($"/api/v1/pipelines/{id}/events", single, "one");
        Assert.Equal("""{"accepted":true,"output_events":[{"event_type":"Alert","timestamp":"1970-01-01T00:00:04Z","fields":{"alert":true,"value":200}}]}""", s1.Body.ToJsonString());
        Assert.Equal(s1.Body.ToJsonString(), s2.Body.ToJsonString());
        Assert.Equal(4, await f.Admin.ProcessedAsync(id));
    }

    [Fact]
    public async Task AKeyReusedWithAnotherBodyIsRefused()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow);
        await f.Admin.PostKeyedAsync($"/api/v1/pipelines/{id}/events", Programs.Reading("S1", 1, 1000), "k");
        var r = await f.Admin.PostKeyedAsync($"/api/v1/pipelines/{id}/events", Programs.Reading("S1", 2, 1000), "k");
        r.AssertError((HttpStatusCode)422, "idempotency_key_reused",
            "Idempotency-Key 'k' was already used for a different request body on this pipeline; use a new key for a new request");
        Assert.Equal(1, await f.Admin.ProcessedAsync(id));
    }

    [Fact]
    public async Task ABadKeyIs400()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.PostKeyedAsync($"/api/v1/pipelines/{id}/events", Programs.Reading("S1", 1), new string('k', 256));
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request", "the Idempotency-Key header must be 1 to 255 visible ASCII characters");
        Assert.Equal(0, await f.Admin.ProcessedAsync(id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KeysSurviveARestartFromTheJournalOrASnapshot(bool snapshot)
    {
        var settings = TestServer.DefaultSettings();
        string id;
        string firstReply;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var http = first.Client();
            var deployed = await http.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "keys", ["source"] = Programs.AlertAndWindow }.ToJsonString());
            id = (string)deployed.Body["id"]!;
            firstReply = (await http.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", Batch, "batch-1")).Body.ToJsonString();
            if (snapshot) Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"/api/v1/pipelines/{id}/checkpoint", "{}")).Status);
        }
        settings.Server.Port = TestServer.FreePort();
        await using var second = await TestServer.StartAsync(settings);
        using var http2 = second.Client();
        var again = await http2.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", Batch, "batch-1");
        var expected = JsonNode.Parse(firstReply)!;
        Assert.Equal(expected["accepted"]!.ToJsonString(), again.Body["accepted"]!.ToJsonString());
        Assert.Equal(expected["output_events"]!.ToJsonString(), again.Body["output_events"]!.ToJsonString());
        Assert.Equal(3, await http2.ProcessedAsync(id));
    }
}
