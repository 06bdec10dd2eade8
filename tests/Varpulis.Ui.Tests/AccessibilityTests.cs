using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Varpulis.Ui.Tests.Infrastructure;

namespace Varpulis.Ui.Tests;

/// <summary>
/// Every page at 1280×800 and in a narrow (390×844) window: every visible control has an accessible name (as
/// Chromium's accessibility tree computes it), and the page never scrolls sideways (wide tables scroll inside their
/// own box). A screenshot of each page at each size is saved.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class AccessibilityTests(UiFixture f)
{
    private Browser B => f.Browser;

    [Fact]
    public async Task EveryControlIsLabelledAndNoPageScrollsSidewaysAtDesktopAndNarrowWidths()
    {
        using var deployed = await f.Api.PostAsync("/api/v1/pipelines", new StringContent(
            new JsonObject { ["name"] = "a11y", ["source"] = "stream Fraud = Login as a -> Purchase where user == a.user as b .within(30m) .partition_by(user) .emit(user: a.user, amount: b.amount)" }.ToJsonString(),
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, deployed.StatusCode);
        var id = (string)JsonNode.Parse(await deployed.Content.ReadAsStringAsync())!["id"]!;
        using var login = await f.Api.PostAsync($"/api/v1/pipelines/{id}/events",
            new StringContent("""{"event_type": "Login", "fields": {"user": "zoe"}, "timestamp": "2025-01-01T00:00:00Z"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);

        f.SignIn();
        var pages = new (string Name, string Route, string ReadyCss)[]
        {
            ("pipelines", "#/pipelines", "#pipelines-table tbody tr"),
            ("new-pipeline", "#/pipelines/new", "#vpl-source"),
            ("edit-pipeline", $"#/pipelines/{id}/edit", "#submit-pipeline:not([disabled])"),
            ("pipeline", $"#/pipelines/{id}", "#runs-rows tr"),
            ("send", $"#/send?pipeline={id}", "#send-pipeline option"),
        };
        var problems = new List<string>();
        try
        {
            foreach (var (width, height) in new[] { (1280, 800), (390, 844) })
            {
                B.Viewport(width, height);
                foreach (var (name, route, ready) in pages)
                {
                    f.Go(route);
                    B.WaitVisible(ready);
                    problems.AddRange(B.AccessibilityProblems($"{name} at {width}px"));
                    B.Screenshot($"a11y-{width}x{height}-{name}");
                }
            }
        }
        finally
        {
            B.Viewport(1280, 800);
        }
        Assert.Empty(problems);
        B.AssertNoConsoleErrors();
    }
}
