using Varpulis.Ui.Tests.Infrastructure;

namespace Varpulis.Ui.Tests;

/// <summary>
/// The UI's pure functions, imported as the page imports them and run in the same Chromium (no Node.js needed):
/// typed form values, what a JSON text asks to send, VPL highlighting and diagnostic placement, chart scales.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class ScriptTests(UiFixture f)
{
    /// <summary>
    /// Imports <paramref name="module"/> (under /ui/js/) as <c>m</c> and returns JSON.stringify(expression) (or the string
    /// itself when <paramref name="text"/>), or "ERROR message" when it throws.
    /// </summary>
    private string Eval(string module, string expression, bool text = false)
    {
        if (!(f.Browser.Js("return location.pathname") is string p && p.StartsWith("/ui/", StringComparison.Ordinal))) f.SignIn();
        var result = text ? $"String({expression})" : $"JSON.stringify({expression})";
        var script = "const done = arguments[arguments.length - 1];" +
            $"import('/ui/js/{module}').then(m => {{ try {{ done({result}); }} catch (e) {{ done('ERROR ' + e.message); }} }}, e => done('ERROR ' + e.message));";
        return (string)f.Browser.Driver.ExecuteAsyncScript(script)!;
    }

    [Theory]
    [InlineData("'101.5', 'auto'", "101.5")]
    [InlineData("'-3e2', 'auto'", "-300")]
    [InlineData("'true', 'auto'", "true")]
    [InlineData("'null', 'auto'", "null")]
    [InlineData("'S1', 'auto'", "\"S1\"")]
    [InlineData("'', 'auto'", "\"\"")]
    [InlineData("'{\"a\": [1, 2]}', 'auto'", "{\"a\":[1,2]}")]
    [InlineData("'[1,', 'auto'", "\"[1,\"")]
    [InlineData("'007', 'text'", "\"007\"")]
    [InlineData("'7', 'number'", "7")]
    [InlineData("'false', 'boolean'", "false")]
    [InlineData("'\"quoted\"', 'json'", "\"quoted\"")]
    [InlineData("'x', 'number'", "ERROR “x” is not a number")]
    [InlineData("'yes', 'boolean'", "ERROR “yes” is not true or false")]
    public void FormFieldValuesAreTypedAsChosen(string args, string expected)
        => Assert.Equal(expected, Eval("pages/send.js", $"m.fieldValue({args})"));

    [Theory]
    [InlineData("""{"event_type": "A", "fields": {"x": 1}}""", """{"batch":false,"body":{"event_type":"A","fields":{"x":1}}}""")]
    [InlineData("""[{"event_type": "A"}]""", """{"batch":true,"body":{"events":[{"event_type":"A"}]}}""")]
    [InlineData("""{"events": []}""", """{"batch":true,"body":{"events":[]}}""")]
    [InlineData("""{"fields": {}}""", """ERROR Send one event {"event_type": …, "fields": {…}}, an array of events, or {"events": […]}.""")]
    [InlineData("""42""", """ERROR Send one event {"event_type": …, "fields": {…}}, an array of events, or {"events": […]}.""")]
    public void JsonInputIsOneEventOrABatch(string text, string expected)
        => Assert.Equal(expected, Eval("pages/send.js", $"m.parseJsonInput({System.Text.Json.JsonSerializer.Serialize(text)})"));

    [Fact]
    public void UnparsableJsonInputSaysSo()
        => Assert.StartsWith("ERROR The JSON does not parse: ", Eval("pages/send.js", "m.parseJsonInput('{\"event_type\": ')"));

    [Fact]
    public void HighlightingClassifiesVplTokens()
    {
        Assert.Equal(
            """<span class="tk-kw">stream</span> <span class="tk-type">S</span> <span class="tk-punct">=</span> <span class="tk-type">T</span> """ +
            """<span class="tk-punct">.</span><span class="tk-op">window</span><span class="tk-punct">(</span><span class="tk-dur">5m</span><span class="tk-punct">)</span> """ +
            """<span class="tk-punct">.</span><span class="tk-op">where</span><span class="tk-punct">(</span><span class="tk-fn">abs</span><span class="tk-punct">(</span>x<span class="tk-punct">)</span> """ +
            """<span class="tk-punct">&gt;</span> <span class="tk-num">1.5</span> <span class="tk-kw">and</span> s <span class="tk-punct">==</span> <span class="tk-str">&quot;&lt;a&gt;&quot;</span> """ +
            """<span class="tk-kw">and</span> t <span class="tk-punct">&lt;</span> <span class="tk-ts">@2026-01-23T10:00:00Z</span><span class="tk-punct">)</span> <span class="tk-com"># note</span>""" + "\n ",
            Eval("vpl-editor.js", "m.render('stream S = T .window(5m) .where(abs(x) > 1.5 and s == \"<a>\" and t < @2026-01-23T10:00:00Z) # note', []).html", text: true));
    }

    [Theory]
    // On a word: the whole word; on punctuation: that character; past the end of the line: the line end.
    [InlineData(2, 6, """{"line":1,"start":5,"end":9}""")]
    [InlineData(2, 5, """{"line":1,"start":4,"end":5}""")]
    [InlineData(1, 40, """{"line":0,"start":8,"end":8}""")]
    [InlineData(9, 1, """{"line":1,"start":0,"end":1}""")]
    public void DiagnosticsUnderlineTheWordAtTheirColumn(int line, int column, string expected)
        => Assert.Equal(expected, Eval("vpl-editor.js", $"m.diagnosticRange(['stream A', '    .wher(x)'], {{line: {line}, column: {column}}})"));

    [Fact]
    public void DiagnosticAtTheEndOfALineMarksTheLineEndAndWritesTheMessage()
    {
        var html = Eval("vpl-editor.js", "m.render('stream A = T .where(', [{severity: 'error', line: 1, column: 21, message: 'expected an expression'}]).html", text: true);
        Assert.EndsWith("""<span class="tk-punct">(</span><span class="diag-eol diag-error"> </span><span class="lens diag-error">   expected an expression</span>""" + "\n ", html);
        Assert.Equal("[0,1,0]", Eval("vpl-editor.js", "Array.from(m.render('a\\nb c\\n', [{severity: 'warning', line: 2, column: 3, message: 'w'}, {severity: 'error', line: 2, column: 1, message: 'e'}]).lineFlags.map((f, i) => i === 1 ? (f & 1) : f))"));
    }

    [Theory]
    [InlineData("0", "1")]
    [InlineData("0.25", "0.5")]
    [InlineData("7", "10")]
    [InlineData("101", "200")]
    [InlineData("1000", "1000")]
    [InlineData("4999", "5000")]
    public void ChartScalesRoundUpToOneTwoOrFive(string max, string expected)
        => Assert.Equal(expected, Eval("chart.js", $"m.niceMax({max})"));

    [Fact]
    public void DiagnosticSummaryCountsErrorsAndWarnings()
    {
        Assert.Equal("\"No problems\"", Eval("pages/editor.js", "m.summarize([])"));
        Assert.Equal("\"2 errors, 1 warning\"", Eval("pages/editor.js", "m.summarize([{severity: 'error'}, {severity: 'warning'}, {severity: 'error'}, {severity: 'info'}])"));
        Assert.Equal("\"1 warning\"", Eval("pages/editor.js", "m.summarize([{severity: 'warning'}])"));
    }
    private const string Group =
        "{name: 'orders', deployments: [{pipeline_name: 'ingest', worker_id: 'worker-1', status: 'running'}, " +
        "{pipeline_name: 'alerts', worker_id: 'worker-2', status: 'running'}, {pipeline_name: 'audit', worker_id: null, status: 'deploying'}], " +
        "routes: [{from_pipeline: '_external', to_pipeline: 'ingest', event_types: ['Order*']}, {from_pipeline: 'ingest', to_pipeline: 'alerts', event_types: ['BigOrder']}, " +
        "{from_pipeline: 'ingest', to_pipeline: 'audit', event_types: []}, {from_pipeline: 'alerts', to_pipeline: 'audit', event_types: ['Alert', 'Warning']}]}";

    private const string Layers = "(() => { const g = m.groupGraph(GROUP); const l = m.layoutGraph(g.nodes, g.edges); " +
        "return {at: g.nodes.map(n => `${n.id}@${l.positions.get(n.id).layer}.${l.positions.get(n.id).order}`), back: [...l.back]}; })()";

    [Fact]
    public void GroupGraphLayersEachPipelineAfterTheLongestRouteToIt()
        => Assert.Equal("""{"at":["_external@0.0","ingest@1.0","alerts@2.0","audit@3.0"],"back":[]}""", Eval("graph.js", Layers.Replace("GROUP", Group, StringComparison.Ordinal)));

    [Fact]
    public void GroupGraphOrdersALayerByItsPredecessorsAndDrawsCyclesBackwards()
    {
        const string g = "{name: 'c', deployments: ['a', 'b', 'x', 'y'].map(n => ({pipeline_name: n, worker_id: 'w', status: 'running'})), " +
            "routes: [{from_pipeline: 'b', to_pipeline: 'x', event_types: ['X']}, {from_pipeline: 'a', to_pipeline: 'y', event_types: ['Y']}, {from_pipeline: 'x', to_pipeline: 'b', event_types: ['B']}]}";
        Assert.Equal("""{"at":["a@0.0","b@0.1","x@1.1","y@1.0"],"back":[2]}""", Eval("graph.js", Layers.Replace("GROUP", g, StringComparison.Ordinal)));
    }

    [Fact]
    public void GroupGraphLabelsNodesWithTheirWorkerAndEdgesWithTheirEventTypes()
    {
        var drawn = Eval("graph.js", "(() => { const svg = m.renderGraph(" + Group + "); return {" +
            "nodes: [...svg.querySelectorAll('.graph-node')].map(n => n.dataset.name + ': ' + [...n.querySelectorAll('text')].map(t => t.textContent).join(' / ')), " +
            "edges: [...svg.querySelectorAll('.graph-edge')].map(e => e.dataset.from + ' > ' + e.dataset.to + ': ' + e.querySelector('text').textContent), " +
            "label: svg.getAttribute('aria-label')}; })()");
        Assert.Equal(
            """{"nodes":["_external: _external / injected events","ingest: ingest / on worker-1","alerts: alerts / on worker-2","audit: audit / not placed"],"edges":["_external > ingest: Order*","ingest > alerts: BigOrder","ingest > audit: *","alerts > audit: Alert, Warning"],"label":"Routes of group orders: _external to ingest (Order*); ingest to alerts (BigOrder); ingest to audit (*); alerts to audit (Alert, Warning)"}""",
            drawn);
    }

    [Fact]
    public void AReplicatedPipelineIsOneNodeNamingEachOfItsWorkers()
    {
        const string g = "{name: 'r', deployments: [" +
            "{pipeline_name: 'score', worker_id: 'worker-2', status: 'running', replica: 0}, {pipeline_name: 'score', worker_id: 'worker-1', status: 'starting', replica: 1}, " +
            "{pipeline_name: 'score', worker_id: 'worker-2', status: 'running', replica: 2}, {pipeline_name: 'sink', worker_id: 'worker-1', status: 'running', replica: 0}], " +
            "routes: [{from_pipeline: 'score', to_pipeline: 'sink', event_types: ['Score']}]}";
        Assert.Equal("""[{"id":"score","worker":"worker-2, worker-1","status":"starting"},{"id":"sink","worker":"worker-1","status":"running"}]""",
            Eval("graph.js", $"m.groupGraph({g}).nodes"));
    }

    [Theory]
    [InlineData("'2025-01-01T00:00:00.000Z', Date.parse('2025-01-01T00:00:00.900Z')", "just now")]
    [InlineData("'2025-01-01T00:00:00.000Z', Date.parse('2025-01-01T00:00:04.900Z')", "4 s ago")]
    [InlineData("'2025-01-01T00:00:00.000Z', Date.parse('2025-01-01T00:02:05.000Z')", "2 min 5 s ago")]
    [InlineData("'2025-01-01T00:00:00.000Z', Date.parse('2025-01-01T03:07:00.000Z')", "3 h 7 min ago")]
    [InlineData("'2025-01-01T00:00:09.000Z', Date.parse('2025-01-01T00:00:00.000Z')", "just now")]
    [InlineData("null, 0", "never")]
    public void HeartbeatAgeIsWrittenForPeople(string args, string expected)
        => Assert.Equal(expected, Eval("pages/cluster.js", $"m.heartbeatAge({args})", text: true));

    [Theory]
    [InlineData("842", "842 ms")]
    [InlineData("2415", "2.4 s")]
    [InlineData("null", "–")]
    public void MigrationDurationsAreMillisecondsOrSeconds(string ms, string expected)
        => Assert.Equal(expected, Eval("pages/cluster.js", $"m.fmtDuration({ms})", text: true));
}
