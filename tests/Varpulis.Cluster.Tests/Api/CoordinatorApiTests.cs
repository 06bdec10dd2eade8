using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Server;

namespace Varpulis.Cluster.Tests.Api;

/// <summary>The coordinator's HTTP contract (rest-api.md, Coordinator) on a coordinator with one worker.</summary>
public sealed class CoordinatorApiTests(CoordinatorFixture f) : IClassFixture<CoordinatorFixture>
{
    [Fact]
    public async Task TheSeedEndpointIsOpenAndGivesTheSeedNodesTimingsAndJournal()
    {
        using var anonymous = CoordinatorFixture.Client(f.CoordinatorUrl, null);
        var (status, seed) = await GetAsync(anonymous, "/api/v1/cluster/seed");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("varpulis", (string?)seed["cluster_name"]);
        Assert.Matches(@"^akka\.tcp://varpulis@127\.0\.0\.1:\d+$", (string?)Assert.Single(seed["seed_nodes"]!.AsArray()));
        Assert.Equal((0.5, 3.0), ((double)seed["heartbeat_interval_secs"]!, (double)seed["heartbeat_timeout_secs"]!));
        var journal = seed["journal"]!;
        Assert.Equal("embedded", (string?)journal["mode"]);
        Assert.Equal(Path.Combine(f.StateDir, "coordinator"), (string?)journal["state_dir"]);
        Assert.Equal(File.ReadAllText(Path.Combine(f.StateDir, "coordinator", "cluster.id")).Trim(), (string?)journal["cluster_id"]);
    }

