using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Actors.Configuration;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>
/// What survives a restart of the server: pipelines (ids, sources), their engine state (windows, live pattern runs)
/// from snapshots and journal replay, tenants and their keys, and deletions. The same suite runs on the embedded SQLite files and on PostgreSQL.
/// </summary>
public abstract class PersistenceSuite
{
    protected abstract Task<VarpulisSettings> NewStoreAsync();

    protected async Task PipelinesAndWindowStateSurviveARestartCore()
    {
        var settings = await NewStoreAsync();
        string id, deletedId;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var http = first.Client();
            id = await Deploy(http, Programs.AlertAndWindow, "durable");
            deletedId = await Deploy(http, Programs.Alert, "to-delete");
            var r = await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 10, 1000), Programs.Reading("S1", 20, 2000)]));
            Assert.Equal(2, (int)r.Body["accepted"]!);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(HttpMethod.Delete, $"/api/v1/pipelines/{deletedId}")).Status);
        }

        settings.Server.Port = TestServer.FreePort();
        await using var second = await TestServer.StartAsync(settings);
        using var http2 = second.Client();
        var info = await http2.GetJsonAsync($"/api/v1/pipelines/{id}");
        Assert.Equal(HttpStatusCode.OK, info.Status);
        Assert.Equal(Programs.AlertAndWindow, (string?)info.Body["source"]);
        (await http2.GetJsonAsync($"/api/v1/pipelines/{deletedId}")).AssertError(HttpStatusCode.NotFound, "pipeline_not_found");
        var list = await http2.GetJsonAsync("/api/v1/pipelines");
        Assert.Equal([id], list.Body["pipelines"]!.AsArray().Select(p => (string?)p!["id"]));

        var metrics = await http2.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(2, (long)metrics.Body["events_processed"]!);
        var after = await http2.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 30, 3000)]));
        Assert.Equal("""[{"event_type":"Avg","timestamp":"1970-01-01T00:00:03Z","sensor":"S1","n":3,"total":60}]""", after.Body["output_events"]!.ToJsonString());
    }

    protected async Task SnapshotsPlusJournalReplayRebuildTheStateCore()
    {
        var settings = await NewStoreAsync();
        settings.Persistence.SnapshotEveryEvents = 4;
        string id;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var http = first.Client();
            id = await Deploy(http, Programs.AlertAndWindow, "snap");
            // 4 events: a snapshot (window holds S1:1, S2:3); then 3 more journaled after it.
            await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 1, 1000), Programs.Reading("S2", 2, 1001), Programs.Reading("S2", 3, 1002), Programs.Reading("S2", 4, 1003)]));
            await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 5, 1004)]));
            await http.PostAsync($"/api/v1/pipelines/{id}/events", Programs.Reading("S2", 6, 1005));
            await http.PostAsync($"/api/v1/pipelines/{id}/events", Programs.Reading("S2", 7, 1006));
        }
        settings.Server.Port = TestServer.FreePort();
        await using var second = await TestServer.StartAsync(settings);
        using var http2 = second.Client();
        Assert.Equal(7, (long)(await http2.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["events_processed"]!);
        var r = await http2.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 100, 1007), Programs.Reading("S2", 100, 1008)]));
        Assert.Equal(
            """[{"event_type":"Avg","timestamp":"1970-01-01T00:00:01.007Z","sensor":"S1","n":3,"total":106},{"event_type":"Avg","timestamp":"1970-01-01T00:00:01.008Z","sensor":"S2","n":3,"total":113}]""",
            r.Body["output_events"]!.ToJsonString());
    }

    protected async Task PatternRunsSurviveARestartCore()
    {
        var settings = await NewStoreAsync();
        settings.Persistence.SnapshotEveryEvents = 4;
        string id;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var http = first.Client();
            id = await Deploy(http, Patterns.Fraud, "fraud");
            // 4 events: a snapshot holding the runs of u1 and u3 (u2's completed).
            var r = await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([
                Patterns.Login("u1", "2025-01-01T00:00:00Z"), Patterns.Login("u2", "2025-01-01T00:01:00Z"),
                Patterns.Login("u3", "2025-01-01T00:02:00Z"), Patterns.Purchase("u2", 20, "2025-01-01T00:03:00Z")]));
            Assert.Equal("""[{"event_type":"Fraud","timestamp":"2025-01-01T00:03:00Z","user":"u2","amount":20}]""", r.Body["output_events"]!.ToJsonString());
            // Journaled after the snapshot: two runs start, u3's completes.
            await http.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("u4", "2025-01-01T00:04:00Z"));
            await http.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Login("u5", "2025-01-01T00:05:00Z"));
            var u3 = await http.PostAsync($"/api/v1/pipelines/{id}/events", Patterns.Purchase("u3", 30, "2025-01-01T00:06:00Z"));
            Assert.Equal(
                """{"accepted":true,"output_events":[{"event_type":"Fraud","timestamp":"2025-01-01T00:06:00Z","fields":{"user":"u3","amount":30}}]}""",
                u3.Body.ToJsonString());
        }

        settings.Server.Port = TestServer.FreePort();
        await using var second = await TestServer.StartAsync(settings);
        using var http2 = second.Client();
        Assert.Equal(
            Patterns.Page(id, [
                Patterns.Run("u1", "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"),
                Patterns.Run("u4", "2025-01-01T00:04:00Z", "2025-01-01T00:34:00Z"),
                Patterns.Run("u5", "2025-01-01T00:05:00Z", "2025-01-01T00:35:00Z")], total: 3, limit: 50, offset: 0, hasMore: false),
            (await http2.GetJsonAsync($"/api/v1/pipelines/{id}/runs?stream=Fraud")).Body.ToJsonString());
        var metrics = await http2.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(7, (long)metrics.Body["events_processed"]!);
        Assert.Equal(2, (long)metrics.Body["output_events_emitted"]!);
        Assert.Equal(3, (long)metrics.Body["active_runs"]!);

        // A Purchase for every user: the three live runs complete once each, the completed ones stay completed.
        var after = await http2.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch(
            Enumerable.Range(1, 5).Select(u => Patterns.Purchase("u" + u, 100 + u, $"2025-01-01T00:1{u}:00Z"))));
        Assert.Equal(
            """[{"event_type":"Fraud","timestamp":"2025-01-01T00:11:00Z","user":"u1","amount":101},{"event_type":"Fraud","timestamp":"2025-01-01T00:14:00Z","user":"u4","amount":104},{"event_type":"Fraud","timestamp":"2025-01-01T00:15:00Z","user":"u5","amount":105}]""",
            after.Body["output_events"]!.ToJsonString());
        Assert.Equal(0, (long)(await http2.GetJsonAsync($"/api/v1/pipelines/{id}/metrics")).Body["active_runs"]!);
    }

    protected async Task TenantsAndTheirKeysSurviveARestartCore()
    {
        var settings = await NewStoreAsync();
        settings.Server.ApiKey = "admin";
        string key, pid;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var admin = first.Client();
            var t = await admin.PostAsync("/api/v1/tenants", """{"name": "kept", "quota_tier": "free"}""");
            key = (string)t.Body["api_key"]!;
            using var tenant = first.Client(key);
            pid = await Deploy(tenant, Programs.Alert, "tenant-pipeline");
        }
        settings.Server.Port = TestServer.FreePort();
        await using var second = await TestServer.StartAsync(settings);
        using var again = second.Client(key);
        var usage = await again.GetJsonAsync("/api/v1/usage");
        Assert.Equal(HttpStatusCode.OK, usage.Status);
        Assert.Equal("free", (string?)usage.Body["quota"]!["tier"]);
        Assert.Equal(HttpStatusCode.OK, (await again.GetJsonAsync($"/api/v1/pipelines/{pid}")).Status);
    }

    private static async Task<string> Deploy(HttpClient http, string source, string name)
    {
        var r = await http.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, r.Status);
        return (string)r.Body["id"]!;
    }
}

