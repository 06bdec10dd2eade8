using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenQA.Selenium;
using Varpulis.Ui.Tests.Infrastructure;

namespace Varpulis.Ui.Tests;

/// <summary>
/// The pattern view of a pipeline: a run appears with its partition, step, captures and event-time deadline when its
/// first event is sent from the UI, and ends when the match completes; a checkpoint downloaded from the UI restores
/// the run after it ended.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class PatternAndCheckpointTests(UiFixture f)
{
    private const string Fraud =
        "stream Fraud = Login as a -> Purchase where user == a.user as b\n    .within(30m)\n    .partition_by(user)\n    .emit(user: a.user, amount: b.amount)\n";

    private Browser B => f.Browser;

    [Fact]
    public async Task PatternRunAppearsWithItsCapturesAndDeadlineThenEndsWhenItMatches()
    {
        f.SignIn();
        f.Go("#/pipelines/new");
        B.WaitVisible("#pipeline-name").SendKeys("fraud-ui");
        B.Find("#example option[value='2']").Click();
        B.WaitText("#validation-status", "No problems");
        Assert.Equal(Fraud, B.Find("#vpl-source").GetAttribute("value"));
        B.Find("#submit-pipeline").Click();
        var id = B.WaitFor("the pipeline's page", () => B.Js("return location.hash") is string h && h != "#/pipelines/new" ? h["#/pipelines/".Length..] : null)!;
        Assert.Equal(id, (string)(await f.PipelinesAsync())["fraud-ui"]["id"]!);
        B.WaitText("#log-state", "live");
        B.WaitFor("the runs poll", () => B.Find("#runs-total").Text.StartsWith("No active runs · updated ", StringComparison.Ordinal));

        var detailTab = B.Driver.CurrentWindowHandle;
        B.Js("window.open('#/send?pipeline=' + arguments[0], 'send-tab')", id);
        var sendTab = B.Driver.WindowHandles.Single(h => h != detailTab);
        B.Driver.SwitchTo().Window(sendTab);
        B.WaitFor("the pipeline to be chosen", () => B.Find("#send-pipeline").GetAttribute("value") == id);
        B.Find("#mode-json").Click();
        SendJson("""{"event_type": "Login", "fields": {"user": "alice"}, "timestamp": "2025-01-01T00:00:00Z"}""", 1);

        // The run: partition, step reached, next step, the captured Login, start and deadline in event time.
        B.Driver.SwitchTo().Window(detailTab);
        B.WaitFor("the run", () => B.FindAll("#runs-rows tr").Count == 1);
        Assert.Equal(
            ["Fraud", "\"alice\"", "1", "Purchase as b", "a: Login @ 2025-01-01T00:00:00Z {user: \"alice\"}", "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"],
            B.FindAll("#runs-rows tr td").Select(c => c.Text));
        Assert.StartsWith("1 active run · updated ", B.Find("#runs-total").Text);
        B.WaitText("[data-metric=active_runs]", "1");
        B.Js("document.getElementById('runs').scrollIntoView()");
        B.Screenshot("06-pattern-run");

        // The Purchase completes it: one Fraud output (in the reply and on the live stream), no run left.
        B.Driver.SwitchTo().Window(sendTab);
        var reply = SendJson("""{"event_type": "Purchase", "fields": {"user": "alice", "amount": 42}, "timestamp": "2025-01-01T00:05:00Z"}""", 2);
        Assert.Equal(["Fraud 2025-01-01T00:05:00Z user: \"alice\", amount: 42"], reply.FindElements(By.CssSelector("table.outputs tbody tr")).Select(r => r.Text));
        B.Driver.SwitchTo().Window(detailTab);
        B.WaitFor("the run to end", () => B.FindAll("#runs-rows tr").Count == 0 && B.Find("#runs-total").Text.StartsWith("No active runs", StringComparison.Ordinal));
        Assert.False(B.Find("#runs-table").Displayed);
        var ended = B.FindAll("#runs-ended li").Single().Text;
        Assert.StartsWith("Fraud partition \"alice\": started 2025-01-01T00:00:00Z, at step 1 (next Purchase as b); ended between ", ended);
        Assert.EndsWith(" — it matched, passed its deadline in event time, or was reset.", ended);
        B.WaitText("#log-counts", "1 received");
        Assert.Equal(["2025-01-01T00:05:00Z Fraud user: \"alice\", amount: 42"], B.FindAll("#log-rows tr").Select(r => r.Text));
        B.WaitText("[data-metric=active_runs]", "0");
        B.Js("document.getElementById('runs').scrollIntoView()");
        B.Screenshot("07-pattern-run-ended");

        B.Driver.SwitchTo().Window(sendTab);
        B.Driver.Close();
        B.Driver.SwitchTo().Window(detailTab);
        B.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task DownloadedCheckpointRestoresTheRunAfterItEnded()
    {
        var id = await DeployAsync("fraud-checkpoint", Fraud);
        await PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "Login", "fields": {"user": "bob"}, "timestamp": "2025-01-01T00:00:00Z"}""");
        f.SignIn();
        f.Go($"#/pipelines/{id}");
        B.WaitFor("bob's run", () => B.FindAll("#runs-rows tr td").Skip(1).FirstOrDefault()?.Text == "\"bob\"");

        foreach (var old in Directory.GetFiles(B.DownloadDir)) File.Delete(old);
        B.Find("#checkpoint-button").Click();
        var file = B.WaitFor("the checkpoint file", () => Directory.GetFiles(B.DownloadDir, "checkpoint-fraud-checkpoint-*.json").SingleOrDefault())!;
        var doc = JsonNode.Parse(await ReadWhenCompleteAsync(file))!;
        Assert.Equal(id, (string)doc["pipeline_id"]!);
        Assert.Equal(1, (long)doc["events_processed"]!);
        Assert.Equal(JsonValueKind.Object, doc["checkpoint"]!.GetValueKind());
        var createdAt = (string)doc["created_at"]!;
        Assert.Equal($"checkpoint-fraud-checkpoint-{createdAt.Replace(':', '-').Replace('.', '-')}.json", Path.GetFileName(file));
        B.WaitText("#checkpoint-status", $"Checkpoint of 1 event taken at {createdAt}, saved as {Path.GetFileName(file)}.");

        await PostAsync($"/api/v1/pipelines/{id}/events", """{"event_type": "Purchase", "fields": {"user": "bob", "amount": 9}, "timestamp": "2025-01-01T00:01:00Z"}""");
        B.WaitFor("the run to end", () => B.FindAll("#runs-rows tr").Count == 0);

        // Restore asks first, then brings the checkpoint's run back.
        B.Find("#restore-file").SendKeys(file);
        B.Find("#restore-button").Click();
        B.WaitVisible("#confirm-ok");
        Assert.Equal($"Replace the state of “fraud-checkpoint” with {Path.GetFileName(file)}? Events processed since that checkpoint are no longer reflected in its state.", B.Find("#confirm-text").Text);
        B.Js("document.getElementById('checkpoint').scrollIntoView()");
        B.Screenshot("08-restore-confirm");
        B.Find("#confirm-ok").Click();
        B.WaitText("#checkpoint-status", "Restored 1 event. Streams restored: Fraud. Streams reset: none.");
        B.WaitFor("bob's run again", () => B.FindAll("#runs-rows tr td").Skip(1).FirstOrDefault()?.Text == "\"bob\"");
        Assert.Equal(1, (long)(await f.GetJsonAsync($"/api/v1/pipelines/{id}/metrics"))["active_runs"]!);
        B.AssertNoConsoleErrors();
    }

    private IWebElement SendJson(string json, int expectedResults)
    {
        var box = B.Find("#event-json");
        box.Clear();
        box.SendKeys(json);
        B.Find("#send-button").Click();
        B.WaitFor($"{expectedResults} results", () => B.FindAll("#send-results > li").Count == expectedResults);
        return B.FindAll("#send-results > li")[0];
    }

    private async Task<string> DeployAsync(string name, string source)
    {
        var r = await PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString(), HttpStatusCode.Created);
        return (string)r["id"]!;
    }

    private async Task<JsonNode> PostAsync(string path, string json, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var r = await f.Api.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"{path}: {(int)r.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Chromium writes the download under a temporary name and renames it when done; read once it parses.</summary>
    private static async Task<string> ReadWhenCompleteAsync(string path)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                var text = await File.ReadAllTextAsync(path);
                JsonNode.Parse(text);
                return text;
            }
            catch (Exception e) when (e is IOException or JsonException && i < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
