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

    [Fact]
    public async Task RunbookFraudDetectDeploysAndMatchesWithDefaultSelection()
    {
        // runbook §7.2, the body as written.
        var deployed = await f.Admin.PostAsync("/api/v1/pipelines",
            """{"name": "fraud-detect", "source": "stream Alert = Login as a -> Purchase as b .within(5m) .where(a.user == b.user) .emit(user: a.user)"}""");
        Assert.Equal(HttpStatusCode.Created, deployed.Status);
        var id = (string)deployed.Body["id"]!;
        Assert.Equal($"{{\"id\":\"{id}\",\"name\":\"fraud-detect\",\"status\":\"running\"}}", deployed.Body.ToJsonString());

        // runbook §7.3's single-event body shape, with explicit timestamps.
        async Task<string> Send(string body) => (await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", body)).Body.ToJsonString();
        const string none = """{"accepted":true,"output_events":[]}""";
        static string Alert(string user, string ts) => "{\"accepted\":true,\"output_events\":[{\"event_type\":\"Alert\",\"timestamp\":\"" + ts + "\",\"fields\":{\"user\":\"" + user + "\"}}]}";

        // A Login and a Purchase of the same user: one Alert, at the Purchase's time.
        Assert.Equal(none, await Send(Patterns.Login("alice", "2025-01-01T00:00:00Z")));
        Assert.Equal(Alert("alice", "2025-01-01T00:01:00Z"), await Send(Patterns.Purchase("alice", 10, "2025-01-01T00:01:00Z")));

        // The .where after the last step correlates the steps (vpl.md §5.1): a.user == b.user decides which Purchase
        // advances bob's run, so carol's Purchase passes it by and bob's own Purchase matches.
        Assert.Equal(none, await Send(Patterns.Login("bob", "2025-01-01T00:02:00Z")));
        Assert.Equal(none, await Send(Patterns.Purchase("carol", 20, "2025-01-01T00:03:00Z")));
        Assert.Equal(Alert("bob", "2025-01-01T00:04:00Z"), await Send(Patterns.Purchase("bob", 30, "2025-01-01T00:04:00Z")));

        // Two live runs, one Purchase: only the run of its user takes it; dave's run keeps waiting for his own.
        Assert.Equal(none, await Send(Patterns.Login("dave", "2025-01-01T00:10:00Z")));
        Assert.Equal(none, await Send(Patterns.Login("erin", "2025-01-01T00:11:00Z")));
        var runs = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Alert");
        Assert.Equal(["dave", "erin"], runs.Body["runs"]!.AsArray().Select(r => (string?)r!["captures"]!["a"]!["data"]!["user"]));
        Assert.Equal([null, null], runs.Body["runs"]!.AsArray().Select(r => (string?)r!["partition"]));
        Assert.Equal(2, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);
        Assert.Equal(Alert("erin", "2025-01-01T00:12:00Z"), await Send(Patterns.Purchase("erin", 40, "2025-01-01T00:12:00Z")));
        runs = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Alert");
        Assert.Equal(["dave"], runs.Body["runs"]!.AsArray().Select(r => (string?)r!["captures"]!["a"]!["data"]!["user"]));
        Assert.Equal(1, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);

        // .within(5m) is inclusive: a Purchase at exactly +5m matches, one at +5m 1ms does not.
        // frank's Login moves event time past dave's deadline (00:15): dave's run is gone.
        Assert.Equal(none, await Send(Patterns.Login("frank", "2025-01-01T00:20:00Z")));
        runs = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Alert");
        Assert.Equal(["frank"], runs.Body["runs"]!.AsArray().Select(r => (string?)r!["captures"]!["a"]!["data"]!["user"]));
        Assert.Equal(Alert("frank", "2025-01-01T00:25:00Z"), await Send(Patterns.Purchase("frank", 50, "2025-01-01T00:25:00Z")));
        Assert.Equal(none, await Send(Patterns.Login("gina", "2025-01-01T00:30:00Z")));
        Assert.Equal(none, await Send(Patterns.Purchase("gina", 60, "2025-01-01T00:35:00.001Z")));

        var metrics = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(12, (long)metrics.Body["events_processed"]!);
        Assert.Equal(4, (long)metrics.Body["output_events_emitted"]!);
        Assert.Equal(0, (long)metrics.Body["active_runs"]!);
    }

    [Fact]
    public async Task CheckpointWithLiveRunsRestoresAsIsAndRunsCompleteOnce()
    {
        var id = await f.DeployAsync(Patterns.Fraud, "fraud-checkpoint");
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("u1", "2025-01-01T00:00:00Z"));
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("u2", "2025-01-01T00:01:00Z"));

        // runbook §2.4 / §4.1: checkpoint while the runs are live, the response document kept as is.
        using var cpResp = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/checkpoint", (HttpContent?)null);
        Assert.Equal(HttpStatusCode.OK, cpResp.StatusCode);
        var checkpointDoc = await cpResp.Content.ReadAsStringAsync();
        var cp = JsonNode.Parse(checkpointDoc)!;
        Assert.Equal(2, (long)cp["events_processed"]!);
        // runbook §2.4 step 3: the checkpoint shows the live SASE runs (two, with their deadlines 00:30 and 00:31 in ns).
        Assert.Equal([1735691400000000000, 1735691460000000000], Patterns.CheckpointRuns(cp["checkpoint"]!["streams"]!["Fraud"]!).Select(r => (long)r["deadline"]!));

        // More events: a third run starts, u1's run completes.
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("u3", "2025-01-01T00:02:00Z"));
        var u1 = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u1", 5, "2025-01-01T00:03:00Z"));
        Assert.Equal(
            """{"accepted":true,"output_events":[{"event_type":"Fraud","timestamp":"2025-01-01T00:03:00Z","fields":{"user":"u1","amount":5}}]}""",
            u1.Body.ToJsonString());
        Assert.Equal(
            Patterns.Page(id, [Patterns.Run("u2", "2025-01-01T00:01:00Z", "2025-01-01T00:31:00Z"), Patterns.Run("u3", "2025-01-01T00:02:00Z", "2025-01-01T00:32:00Z")], total: 2, limit: 50, offset: 0, hasMore: false),
            (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud")).Body.ToJsonString());

        // Restore: exactly the runs of the checkpoint are back (u1 live again, u3 gone).
        var restored = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/restore", checkpointDoc);
        Assert.Equal(HttpStatusCode.OK, restored.Status);
        Assert.Equal($"{{\"pipeline_id\":\"{id}\",\"restored\":true,\"events_restored\":2,\"restored_streams\":[\"Fraud\"],\"reset_streams\":[]}}", restored.Body.ToJsonString());
        Assert.Equal(
            Patterns.Page(id, [Patterns.Run("u1", "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"), Patterns.Run("u2", "2025-01-01T00:01:00Z", "2025-01-01T00:31:00Z")], total: 2, limit: 50, offset: 0, hasMore: false),
            (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud")).Body.ToJsonString());
        var metrics = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(2, (long)metrics.Body["active_runs"]!);
        Assert.Equal(2, (long)metrics.Body["events_processed"]!);
        Assert.Equal(0, (long)metrics.Body["output_events_emitted"]!);

        // Each restored run completes exactly once; u3's Login is not part of the restored state.
        var batch = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch",
            Programs.Batch([Patterns.Purchase("u1", 7, "2025-01-01T00:04:00Z"), Patterns.Purchase("u2", 8, "2025-01-01T00:05:00Z"), Patterns.Purchase("u3", 9, "2025-01-01T00:06:00Z"), Patterns.Purchase("u1", 10, "2025-01-01T00:07:00Z")]));
        Assert.Equal(
            """[{"event_type":"Fraud","timestamp":"2025-01-01T00:04:00Z","user":"u1","amount":7},{"event_type":"Fraud","timestamp":"2025-01-01T00:05:00Z","user":"u2","amount":8}]""",
            batch.Body["output_events"]!.ToJsonString());
        Assert.Equal(0, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);
    }

    [Fact]
    public async Task ReloadKeepsRunsOfUnchangedPatternStreamsAndResetsChangedOnes()
    {
        const string big = "stream Big = Purchase as p .where(p.amount > 100) .emit(user: p.user)";
        var id = await f.DeployAsync(Patterns.Fraud + "\n" + big, "fraud-reload");
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("u1", "2025-01-01T00:00:00Z"));
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("u2", "2025-01-01T00:01:00Z"));

        // Big changes, Fraud does not: Fraud's runs are kept as they were.
        var r1 = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/reload",
            new JsonObject { ["source"] = Patterns.Fraud + "\nstream Big = Purchase as p .where(p.amount > 500) .emit(user: p.user)" }.ToJsonString());
        Assert.Equal("""{"reloaded":true,"kept_state":["Fraud"],"reset_state":["Big"]}""", r1.Body.ToJsonString());
        Assert.Equal(
            Patterns.Page(id, [Patterns.Run("u1", "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"), Patterns.Run("u2", "2025-01-01T00:01:00Z", "2025-01-01T00:31:00Z")], total: 2, limit: 50, offset: 0, hasMore: false),
            (await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud")).Body.ToJsonString());
        var p1 = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u1", 200, "2025-01-01T00:02:00Z"));
        Assert.Equal(
            """{"accepted":true,"output_events":[{"event_type":"Fraud","timestamp":"2025-01-01T00:02:00Z","fields":{"user":"u1","amount":200}}]}""",
            p1.Body.ToJsonString());

        // Fraud's deadline changes: its runs are dropped (u2's Purchase matches nothing), Big keeps its (empty) state.
        var r2 = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/reload",
            new JsonObject { ["source"] = Patterns.Fraud.Replace(".within(30m)", ".within(10m)") + "\nstream Big = Purchase as p .where(p.amount > 500) .emit(user: p.user)" }.ToJsonString());
        Assert.Equal("""{"reloaded":true,"kept_state":["Big"],"reset_state":["Fraud"]}""", r2.Body.ToJsonString());
        Assert.Equal(0, (int)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud")).Body["total"]!);
        Assert.Equal(0, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);
        var p2 = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u2", 600, "2025-01-01T00:03:00Z"));
        Assert.Equal(
            """{"accepted":true,"output_events":[{"event_type":"Big","timestamp":"2025-01-01T00:03:00Z","fields":{"user":"u2"}}]}""",
            p2.Body.ToJsonString());
    }

    [Fact]
    public async Task RunbookReloadFromThePatternProgramResetsItsRuns()
    {
        var id = await f.DeployAsync("stream Alert = Login as a -> Purchase as b .within(5m) .where(a.user == b.user) .emit(user: a.user)", "fraud-detect");
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("alice", "2025-01-01T00:00:00Z"));
        Assert.Equal(1, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);

        // runbook §1.6, the body as written: same stream name, another shape.
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/reload",
            """{"source": "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)"}""");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"reloaded":true,"kept_state":[],"reset_state":["Alert"]}""", r.Body.ToJsonString());
        Assert.Equal(0, (long)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);
        Assert.Equal(0, (int)(await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Alert")).Body["total"]!);
        var purchase = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("alice", 10, "2025-01-01T00:01:00Z"));
        Assert.Equal("""{"accepted":true,"output_events":[]}""", purchase.Body.ToJsonString());
        var hot = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 150}, "timestamp": "2025-01-01T00:02:00Z"}""");
        Assert.Equal("""{"accepted":true,"output_events":[{"event_type":"Alert","timestamp":"2025-01-01T00:02:00Z","fields":{"alert":true}}]}""", hot.Body.ToJsonString());
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

    /// <summary>The runs a checkpoint holds for one stream (every <c>runs</c> array of its operators' state).</summary>
    public static List<JsonObject> CheckpointRuns(JsonNode stream)
    {
        var result = new List<JsonObject>();
        void Walk(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (var (k, v) in o)
                {
                    if (k == "runs" && v is JsonArray runs) result.AddRange(runs.Select(r => r!.AsObject()));
                    else Walk(v);
                }
            }
            else if (n is JsonArray a)
            {
                foreach (var item in a) Walk(item);
            }
        }
        Walk(stream);
        return result;
    }

    /// <summary>
    /// A live run of <see cref="Fraud"/> waiting for its Purchase, as the runs endpoint lists it: the captured Login
    /// (event type, timestamp, fields) under its alias.
    /// </summary>
    public static string Run(string user, string startedAt, string deadline)
        => "{\"stream\":\"Fraud\",\"partition\":\"" + user + "\",\"step_reached\":1,\"next_step\":\"Purchase as b\","
           + "\"captures\":{\"a\":{\"event_type\":\"Login\",\"timestamp\":\"" + startedAt + "\",\"data\":{\"user\":\"" + user + "\"}}},"
           + "\"started_at\":\"" + startedAt + "\",\"deadline\":\"" + deadline + "\"}";
}