public sealed class SqlitePersistenceTests : PersistenceSuite
{
    protected override Task<VarpulisSettings> NewStoreAsync() => Task.FromResult(TestServer.DefaultSettings());

    [Fact]
    public Task PipelinesAndWindowStateSurviveARestart() => PipelinesAndWindowStateSurviveARestartCore();

    [Fact]
    public Task SnapshotsPlusJournalReplayRebuildTheState() => SnapshotsPlusJournalReplayRebuildTheStateCore();

    [Fact]
    public Task PatternRunsSurviveARestart() => PatternRunsSurviveARestartCore();

    [Fact]
    public Task TenantsAndTheirKeysSurviveARestart() => TenantsAndTheirKeysSurviveARestartCore();

    [Fact]
    public async Task StateDirectoryHoldsSeparateJournalAndSnapshotDatabases()
    {
        var settings = TestServer.DefaultSettings();
        await using (var server = await TestServer.StartAsync(settings))
        {
        }
        var files = Directory.GetFiles(settings.Server.StateDir).Select(Path.GetFileName).Where(f => f!.EndsWith(".db")).Order().ToList();
        Assert.Equal(["journal.db", "sharding-journal.db", "sharding-snapshots.db", "snapshots.db"], files);
    }
}

public sealed class PostgresPersistenceTests(PostgresServer pg) : PersistenceSuite, IClassFixture<PostgresServer>
{
    protected override async Task<VarpulisSettings> NewStoreAsync()
    {
        var s = TestServer.DefaultSettings();
        s.Persistence.Provider = "postgresql";
        s.Persistence.ConnectionString = await pg.CreateDatabaseAsync();
        return s;
    }

    [PostgresFact]
    public Task PipelinesAndWindowStateSurviveARestart() => PipelinesAndWindowStateSurviveARestartCore();

    [PostgresFact]
    public Task SnapshotsPlusJournalReplayRebuildTheState() => SnapshotsPlusJournalReplayRebuildTheStateCore();

    [PostgresFact]
    public Task PatternRunsSurviveARestart() => PatternRunsSurviveARestartCore();

    [PostgresFact]
    public Task TenantsAndTheirKeysSurviveARestart() => TenantsAndTheirKeysSurviveARestartCore();
}

/// <summary>Readiness follows the journal: a node whose database went away answers 503 with the reason.</summary>
public sealed class ReadinessTests
{
    [PostgresFact]
    public async Task ReadyTurns503WhenTheJournalStopsAnswering()
    {
        var pg = new PostgresServer();
        await pg.InitializeAsync();
        var s = TestServer.DefaultSettings();
        s.Persistence.Provider = "postgresql";
        s.Persistence.ConnectionString = await pg.CreateDatabaseAsync();
        await using var server = await TestServer.StartAsync(s);
        using var http = server.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync("/ready")).Status);

        await pg.DisposeAsync();
        var r = await http.GetJsonAsync("/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.Status);
        Assert.Equal("not_ready", (string?)r.Body["status"]);
        Assert.StartsWith("journal did not answer", (string?)r.Body["reason"]);
        // Liveness is not readiness: the process still answers /health.
        Assert.Equal(HttpStatusCode.OK, (await http.GetJsonAsync("/health")).Status);
    }
}
