using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>Every pipeline endpoint of rest-api.md, with its success and error answers.</summary>
public sealed class PipelinesEndpointsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task DeployReturns201WithIdNameAndRunning()
    {
        var r = await f.Admin.PostAsync("/api/v1/pipelines", """{"name": "fraud-detect", "source": "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)"}""");
        Assert.Equal(HttpStatusCode.Created, r.Status);
        Assert.True(Guid.TryParse((string?)r.Body["id"], out _));
        Assert.Equal("fraud-detect", (string?)r.Body["name"]);
        Assert.Equal("running", (string?)r.Body["status"]);
        Assert.Equal(3, r.Body.AsObject().Count);
        Assert.Contains("Pipeline deployed: " + (string?)r.Body["id"] + " (fraud-detect)", f.Server.Log);
    }

    [Fact]
    public async Task DeployOfBadVplIsParseErrorWithDiagnostics()
    {
        var r = await f.Admin.PostAsync("/api/v1/pipelines", """{"name": "bad", "source": "stream A = B .where("}""");
        r.AssertError(HttpStatusCode.BadRequest, "parse_error");
        var d = r.Body["diagnostics"]!.AsArray();
        Assert.NotEmpty(d);
        Assert.Equal("error", (string?)d[0]!["severity"]);
        Assert.Equal(1, (int)d[0]!["line"]!);
        Assert.True((int)d[0]!["column"]! > 1);
        Assert.StartsWith("line 1, column ", (string?)r.Body["error"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n")]
    [InlineData("# only a comment\n/* and a block */\n")]
    [InlineData("const LIMIT = 5\nfn twice(x: int) -> int:\n    return x * 2\n")]
    public async Task DeployWithoutStreamsIsParseErrorNoStreams(string source)
    {
        var r = await f.Admin.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "empty", ["source"] = source }.ToJsonString());
        r.AssertError(HttpStatusCode.BadRequest, "parse_error",
            "line 1, column 1: no streams: the program defines no stream, so a pipeline would do nothing (is the source empty or only comments and declarations?)");
        var d = Assert.Single(r.Body["diagnostics"]!.AsArray())!;
        Assert.Equal("error", (string?)d["severity"]);
        Assert.Equal(1, (int)d["line"]!);
        Assert.Equal(1, (int)d["column"]!);
        Assert.StartsWith("no streams: ", (string?)d["message"]);
    }

    [Fact]
    public async Task ReloadToACommentOnlySourceIsParseErrorAndKeepsTheProgram()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/reload", """{"source": "# nothing left\n"}""");
        r.AssertError(HttpStatusCode.BadRequest, "parse_error");
        Assert.StartsWith("line 1, column 1: no streams: ", (string?)r.Body["error"]);
        var info = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}");
        Assert.Equal(Programs.Alert, (string?)info.Body["source"]);
    }

    [Fact]
    public async Task EventWithoutFieldsMeansEmptyFields()
    {
        var id = await f.DeployAsync("stream Pings = Ping .emit(kind: \"ping\", has_host: host != null)");
        var single = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "Ping", "timestamp": "2025-01-01T00:00:00Z"}""");
        Assert.Equal(HttpStatusCode.OK, single.Status);
        Assert.Equal("""{"accepted":true,"output_events":[{"event_type":"Pings","timestamp":"2025-01-01T00:00:00Z","fields":{"kind":"ping","has_host":false}}]}""", single.Body.ToJsonString());
        var batch = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", """{"events": [{"event_type": "Ping", "timestamp": 1000}, {"event_type": "Ping", "fields": {}, "timestamp": 2000}]}""");
        Assert.Equal(2, (int)batch.Body["accepted"]!);
        Assert.Equal(0, (int)batch.Body["rejected"]!);
        Assert.Equal(
            """[{"event_type":"Pings","timestamp":"1970-01-01T00:00:01Z","kind":"ping","has_host":false},{"event_type":"Pings","timestamp":"1970-01-01T00:00:02Z","kind":"ping","has_host":false}]""",
            batch.Body["output_events"]!.ToJsonString());
    }

    [Fact]
    public async Task TimestampOutOfRangeStatesTheRange()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "TempReading", "fields": {"value": 1}, "timestamp": "3000-01-01T00:00:00Z"}""");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request",
            "timestamp '3000-01-01T00:00:00Z' is out of range: timestamps go from 1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z (epoch milliseconds -9223372036854 to 9223372036854)");
    }

    [Fact]
    public async Task RestoreIntoAProgramWhoseStreamChangedShapeResetsThatStream()
    {
        var a = await f.DeployAsync(Programs.AlertAndWindow, "shape-a");
        await f.Admin.PostAsync($"/api/v1/pipelines/{a}/events-batch", Programs.Batch([Programs.Reading("S1", 10, 1000), Programs.Reading("S1", 20, 2000)]));
        using var cpResp = await f.Admin.PostAsync($"/api/v1/pipelines/{a}/checkpoint", (HttpContent?)null);
        var checkpointDoc = await cpResp.Content.ReadAsStringAsync();

        // Same stream names; Avg's window is now 2 events instead of 3.
        var changed = Programs.AlertAndWindow.Replace(".window(3)", ".window(2)", StringComparison.Ordinal);
        var b = await f.DeployAsync(changed, "shape-b");
        var restored = await f.Admin.PostAsync($"/api/v1/pipelines/{b}/restore", checkpointDoc);
        Assert.Equal(HttpStatusCode.OK, restored.Status);
        Assert.Equal($$"""{"pipeline_id":"{{b}}","restored":true,"events_restored":2,"restored_streams":["Alert"],"reset_streams":["Avg"]}""", restored.Body.ToJsonString());
        // Avg starts empty: two more readings close its first window of 2.
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{b}/events-batch", Programs.Batch([Programs.Reading("S1", 30, 3000), Programs.Reading("S1", 40, 4000)]));
        Assert.Equal("""[{"event_type":"Avg","timestamp":"1970-01-01T00:00:04Z","sensor":"S1","n":2,"total":70}]""", r.Body["output_events"]!.ToJsonString());
    }

    [Fact]
    public async Task DeployWithoutNameIsInvalidRequestNamingTheField()
    {
        var r = await f.Admin.PostAsync("/api/v1/pipelines", """{"source": "stream A = B .emit(x: 1)"}""");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request", "missing required field 'name'");
    }

    [Fact]
    public async Task DeployWithUnknownFieldIsInvalidRequest()
    {
        var r = await f.Admin.PostAsync("/api/v1/pipelines", """{"name": "x", "source": "stream A = B .emit(x: 1)", "extra": 1}""");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request", "unknown field 'extra'; expected 'name', 'source'");
    }

    [Fact]
    public async Task MalformedJsonIsInvalidRequest()
    {
        var r = await f.Admin.PostAsync("/api/v1/pipelines", """{"name": "x", """);
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request");
        Assert.StartsWith("invalid JSON: ", (string?)r.Body["error"]);
    }

    [Fact]
    public async Task WrongContentTypeIs415()
    {
        var r = await f.Admin.SendAsync(HttpMethod.Post, "/api/v1/pipelines", """{"name": "x", "source": "y"}""", "text/plain");
        r.AssertError(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", "Content-Type 'text/plain' is not supported: send application/json");
    }

    [Fact]
    public async Task BodyOverOneMebibyteIs413()
    {
        var big = new JsonObject { ["name"] = "x", ["source"] = new string(' ', 1 << 20) }.ToJsonString();
        var r = await f.Admin.PostAsync("/api/v1/pipelines", big);
        r.AssertError(HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "request body is larger than 1 MiB");
    }

    [Fact]
    public async Task MissingApiKeyIs401()
    {
        using var anonymous = new HttpClient { BaseAddress = f.Server.Address };
        var r = await anonymous.GetJsonAsync("/api/v1/pipelines");
        r.AssertError(HttpStatusCode.Unauthorized, "invalid_api_key", "missing API key: send it in the x-api-key header");
    }

    [Fact]
    public async Task WrongApiKeyIs401()
    {
        using var wrong = f.Server.Client("not-the-key");
        var r = await wrong.GetJsonAsync("/api/v1/pipelines");
        r.AssertError(HttpStatusCode.Unauthorized, "invalid_api_key", "invalid API key");
    }

    [Fact]
    public async Task ListPaginatesWithTotalAndHasMore()
    {
        // A tenant of its own, so other tests' pipelines do not count.
        using var tenant = await NewTenantClient("pager");
        for (int i = 0; i < 3; i++) await f.DeployAsync(Programs.Alert, "p" + i, tenant);
        var r = await tenant.GetJsonAsync("/api/v1/pipelines?limit=2");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        var items = r.Body["pipelines"]!.AsArray();
        Assert.Equal(["p0", "p1"], items.Select(p => (string?)p!["name"]));
        Assert.Equal(3, (int)r.Body["total"]!);
        Assert.Equal("""{"total":3,"limit":2,"offset":0,"has_more":true}""", r.Body["pagination"]!.ToJsonString());
        var first = items[0]!;
        Assert.Equal("running", (string?)first["status"]);
        Assert.Equal(Programs.Alert, (string?)first["source"]);
        Assert.True((long)first["uptime_secs"]! >= 0);

        var page2 = await tenant.GetJsonAsync("/api/v1/pipelines?limit=2&offset=2");
        Assert.Equal(["p2"], page2.Body["pipelines"]!.AsArray().Select(p => (string?)p!["name"]));
        Assert.False((bool)page2.Body["pagination"]!["has_more"]!);
    }

    [Fact]
    public async Task LimitOverMaximumIsInvalidLimit()
    {
        var r = await f.Admin.GetJsonAsync("/api/v1/pipelines?limit=1001");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_limit", "limit 1001 is larger than the maximum 1000");
    }

    [Fact]
    public async Task GetReturnsPipelineWithStreams()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow, "details");
        var r = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(id, (string?)r.Body["id"]);
        Assert.Equal("details", (string?)r.Body["name"]);
        Assert.Equal("running", (string?)r.Body["status"]);
        Assert.Equal(Programs.AlertAndWindow, (string?)r.Body["source"]);
        Assert.Equal("""["Alert","Avg"]""", r.Body["streams"]!.ToJsonString());
    }

    [Fact]
    public async Task UnknownPipelineIs404()
    {
        var id = Guid.NewGuid().ToString();
        foreach (var (method, path) in new[] { (HttpMethod.Get, ""), (HttpMethod.Delete, ""), (HttpMethod.Get, "/metrics"), (HttpMethod.Post, "/checkpoint") })
        {
            var r = await f.Admin.SendAsync(method, $"/api/v1/pipelines/{id}{path}");
            r.AssertError(HttpStatusCode.NotFound, "pipeline_not_found", $"pipeline '{id}' not found");
        }
    }

    [Fact]
    public async Task SingleEventReturnsItsOutputsInFieldsShape()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow);
        var low = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 95.5}}""");
        Assert.Equal(HttpStatusCode.OK, low.Status);
        Assert.Equal("""{"accepted":true,"output_events":[]}""", low.Body.ToJsonString());

        var high = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 101.5}, "timestamp": "2025-01-01T00:00:00Z"}""");
        Assert.Equal("""{"accepted":true,"output_events":[{"event_type":"Alert","timestamp":"2025-01-01T00:00:00Z","fields":{"alert":true,"value":101.5}}]}""", high.Body.ToJsonString());
    }

    [Fact]
    public async Task InvalidSingleEventIsInvalidRequest()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events", """{"fields": {"value": 1}}""");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request", "missing required field 'event_type'");
    }

    [Fact]
    public async Task BatchReportsAcceptedRejectedErrorsAndFlatOutputs()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow);
        var body = """{"events": [{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 95.5}, "timestamp": 1000}, {"event_type": "TempReading", "fields": {"sensor": "S1", "value": 101.2}, "timestamp": 2000}, {"fields": {}}, {"event_type": "TempReading", "fields": {"sensor": "S1", "value": 1}, "timestamp": 3000}]}""";
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", body);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(3, (int)r.Body["accepted"]!);
        Assert.Equal(1, (int)r.Body["rejected"]!);
        var error = Assert.Single(r.Body["errors"]!.AsArray())!;
        Assert.Equal(2, (int)error["index"]!);
        Assert.Equal("missing required field 'event_type'", (string?)error["error"]);
        Assert.Equal(
            """[{"event_type":"Alert","timestamp":"1970-01-01T00:00:02Z","alert":true,"value":101.2},{"event_type":"Avg","timestamp":"1970-01-01T00:00:03Z","sensor":"S1","n":3,"total":197.7}]""",
            r.Body["output_events"]!.ToJsonString());
        Assert.True((long)r.Body["processing_time_us"]! >= 0);
    }

    [Fact]
    public async Task BatchAcceptsUpToSixteenMebibytes()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var events = Enumerable.Range(0, 20_000).Select(i => Programs.Reading("S" + (i % 10), i % 90)).ToList();
        var body = Programs.Batch(events);
        Assert.True(body.Length > (1 << 20));
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", body);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(20_000, (int)r.Body["accepted"]!);

        var tooBig = "{\"events\": [" + new string(' ', 16 << 20) + "]}";
        var r2 = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", tooBig);
        r2.AssertError(HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "request body is larger than 16 MiB");
    }

    [Fact]
    public async Task BatchWithoutEventsArrayIsInvalidRequest()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", """{"events": 5}""");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request", "'events' must be an array");
    }

    [Fact]
    public async Task MetricsArePerPipeline()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow);
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 150), Programs.Reading("S1", 1), Programs.Reading("S1", 2)]));
        var r = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(id, (string?)r.Body["pipeline_id"]);
        Assert.Equal(3, (long)r.Body["events_processed"]!);
        Assert.Equal(2, (long)r.Body["output_events_emitted"]!);
        Assert.Equal(0, (long)r.Body["active_runs"]!);
        Assert.Equal(0, (long)r.Body["late_events"]!);
        Assert.Equal(0, (long)r.Body["dlq_events"]!);
        Assert.True((double)r.Body["latency_p99_us"]! >= (double)r.Body["latency_p50_us"]!);
        Assert.True((double)r.Body["events_per_second"]! >= 0);
    }

    [Fact]
    public async Task CheckpointResponseRestoresAsIsIntoAnotherPipeline()
    {
        var a = await f.DeployAsync(Programs.AlertAndWindow, "a");
        await f.Admin.PostAsync($"/api/v1/pipelines/{a}/events-batch", Programs.Batch([Programs.Reading("S1", 10, 1000), Programs.Reading("S1", 20, 2000)]));
        using var cpResp = await f.Admin.PostAsync($"/api/v1/pipelines/{a}/checkpoint", (HttpContent?)null);
        var checkpointDoc = await cpResp.Content.ReadAsStringAsync();
        var cp = JsonNode.Parse(checkpointDoc)!;
        Assert.Equal(a, (string?)cp["pipeline_id"]);
        Assert.Equal(2, (long)cp["events_processed"]!);
        Assert.Equal(1, (int)cp["checkpoint"]!["version"]!);
        Assert.NotNull((string?)cp["created_at"]);

        var b = await f.DeployAsync(Programs.AlertAndWindow, "b");
        var restored = await f.Admin.PostAsync($"/api/v1/pipelines/{b}/restore", checkpointDoc);
        Assert.Equal(HttpStatusCode.OK, restored.Status);
        Assert.Equal($$"""{"pipeline_id":"{{b}}","restored":true,"events_restored":2,"restored_streams":["Alert","Avg"],"reset_streams":[]}""", restored.Body.ToJsonString());

        // The window of b continues where a was: one more reading closes it.
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{b}/events-batch", Programs.Batch([Programs.Reading("S1", 30, 3000)]));
        Assert.Equal("""[{"event_type":"Avg","timestamp":"1970-01-01T00:00:03Z","sensor":"S1","n":3,"total":60}]""", r.Body["output_events"]!.ToJsonString());

        // {checkpoint: {...}} works too.
        var wrapped = new JsonObject { ["checkpoint"] = cp["checkpoint"]!.DeepClone() }.ToJsonString();
        var again = await f.Admin.PostAsync($"/api/v1/pipelines/{b}/restore", wrapped);
        Assert.Equal(HttpStatusCode.OK, again.Status);
    }

    [Fact]
    public async Task RestoreOfUnreadableCheckpointIsInvalidRequest()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/restore", """{"checkpoint": {"version": 99, "streams": {}}}""");
        r.AssertError(HttpStatusCode.BadRequest, "invalid_request", "invalid checkpoint: checkpoint version 99 is newer than this engine supports (max 1)");
        var missing = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/restore", """{"something": 1}""");
        missing.AssertError(HttpStatusCode.BadRequest, "invalid_request", "missing required field 'checkpoint'");
    }

    [Fact]
    public async Task ReloadKeepsStateOfUnchangedStreams()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow);
        await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 10, 1000), Programs.Reading("S1", 20, 2000)]));
        var changed = "stream Alert = TempReading as t .where(t.value > 50) .emit(alert: true)\n" + Programs.AlertAndWindow.Split('\n')[1];
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/reload", new JsonObject { ["source"] = changed }.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"reloaded":true,"kept_state":["Avg"],"reset_state":["Alert"]}""", r.Body.ToJsonString());
        var after = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 60, 3000)]));
        Assert.Equal(
            """[{"event_type":"Alert","timestamp":"1970-01-01T00:00:03Z","alert":true},{"event_type":"Avg","timestamp":"1970-01-01T00:00:03Z","sensor":"S1","n":3,"total":90}]""",
            after.Body["output_events"]!.ToJsonString());
        var info = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}");
        Assert.Equal(changed, (string?)info.Body["source"]);
    }

    [Fact]
    public async Task ReloadOfBadVplIsParseErrorAndKeepsTheProgram()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.PostAsync($"/api/v1/pipelines/{id}/reload", """{"source": "stream Alert = "}""");
        r.AssertError(HttpStatusCode.BadRequest, "parse_error");
        var info = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}");
        Assert.Equal(Programs.Alert, (string?)info.Body["source"]);
    }

    [Fact]
    public async Task DeleteRemovesThePipeline()
    {
        var id = await f.DeployAsync(Programs.Alert);
        var r = await f.Admin.SendAsync(HttpMethod.Delete, $"/api/v1/pipelines/{id}");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"deleted":true}""", r.Body.ToJsonString());
        var get = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}");
        get.AssertError(HttpStatusCode.NotFound, "pipeline_not_found");
        var list = await f.Admin.GetJsonAsync("/api/v1/pipelines?limit=1000");
        Assert.DoesNotContain(list.Body["pipelines"]!.AsArray(), p => (string?)p!["id"] == id);
    }

    [Fact]
    public async Task RunsListsLiveMatchesOfAStream()
    {
        var id = await f.DeployAsync(Programs.AlertAndWindow);
        var r = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Alert&limit=10");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal($$$"""{"pipeline_id":"{{{id}}}","stream":"Alert","runs":[],"count":0,"total":0,"pagination":{"total":0,"limit":10,"offset":0,"has_more":false}}""", r.Body.ToJsonString());
        var missing = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs");
        missing.AssertError(HttpStatusCode.BadRequest, "invalid_request", "missing required query parameter 'stream'");
        var unknown = await f.Admin.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Nope");
        unknown.AssertError(HttpStatusCode.NotFound, "stream_not_found", $"pipeline '{id}' has no stream 'Nope'");
    }

    private async Task<HttpClient> NewTenantClient(string name, string tier = "pro")
    {
        var r = await f.Admin.PostAsync("/api/v1/tenants", new JsonObject { ["name"] = name, ["quota_tier"] = tier }.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, r.Status);
        return f.Server.Client((string)r.Body["api_key"]!);
    }
}
