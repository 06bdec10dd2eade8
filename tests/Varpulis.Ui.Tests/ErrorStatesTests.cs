using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Varpulis.TestSupport;
using Varpulis.Ui.Tests.Infrastructure;

namespace Varpulis.Ui.Tests;

/// <summary>
/// What the UI says when things go wrong: a refused key, an API error (its message and code), an unknown pipeline,
/// a server that stops answering and comes back; and a server without a key on loopback, which opens without asking.
/// The only console errors are the browser's own reports of those failed requests.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class ErrorStatesTests(UiFixture f)
{
    private Browser B => f.Browser;

    [Fact]
    public void WrongKeyIsRefusedWithTheServersMessageAndNeverLeavesTheHeader()
    {
        f.OpenWithoutKey();
        B.WaitVisible("#key-input").SendKeys("not-the-key");
        B.Find("#key-submit").Click();
        B.WaitText("#key-error", "The server refused this key: invalid API key.");
        Assert.True((bool)B.Js("return document.getElementById('key-dialog').open")!);
        Assert.Null(B.Js("return sessionStorage.getItem('varpulis.apiKey')"));
        Assert.Empty(B.FindAll("#pipelines-table"));
        B.Screenshot("09-wrong-key");
        var errors = B.ConsoleErrors();
        Assert.Single(errors);
        Assert.Contains("/api/v1/usage - Failed to load resource: the server responded with a status of 401 (Unauthorized)", errors[0]);

        B.ClearConsole();
        var input = B.Find("#key-input");
        input.Clear();
        input.SendKeys(UiFixture.Key);
        B.Find("#key-submit").Click();
        B.WaitVisible("#list-updated");
        B.WaitFor("the list", () => B.Find("#list-updated").Text.Contains(" · updated ", StringComparison.Ordinal));

        // Every request the page made carried the key in the header: none has it in its URL.
        var urls = ((IEnumerable<object>)B.Js("return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])")!).Cast<string>().ToList();
        Assert.Contains(urls, u => u.Contains("/api/v1/", StringComparison.Ordinal));
        Assert.DoesNotContain(urls, u => u.Contains(UiFixture.Key, StringComparison.Ordinal) || u.Contains("not-the-key", StringComparison.Ordinal));
        B.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task ApiErrorsShowTheirMessageAndCode()
    {
        using var deployed = await f.Api.PostAsync("/api/v1/pipelines", new StringContent("""{"name": "errors", "source": "stream A = T .emit(v: value)"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, deployed.StatusCode);
        var id = (string)JsonNode.Parse(await deployed.Content.ReadAsStringAsync())!["id"]!;
        f.SignIn();
        f.Go($"#/send?pipeline={id}");
        B.WaitFor("the pipeline to be chosen", () => B.Find("#send-pipeline").GetAttribute("value") == id);
        B.ClearConsole();

        B.Find("#mode-json").Click();
        var box = B.Find("#event-json");
        box.Clear();
        box.SendKeys("""{"event_type": "T", "fields": {"value": 1}, "timestamp": "not-a-time"}""");
        B.Find("#send-button").Click();
        B.WaitFor("the refusal", () => B.FindAll("#send-results > li.failed").Count == 1);
        var failed = B.Find("#send-results > li.failed");
        Assert.EndsWith(" · refused by errors", failed.FindElement(OpenQA.Selenium.By.TagName("h3")).Text);
        Assert.Equal("invalid timestamp 'not-a-time': expected RFC 3339 or epoch milliseconds (400 invalid_request)", failed.FindElement(OpenQA.Selenium.By.CssSelector("p")).Text);
        B.Screenshot("10-api-error");

        // A JSON text that is not an event is refused before anything is sent.
        box.Clear();
        box.SendKeys("""{"fields": {}}""");
        B.Find("#send-button").Click();
        B.WaitText("#send-problem", """Send one event {"event_type": …, "fields": {…}}, an array of events, or {"events": […]}.""");

        // An unknown pipeline: its own page says so.
        var unknown = Guid.Empty.ToString();
        f.Go($"#/pipelines/{unknown}");
        B.WaitText("main h1", "Pipeline not found");
        Assert.Equal($"pipeline '{unknown}' not found. Back to pipelines", B.Find("main p").Text);

        var errors = B.ConsoleErrors();
        Assert.Equal(2, errors.Count);
        Assert.Contains($"/api/v1/pipelines/{id}/events - Failed to load resource: the server responded with a status of 400 (Bad Request)", errors[0]);
        Assert.Contains($"/api/v1/pipelines/{unknown} - Failed to load resource: the server responded with a status of 404 (Not Found)", errors[1]);
    }

    [Fact]
    public async Task ServerWithoutKeyOpensWithoutAskingAndAnOutageIsShownUntilItIsBack()
    {
        var stateDir = ServerProcess.TempDir();
        int port = ServerProcess.FreePort();
        ServerProcess? server = ServerProcess.StartServer(stateDir, port);
        try
        {
            await server.WaitReadyAsync();
            var version = await VersionAsync(server);
            B.Reset();
            B.Open(new Uri(server.Address, "/ui/"));
            B.WaitText("#node-info", $"server {version} · no key needed (loopback)");
            Assert.False((bool)B.Js("return document.getElementById('key-dialog').open")!);
            Assert.False(B.Find("#sign-out").Displayed);
            B.WaitText(".empty p", "No pipelines yet.");
            B.WaitText("#connection", "online");
            B.AssertNoConsoleErrors();

            await server.DisposeAsync();
            server = null;
            B.WaitText("#banner-text", $"Cannot reach the server at 127.0.0.1:{port}. Retrying every 2 seconds…", TimeSpan.FromSeconds(30));
            B.WaitText("#connection", "offline");
            B.Screenshot("11-server-down");

            server = ServerProcess.StartServer(stateDir, port);
            await server.WaitReadyAsync();
            B.WaitFor("the banner to go", () => !B.Find("#banner").Displayed, TimeSpan.FromSeconds(30));
            B.WaitText("#connection", "online");
            B.WaitText(".empty p", "No pipelines yet.");
            // The failed requests while it was down are the browser's only errors.
            Assert.NotEmpty(B.ConsoleErrors());
            Assert.All(B.ConsoleErrors(), e => Assert.Contains("net::ERR_CONNECTION_REFUSED", e));
            B.ClearConsole();
        }
        finally
        {
            if (server is not null) await server.DisposeAsync();
        }
    }

    private static async Task<string> VersionAsync(ServerProcess server)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        return (string)JsonNode.Parse(await http.GetStringAsync("/health"))!["version"]!;
    }
}
