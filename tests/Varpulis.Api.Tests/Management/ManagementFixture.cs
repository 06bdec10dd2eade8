using System.Globalization;
using System.Net;

using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests.Management;

/// <summary>A server with an admin key and its management endpoint on a free port.</summary>
public sealed class ManagementFixture : IAsyncLifetime
{
    public const string Key = "mgmt-key";

    public TestServer Server { get; private set; } = null!;

    public Uri Management { get; private set; } = null!;

    public ActorSystem System => Server.Services.GetRequiredService<ActorSystem>();

    /// <summary>The node's remoting address, as the cluster routes print it.</summary>
    public string Self => Akka.Cluster.Cluster.Get(System).SelfAddress.ToString();

    public string SelfUid => Akka.Cluster.Cluster.Get(System).SelfUniqueAddress.Uid.ToString(CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        var s = TestServer.DefaultSettings();
        s.Server.ApiKey = Key;
        s.Management.Port = TestServer.FreePort();
        Server = await TestServer.StartAsync(s);
        Management = new Uri($"http://127.0.0.1:{s.Management.Port}");
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>Raw requests to a management endpoint: the status and the body text, for exact comparison.</summary>
public static class ManagementHttp
{
    public static async Task<(HttpStatusCode Status, string Body)> CallAsync(Uri endpoint, HttpMethod method, string path, string? key,
        IReadOnlyDictionary<string, string>? form = null)
    {
        using var http = new HttpClient { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(60) };
        using var req = new HttpRequestMessage(method, path);
        if (key is not null) req.Headers.Add("x-api-key", key);
        if (form is not null) req.Content = new FormUrlEncodedContent(form);
        using var resp = await http.SendAsync(req);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.Equal("application/json; charset=utf-8", resp.Content.Headers.ContentType?.ToString());
        return (resp.StatusCode, body);
    }

    public static string Json(string text) => text.Replace('\'', '"');

    /// <summary>Waits until <paramref name="condition"/> holds (a loaded machine may take a while), or fails with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for " + what);
            await Task.Delay(200);
        }
    }

}
