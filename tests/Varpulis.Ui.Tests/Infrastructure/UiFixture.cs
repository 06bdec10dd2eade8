using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Varpulis.TestSupport;

namespace Varpulis.Ui.Tests.Infrastructure;

/// <summary>
/// One real <c>varpulis server</c> process with an API key (loopback, free port, temporary state dir) and one headless
/// Chromium, shared by the browser tests of the <see cref="UiCollection"/>, which run one after the other.
/// </summary>
public sealed class UiFixture : IAsyncLifetime
{
    public const string Key = "ui-test-key";

    public ServerProcess Server { get; private set; } = null!;

    public Browser Browser { get; private set; } = null!;

    /// <summary>An API client with the key, to check what the UI did and to prepare what it shows.</summary>
    public HttpClient Api { get; private set; } = null!;

    public Uri Ui => new(Server.Address, "/ui/");

    public async Task InitializeAsync()
    {
        Server = ServerProcess.StartServer(ServerProcess.TempDir(), extra: ["--api-key", Key]);
        await Server.WaitReadyAsync();
        Api = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromSeconds(30) };
        Api.DefaultRequestHeaders.Add("x-api-key", Key);
        Browser = Browser.Start();
    }

    public async Task DisposeAsync()
    {
        Browser?.Dispose();
        Api?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
    }

    /// <summary>Opens the UI in a tab that has no key yet and enters the key.</summary>
    public void SignIn() => Browser.SignIn(Ui, Key);

    /// <summary>Opens the UI in a tab whose session storage has no key (see <see cref="Browser.OpenWithoutKey"/>).</summary>
    public void OpenWithoutKey() => Browser.OpenWithoutKey(Ui);

    /// <summary>Navigates to a hash route of the signed-in UI (#/pipelines, ...).</summary>
    public void Go(string route) => Browser.Go(route);

    public async Task<JsonObject> GetJsonAsync(string path)
    {
        using var r = await Api.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>The pipelines of the default tenant, by name.</summary>
    public async Task<Dictionary<string, JsonObject>> PipelinesAsync()
    {
        var list = await GetJsonAsync("/api/v1/pipelines?limit=1000");
        return list["pipelines"]!.AsArray().Select(p => p!.AsObject()).ToDictionary(p => (string)p["name"]!, p => p);
    }
}

[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<UiFixture>
{
    public const string Name = "ui";
}
