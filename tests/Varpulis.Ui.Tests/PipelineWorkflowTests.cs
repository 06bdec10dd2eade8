using System.Text.Json.Nodes;
using OpenQA.Selenium;
using Varpulis.Ui.Tests.Infrastructure;

namespace Varpulis.Ui.Tests;

/// <summary>
/// The main path through the UI on a server with a key: enter the key, write a program with a syntax error and see
/// the server's diagnostic at its line and column, fix it, deploy, send events from the send page and see their
/// outputs there and on the pipeline's live SSE output in the other tab.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class PipelineWorkflowTests(UiFixture f)
{
    private Browser B => f.Browser;

    [Fact]
    public async Task KeyThenDiagnosticAtItsLineThenDeployThenSentEventsShowTheirOutputsAndTheLiveStream()
    {
        var version = (string)(await f.GetJsonAsync("/health"))["version"]!;

        // The key: asked once, kept in this tab's session storage.
        f.OpenWithoutKey();
        B.WaitVisible("#key-input");
        B.Screenshot("01-key-dialog");
        B.Find("#key-input").SendKeys(UiFixture.Key);
        B.Find("#key-submit").Click();
        B.WaitText("#node-info", $"server {version} · tenant default");
        Assert.Equal(UiFixture.Key, B.Js("return sessionStorage.getItem('varpulis.apiKey')"));

        // A program with a syntax error: the server's diagnostic shows at line 2, column 18 while typing.
        B.WaitVisible(".page-head a[href='#/pipelines/new']").Click();
        B.WaitVisible("#pipeline-name").SendKeys("alerts");
        B.Find("#vpl-source").SendKeys("stream Alert = TempReading as t\n.where(t.value > )\n.emit(alert: true, value: t.value)");
        B.WaitText("#validation-status", "1 error");
        Assert.Equal(["Line 2, column 18\nerror: expected an expression"], B.FindAll("#diagnostics li").Select(e => e.Text));
        Assert.Equal(["2"], B.FindAll(".editor-gutter .gutter-error").Select(e => e.Text));
        Assert.Equal(")", B.Js("return document.querySelector('.editor-highlight span.diag-error:not(.lens)').textContent"));
        Assert.Equal("   expected an expression", B.Js("return document.querySelector('.editor-highlight .lens').textContent"));
        B.Screenshot("02-editor-diagnostic");

        // Deploy refuses to send a program that does not compile.
        B.Find("#submit-pipeline").Click();
        B.WaitText("#form-result", "Not deployed: fix the 1 error first.");
        Assert.DoesNotContain("alerts", (await f.PipelinesAsync()).Keys);

        // Go to the diagnostic, type the missing operand: no problems left; deploy.
        B.Find("#diagnostics li button").Click();
        Assert.Equal(
            "stream Alert = TempReading as t\n.where(t.value > ".Length,
            Convert.ToInt32(B.Js("return document.getElementById('vpl-source').selectionStart")));
        B.Find("#vpl-source").SendKeys("100");
        B.WaitText("#validation-status", "No problems");
        Assert.Empty(B.FindAll("#diagnostics li"));
        Assert.Empty(B.FindAll(".editor-gutter .gutter-error"));
        B.Find("#submit-pipeline").Click();
        var id = B.WaitFor("the pipeline's page", () => B.Js("return location.hash") is string h && h.StartsWith("#/pipelines/", StringComparison.Ordinal) && !h.EndsWith("/new", StringComparison.Ordinal)
            ? h["#/pipelines/".Length..]
            : null)!;
        var deployed = (await f.PipelinesAsync())["alerts"];
        Assert.Equal(id, (string)deployed["id"]!);
        Assert.Equal("stream Alert = TempReading as t\n.where(t.value > 100)\n.emit(alert: true, value: t.value)", (string)deployed["source"]!);
        B.WaitText("#log-state", "live");
        B.WaitText("#log-counts", "0 received");
        Assert.Equal(["All event types", "Alert"], B.FindAll("#log-filter option").Select(o => o.Text));

        // The send page in a second tab (opened from this one, so it has the key too).
        var detailTab = B.Driver.CurrentWindowHandle;
        B.Js("window.open('#/send?pipeline=' + arguments[0], 'send-tab')", id);
        var sendTab = B.Driver.WindowHandles.Single(h => h != detailTab);
        B.Driver.SwitchTo().Window(sendTab);
        B.Viewport(1280, 800);
        B.WaitFor("the pipeline to be chosen", () => B.Find("#send-pipeline").GetAttribute("value") == id);
        Assert.Equal("alerts", B.Find("#send-pipeline option:checked").Text);

        // One event from the form: above the threshold, one output.
        SetInput("#event-type", "TempReading");
        SetInput("#event-time", "2025-01-01T00:00:00Z");
        var rows = B.FindAll("#field-rows tr");
        Assert.Equal(["sensor", "value"], rows.Select(r => r.FindElement(By.CssSelector(".field-name")).GetAttribute("value")));
        SetElement(rows[1].FindElement(By.CssSelector(".field-value")), "150.5");
        B.Find("#send-button").Click();
        var first = WaitResult(1);
        Assert.EndsWith(" · TempReading → alerts: 1 output event", first.FindElement(By.TagName("h3")).Text);
        Assert.Equal(["Alert 2025-01-01T00:00:00Z alert: true, value: 150.5"], OutputRows(first));

        // Below the threshold: no output.
        SetInput("#event-time", "2025-01-01T00:00:01Z");
        SetElement(rows[1].FindElement(By.CssSelector(".field-value")), "20");
        B.Find("#send-button").Click();
        var second = WaitResult(2);
        Assert.EndsWith(" · TempReading → alerts: 0 output events", second.FindElement(By.TagName("h3")).Text);
        Assert.Equal("No output events.", second.FindElement(By.CssSelector("p")).Text);

        // A batch from the JSON editor: two of three above the threshold.
        B.Find("#mode-json").Click();
        Assert.False(B.Find("#form-part").Displayed);
        SetInput("#event-json",
            """[{"event_type": "TempReading", "fields": {"sensor": "S2", "value": 101}, "timestamp": "2025-01-01T00:00:02Z"},""" +
            """ {"event_type": "TempReading", "fields": {"sensor": "S2", "value": 99}, "timestamp": "2025-01-01T00:00:03Z"},""" +
            """ {"event_type": "TempReading", "fields": {"sensor": "S3", "value": 102}, "timestamp": "2025-01-01T00:00:04Z"}]""");
        B.Find("#send-button").Click();
        var batch = WaitResult(3);
        Assert.EndsWith(" · batch of 3 → alerts: 2 output events", batch.FindElement(By.TagName("h3")).Text);
        Assert.StartsWith("Accepted 3, rejected 0, processed in ", batch.FindElement(By.CssSelector("p.small")).Text);
        Assert.Equal(["Alert 2025-01-01T00:00:02Z alert: true, value: 101", "Alert 2025-01-01T00:00:04Z alert: true, value: 102"], OutputRows(batch));
        B.Screenshot("04-send-events");

        // The pipeline's tab got the three outputs over SSE as they were produced, newest first.
        B.Driver.SwitchTo().Window(detailTab);
        B.WaitText("#log-counts", "3 received");
        Assert.Equal(
            ["2025-01-01T00:00:04Z Alert alert: true, value: 102", "2025-01-01T00:00:02Z Alert alert: true, value: 101", "2025-01-01T00:00:00Z Alert alert: true, value: 150.5"],
            B.FindAll("#log-rows tr").Select(r => r.Text));
        B.WaitText("[data-metric=events_processed]", "5");
        B.WaitText("[data-metric=output_events_emitted]", "3");

        // Paused, the view holds new outputs back and says how many; resumed, it shows them.
        B.Find("#log-pause").Click();
        Assert.Equal("true", B.Find("#log-pause").GetAttribute("aria-pressed"));
        await PostEventAsync(id, 500, "2025-01-01T00:00:05Z");
        B.WaitText("#log-paused", "Paused: 1 new event held (the latest 300 are kept).");
        Assert.Equal(3, B.FindAll("#log-rows tr").Count);
        B.Find("#log-pause").Click();
        B.WaitFor("the held event to show", () => B.FindAll("#log-rows tr").Count == 4);
        Assert.Equal("2025-01-01T00:00:05Z Alert alert: true, value: 500", B.FindAll("#log-rows tr")[0].Text);
        Assert.False(B.Find("#log-paused").Displayed);
        B.WaitText("[data-metric=output_events_emitted]", "4");
        B.Js("window.scrollTo(0, 0)");
        B.Screenshot("03-pipeline-detail");
        B.Js("document.getElementById('live-output').scrollIntoView()");
        B.Screenshot("05-live-output");

        // The pipelines list shows it with its counts.
        f.Go("#/pipelines");
        B.WaitFor("the list's counts", () => B.FindAll($"#pipelines-table tr[data-id='{id}'] td[data-col=out]").FirstOrDefault()?.Text == "4");
        Assert.Equal("6", B.Find($"#pipelines-table tr[data-id='{id}'] td[data-col=in]").Text);
        B.Screenshot("00-pipelines");

        B.Driver.SwitchTo().Window(sendTab);
        B.Driver.Close();
        B.Driver.SwitchTo().Window(detailTab);
        B.AssertNoConsoleErrors();
    }

    private async Task PostEventAsync(string id, double value, string timestamp)
    {
        var body = new JsonObject
        {
            ["event_type"] = "TempReading",
            ["fields"] = new JsonObject { ["sensor"] = "S9", ["value"] = value },
            ["timestamp"] = timestamp,
        };
        using var r = await f.Api.PostAsync($"/api/v1/pipelines/{id}/events", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
    }

    private void SetInput(string css, string value) => SetElement(B.Find(css), value);

    private static void SetElement(IWebElement e, string value)
    {
        e.Clear();
        e.SendKeys(value);
    }

    private IWebElement WaitResult(int count)
    {
        B.WaitFor($"{count} results", () => B.FindAll("#send-results > li").Count == count);
        return B.FindAll("#send-results > li")[0];
    }

    private static List<string> OutputRows(IWebElement result)
        => result.FindElements(By.CssSelector("table.outputs tbody tr")).Select(r => r.Text).ToList();
}
