using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Actors.Node;
using Varpulis.Ui.Tests.Infrastructure;

namespace Varpulis.Ui.Tests;

/// <summary>
/// The Cluster page on a real coordinator with two worker processes: the health counts, the workers' rows (status,
/// pipelines, heartbeat age), where each pipeline runs, draining a worker from the page (confirmation, progress, the
/// result, the pipelines shown on the other worker, the migrations), the API's refusal to drain the last worker,
/// removing a worker; and the sections this coordinator does not serve (groups, cluster metrics, scaling, Raft), which
/// say so instead of failing.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterPageTests(ClusterFixture f)
{
    private const string AlertsProgram = "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)";
    private const string TotalsProgram = "stream Totals = Reading .partition_by(k) .window(10) .aggregate(n: count()) .emit(k: k, n: n)";

    /// <summary>A group of two pipelines: injected orders go to filter, whose Big* outputs go to summary (two replicas by customer).</summary>
    private const string OrdersGroup = """
        {"name": "orders",
         "pipelines": [{"name": "filter", "source": "stream BigOrder = Order .where(amount > 10) .emit(customer: customer, amount: amount)"},
                       {"name": "summary", "source": "stream Summary = BigOrder .partition_by(customer) .window(1h) .aggregate(n: count()) .emit(customer: customer, n: n)",
                        "replicas": 2, "partition_key": "customer"}],
         "routes": [{"from_pipeline": "_external", "to_pipeline": "filter", "event_types": ["Order"]},
                    {"from_pipeline": "filter", "to_pipeline": "summary", "event_types": ["Big*"]}]}
        """;

    private Browser B => f.Browser;

    [Fact]
    public async Task ConfigJsonOfACoordinatorSaysCoordinatorWithItsClusterFeature()
    {
        using var anonymous = new HttpClient { BaseAddress = f.Coordinator.Address };
        Assert.Equal(
            $$"""{"node":"coordinator","auth_required":true,"version":"{{VarpulisVersion.Current}}","features":["connectors","dlq","cluster","groups","cluster_metrics","scaling","raft"]}""",
            await anonymous.GetStringAsync("/ui/config.json"));
    }

    [Fact]
    public async Task DrainingAWorkerFromThePageMovesItsPipelinesToTheOtherWorker()
    {
        try
        {
            await ScenarioAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + f.Logs());
        }
    }

    private async Task ScenarioAsync()
    {
        // Both pipelines land on worker-a (the only worker when they are deployed); worker-b joins afterwards.
        await f.StartWorkerAsync("worker-a");
        var alerts = (string)(await f.PostAsync("/api/v1/pipelines", Deploy("alerts", AlertsProgram), HttpStatusCode.Created))["id"]!;
        var totals = (string)(await f.PostAsync("/api/v1/pipelines", Deploy("totals", TotalsProgram), HttpStatusCode.Created))["id"]!;
        var batch = """{"events": [""" + string.Join(",", new[] { 150, 20, 101 }.Select((v, i) =>
            $$"""{"event_type": "TempReading", "fields": {"value": {{v}}}, "timestamp": "2025-01-01T00:00:0{{i}}Z"}""")) + "]}";
        Assert.Equal(3, (int)(await f.PostAsync($"/api/v1/pipelines/{alerts}/events-batch", batch, HttpStatusCode.OK))["accepted"]!);
        // The group's two pipelines land on worker-a too.
        var group = await f.PostAsync("/api/v1/cluster/pipeline-groups", OrdersGroup, HttpStatusCode.Created);
        Assert.Equal(["filter|0|worker-a", "summary|0|worker-a", "summary|1|worker-a"], group["deployments"]!.AsArray().Select(d => $"{d!["pipeline_name"]}|{d["replica"]}|{d["worker_id"]}"));
        await f.StartWorkerAsync("worker-b");
        await ClusterFixture.WaitForAsync("worker-a's report of its pipelines and events", async () =>
        {
            var a = (await f.WorkersAsync()).Single(w => (string?)w!["id"] == "worker-a")!;
            return a["assigned_pipelines"]!.AsArray().Count == 5 && (long)a["events_processed"]! == 3;
        });
        // The scaling advisor has seen both workers.
        await ClusterFixture.WaitForAsync("the scaling recommendation for two workers", async () =>
            (int)(await f.GetAsync("/api/v1/cluster/scaling"))["current_workers"]! == 2);
        var scaling = await f.GetAsync("/api/v1/cluster/scaling");
        Assert.Equal(("scale_up", 2, 3, "2 healthy workers, below the minimum of 3", 5),
            ((string)scaling["action"]!, (int)scaling["current_workers"]!, (int)scaling["target_workers"]!, (string)scaling["reason"]!, (int)scaling["total_pipelines"]!));

        B.SignIn(f.Ui, ClusterFixture.CoordinatorKey);
        Assert.True(B.Find("#nav-cluster").Displayed);
        B.Find("#nav-cluster a").Click();
        B.WaitFor("the cluster page", () => B.Text("#cluster-updated")?.StartsWith("2 workers, 5 pipelines · updated ", StringComparison.Ordinal));
        Assert.Equal("Cluster · Varpulis", B.Driver.Title);
        Assert.Equal("page", B.Find("[data-nav=cluster]").GetAttribute("aria-current"));

        // Health and counts.
        Assert.Equal("healthy", B.Text("#cluster-status"));
        Assert.Equal(
            ["workers=2", "healthy=2", "unhealthy=0", "draining=0", "pipelines=5", "groups=1", "active_migrations=0", "completed_migrations=0"],
            Tiles());
        Assert.Equal("leader", B.Text("#ha-role"));
        Assert.Equal("1", B.Text("#ha-coordinators"));
        Assert.Matches(@"^akka\.tcp://varpulis@127\.0\.0\.1:\d+$", B.Text("#ha-leader"));

        // The workers, in id order, with what the coordinator knows of each.
        Assert.Equal(["worker-a", "worker-b"], WorkerIds());
        var cores = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(["ready", "5 / 1,000", "alerts, filter, summary#0, summary#1, totals", cores, "3"], WorkerCells("worker-a"));
        Assert.Equal(["ready", "0 / 1,000", "none", cores, "0"], WorkerCells("worker-b"));
        Assert.Equal(f.Worker("worker-a").Address.ToString().TrimEnd('/'), B.Text("#workers-table tr[data-id=worker-a] th .mono"));
        foreach (var id in new[] { "worker-a", "worker-b" })
            Assert.Matches(@"^(just now|\d s ago)$", B.Text($"#workers-table tr[data-id={id}] td[data-col=heartbeat]"));

        // Where each pipeline runs; nothing has moved yet; the three members.
        Assert.Equal(["alerts|worker-a|running", "filter|worker-a|running", "summary#0|worker-a|running", "summary#1|worker-a|running", "totals|worker-a|running"], PipelineRows());
        Assert.Equal(alerts, B.Js("return document.querySelector('#cluster-pipelines-table tr[data-name=alerts]').dataset.id"));
        Assert.Equal("No pipeline has moved yet.", B.Text("#migrations-note"));
        Assert.False(B.Find("#migrations-table").Displayed);
        Assert.Equal(3L, B.Js("return document.querySelectorAll('#members-table tbody tr').length"));

        // The coordinator serves every optional section: a lone coordinator says Raft is off; none says "not available".
        Assert.StartsWith("Raft is off: this coordinator runs alone.", B.Text("#ha-raft"));
        foreach (var section in new[] { "#groups-body", "#cluster-metrics-body", "#scaling-body" })
            Assert.DoesNotContain("not available on this coordinator", B.Text(section));

        // The group: its graph (a node per pipeline labelled with its worker, _external, the routes with their event
        // types) and its deployments.
        Assert.Equal(["orders|running"], B.Strings("return [...document.querySelectorAll('#groups-body article.group')].map(g => g.dataset.name + '|' + g.querySelector('h3 .badge').innerText)"));
        Assert.Equal(["_external: _external / injected events", "filter: filter / on worker-a", "summary: summary / on worker-a"], GraphNodes("orders"));
        Assert.Equal(["_external > filter: Order", "filter > summary: Big*"], GraphEdges("orders"));
        Assert.Equal("Routes of group orders: _external to filter (Order); filter to summary (Big*)",
            B.Js("return document.querySelector('#groups-body article[data-name=orders] svg.graph').getAttribute('aria-label')"));
        Assert.Equal(["filter|worker-a|running", "summary · replica 0|worker-a|running", "summary · replica 1|worker-a|running"], GroupDeployments("orders"));

        // Each pipeline's counters as its worker last reported them, with its group.
        B.WaitFor("the pipeline metrics", () => MetricRows().Order(StringComparer.Ordinal).SequenceEqual([
            "orders|filter|worker-a|0|0|0", "orders|summary · replica 0|worker-a|0|0|0", "orders|summary · replica 1|worker-a|0|0|0", "–|alerts|worker-a|3|2|0", "–|totals|worker-a|0|0|0"]));

        // The scaling recommendation, as the endpoint words it.
        B.WaitFor("the scaling recommendation", () => B.Text("#scaling-action") == "scale up 2 → 3 workers");
        Assert.Equal("2 healthy workers, below the minimum of 3", B.Text("#scaling-reason"));
        Assert.Equal("5 (2.5 per healthy worker)", B.Text("#scaling-pipelines"));
        B.Screenshot("12-cluster");

        // Drain worker-a from the page: confirm, the button says it is draining, the result is reported.
        B.Click("#workers-table tr[data-id=worker-a] button[data-action=drain]");
        B.Confirm("Drain worker?", "Drain worker “worker-a”? Its 5 pipelines move to the other workers with their state, and it takes no new pipeline until it is restarted.");
        B.WaitFor("the drain result", () => B.Text("#worker-action-status") == "Drained worker-a: 5 pipelines moved to other workers. It can be stopped now.", TimeSpan.FromSeconds(120));
        B.WaitFor("the pipelines on worker-b", () =>
            PipelineRows().SequenceEqual(["alerts|worker-b|running", "filter|worker-b|running", "summary#0|worker-b|running", "summary#1|worker-b|running", "totals|worker-b|running"]), TimeSpan.FromSeconds(60));
        // The group's graph follows its pipelines (the page refreshes by itself).
        B.WaitFor("the group's nodes on worker-b", () =>
            GraphNodes("orders").SequenceEqual(["_external: _external / injected events", "filter: filter / on worker-b", "summary: summary / on worker-b"]), TimeSpan.FromSeconds(60));
        Assert.Equal(["_external > filter: Order", "filter > summary: Big*"], GraphEdges("orders"));
        Assert.Equal(["filter|worker-b|running", "summary · replica 0|worker-b|running", "summary · replica 1|worker-b|running"], GroupDeployments("orders"));
        B.WaitFor("the pipeline metrics from worker-b", () => MetricRows().Order(StringComparer.Ordinal).SequenceEqual([
            "orders|filter|worker-b|0|0|0", "orders|summary · replica 0|worker-b|0|0|0", "orders|summary · replica 1|worker-b|0|0|0", "–|alerts|worker-b|3|2|0", "–|totals|worker-b|0|0|0"]), TimeSpan.FromSeconds(60));
        B.WaitFor("worker-a drained in its row", () => WorkerCells("worker-a").Take(3).SequenceEqual(["draining", "0 / 1,000", "none"]));
        B.WaitFor("worker-b's pipelines in its row", () => WorkerCells("worker-b")[2] == "alerts, filter, summary#0, summary#1, totals");
        Assert.Equal(true, B.Js("return document.querySelector('#workers-table tr[data-id=worker-a] button[data-action=drain]').disabled"));
        B.WaitFor("five completed migrations", () => B.Text("#migrations-note") == "5 migrations.");
        var moves = B.Strings("return [...document.querySelectorAll('#migrations-table tbody tr')].map(r => " +
            "[r.dataset.pipeline, ...['from', 'to', 'reason', 'status'].map(c => r.querySelector(`td[data-col=${c}]`).innerText)].join('|'))")
            .Order(StringComparer.Ordinal);
        Assert.Equal(["alerts|worker-a|worker-b|drain|completed", "filter|worker-a|worker-b|drain|completed",
            "summary#0|worker-a|worker-b|drain|completed", "summary#1|worker-a|worker-b|drain|completed", "totals|worker-a|worker-b|drain|completed"], moves);
        Assert.Equal("draining", B.Text("#workers-table tr[data-id=worker-a] td[data-col=status]"));
        B.WaitFor("the draining count", () => Tiles().Contains("draining=1") && Tiles().Contains("completed_migrations=5"));
        // One healthy worker left: the recommendation follows.
        B.WaitFor("the scaling recommendation for one worker", () => B.Text("#scaling-reason") == "1 healthy worker, below the minimum of 3");
        Assert.Equal("scale up 1 → 3 workers", B.Text("#scaling-action"));
        // The whole page for the docs; then labelled controls and no sideways scroll, wide and narrow.
        var problems = new List<string>();
        B.Find("#cluster-auto-refresh").Click(); // the page holds still while it is looked at
        try
        {
            // As tall as the page: the whole page in one picture.
            B.Viewport(1280, 800);
            B.Viewport(1280, Convert.ToInt32(B.Js("return document.documentElement.scrollHeight"), System.Globalization.CultureInfo.InvariantCulture));
            B.Js("window.scrollTo(0, 0)");
            B.Screenshot("13-cluster-drained");
            problems.AddRange(B.AccessibilityProblems("cluster at 1280px"));
            B.Viewport(390, 844);
            problems.AddRange(B.AccessibilityProblems("cluster at 390px"));
            B.Screenshot("a11y-390x844-cluster");
        }
        finally
        {
            B.Viewport(1280, 800);
            B.Find("#cluster-auto-refresh").Click();
        }
        Assert.Empty(problems);
        B.AssertNoConsoleErrors();

        // The pipeline still answers on its new worker, with its state: the counts went along.
        var metrics = await f.GetAsync($"/api/v1/pipelines/{alerts}/metrics");
        Assert.Equal(3L, (long)metrics["events_processed"]!);

        // worker-b is now the last worker that can run pipelines: the API refuses to drain it, and the page shows why.
        B.Click("#workers-table tr[data-id=worker-b] button[data-action=drain]");
        B.Confirm("Drain worker?", "Drain worker “worker-b”? Its 5 pipelines move to the other workers with their state, and it takes no new pipeline until it is restarted.");
        B.WaitText("#banner-text", "worker 'worker-b' is the last worker that can run pipelines: start another worker before draining it (409 conflict)");
        Assert.False(B.Find("#worker-action-status").Displayed);
        var errors = B.ConsoleErrors();
        Assert.Single(errors);
        Assert.Contains("/api/v1/cluster/workers/worker-b/drain - Failed to load resource: the server responded with a status of 409 (Conflict)", errors[0]);
        B.Find("#banner-close").Click();
        B.ClearConsole();

        // Remove the drained worker: it leaves the cluster, its process ends, its row goes.
        B.Click("#workers-table tr[data-id=worker-a] button[data-action=remove]");
        B.Confirm("Remove worker?", "Remove worker “worker-a” from the cluster? A running worker is told to leave (its process stops); its 0 pipelines are placed on the other workers and recover their state.");
        B.WaitText("#worker-action-status", "Removed worker-a: 0 pipelines placed on other workers.", TimeSpan.FromSeconds(120));
        B.WaitFor("worker-a's row to go", () => WorkerIds().SequenceEqual(["worker-b"]), TimeSpan.FromSeconds(60));
        await f.Worker("worker-a").WaitForExitAsync(TimeSpan.FromSeconds(60));
        B.AssertNoConsoleErrors();

        // Tear the group down from the page: its three pipelines (one per replica) go, the others stay.
        B.Click("#groups-body article[data-name=orders] button[aria-label='Tear down orders']");
        B.Confirm("Tear down group?", "Tear down pipeline group “orders”? Its 3 pipelines are deleted with their state.");
        B.WaitText("#group-action-status", "Tore down orders: 3 pipelines deleted.");
        B.WaitText("#groups-body", "No pipeline group is deployed.");
        B.WaitFor("the group's pipelines to go", () => PipelineRows().SequenceEqual(["alerts|worker-b|running", "totals|worker-b|running"]));
        Assert.Empty((await f.GetAsync("/api/v1/cluster/pipeline-groups")).AsArray());
        B.AssertNoConsoleErrors();
    }

    [Fact]
    public void ASectionWhoseRouteAnswersNotFoundSaysItIsNotAvailable()
    {
        // A coordinator that announced the route but answers 404 not_found (an older node behind the same address).
        OpenClusterPageWhere("/api/v1/cluster/scaling", 404, "no route", "not_found");
        B.WaitText("#scaling-body", "The scaling recommendation is not available on this coordinator (it does not serve GET /api/v1/cluster/scaling).");
        Assert.False(B.Find("#banner").Displayed);
        B.Reset(); // a fresh page reads config.json again
    }

    [Fact]
    public void ARefreshRefusedDuringALeaderChangeShowsTheErrorUntilARefreshSucceeds()
    {
        // The coordinators are electing a leader: the summary is refused with 503, as a coordinator refuses it then.
        OpenClusterPageWhere("/api/v1/cluster/summary", 503, "a new leader is taking over", "leader_unavailable");
        B.WaitText("#banner-text", "a new leader is taking over (503 leader_unavailable)");
        Assert.True(B.Find("#banner").Displayed);
        // A leader again: the next refresh succeeds and the message goes by itself.
        B.Js("window.fetch = window.__realFetch");
        B.WaitFor("the banner to go", () => !B.Find("#banner").Displayed);
        B.AssertNoConsoleErrors();
        B.Reset();
    }

    [Fact]
    public async Task ATenantsKeyIsToldThatClusterOperationsNeedTheAdminKey()
    {
        var tenant = await f.PostAsync("/api/v1/tenants", """{"name": "viewer-co"}""", HttpStatusCode.Created);
        B.SignIn(f.Ui, (string)tenant["api_key"]!);
        B.WaitFor("the tenant in the top bar", () => B.Text("#node-info")!.EndsWith(" · tenant " + (string)tenant["id"]!, StringComparison.Ordinal));
        B.ClearConsole();
        B.Go("#/cluster");
        B.WaitText("#banner-text", "cluster operations need the coordinator's admin key or a role key (403 forbidden)");
        Assert.Equal("", B.Text("#cluster-updated"));
        var errors = B.ConsoleErrors();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Contains("Failed to load resource: the server responded with a status of 403 (Forbidden)", e));
        B.Reset();
    }

    /// <summary>
    /// Opens the cluster page, then makes the page's requests to <paramref name="path"/> get an API error (the real
    /// fetch is kept in <c>window.__realFetch</c>).
    /// </summary>
    private void OpenClusterPageWhere(string path, int status, string error, string code)
    {
        B.SignIn(f.Ui, ClusterFixture.CoordinatorKey);
        B.Go("#/cluster");
        B.WaitFor("the cluster page", () => B.Text("#cluster-updated")?.Contains(" · updated ", StringComparison.Ordinal));
        B.Js("""
            const [path, status, body] = arguments;
            window.__realFetch = window.fetch;
            window.fetch = (url, init) => String(url).includes(path)
                ? Promise.resolve(new Response(body, { status, headers: { 'Content-Type': 'application/json' } }))
                : window.__realFetch(url, init);
            """, path, status, new JsonObject { ["error"] = error, ["code"] = code }.ToJsonString());
    }

    private static string Deploy(string name, string source) => new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString();

    private List<string> Tiles()
        => B.Strings("return [...document.querySelectorAll('#cluster-health [data-tile]')].map(t => t.dataset.tile + '=' + t.innerText)");

    private List<string> WorkerIds() => B.Strings("return [...document.querySelectorAll('#workers-table tbody tr')].map(r => r.dataset.id)");

    /// <summary>Status, pipelines, assigned pipelines, CPU cores and events processed of a worker's row.</summary>
    private List<string> WorkerCells(string id)
        => B.Strings("const r = document.querySelector(`#workers-table tr[data-id='${arguments[0]}']`); " +
            "return r ? ['status', 'pipelines', 'assigned', 'cpu', 'events'].map(c => r.querySelector(`td[data-col=${c}]`).innerText) : [];", id);

    /// <summary>Each node of a group's graph: name, then its texts (name / worker label).</summary>
    private List<string> GraphNodes(string group)
        => B.Strings("return [...document.querySelectorAll(`#groups-body article[data-name='${arguments[0]}'] .graph-node`)].map(n => " +
            "n.dataset.name + ': ' + [...n.querySelectorAll('text')].map(t => t.textContent).join(' / '))", group);

    /// <summary>Each edge of a group's graph: from > to: its label.</summary>
    private List<string> GraphEdges(string group)
        => B.Strings("return [...document.querySelectorAll(`#groups-body article[data-name='${arguments[0]}'] .graph-edge`)].map(e => " +
            "e.dataset.from + ' > ' + e.dataset.to + ': ' + e.querySelector('text').textContent)", group);

    private List<string> GroupDeployments(string group)
        => B.Strings("return [...document.querySelectorAll(`#groups-body article[data-name='${arguments[0]}'] tbody tr`)].map(r => " +
            "[r.querySelector('th').innerText, r.querySelector('td[data-col=worker]').innerText, r.querySelector('td[data-col=status]').innerText].join('|'))", group);

    /// <summary>The pipeline metrics table: group, pipeline (and replica), worker, events in, out, per second.</summary>
    private List<string> MetricRows()
        => B.Strings("return [...document.querySelectorAll('#cluster-metrics-table tbody tr')].map(r => [...r.cells].map(c => c.innerText).join('|'))");

    private List<string> PipelineRows()
        => B.Strings("return [...document.querySelectorAll('#cluster-pipelines-table tbody tr')].map(r => " +
            "[r.dataset.name, r.querySelector('td[data-col=worker]').innerText, r.querySelector('td[data-col=status]').innerText].join('|'))");
}
