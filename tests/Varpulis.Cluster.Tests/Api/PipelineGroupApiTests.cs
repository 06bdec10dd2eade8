using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Server;

namespace Varpulis.Cluster.Tests.Api;

/// <summary>Pipeline groups on a coordinator with one worker (rest-api.md, Coordinator): lifecycle, routes, inject, metrics and every error of the contract.</summary>
public sealed class PipelineGroupApiTests(CoordinatorFixture f) : IClassFixture<CoordinatorFixture>
{
    internal const string Filter = "stream BigOrder = Order .where(amount > 10) .emit(customer: customer, amount: amount)";
    internal const string Totals = "stream Totals = BigOrder .partition_by(customer) .window(1h) .aggregate(n: count(), total: sum(amount)) .emit(customer: customer, n: n, total: total)";
    internal static readonly DateTime Base = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    internal static string GroupJson(string name) => $$"""
        {"name": "{{name}}",
         "pipelines": [{"name": "filter", "source": "{{Filter}}"}, {"name": "totals", "source": "{{Totals}}"}],
         "routes": [{"from_pipeline": "_external", "to_pipeline": "filter", "event_types": ["Order"]},
                    {"from_pipeline": "filter", "to_pipeline": "totals", "event_types": ["Big*"]}]}
        """;

    /// <summary>Order i: customer c(i mod 5), amount 7i mod 30, at Base + i s.</summary>
    internal static string Order(int i, long? amount = null)
        => "{\"event_type\": \"Order\", \"timestamp\": \"" + Base.AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
           + "\", \"fields\": {\"customer\": \"c" + (i % 5) + "\", \"amount\": " + (amount ?? i * 7 % 30).ToString(CultureInfo.InvariantCulture) + "}}";

    /// <summary>An <c>events</c> batch of orders 50b .. 50b+49.</summary>
    internal static string OrderBatch(int b)
        => "{\"events\": [" + string.Join(",", Enumerable.Range(b * 50, 50).Select(i => Order(i))) + "]}";

