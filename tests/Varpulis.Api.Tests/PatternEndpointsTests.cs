using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>
/// The pipeline endpoints on pattern streams: live runs, <c>active_runs</c>, matches in <c>output_events</c>,
/// checkpoint/restore and reload with runs alive, and the runbook's fraud-detect commands as written.
/// Every event carries its timestamp, so <c>.within</c> is measured in event time only.
/// </summary>
public sealed class PatternEndpointsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task RunsListsLivePatternRunsExactly()
    {
        var id = await f.DeployAsync(Patterns.Fraud, "fraud");
        foreach (var (user, ts) in new[] { ("u1", "2025-01-01T00:00:00Z"), ("u2", "2025-01-01T00:01:00Z"), ("u3", "2025-01-01T00:02:00.5Z") })
        {
            var login = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login(user, ts));
            Assert.Equal("""{"accepted":true,"output_events":[]}""", login.Body.ToJsonString());
        }

        // Timestamps come back normalised to RFC 3339 UTC with milliseconds when there are any (".5Z" -> ".500Z").
        var all = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud");
        Assert.Equal(HttpStatusCode.OK, all.Status);
        Assert.Equal(
            Patterns.Page(id, [Patterns.Run("u1", "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"), Patterns.Run("u2", "2025-01-01T00:01:00Z", "2025-01-01T00:31:00Z"), Patterns.Run("u3", "2025-01-01T00:02:00.500Z", "2025-01-01T00:32:00.500Z")], total: 3, limit: 50, offset: 0, hasMore: false),
            all.Body.ToJsonString());
        Assert.Equal(3, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);

        // limit: the oldest runs first; offset pages on.
        var page1 = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud&limit=2");
        Assert.Equal(
            Patterns.Page(id, [Patterns.Run("u1", "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"), Patterns.Run("u2", "2025-01-01T00:01:00Z", "2025-01-01T00:31:00Z")], total: 3, limit: 2, offset: 0, hasMore: true),
            page1.Body.ToJsonString());
        var page2 = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud&limit=2&offset=2");
        Assert.Equal(
            Patterns.Page(id, [Patterns.Run("u3", "2025-01-01T00:02:00.500Z", "2025-01-01T00:32:00.500Z")], total: 3, limit: 2, offset: 2, hasMore: false),
            page2.Body.ToJsonString());
        var beyond = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud&offset=3");
        Assert.Equal(
            Patterns.Page(id, [], total: 3, limit: 50, offset: 3, hasMore: false),
            beyond.Body.ToJsonString());

        // A Purchase of u2 completes u2's run: one match, one run fewer.
        var purchase = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u2", 50, "2025-01-01T00:05:00Z"));
        Assert.Equal(
            """{"accepted":true,"output_events":[{"event_type":"Fraud","timestamp":"2025-01-01T00:05:00Z","fields":{"user":"u2","amount":50}}]}""",
            purchase.Body.ToJsonString());
        var after = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud");
        Assert.Equal(
            Patterns.Page(id, [Patterns.Run("u1", "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"), Patterns.Run("u3", "2025-01-01T00:02:00.500Z", "2025-01-01T00:32:00.500Z")], total: 2, limit: 50, offset: 0, hasMore: false),
            after.Body.ToJsonString());
        var metrics = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(2, (long)metrics.Body["active_runs"]!);
        Assert.Equal(4, (long)metrics.Body["events_processed"]!);
        Assert.Equal(1, (long)metrics.Body["output_events_emitted"]!);

        // A second Purchase of u2 has no run left to complete.
        var again = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u2", 60, "2025-01-01T00:06:00Z"));
        Assert.Equal("""{"accepted":true,"output_events":[]}""", again.Body.ToJsonString());

        // Event time passing u1's deadline (00:30) but not u3's (00:32:00.5) expires u1 only; a Purchase of u1 then matches nothing.
        var late = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u1", 70, "2025-01-01T00:31:00Z"));
        Assert.Equal("""{"accepted":true,"output_events":[]}""", late.Body.ToJsonString());
        var left = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud");
        Assert.Equal($"[{Patterns.Run("u3", "2025-01-01T00:02:00.500Z", "2025-01-01T00:32:00.500Z")}]", left.Body["runs"]!.ToJsonString());
        Assert.Equal(1, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);
        // The deadline is inclusive.
        var atDeadline = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u3", 80, "2025-01-01T00:32:00.5Z"));
        Assert.Equal(
            """{"accepted":true,"output_events":[{"event_type":"Fraud","timestamp":"2025-01-01T00:32:00.500Z","fields":{"user":"u3","amount":80}}]}""",
            atDeadline.Body.ToJsonString());
        Assert.Equal(0, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);
    }

    [Fact]
    public async Task RunsErrorsOnPatternPipelines()
    {
        var id = await f.DeployAsync(Patterns.Fraud, "fraud-errors");
        (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Nope"))
            .AssertError(HttpStatusCode.NotFound, "stream_not_found", $"pipeline '{id}' has no stream 'Nope'");
        // Stream names are case-sensitive.
        (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=fraud"))
            .AssertError(HttpStatusCode.NotFound, "stream_not_found", $"pipeline '{id}' has no stream 'fraud'");
        (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud&limit=1001"))
            .AssertError(HttpStatusCode.BadRequest, "invalid_limit", "limit 1001 is larger than the maximum 1000");
        (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud&limit=0"))
            .AssertError(HttpStatusCode.BadRequest, "invalid_limit", "limit must be an integer from 1 to 1000");
        (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud&offset=-1"))
            .AssertError(HttpStatusCode.BadRequest, "invalid_request", "offset must be a non-negative integer");
        var max = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud&limit=1000");
        Assert.Equal(HttpStatusCode.OK, max.Status);
        Assert.Equal("""{"total":0,"limit":1000,"offset":0,"has_more":false}""", max.Body["pagination"]!.ToJsonString());
        var unknownPipeline = Guid.NewGuid().ToString();
        (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{unknownPipeline}/runs?stream=Fraud"))
            .AssertError(HttpStatusCode.NotFound, "pipeline_not_found", $"pipeline '{unknownPipeline}' not found");
    }
}

/// <summary>The pattern programs and events of these tests.</summary>
public static class Patterns
{
    /// <summary>The patterns chapter's login-then-purchase, partitioned by user.</summary>
    public const string Fraud =
        "stream Fraud = Login as a -> Purchase where user == a.user as b .within(30m) .partition_by(user) .emit(user: a.user, amount: b.amount)";

    public static string Login(string user, string timestamp)
        => new JsonObject { ["event_type"] = "Login", ["fields"] = new JsonObject { ["user"] = user }, ["timestamp"] = timestamp }.ToJsonString();

    public static string Purchase(string user, int amount, string timestamp)
        => new JsonObject { ["event_type"] = "Purchase", ["fields"] = new JsonObject { ["user"] = user, ["amount"] = amount }, ["timestamp"] = timestamp }.ToJsonString();

    /// <summary>The runs endpoint's answer for stream Fraud: the runs in order, then <c>count</c>, <c>total</c> and <c>pagination</c>.</summary>
    public static string Page(string pipelineId, string[] runs, int total, int limit, int offset, bool hasMore)
        => "{\"pipeline_id\":\"" + pipelineId + "\",\"stream\":\"Fraud\",\"runs\":[" + string.Join(",", runs) + "],\"count\":" + runs.Length
           + ",\"total\":" + total + ",\"pagination\":{\"total\":" + total + ",\"limit\":" + limit + ",\"offset\":" + offset
           + ",\"has_more\":" + (hasMore ? "true" : "false") + "}}";

    /// <summary>
    /// A live run of <see cref="Fraud"/> waiting for its Purchase, as the runs endpoint lists it: the captured Login
    /// (event type, timestamp, fields) under its alias.
    /// </summary>
    public static string Run(string user, string startedAt, string deadline)
        => "{\"stream\":\"Fraud\",\"partition\":\"" + user + "\",\"step_reached\":1,\"next_step\":\"Purchase as b\","
           + "\"captures\":{\"a\":{\"event_type\":\"Login\",\"timestamp\":\"" + startedAt + "\",\"data\":{\"user\":\"" + user + "\"}}},"
           + "\"started_at\":\"" + startedAt + "\",\"deadline\":\"" + deadline + "\"}";
}