    [Fact]
    public async Task ClusterRoutesNeedTheAdminKey()
    {
        using var anonymous = CoordinatorFixture.Client(f.CoordinatorUrl, null);
        var r = await GetAsync(anonymous, "/api/v1/cluster/workers");
        AssertError(r, HttpStatusCode.Unauthorized, "invalid_api_key", "missing API key: send it in the x-api-key header");

        var tenant = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/tenants", """{"name": "acme"}""");
        Assert.Equal(HttpStatusCode.Created, tenant.Status);
        using var tenantClient = CoordinatorFixture.Client(f.CoordinatorUrl, (string)tenant.Body["api_key"]!);
        AssertError(await GetAsync(tenantClient, "/api/v1/cluster/workers"), HttpStatusCode.Forbidden, "forbidden", "cluster operations need the coordinator's admin key or a role key");
        // The worker's key is the admin of the worker, not of the coordinator.
        using var workerKeyOnCoordinator = CoordinatorFixture.Client(f.CoordinatorUrl, CoordinatorFixture.WorkerKey);
        AssertError(await GetAsync(workerKeyOnCoordinator, "/api/v1/cluster/workers"), HttpStatusCode.Unauthorized, "invalid_api_key", "invalid API key");
    }

    [Fact]
    public async Task WorkersIsAnArrayOfWorkerInfo()
    {
        var (status, body) = await GetAsync(f.Coordinator, "/api/v1/cluster/workers");
        Assert.Equal(HttpStatusCode.OK, status);
        var w = Assert.Single(body.AsArray())!;
        Assert.Equal(
            ["id", "address", "akka_address", "status", "roles", "pipelines_running", "max_pipelines", "cpu_cores", "assigned_pipelines", "events_processed", "last_heartbeat"],
            w.AsObject().Select(p => p.Key));
        Assert.Equal(("worker-0", f.WorkerUrl.ToString().TrimEnd('/'), "ready"), ((string?)w["id"], (string?)w["address"], (string?)w["status"]));
        Assert.StartsWith("akka.tcp://varpulis@127.0.0.1:", (string?)w["akka_address"]);
        Assert.Equal("[\"worker\"]", w["roles"]!.ToJsonString());
        Assert.Equal((1000, Environment.ProcessorCount), ((int)w["max_pipelines"]!, (int)w["cpu_cores"]!));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string?)w["last_heartbeat"]);

        var one = await GetAsync(f.Coordinator, "/api/v1/cluster/workers/worker-0");
        Assert.Equal(HttpStatusCode.OK, one.Status);
        Assert.Equal("worker-0", (string?)one.Body["id"]);
    }

    [Fact]
    public async Task AnUnknownWorkerIs404Everywhere()
    {
        const string message = "worker 'nope' not found";
        AssertError(await GetAsync(f.Coordinator, "/api/v1/cluster/workers/nope"), HttpStatusCode.NotFound, "worker_not_found", message);
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/workers/nope/drain"), HttpStatusCode.NotFound, "worker_not_found", message);
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Delete, "/api/v1/cluster/workers/nope"), HttpStatusCode.NotFound, "worker_not_found", message);
    }

    [Fact]
    public async Task DrainingTheLastWorkerIsAConflict()
    {
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/workers/worker-0/drain"), HttpStatusCode.Conflict, "conflict",
            "worker 'worker-0' is the last worker that can run pipelines: start another worker before draining it");
        var w = await GetAsync(f.Coordinator, "/api/v1/cluster/workers/worker-0");
        Assert.Equal("ready", (string?)w.Body["status"]);
    }

    [Fact]
    public async Task HealthShowsTheCoordinatorShape()
    {
        using var anonymous = CoordinatorFixture.Client(f.CoordinatorUrl, null);
        var (status, h) = await GetAsync(anonymous, "/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(("healthy", "coordinator", "0.1.0", "leader"), ((string?)h["status"], (string?)h["role"], (string?)h["version"], (string?)h["ha_role"]));
        Assert.Equal("""{"total":1,"healthy":1,"unhealthy":0,"draining":0}""", h["workers"]!.ToJsonString());
        Assert.Equal((0, 0), ((int)h["pipeline_groups"]!, (int)h["active_migrations"]!));
    }

    [Fact]
    public async Task ACoordinatorWithoutWorkersSaysNoWorkersAndRefusesNothingElse()
    {
        var s = new VarpulisSettings();
        s.Server.Port = ServerProcess.FreePort();
        s.Server.StateDir = ServerProcess.TempDir();
        var app = VarpulisServer.Build(s, TextWriter.Null, _ => null, coordinator: true);
        await app.StartAsync();
        try
        {
            using var http = CoordinatorFixture.Client(VarpulisServer.ApiAddress(app, s), null);
            JsonNode? h = null;
            await ClusterRun_Wait(async () =>
            {
                h = (await GetAsync(http, "/health")).Body;
                return (string?)h["ha_role"] == "leader";
            });
            Assert.Equal("no_workers", (string?)h!["status"]);
            Assert.Equal("""{"total":0,"healthy":0,"unhealthy":0,"draining":0}""", h["workers"]!.ToJsonString());
            Assert.Equal("[]", (await GetAsync(http, "/api/v1/cluster/workers")).Body.ToJsonString());
            // Nowhere to run a pipeline: refused at once, nothing left behind.
            using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/pipelines")
            {
                Content = new StringContent("""{"name": "p", "source": "stream A = B .emit(x: 1)"}""", Encoding.UTF8, "application/json"),
            };
            using var resp = await http.SendAsync(req);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, resp.StatusCode);
            Assert.Equal("5", resp.Headers.RetryAfter!.ToString());
            var error = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
            Assert.Equal(("no_workers_available", "no worker can take the pipeline: start a worker (or end a drain) and deploy again; retry in 5 s"), ((string?)error["code"], (string?)error["error"]));
            Assert.Equal(0, (int)(await GetAsync(http, "/api/v1/pipelines")).Body["total"]!);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task PipelinesDeployedOnAWorkerAreServedByEveryNodeWithItsOwnKey()
    {
        var deployed = await SendAsync(f.Worker, HttpMethod.Post, "/api/v1/pipelines",
            """{"name": "alerts", "source": "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)"}""");
        Assert.Equal(HttpStatusCode.Created, deployed.Status);
        var id = (string)deployed.Body["id"]!;
        var viaCoordinator = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{id}/events",
            """{"event_type": "TempReading", "fields": {"value": 150}, "timestamp": "2025-01-01T00:00:01Z"}""");
        Assert.Equal("""{"accepted":true,"output_events":[{"event_type":"Alert","timestamp":"2025-01-01T00:00:01Z","fields":{"alert":true}}]}""", viaCoordinator.Body.ToJsonString());
        var listed = await GetAsync(f.Coordinator, "/api/v1/pipelines");
        var item = Assert.Single(listed.Body["pipelines"]!.AsArray(), p => (string?)p!["id"] == id)!;
        Assert.Equal(("alerts", "running", "worker-0"), ((string?)item["name"], (string?)item["status"], (string?)item["worker_id"]));
        var one = await GetAsync(f.Worker, $"/api/v1/pipelines/{id}");
        Assert.Equal("worker-0", (string?)one.Body["worker_id"]);

        await ClusterRun_Wait(async () => (await GetAsync(f.Coordinator, "/api/v1/cluster/workers/worker-0")).Body["assigned_pipelines"]!.AsArray().Any(n => (string?)n == "alerts"));
        var topology = (await GetAsync(f.Coordinator, "/api/v1/cluster/topology")).Body;
        Assert.Contains(topology["pipelines"]!.AsArray(), p => (string?)p!["pipeline_id"] == id && (string?)p["worker_id"] == "worker-0" && (string?)p["status"] == "running");
        Assert.Equal(["coordinator", "worker"], topology["nodes"]!.AsArray().Select(n => (string)n!["roles"]![0]!).Order());
        var summary = (await GetAsync(f.Coordinator, "/api/v1/cluster/summary")).Body;
        Assert.Equal(("""{"total":1,"healthy":1,"unhealthy":0,"draining":0}""", 1), (summary["workers"]!.ToJsonString(), (int)summary["coordinators"]!));
        Assert.True((int)summary["pipelines"]! >= 1);
    }

    [Fact]
    public async Task EveryPipelineRouteWorksThroughTheCoordinator()
    {
        const string pairs = "stream Pairs = Open as a -> Close where id == a.id as b .within(1h) .partition_by(id) .emit(id: a.id)";
        var deployed = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/pipelines", new JsonObject { ["name"] = "pairs", ["source"] = pairs }.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, deployed.Status);
        var id = (string)deployed.Body["id"]!;
        var open = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{id}/events-batch",
            """{"events": [{"event_type": "Open", "fields": {"id": 1}, "timestamp": "2025-01-01T00:00:01Z"}]}""");
        Assert.Equal(1, (int)open.Body["accepted"]!);
        var runs = await GetAsync(f.Coordinator, $"/api/v1/pipelines/{id}/runs?stream=Pairs");
        Assert.Equal(1, (int)runs.Body["count"]!);
        var checkpoint = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{id}/checkpoint", "{}");
        Assert.Equal(1, (long)checkpoint.Body["events_processed"]!);
        var restored = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{id}/restore", checkpoint.Body.ToJsonString());
        Assert.Equal(true, (bool?)restored.Body["restored"]);
        var reloaded = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{id}/reload", new JsonObject { ["source"] = pairs }.ToJsonString());
        Assert.Equal("[\"Pairs\"]", reloaded.Body["kept_state"]!.ToJsonString());
        var metrics = await GetAsync(f.Coordinator, $"/api/v1/pipelines/{id}/metrics");
        Assert.Equal((1L, 1L), ((long)metrics.Body["events_processed"]!, (long)metrics.Body["active_runs"]!));
        var deleted = await SendAsync(f.Coordinator, HttpMethod.Delete, $"/api/v1/pipelines/{id}");
        Assert.Equal("""{"deleted":true}""", deleted.Body.ToJsonString());
        AssertError(await GetAsync(f.Worker, $"/api/v1/pipelines/{id}"), HttpStatusCode.NotFound, "pipeline_not_found", $"pipeline '{id}' not found");
    }

    [Fact]
    public async Task ConnectorAndDlqRoutesWorkThroughTheCoordinator()
    {
        // A sink to a port nobody listens on: its first event fails, opens the circuit (threshold 1) and is dead-lettered on the worker.
        int dead = ServerProcess.FreePort();
        var source = $$"""
            connector Hook = http (url: "http://127.0.0.1:{{dead}}/hook", failure_threshold: 1, retries: 0, reset_timeout: 1h)
            stream Copy = Tick as t .emit(n: t.n) .to(Hook)
            """;
        var deployed = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/pipelines", new JsonObject { ["name"] = "hooked", ["source"] = source }.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, deployed.Status);
        var id = (string)deployed.Body["id"]!;
        var sent = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{id}/events", """{"event_type": "Tick", "fields": {"n": 7}, "timestamp": "2025-01-01T00:00:01Z"}""");
        Assert.Equal(HttpStatusCode.OK, sent.Status);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((long)(await GetAsync(f.Coordinator, $"/api/v1/pipelines/{id}/metrics")).Body["dlq_events"]! != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the event did not reach the DLQ");
            await Task.Delay(100);
        }
        var connectors = await GetAsync(f.Coordinator, $"/api/v1/pipelines/{id}/connectors");
        var hook = connectors.Body.AsArray().Single()!;
        Assert.Equal(("Hook", "http", "sink", "open", 1L, 1L), ((string)hook["name"]!, (string)hook["kind"]!, (string)hook["direction"]!, (string)hook["circuit"]!, (long)hook["failed"]!, (long)hook["dlq"]!));
        var page = await GetAsync(f.Coordinator, $"/api/v1/pipelines/{id}/dlq");
        Assert.Equal(1, (long)page.Body["total"]!);
        Assert.Equal("""{"event_type":"Copy","timestamp":"2025-01-01T00:00:01Z","data":{"n":7}}""", page.Body["events"]![0]!["event"]!.ToJsonString());
        // The file is on the worker that runs the pipeline.
        var line = JsonNode.Parse(File.ReadAllLines(Path.Combine(f.StateDir, "worker", "dlq.jsonl")).Single(l => l.Contains(id, StringComparison.Ordinal)))!;
        Assert.Equal(("Hook", "hooked"), ((string)line["connector"]!, (string)line["pipeline_name"]!));
        // The circuit stays open (reset_timeout 1h): a replay leaves the letter where it is.
        var replay = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{id}/dlq/replay");
        Assert.Equal($$"""{"pipeline_id":"{{id}}","delivered":0,"failed":1,"skipped":0,"remaining":1}""", replay.Body.ToJsonString());
        var cleared = await SendAsync(f.Coordinator, HttpMethod.Delete, $"/api/v1/pipelines/{id}/dlq");
        Assert.Equal($$"""{"pipeline_id":"{{id}}","cleared":true,"removed":1}""", cleared.Body.ToJsonString());
        Assert.Equal(0, (long)(await GetAsync(f.Coordinator, $"/api/v1/pipelines/{id}/metrics")).Body["dlq_events"]!);
        AssertError(await GetAsync(f.Coordinator, $"/api/v1/pipelines/nope/dlq"), HttpStatusCode.NotFound, "pipeline_not_found", "pipeline 'nope' not found");
        await SendAsync(f.Coordinator, HttpMethod.Delete, $"/api/v1/pipelines/{id}");
    }

    [Fact]
    public async Task RebalanceWithOneWorkerHasNothingToMove()
    {
        var r = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/rebalance");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"status":"balanced","pipelines_moved":0,"migrations":[]}""", r.Body.ToJsonString());
        var m = await GetAsync(f.Coordinator, "/api/v1/cluster/migrations");
        Assert.Equal("""{"migrations":[],"total":0,"pagination":{"total":0,"limit":50,"offset":0,"has_more":false}}""", m.Body.ToJsonString());
    }

    [Fact]
    public async Task ValidateOnTheCoordinatorAlwaysAnswers200()
    {
        var ok = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/validate", """{"source": "stream Test = A as a .where(a.x > 1) .emit(v: a.x)"}""");
        Assert.Equal((HttpStatusCode.OK, """{"valid":true,"diagnostics":[]}"""), (ok.Status, ok.Body.ToJsonString()));
        var bad = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/validate", """{"source": "stream Test = "}""");
        Assert.Equal(HttpStatusCode.OK, bad.Status);
        Assert.False((bool)bad.Body["valid"]!);
        Assert.NotEmpty(bad.Body["diagnostics"]!.AsArray());
    }

    [Fact]
    public async Task PrometheusIsOnTheCoordinatorsOwnPort()
    {
        using var anonymous = CoordinatorFixture.Client(f.CoordinatorUrl, null);
        using var r = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("text/plain", r.Content.Headers.ContentType!.ToString());
        Assert.Contains("varpulis_pipelines", await r.Content.ReadAsStringAsync());
    }

    private static async Task ClusterRun_Wait(Func<Task<bool>> condition) => await EndToEnd.ClusterRun.WaitForAsync("the condition", condition, TimeSpan.FromSeconds(60));

    private static Task<(HttpStatusCode Status, JsonNode Body)> GetAsync(HttpClient http, string path) => SendAsync(http, HttpMethod.Get, path);

    /// <summary>One request; every answer of the API is JSON (asserted). Shared by the coordinator's route tests.</summary>
    internal static async Task<(HttpStatusCode Status, JsonNode Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var resp = await http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        Assert.StartsWith("application/json", resp.Content.Headers.ContentType?.ToString() ?? "");
        return (resp.StatusCode, JsonNode.Parse(text)!);
    }

    internal static void AssertError((HttpStatusCode Status, JsonNode Body) r, HttpStatusCode status, string code, string message)
    {
        Assert.True(r.Status == status, $"expected {(int)status} {code}, got {(int)r.Status}: {r.Body.ToJsonString()}");
        Assert.Equal((code, message), ((string?)r.Body["code"], (string?)r.Body["error"]));
    }
}