    /// <summary>What a single node computes for orders 0 .. n-1: per customer, the count and sum of the amounts above 10.</summary>
    internal static SortedDictionary<string, (long N, long Total)> Expected(int n)
    {
        var result = new SortedDictionary<string, (long, long)>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            long amount = i * 7 % 30;
            if (amount <= 10) continue;
            var c = "c" + (i % 5);
            var (cn, ct) = result.GetValueOrDefault(c);
            result[c] = (cn + 1, ct + amount);
        }
        return result;
    }

    [Fact]
    public async Task AGroupDeploysRoutesInjectedEventsThroughItsRouteAndIsTornDown()
    {
        var created = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups", GroupJson("orders"));
        Assert.True(created.Status == HttpStatusCode.Created, created.Body.ToJsonString());
        var g = created.Body;
        Assert.Equal(["id", "name", "status", "pipeline_count", "deployments", "routes", "sources", "pipelines", "created_at"], g.AsObject().Select(p => p.Key));
        Assert.Equal(("orders", "running", 2), ((string?)g["name"], (string?)g["status"], (int)g["pipeline_count"]!));
        var deployments = g["deployments"]!.AsArray();
        Assert.Equal(["filter", "totals"], deployments.Select(d => (string)d!["pipeline_name"]!));
        Assert.All(deployments, d => Assert.Equal(("worker-0", "running", 0), ((string?)d!["worker_id"], (string?)d["status"], (int)d["replica"]!)));
        Assert.Equal(Totals, (string?)g["sources"]!["totals"]);
        Assert.Equal("""[{"from_pipeline":"_external","to_pipeline":"filter","event_types":["Order"]},{"from_pipeline":"filter","to_pipeline":"totals","event_types":["Big*"]}]""", g["routes"]!.ToJsonString());
        string id = (string)g["id"]!, filterId = (string)deployments[0]!["pipeline_id"]!, totalsId = (string)deployments[1]!["pipeline_id"]!;

        // Counted by /health and the summary.
        var count = (await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/cluster/pipeline-groups")).Body.AsArray().Count;
        Assert.Contains(id, (await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/cluster/pipeline-groups")).Body.AsArray().Select(x => (string?)x!["id"]));
        Assert.Equal(count, (int)(await SendAsync(f.Coordinator, HttpMethod.Get, "/health")).Body["pipeline_groups"]!);
        Assert.Equal(count, (int)(await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/cluster/summary")).Body["pipeline_groups"]!);

        // The runbook's §2.2 / §4.3 filter over the list.
        var list = await f.Coordinator.GetStringAsync("/api/v1/cluster/pipeline-groups");
        Assert.Contains("""{"name":"orders","workers":["worker-0","worker-0"]}""", await EndToEnd.ClusterRun.JqAsync(list, ".[] | {name, workers: [.deployments[].worker_id]}"));

        // 200 orders in 4 injected batches; one event of a type no route takes is rejected at its index.
        for (int b = 0; b < 4; b++)
        {
            var events = string.Join(",", Enumerable.Range(b * 50, 50).Select(i => Order(i)));
            if (b == 0) events += """,{"event_type": "Refund", "fields": {"customer": "c1"}}""";
            var r = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/cluster/pipeline-groups/{id}/inject-batch", $$"""{"events": [{{events}}]}""");
            Assert.True(r.Status == HttpStatusCode.OK, r.Body.ToJsonString());
            Assert.Equal(50, (int)r.Body["accepted"]!);
            if (b == 0)
            {
                Assert.Equal(1, (int)r.Body["rejected"]!);
                var error = Assert.Single(r.Body["errors"]!.AsArray())!;
                Assert.Equal((50, "no '_external' route of group 'orders' takes event type 'Refund'"), ((int)error["index"]!, (string?)error["error"]));
            }
            // The outputs of the pipeline that took them: the filter's BigOrders.
            Assert.Equal(Enumerable.Range(b * 50, 50).Count(i => i * 7 % 30 > 10), r.Body["output_events"]!.AsArray().Count);
        }
        var expected = Expected(200);
        long routed = expected.Values.Sum(v => v.N);
        await EndToEnd.ClusterRun.WaitForAsync("every routed BigOrder in totals", async () =>
            (long)(await SendAsync(f.Coordinator, HttpMethod.Get, $"/api/v1/pipelines/{totalsId}/metrics")).Body["events_processed"]! == routed, TimeSpan.FromSeconds(60));

        // A later event closes the hour's windows: the totals equal the single-node answer.
        var close = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/pipelines/{totalsId}/events",
            """{"event_type": "BigOrder", "timestamp": "2025-01-01T02:00:00Z", "fields": {"customer": "zz", "amount": 0}}""");
        Assert.Equal(HttpStatusCode.OK, close.Status);
        Assert.Equal(expected.Select(kv => $"{kv.Key}:{kv.Value.N}:{kv.Value.Total}"),
            close.Body["output_events"]!.AsArray().Select(o => $"{o!["fields"]!["customer"]}:{o["fields"]!["n"]}:{o["fields"]!["total"]}").Order(StringComparer.Ordinal));

        // A single injected event: the single-event reply, with the pipeline that took it.
        var one = await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/cluster/pipeline-groups/{id}/inject", Order(1000, 12));
        Assert.True(one.Status == HttpStatusCode.OK, one.Body.ToJsonString());
        Assert.Equal((true, "filter", filterId), ((bool)one.Body["accepted"]!, (string?)one.Body["pipeline_name"], (string?)one.Body["pipeline_id"]));
        Assert.Equal("[{\"event_type\":\"BigOrder\",\"timestamp\":\"2025-01-01T00:16:40Z\",\"fields\":{\"customer\":\"c0\",\"amount\":12}}]", one.Body["output_events"]!.ToJsonString());

        // Metrics collected from the worker: per pipeline with its group, and per worker.
        await EndToEnd.ClusterRun.WaitForAsync("metrics reported", async () =>
        {
            var m = (await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/cluster/metrics")).Body;
            var filter = m["pipelines"]!.AsArray().FirstOrDefault(p => (string?)p!["pipeline_id"] == filterId);
            return filter is not null && (long)filter["events_in"]! == 201 && (string?)filter["group"] == "orders" && (string?)filter["pipeline_name"] == "filter"
                && (string?)filter["worker_id"] == "worker-0" && (long)filter["events_out"]! == routed + 1;
        }, TimeSpan.FromSeconds(30));
        var metrics = (await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/cluster/metrics")).Body;
        var w = Assert.Single(metrics["workers"]!.AsArray())!;
        Assert.Equal(["worker_id", "pipelines", "events_in", "events_out", "events_per_second", "last_heartbeat"], w.AsObject().Select(p => p.Key));
        Assert.Equal(["group", "pipeline_name", "pipeline_id", "worker_id", "events_in", "events_out", "events_per_second"], metrics["pipelines"]![0]!.AsObject().Select(p => p.Key));

        var deleted = await SendAsync(f.Coordinator, HttpMethod.Delete, $"/api/v1/cluster/pipeline-groups/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Equal($$"""{"torn_down":true,"group_id":"{{id}}","pipelines_deleted":2}""", deleted.Body.ToJsonString());
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Get, $"/api/v1/cluster/pipeline-groups/{id}"), HttpStatusCode.NotFound, "group_not_found", $"pipeline group '{id}' not found");
        // The group left every node's replica before the delete was answered: an inject no longer finds it.
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, $"/api/v1/cluster/pipeline-groups/{id}/inject", Order(2000)), HttpStatusCode.NotFound, "group_not_found", $"pipeline group '{id}' not found");
        foreach (var pid in new[] { filterId, totalsId })
            AssertError(await SendAsync(f.Coordinator, HttpMethod.Get, $"/api/v1/pipelines/{pid}"), HttpStatusCode.NotFound, "pipeline_not_found", $"pipeline '{pid}' not found");
    }

    [Fact]
    public async Task OneBadSourceIsAParseErrorNamingItsPipelineAndNothingIsDeployed()
    {
        var before = await PipelineCountAsync();
        var body = """
            {"name": "bad", "pipelines": [{"name": "ok", "source": "stream A = X .emit(v: v)"}, {"name": "broken", "source": "stream B = Y .window("}]}
            """;
        var r = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups", body);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("parse_error", (string?)r.Body["code"]);
        Assert.StartsWith("pipeline 'broken': ", (string?)r.Body["error"]);
        Assert.NotEmpty(r.Body["diagnostics"]!.AsArray());
        Assert.Equal(before, await PipelineCountAsync());
        Assert.DoesNotContain("\"bad\"", await f.Coordinator.GetStringAsync("/api/v1/cluster/pipeline-groups"));
    }

    [Theory]
    [InlineData("""{"pipelines": []}""", "missing required field 'name'")]
    [InlineData("""{"name": "g", "pipelines": []}""", "field 'pipelines' must list at least one pipeline")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a"}]}""", "pipelines[0]: missing required field 'source'")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a", "source": "stream A = X", "replicas": 3}]}""", "pipeline 'a': replicas > 1 needs a partition_key (the field whose value picks the replica)")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a", "source": "stream A = X", "replicas": 0}]}""", "pipeline 'a': replicas must be from 1 to 64")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a", "source": "stream A = X"}, {"name": "a", "source": "stream A = X"}]}""", "pipeline name 'a' is used twice in the group")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a", "source": "stream A = X"}], "routes": [{"from_pipeline": "a", "to_pipeline": "b", "event_types": ["*"]}]}""", "route to 'b': no pipeline of the group has that name")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a", "source": "stream A = X"}], "routes": [{"from_pipeline": "_external", "to_pipeline": "a", "event_types": ["O*x"]}]}""", "route from '_external' to 'a': event type pattern 'O*x' must be an event type, 'Prefix*' or '*'")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a", "source": "stream A = X"}], "routes": [{"from_pipeline": "a", "to_pipeline": "a", "event_types": ["*"]}]}""", "route from 'a' to itself: a pipeline cannot feed its own input")]
    [InlineData("""{"name": "g", "pipelines": [{"name": "a", "source": "stream A = X", "cpu": 2}]}""", "pipelines[0]: unknown field 'cpu'; expected 'name', 'source', 'worker_affinity', 'replicas', 'partition_key'")]
    public async Task AnInvalidGroupIsRefusedWithTheReason(string body, string message)
        => AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups", body), HttpStatusCode.BadRequest, "invalid_request", message);

    [Fact]
    public async Task EveryGroupRouteHasTheErrorContract()
    {
        using var anonymous = CoordinatorFixture.Client(f.CoordinatorUrl, null);
        foreach (var (method, path) in Routes("some-id"))
            AssertError(await SendAsync(anonymous, method, path, method == HttpMethod.Post ? "{}" : null), HttpStatusCode.Unauthorized, "invalid_api_key", "missing API key: send it in the x-api-key header");
        const string missing = "pipeline group 'nope' not found";
        foreach (var (method, path) in Routes("nope").Where(r => r.Path.Contains("nope", StringComparison.Ordinal)))
        {
            var json = path.EndsWith("inject-batch", StringComparison.Ordinal) ? """{"events": []}""" : path.EndsWith("inject", StringComparison.Ordinal) ? """{"event_type": "Order"}""" : null;
            AssertError(await SendAsync(f.Coordinator, method, path, json), HttpStatusCode.NotFound, "group_not_found", missing);
        }
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups", "{\"name\": "), HttpStatusCode.BadRequest, "invalid_request",
            "invalid JSON: line 1, column 9: the text ends before the JSON value is complete (is the body cut short?)");

        // Bodies: 16 MiB for a group and for inject-batch, 1 MiB for inject.
        var big = "{\"name\": \"" + new string('x', (16 << 20) + 1) + "\"}";
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups", big), HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "request body is larger than 16 MiB");
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups/nope/inject-batch", big), HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "request body is larger than 16 MiB");
        var medium = "{\"event_type\": \"" + new string('x', (1 << 20) + 1) + "\"}";
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups/nope/inject", medium), HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "request body is larger than 1 MiB");
    }

    [Fact]
    public async Task TheGroupListIsAPagedArray()
    {
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var r = await SendAsync(f.Coordinator, HttpMethod.Post, "/api/v1/cluster/pipeline-groups",
                $$"""{"name": "page-{{i}}", "pipelines": [{"name": "p", "source": "stream A = X .emit(v: v)"}]}""");
            Assert.True(r.Status == HttpStatusCode.Created, r.Body.ToJsonString());
            ids.Add((string)r.Body["id"]!);
        }
        using var all = await f.Coordinator.GetAsync("/api/v1/cluster/pipeline-groups?limit=1000");
        int total = int.Parse(all.Headers.GetValues("X-Total-Count").Single(), CultureInfo.InvariantCulture);
        var names = JsonNode.Parse(await all.Content.ReadAsStringAsync())!.AsArray().Select(x => (string)x!["name"]!).ToList();
        Assert.Equal(total, names.Count);
        int at = names.IndexOf("page-0");
        Assert.Equal(["page-0", "page-1", "page-2"], names.Skip(at).Take(3));

        using var page = await f.Coordinator.GetAsync($"/api/v1/cluster/pipeline-groups?limit=1&offset={at + 1}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(["page-1"], JsonNode.Parse(await page.Content.ReadAsStringAsync())!.AsArray().Select(x => (string)x!["name"]!));
        Assert.Equal(total.ToString(CultureInfo.InvariantCulture), page.Headers.GetValues("X-Total-Count").Single());
        if (at + 2 < total) Assert.Equal($"</api/v1/cluster/pipeline-groups?limit=1&offset={at + 2}>; rel=\"next\"", page.Headers.GetValues("Link").Single());
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/cluster/pipeline-groups?limit=1001"), HttpStatusCode.BadRequest, "invalid_limit", "limit 1001 is larger than the maximum 1000");
        AssertError(await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/cluster/pipeline-groups?limit=0"), HttpStatusCode.BadRequest, "invalid_limit", "limit must be an integer from 1 to 1000");
        foreach (var id in ids) Assert.Equal(HttpStatusCode.OK, (await SendAsync(f.Coordinator, HttpMethod.Delete, $"/api/v1/cluster/pipeline-groups/{id}")).Status);
    }

    [Fact]
    public async Task AGroupOnACoordinatorWithoutWorkersIsRefusedWith503()
    {
        var s = new VarpulisSettings();
        s.Server.Port = ServerProcess.FreePort();
        s.Server.ApiKey = "lonely";
        s.Server.StateDir = Path.Combine(f.StateDir, "lonely-coordinator");
        var app = VarpulisServer.Build(s, TextWriter.Null, _ => null, coordinator: true);
        await app.StartAsync();
        try
        {
            using var http = CoordinatorFixture.Client(VarpulisServer.ApiAddress(app, s), "lonely");
            await EndToEnd.ClusterRun.WaitForAsync("ready", async () => (await http.GetAsync("/ready")).StatusCode == HttpStatusCode.OK);
            var r = await SendAsync(http, HttpMethod.Post, "/api/v1/cluster/pipeline-groups", GroupJson("nowhere"));
            AssertError(r, HttpStatusCode.ServiceUnavailable, "no_workers_available",
                "no worker can take the pipelines of group 'nowhere': start a worker (or end a drain) and deploy again; retry in 5 s");
            Assert.Equal("[]", await http.GetStringAsync("/api/v1/cluster/pipeline-groups"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static IEnumerable<(HttpMethod Method, string Path)> Routes(string id) =>
    [
        (HttpMethod.Post, "/api/v1/cluster/pipeline-groups"),
        (HttpMethod.Get, "/api/v1/cluster/pipeline-groups"),
        (HttpMethod.Get, $"/api/v1/cluster/pipeline-groups/{id}"),
        (HttpMethod.Delete, $"/api/v1/cluster/pipeline-groups/{id}"),
        (HttpMethod.Post, $"/api/v1/cluster/pipeline-groups/{id}/inject"),
        (HttpMethod.Post, $"/api/v1/cluster/pipeline-groups/{id}/inject-batch"),
        (HttpMethod.Get, "/api/v1/cluster/metrics"),
    ];

    private async Task<int> PipelineCountAsync()
        => (int)(await SendAsync(f.Coordinator, HttpMethod.Get, "/api/v1/pipelines")).Body["total"]!;

    private static Task<(HttpStatusCode Status, JsonNode Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
        => CoordinatorApiTests.SendAsync(http, method, path, json);

    private static void AssertError((HttpStatusCode Status, JsonNode Body) r, HttpStatusCode status, string code, string message)
        => CoordinatorApiTests.AssertError(r, status, code, message);
}
