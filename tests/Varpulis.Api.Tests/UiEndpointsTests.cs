using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Varpulis.Actors.Node;
using Varpulis.Api.Endpoints;
using Varpulis.Api.Tests.Infrastructure;
using Varpulis.Api.Ui;

namespace Varpulis.Api.Tests;

/// <summary>
/// The web UI's files at <c>/ui/</c>: open (no key), embedded at build time, served with their type, a strong ETag and a
/// strict content security policy; <c>/ui/config.json</c> says what the node is; every module the pages import exists.
/// </summary>
public sealed partial class UiEndpointsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private HttpClient Anonymous() => new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = f.Server.Address };

    [Fact]
    public void EveryUiFileIsEmbedded()
    {
        Assert.Equal(
            ["app.css", "favicon.svg", "index.html", "js/api.js", "js/app.js", "js/chart.js", "js/dom.js", "js/graph.js", "js/pages/cluster.js", "js/pages/detail.js", "js/pages/editor.js", "js/pages/pipelines.js", "js/pages/send.js", "js/shell.js", "js/vpl-editor.js"],
            UiAssets.Embedded.Paths.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task IndexIsServedWithoutAKeyWithItsSecurityHeaders()
    {
        using var http = Anonymous();
        using var r = await http.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/html; charset=utf-8", r.Content.Headers.ContentType!.ToString());
        Assert.Contains("""<script type="module" src="js/app.js"></script>""", await r.Content.ReadAsStringAsync());
        Assert.Equal(UiEndpoints.ContentSecurityPolicy, r.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", r.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", r.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("no-cache", r.Headers.CacheControl!.ToString());
    }

    [Theory]
    [InlineData("/ui/app.css", "text/css; charset=utf-8")]
    [InlineData("/ui/js/app.js", "text/javascript; charset=utf-8")]
    [InlineData("/ui/js/pages/editor.js", "text/javascript; charset=utf-8")]
    [InlineData("/ui/favicon.svg", "image/svg+xml")]
    public async Task FilesAreServedWithTheirContentType(string path, string contentType)
    {
        using var http = Anonymous();
        using var r = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(contentType, r.Content.Headers.ContentType!.ToString());
        Assert.True(UiAssets.Embedded.TryGet(path["/ui/".Length..], out var asset));
        Assert.Equal(asset.Content, await r.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task UnchangedFileAnswers304ToItsETag()
    {
        using var http = Anonymous();
        using var first = await http.GetAsync("/ui/js/app.js");
        var etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/js/app.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var r = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);
        Assert.Empty(await r.Content.ReadAsByteArrayAsync());
        using var other = new HttpRequestMessage(HttpMethod.Get, "/ui/js/app.js");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var changed = await http.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }

    [Fact]
    public async Task HeadGivesTheLengthWithoutTheBody()
    {
        using var http = Anonymous();
        using var r = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/ui/app.css"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.True(UiAssets.Embedded.TryGet("app.css", out var asset));
        Assert.Equal(asset.Content.Length, r.Content.Headers.ContentLength);
        Assert.Empty(await r.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/ui")]
    public async Task RootAndUiWithoutSlashRedirectToTheUi(string path)
    {
        using var http = Anonymous();
        using var r = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Equal("/ui/", r.Headers.Location!.ToString());
    }

    [Fact]
    public async Task UnknownFileIsAJson404()
    {
        using var http = Anonymous();
        var r = await http.GetJsonAsync("/ui/nope.js");
        r.AssertError(HttpStatusCode.NotFound, "not_found", "no UI file 'nope.js'");
    }

    [Fact]
    public async Task ConfigSaysServerWithKeyRequired()
    {
        using var http = Anonymous();
        using var r = await http.GetAsync("/ui/config.json");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("no-store", r.Headers.CacheControl!.ToString());
        Assert.Equal($$"""{"node":"server","auth_required":true,"version":"{{VarpulisVersion.Current}}","features":["connectors","dlq"]}""", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConfigOfAServerWithoutKeySaysNoKeyIsRequired()
    {
        await using var server = await TestServer.StartAsync(TestServer.DefaultSettings());
        using var http = server.Client();
        Assert.Equal(
            $$"""{"node":"server","auth_required":false,"version":"{{VarpulisVersion.Current}}","features":["connectors","dlq"]}""",
            await http.GetStringAsync("/ui/config.json"));
    }

    [Fact]
    public void EveryModuleImportResolvesAndEveryModuleIsImported()
    {
        var missing = new List<string>();
        var imported = new HashSet<string>(StringComparer.Ordinal) { "js/app.js" };
        foreach (var path in UiAssets.Embedded.Paths.Where(p => p.EndsWith(".js", StringComparison.Ordinal)))
        {
            Assert.True(UiAssets.Embedded.TryGet(path, out var asset));
            var text = System.Text.Encoding.UTF8.GetString(asset.Content);
            var dir = Path.GetDirectoryName(path)!.Replace('\\', '/');
            foreach (Match m in ImportPattern().Matches(text))
            {
                var target = Path.GetFullPath(Path.Combine("/", dir, m.Groups[1].Value)).TrimStart('/');
                imported.Add(target);
                if (!UiAssets.Embedded.TryGet(target, out _)) missing.Add($"{path} imports {m.Groups[1].Value}");
            }
        }
        Assert.Empty(missing);
        // No module is left unused: index.html loads js/app.js, which reaches every other one.
        Assert.Equal(UiAssets.Embedded.Paths.Where(p => p.EndsWith(".js", StringComparison.Ordinal)).Order(StringComparer.Ordinal), imported.Order(StringComparer.Ordinal));
    }

    [GeneratedRegex("""from '(\.[^']+)'""")]
    private static partial Regex ImportPattern();
}
