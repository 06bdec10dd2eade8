using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Varpulis.Deploy.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace Varpulis.Deploy.Tests.Compose;

/// <summary>
/// The compose cluster run as local processes (<see cref="ComposeCluster"/>) checked step by step: it forms with four
/// workers on PostgreSQL, Prometheus scrapes every target, every dashboard and alert query evaluates and the core
/// panels have data, every metric they read is served, drain and migration spans reach the collector with the services'
/// names, and the worker-down alert fires after a <c>kill -9</c>.
/// </summary>
[TestCaseOrderer(StepOrderer.TypeName, StepOrderer.AssemblyName)]
[Collection(ProcessCollection.Name)]
public sealed class ComposeClusterTests(ComposeCluster cluster) : IClassFixture<ComposeCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [ComposeFact, Step(1)]
    public async Task TheClusterFormsWithFourWorkersOnPostgreSqlAndEveryHealthcheckPasses()
    {
        var workers = (await cluster.CoordinatorGetAsync("/api/v1/cluster/workers")).AsArray();
        Assert.Equal(ComposeCluster.Workers, workers.Select(w => (string)w!["id"]!).Order(StringComparer.Ordinal));
        foreach (var w in workers)
        {
            var id = (string)w!["id"]!;
            Assert.Equal("ready", (string?)w["status"]);
            // --advertise-address http://worker-N:900N, rewritten to the worker's local port.
            Assert.Equal($"http://127.0.0.1:{cluster.Local.HostPort(id, 9000 + int.Parse(id[^1..], CultureInfo.InvariantCulture))}", (string?)w["address"]);
        }
        var health = await cluster.CoordinatorGetAsync("/health");
        Assert.Equal("healthy", (string?)health["status"]);
        Assert.Equal(4, (int)health["workers"]!["total"]!);
        Assert.Equal("leader", (string?)health["ha_role"]);

        // The coordinator was given PostgreSQL by the compose file; the workers received it when they joined.
        foreach (var w in ComposeCluster.Workers)
            Assert.Contains("journal: PostgreSQL", cluster.Local.Processes.Single(p => p.Name == w).Output);
        foreach (var service in new[] { "coordinator" }.Concat(ComposeCluster.Workers))
        {
            var (code, output) = await cluster.Local.HealthcheckAsync(service);
            Assert.True(code == 0, $"{service} healthcheck: {output}");
            Assert.StartsWith(service == "coordinator" ? "healthy: {\"status\":\"healthy\",\"role\":\"coordinator\"" : "healthy: {\"status\":\"healthy\"", output);
        }
        // Nothing of the image's own ASP.NET port (ASPNETCORE_HTTP_PORTS=8080, cleared by the Dockerfile) is used.
        Assert.DoesNotContain("Overriding", cluster.Local.Logs());

        // The web UI of the compose cluster is the coordinator's /ui/ (runbook §1.2's "Web UI"), published on 9100.
        using var ui = await cluster.Http.GetAsync(new Uri(cluster.Coordinator, "/ui/"));
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("<html", await ui.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        // The MQTT broker runs with the mounted mosquitto.conf: a message published on its port reaches a subscriber.
        var port = cluster.Local.HostPort("mosquitto", 1883).ToString(CultureInfo.InvariantCulture);
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
        var subscriber = LocalProcess.RunAsync(DebianTools.MosquittoSub, ["-h", "127.0.0.1", "-p", port, "-t", "sensors/#", "-C", "1", "-W", "60"], env);
        await Eventually("a message through the broker", async () =>
        {
            await LocalProcess.RunAsync(DebianTools.MosquittoPub, ["-h", "127.0.0.1", "-p", port, "-t", "sensors/room-1", "-m", "{\"value\": 41.5}"], env);
            return subscriber.IsCompleted;
        });
        Assert.Equal((0, "{\"value\": 41.5}\n"), await subscriber);
    }

    [ComposeFact, Step(2)]
    public async Task PrometheusScrapesTheCoordinatorAndEveryWorkerAndReportsThemUp()
    {
        string[] jobs = ["varpulis-coordinator", "varpulis-worker-0", "varpulis-worker-1", "varpulis-worker-2", "varpulis-worker-3", "prometheus"];
        await Eventually("every target up", async () =>
        {
            var targets = await cluster.Prometheus.TargetsAsync();
            return jobs.All(j => targets.Any(t => t.Job == j && t.Health == "up"));
        });
        var up = await cluster.Prometheus.QueryAsync("up");
        Assert.Equal(jobs.Order(StringComparer.Ordinal), up.ByLabel("job").Keys.Order(StringComparer.Ordinal));
        Assert.All(up.ByLabel("job"), kv => Assert.Equal(1.0, kv.Value));
        // The runbook's selector (§6.3) finds the four workers, labelled with their service names.
        var workers = await cluster.Prometheus.QueryAsync("""up{job=~"varpulis-worker.*"}""");
        Assert.Equal(ComposeCluster.Workers, workers.ByLabel("instance").Keys.Order(StringComparer.Ordinal));
    }

    [ComposeFact, Step(3)]
    public async Task EveryDashboardAndAlertQueryEvaluatesWithoutError()
    {
        var queries = Dashboards.Expressions().Select(e => ($"{e.File} / {e.Panel}", e.Query))
            .Concat(AlertExpressions().Select(a => ($"alerts.yml / {a.Alert}", a.Expr)))
            .ToList();
        Assert.Equal(49, queries.Count);
        foreach (var (where, query) in queries)
        {
            var result = await cluster.Prometheus.QueryAsync(query);
            Assert.True(result.Success, $"{where}: {query} -> {result.Error}");
        }
        // Prometheus evaluates every loaded rule without error.
        await Eventually("every rule evaluated", async () => (await cluster.Prometheus.RulesAsync()).Values.All(r => r.Health == "ok"));
        var rules = await cluster.Prometheus.RulesAsync();
        Assert.Equal(AlertExpressions().Select(a => a.Alert).Order(StringComparer.Ordinal), rules.Keys.Order(StringComparer.Ordinal));
    }

    [ComposeFact, Step(4)]
    public async Task TheCorePanelsReturnData()
    {
        // Throughput, latency and pipelines of the overview; workers, distribution and per-worker throughput of the cluster.
        string[] core =
        [
            "varpulis.json / Events in /s", "varpulis.json / Output events /s", "varpulis.json / Events processed by stream /s",
            "varpulis.json / Processing latency p50 by stream", "varpulis.json / Processing latency p99 by stream",
            "varpulis.json / Pipelines", "varpulis.json / Active streams", "varpulis.json / Active pattern runs", "varpulis.json / Type errors /s by stream",
            "varpulis-cluster.json / Workers ready", "varpulis-cluster.json / Worker targets up", "varpulis-cluster.json / Pipelines",
            "varpulis-cluster.json / Worker status", "varpulis-cluster.json / Pipelines per worker",
            "varpulis-cluster.json / Events in /s per worker", "varpulis-cluster.json / Coordinator leader",
        ];
        // A panel's first query (the core panels have one).
        var panels = Dashboards.Expressions().GroupBy(e => $"{e.File} / {e.Panel}").ToDictionary(g => g.Key, g => g.First().Query);
        foreach (var name in core)
        {
            Assert.True(panels.ContainsKey(name), "no panel " + name);
            await Eventually(name + " has data", async () => (await cluster.Prometheus.QueryAsync(panels[name])).HasData);
        }
        // A panel can have data from a scrape (every 5 s) taken between the two deployments or before the last worker
        // was ready: wait for the count the cluster has, then assert it.
        (string Panel, double Value)[] counts =
        [
            ("varpulis-cluster.json / Workers ready", 4.0), ("varpulis-cluster.json / Worker targets up", 4.0),
            ("varpulis-cluster.json / Pipelines", 2.0), ("varpulis.json / Pipelines", 2.0),
        ];
        foreach (var (panel, value) in counts)
        {
            await Eventually($"{panel} reads {value}", async () =>
                (await cluster.Prometheus.QueryAsync(panels[panel])).Series is [var s] && double.Parse(s["value"]![1]!.ToString(), CultureInfo.InvariantCulture) == value);
            Assert.Equal(value, Single(await cluster.Prometheus.QueryAsync(panels[panel])));
        }
        var statuses = await cluster.Prometheus.QueryAsync(panels["varpulis-cluster.json / Worker status"]);
        Assert.Equal(ComposeCluster.Workers, statuses.ByLabel("worker_id").Keys.Order(StringComparer.Ordinal));
        Assert.All(statuses.Series, s => Assert.Equal("ready", (string?)s["metric"]!["status"]));
        var leader = await cluster.Prometheus.QueryAsync(panels["varpulis-cluster.json / Coordinator leader"]);
        Assert.Equal("coordinator", Assert.Single(leader.ByLabel("instance").Keys));
        // Every pipeline is counted on one worker, as the coordinator places them.
        await Eventually("pipelines per worker sum to 2", async () =>
            (await cluster.Prometheus.QueryAsync(panels["varpulis-cluster.json / Pipelines per worker"])).ByLabel("worker_id").Values.Sum() == 2.0);
        var perWorker = await cluster.Prometheus.QueryAsync(panels["varpulis-cluster.json / Pipelines per worker"]);
        Assert.Equal(2.0, perWorker.ByLabel("worker_id").Values.Sum());
        var p99 = await cluster.Prometheus.QueryAsync(panels["varpulis.json / Processing latency p99 by stream"]);
        Assert.Contains(p99.Series, s => double.TryParse(s["value"]![1]!.ToString(), CultureInfo.InvariantCulture, out var v) && v > 0 && v <= 1);
    }

    [ComposeFact, Step(5)]
    public async Task EveryMetricTheDashboardsAndAlertsReadIsServedByTheCluster()
    {
        var names = Dashboards.Expressions().SelectMany(e => Dashboards.Metrics(e.Expr))
            .Concat(AlertExpressions().SelectMany(a => Dashboards.Metrics(a.Expr)))
            .ToHashSet(StringComparer.Ordinal);
        var scrape = await cluster.ScrapeAllAsync();
        var families = Regex.Matches(scrape, @"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToHashSet();
        // The connectors' families appear once a pipeline runs connectors (step 7 deploys one): until then those names
        // are checked against the metrics the nodes declare.
        var declared = new[] { typeof(Varpulis.Actors.Connectors.ConnectorMetrics), typeof(Varpulis.Actors.Metrics.VarpulisMetrics) }
            .SelectMany(t => t.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
            .Where(f => typeof(Prometheus.Collector).IsAssignableFrom(f.FieldType))
            .Select(f => ((Prometheus.Collector)f.GetValue(null)!).Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(["varpulis_connector_circuit_state", "varpulis_connector_events_total", "varpulis_dlq_events_total"],
            names.Where(n => !Served(n)).Order(StringComparer.Ordinal));
        Assert.All(names.Where(n => !Served(n)), n => Assert.Contains(n, declared));

        bool Served(string name) => families.Any(f => f.Item1 == name)
            || families.Any(f => f.Item2 == "histogram" && (name == f.Item1 + "_bucket" || name == f.Item1 + "_sum" || name == f.Item1 + "_count"));
    }

    [ComposeFact, Step(6)]
    public async Task TheRunbooksCommandsWorkAsWrittenAgainstThePublishedPorts()
    {
        // §3.2 and §3.1: a node's /metrics on localhost:9090 (worker-0's, next to its API on 9000).
        var (code, output) = await cluster.RunOnDockerHostAsync("curl http://localhost:9090/metrics | grep varpulis_active_streams");
        Assert.True(code == 0, output);
        Assert.Matches(@"(?m)^varpulis_active_streams \d+", output);
        (code, output) = await cluster.RunOnDockerHostAsync("curl http://localhost:9090/metrics | grep varpulis_processing_latency");
        Assert.True(code == 0, output);
        Assert.Contains("# TYPE varpulis_processing_latency_seconds histogram", output);

        // §3.3 on worker-0 with the one exported key: both pipelines, running.
        (code, output) = await cluster.RunOnDockerHostAsync(
            """curl http://localhost:9000/api/v1/pipelines -H "x-api-key: $VARPULIS_API_KEY" | jq -c '.pipelines[] | {id, name, status}'""");
        Assert.True(code == 0, output);
        foreach (var (name, id) in cluster.Pipelines) Assert.Contains($$"""{"id":"{{id}}","name":"{{name}}","status":"running"}""", output);

        // §1.4's check of a worker, on the coordinator with the same key.
        (code, output) = await cluster.RunOnDockerHostAsync(
            """curl http://localhost:9100/api/v1/cluster/workers -H "x-api-key: $VARPULIS_API_KEY" | jq -c '.[] | select(.id=="worker-3") | {id, status}'""");
        Assert.True(code == 0, output);
        Assert.Contains("""{"id":"worker-3","status":"ready"}""", output);

        // §7.5 (the runbook's $KEY): the four workers.
        (code, output) = await cluster.RunOnDockerHostAsync("""curl http://localhost:9100/api/v1/cluster/workers -H "x-api-key: $KEY" | jq -c '[.[].id] | sort'""");
        Assert.True(code == 0, output);
        Assert.Contains("""["worker-0","worker-1","worker-2","worker-3"]""", output);

        // pbm in the image, on the node's management port: `docker exec varpulis-coordinator pbm 127.0.0.1:8558 cluster show`
        // and, from a worker's container with its own key, the cluster manager's view of the workers.
        (code, output) = await cluster.Local.ExecAsync("coordinator", ["pbm", "127.0.0.1:8558", "cluster", "show"]);
        Assert.True(code == 0, output);
        Assert.Matches(@"(?m)^akka\.tcp://varpulis@127\.0\.0\.1:\d+\s+Up\s+coordinator\s+-\s+yes\s*$", output);
        foreach (var w in ComposeCluster.Workers) Assert.Matches($@"(?m)^akka\.tcp://\S+\s+Up\s+worker\s+{w}\s+yes\s*$", output);
        Assert.Contains("Count: 5 members; leader akka.tcp://varpulis@", output);
        (code, output) = await cluster.Local.ExecAsync("worker-3", ["pbm", "127.0.0.1:8558", "varpulis", "workers"]);
        Assert.True(code == 0, output);
        Assert.Contains("Count: 4 workers (4 ready)", output);

        // docs/deployment.md: reload Prometheus's edited rules on its published port.
        (code, output) = await cluster.RunOnDockerHostAsync("curl -sf -X POST http://localhost:9099/-/reload && echo reloaded");
        Assert.True(code == 0, output);
        Assert.EndsWith("reloaded\n", output);
    }

    [ComposeFact, Step(7)]
    public async Task TheRunbooksClusterOperationsOnGroupsMetricsAndScalingWorkAsWritten()
    {
        // Each command's standard output comes first in what it prints (curl's progress meter goes to standard error).
        // §7.5 "Deploy pipeline group", with the runbook's placeholders filled in: two pipelines and a route.
        const string group = """
            {"name": "my-group",
             "pipelines": [{"name": "filter", "source": "stream BigOrder = Order .where(amount > 10) .emit(customer: customer, amount: amount)"},
                           {"name": "totals", "source": "stream Totals = BigOrder .partition_by(customer) .window(1h) .aggregate(n: count(), total: sum(amount)) .emit(customer: customer, n: n, total: total)"}],
             "routes": [{"from_pipeline": "_external", "to_pipeline": "filter", "event_types": ["Order"]},
                        {"from_pipeline": "filter", "to_pipeline": "totals", "event_types": ["Big*"]}]}
            """;
        var (code, output) = await cluster.RunOnDockerHostAsync(
            "curl -X POST http://localhost:9100/api/v1/cluster/pipeline-groups \\\n" +
            "  -H \"x-api-key: $KEY\" -H \"Content-Type: application/json\" \\\n" +
            $"  -d '{group.ReplaceLineEndings(" ")}' | jq -c '{{name, status, pipeline_count}}'");
        Assert.True(code == 0, output);
        Assert.StartsWith("""{"name":"my-group","status":"running","pipeline_count":2}""" + "\n", output);

        // §7.5 "List pipeline groups", and §4.3's check of the placement: one worker of the four per pipeline.
        (code, output) = await cluster.RunOnDockerHostAsync("""curl http://localhost:9100/api/v1/cluster/pipeline-groups -H "x-api-key: $KEY" | jq -r '.[].name'""");
        Assert.True(code == 0, output);
        Assert.StartsWith("my-group\n", output);
        (code, output) = await cluster.RunOnDockerHostAsync(
            "curl http://localhost:9100/api/v1/cluster/pipeline-groups \\\n" +
            "  -H \"x-api-key: $VARPULIS_API_KEY\" | jq '.[] | {name, workers: [.deployments[].worker_id]}' | jq -c .");
        Assert.True(code == 0, output);
        var placement = JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0])!;
        Assert.Equal("my-group", (string?)placement["name"]);
        var placed = placement["workers"]!.AsArray().Select(w => (string)w!).ToArray();
        Assert.Equal(2, placed.Length);
        Assert.All(placed, w => Assert.Contains(w, ComposeCluster.Workers));

        // §7.5 "Cluster metrics": the group's pipelines, each on the worker the group shows, from the workers' heartbeats.
        var id = (string)(await cluster.CoordinatorGetAsync("/api/v1/cluster/pipeline-groups")).AsArray().Single(g => (string?)g!["name"] == "my-group")!["id"]!;
        await LocalProcess.WaitForAsync("the group's pipelines in the cluster metrics", async () =>
        {
            var (c, o) = await cluster.RunOnDockerHostAsync(
                """curl http://localhost:9100/api/v1/cluster/metrics -H "x-api-key: $KEY" | jq -c '[.pipelines[] | select(.group=="my-group") | .worker_id] | sort'""");
            return c == 0 && o.StartsWith(JsonSerializer.Serialize(placed.Order(StringComparer.Ordinal)) + "\n", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(90), cluster.Local.Logs);
        (code, output) = await cluster.RunOnDockerHostAsync("""curl http://localhost:9100/api/v1/cluster/metrics -H "x-api-key: $KEY" | jq -c '[.workers[].worker_id] | sort'""");
        Assert.True(code == 0, output);
        Assert.StartsWith("""["worker-0","worker-1","worker-2","worker-3"]""" + "\n", output);

        // §7.5 "Scaling recommendations": the compose file asks for at least four workers (--scaling-min-workers 4) and has four.
        (code, output) = await cluster.RunOnDockerHostAsync("""curl http://localhost:9100/api/v1/cluster/scaling -H "x-api-key: $KEY" | jq -c '{action, current_workers, target_workers}'""");
        Assert.True(code == 0, output);
        Assert.StartsWith("""{"action":"stable","current_workers":4,"target_workers":4}""" + "\n", output);

        // §7.5 "Validate VPL source", as written.
        (code, output) = await cluster.RunOnDockerHostAsync(
            "curl -X POST http://localhost:9100/api/v1/cluster/validate \\\n" +
            "  -H \"x-api-key: $KEY\" -H \"Content-Type: application/json\" \\\n" +
            "  -d '{\"source\": \"stream Test = A as a .where(a.x > 1) .emit(v: a.x)\"}' | jq -c .");
        Assert.True(code == 0, output);
        Assert.StartsWith("""{"valid":true,"diagnostics":[]}""" + "\n", output);

        // §7.5 "Teardown pipeline group": the group and its pipelines are gone.
        (code, output) = await cluster.RunOnDockerHostAsync($$"""curl -X DELETE http://localhost:9100/api/v1/cluster/pipeline-groups/{{id}} -H "x-api-key: $KEY" | jq -c '{torn_down, group_id}'""");
        Assert.True(code == 0, output);
        Assert.StartsWith($$"""{"torn_down":true,"group_id":"{{id}}"}""" + "\n", output);
        (code, output) = await cluster.RunOnDockerHostAsync("""curl http://localhost:9100/api/v1/cluster/pipeline-groups -H "x-api-key: $KEY" | jq -c '[.[].name]'""");
        Assert.True(code == 0, output);
        Assert.StartsWith("[]\n", output);
    }

    [ComposeFact, Step(8)]
    public async Task ASinkThatCannotDeliverOpensItsCircuitAndFillsTheDlqAndBothAlertsFire()
    {
        // MQTT in through the compose file's broker, out to an HTTP endpoint where nothing listens.
        int broker = cluster.Local.HostPort("mosquitto", 1883);
        int dead = LocalProcess.FreePort();
        var source = $$"""
            connector Sensors = mqtt (host: "127.0.0.1", port: {{broker}}, client_id: "compose-hot", qos: 1)
            connector Hook = http (url: "http://127.0.0.1:{{dead}}/alerts", failure_threshold: 2, reset_timeout: 10m, retries: 0, timeout: 2s)
            stream Temps = TemperatureReading.from(Sensors, topic: "plant/#")
            stream Hot = Temps .where(value > 40) .emit(sensor: sensor_id, value: value) .to(Hook)
            """;
        var (status, body) = await cluster.SendAsync(HttpMethod.Post, new Uri(cluster.Coordinator, "/api/v1/pipelines"), cluster.CoordinatorKey,
            new JsonObject { ["name"] = "hot", ["source"] = source }.ToJsonString());
        Assert.True(status == HttpStatusCode.Created, body);
        var id = (string)JsonNode.Parse(body)!["id"]!;

        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
        int sent = 0;
        await Eventually("VarpulisCircuitOpen and VarpulisDlqGrowing firing for the hot pipeline", async () =>
        {
            // One hot reading a round: the first two fail to deliver and open the circuit, the rest go to the DLQ.
            var (code, output) = await LocalProcess.RunAsync(DebianTools.MosquittoPub,
                ["-h", "127.0.0.1", "-p", broker.ToString(CultureInfo.InvariantCulture), "-q", "1", "-t", "plant/boiler-1", "-m", $$"""{"sensor_id":"b1","value":{{50 + sent}}}"""], env);
            Assert.True(code == 0, output);
            sent++;
            var alerts = await cluster.Prometheus.AlertsAsync();
            return alerts.Any(a => a.Name == "VarpulisCircuitOpen" && a.State == "firing" && (string?)a.Labels["pipeline"] == id && (string?)a.Labels["connector"] == "Hook")
                && alerts.Any(a => a.Name == "VarpulisDlqGrowing" && a.State == "firing" && (string?)a.Labels["pipeline"] == id && (string?)a.Labels["connector"] == "Hook");
        });
        var circuit = await cluster.Prometheus.QueryAsync($$"""varpulis_connector_circuit_state{pipeline="{{id}}", connector="Hook"}""");
        Assert.Equal(1.0, Single(circuit));
        // Every hot reading the source took went to the DLQ (the first two after failing to deliver): none was lost.
        JsonNode? sensors = null, hook = null;
        await Eventually("every reading taken dead-lettered", async () =>
        {
            var connectors = (await cluster.CoordinatorGetAsync($"/api/v1/pipelines/{id}/connectors")).AsArray();
            sensors = connectors.Single(c => (string?)c!["name"] == "Sensors" && (string?)c["direction"] == "source");
            hook = connectors.Single(c => (string?)c!["name"] == "Hook" && (string?)c["direction"] == "sink");
            long dlqEvents = (long)(await cluster.CoordinatorGetAsync($"/api/v1/pipelines/{id}/metrics"))["dlq_events"]!;
            return (long)sensors!["delivered"]! >= 2 && (long)hook!["dlq"]! == (long)sensors["delivered"]! && dlqEvents == (long)hook["dlq"]!;
        });
        Assert.Equal(("open", 0L), ((string?)hook!["circuit"], (long)hook["delivered"]!));
        // The connector families the dashboards read are served now.
        var scrape = await cluster.ScrapeAllAsync();
        foreach (var family in new[] { "varpulis_dlq_events_total counter", "varpulis_connector_circuit_state gauge", "varpulis_connector_events_total counter" })
            Assert.Contains("# TYPE " + family + "\n", scrape);
        (status, body) = await cluster.SendAsync(HttpMethod.Delete, new Uri(cluster.Coordinator, $"/api/v1/pipelines/{id}"), cluster.CoordinatorKey);
        Assert.True(status == HttpStatusCode.OK, body);
    }

    [ComposeFact, Step(9)]
    public async Task DeployIngestDrainAndMigrationSpansReachTheCollectorUnderEachServiceName()
    {
        // §1.4 drain of the worker that runs "sums": its pipelines migrate, with a span for the drain and one per move.
        var placed = (await cluster.CoordinatorGetAsync("/api/v1/cluster/topology"))["pipelines"]!.AsArray()
            .Single(p => (string?)p!["name"] == "sums")!["worker_id"]!.ToString();
        var (status, body) = await cluster.SendAsync(HttpMethod.Post, new Uri(cluster.Coordinator, $"/api/v1/cluster/workers/{placed}/drain"), cluster.CoordinatorKey);
        Assert.True(status == HttpStatusCode.OK, body);
        int migrated = (int)JsonNode.Parse(body)!["pipelines_migrated"]!;
        Assert.True(migrated >= 1, body);

        await Eventually("drain and migration spans", () => Task.FromResult(
            cluster.Collector.Spans.Any(s => s.Name == "cluster.drain") && cluster.Collector.Spans.Count(s => s.Name == "pipeline.migration") >= migrated));
        var spans = cluster.Collector.Spans;
        var drain = Assert.Single(spans, s => s.Name == "cluster.drain");
        Assert.Equal("varpulis-coordinator", drain.Service);
        Assert.Equal(placed, drain.Attributes["varpulis.worker_id"]);
        Assert.Equal(migrated.ToString(CultureInfo.InvariantCulture), drain.Attributes["varpulis.pipelines_migrated"]);
        var moves = spans.Where(s => s.Name == "pipeline.migration").ToList();
        Assert.All(moves, m =>
        {
            Assert.Equal("varpulis-coordinator", m.Service);
            Assert.Equal("drain", m.Attributes["varpulis.reason"]);
            Assert.Equal(placed, m.Attributes["varpulis.from_worker"]);
            Assert.NotEqual(placed, m.Attributes["varpulis.to_worker"]);
        });
        Assert.Contains(moves, m => m.Attributes["varpulis.pipeline_id"] == cluster.Pipelines["sums"]);
        // The deploys went to worker-0; ingestion reached every worker.
        Assert.Equal(2, spans.Count(s => s.Name == "pipeline.deploy" && s.Service == "varpulis-worker-0"));
        foreach (var w in ComposeCluster.Workers)
            Assert.Contains(spans, s => s.Name == "pipeline.ingest" && s.Service == "varpulis-" + w);

        // The cluster dashboard's migration series count the moves.
        await Eventually("migrations counted", async () =>
            (await cluster.Prometheus.QueryAsync("""sum(varpulis_cluster_migrations_total{reason="drain", status="completed"})""")) is { HasData: true } r
            && r.Series[0]["value"]![1]!.ToString() == migrated.ToString(CultureInfo.InvariantCulture));
        await Eventually("draining worker shown", async () =>
            (await cluster.Prometheus.QueryAsync("""varpulis_cluster_worker_status{status="draining"} == 1""")).ByLabel("worker_id").Keys.SequenceEqual([placed]));
    }

    [ComposeFact, Step(10)]
    public async Task AStoppedWorkerHandsItsPipelinesOffBeforeItExitsAsASwarmUpdateNeeds()
    {
        // `docker stop` (and a swarm rolling update, order stop-first) sends SIGTERM and waits stop_grace_period (2m).
        var placed = (await cluster.CoordinatorGetAsync("/api/v1/cluster/topology"))["pipelines"]!.AsArray()
            .Single(p => (string?)p!["name"] == "sums")!["worker_id"]!.ToString();
        var sums = cluster.Pipelines["sums"];
        long before = await EventsProcessedAsync(sums);
        var worker = cluster.Local.Processes.Single(p => p.Name == placed);
        await worker.StopAsync(TimeSpan.FromMinutes(2));
        Assert.Contains($"Pipeline handed off: {sums} (sums)", worker.Output);

        // The pipeline runs on another worker with its state: its count never went back.
        await Eventually("sums placed elsewhere", async () =>
        {
            var now = (await cluster.CoordinatorGetAsync("/api/v1/cluster/topology"))["pipelines"]!.AsArray().Single(p => (string?)p!["name"] == "sums")!;
            return now["worker_id"] is { } w && w.ToString() != placed;
        });
        await Eventually("sums processing again", async () => await EventsProcessedAsync(sums) > before);
        // Recorded as the worker leaving, not as a rebalance (its shard region hands off while it is still a member).
        await Eventually("the move recorded", async () => (await cluster.CoordinatorGetAsync("/api/v1/cluster/migrations"))["migrations"]!.AsArray()
            .Any(m => (string?)m!["pipeline_id"] == sums && (string?)m["from_worker"] == placed && (string?)m["status"] == "completed" && (string?)m["reason"] == "worker_removed"));
        Assert.Equal(0, worker.ExitCode);
    }

    [ComposeFact, Step(11)]
    public async Task TheWorkerDownAlertFiresAfterAWorkerIsKilled()
    {
        var victim = cluster.Local.Processes.First(p => p.Name.StartsWith("worker-", StringComparison.Ordinal) && !p.HasExited);
        Assert.DoesNotContain(await cluster.Prometheus.AlertsAsync(), a => a.Name == "VarpulisWorkerDown" && (string?)a.Labels["instance"] == victim.Name);

        victim.Kill9();
        await Eventually($"VarpulisWorkerDown firing for {victim.Name}", async () =>
            (await cluster.Prometheus.AlertsAsync()).Any(a => a.Name == "VarpulisWorkerDown" && a.State == "firing" && (string?)a.Labels["instance"] == victim.Name));
        var alert = (await cluster.Prometheus.AlertsAsync()).Single(a => a.Name == "VarpulisWorkerDown" && (string?)a.Labels["instance"] == victim.Name);
        Assert.Equal("varpulis-" + victim.Name, (string?)alert.Labels["job"]);
        Assert.Equal("critical", (string?)alert.Labels["severity"]);
        // The worker stopped in the step before is down for Prometheus too; the others are not.
        var down = (await cluster.Prometheus.AlertsAsync()).Where(a => a.Name == "VarpulisWorkerDown").Select(a => (string)a.Labels["instance"]!).ToHashSet();
        Assert.Equal(cluster.Local.Processes.Where(p => p.Name.StartsWith("worker-", StringComparison.Ordinal) && p.HasExited).Select(p => p.Name).ToHashSet(), down);
    }

    private async Task<long> EventsProcessedAsync(string pipelineId)
        => (long)(await cluster.CoordinatorGetAsync($"/api/v1/pipelines/{pipelineId}/metrics"))["events_processed"]!;

    /// <summary>(alert name, expression) of the committed alerts.yml.</summary>
    internal static IEnumerable<(string Alert, string Expr)> AlertExpressions()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Repo.File("prometheus", "alerts.yml"))));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        foreach (var group in (YamlSequenceNode)root["groups"])
        {
            foreach (var rule in (YamlSequenceNode)((YamlMappingNode)group)["rules"])
            {
                var r = (YamlMappingNode)rule;
                yield return (((YamlScalarNode)r["alert"]).Value!, ((YamlScalarNode)r["expr"]).Value!);
            }
        }
    }

    private static double Single(QueryResult r) => double.Parse(Assert.Single(r.Series)["value"]![1]!.ToString(), CultureInfo.InvariantCulture);

    private Task Eventually(string what, Func<Task<bool>> condition) => LocalProcess.WaitForAsync(what, condition, Patience, cluster.Local.Logs);
}
