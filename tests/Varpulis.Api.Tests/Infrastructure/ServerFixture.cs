using System.Text.Json.Nodes;

namespace Varpulis.Api.Tests.Infrastructure;

/// <summary>One server (admin key <see cref="AdminKey"/>) shared by the tests of a class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key";

    public TestServer Server { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var s = TestServer.DefaultSettings();
        s.Server.ApiKey = AdminKey;
        s.Server.SseKeepAliveSecs = 1;
        s.Server.SseBufferEvents = 16;
        Server = await TestServer.StartAsync(s);
        Admin = Server.Client();
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Deploys a pipeline and returns its id.</summary>
    public async Task<string> DeployAsync(string source, string name = "p", HttpClient? client = null)
    {
        var r = await (client ?? Admin).PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = name, ["source"] = source }.ToJsonString());
        Assert.True(r.Status == System.Net.HttpStatusCode.Created, r.Body.ToJsonString());
        return (string)r.Body["id"]!;
    }
}

/// <summary>Programs the tests deploy.</summary>
public static class Programs
{
    /// <summary>The runbook's hot-reload example plus a count window per sensor.</summary>
    public const string AlertAndWindow =
        "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true, value: t.value)\n" +
        "stream Avg = TempReading .partition_by(sensor) .window(3) .aggregate(n: count(), total: sum(value)) .emit(sensor: sensor, n: n, total: total)";

    public const string Alert = "stream Alert = TempReading as t .where(t.value > 100) .emit(alert: true)";

    public static string Reading(string sensor, double value, long? ts = null)
        => new JsonObject
        {
            ["event_type"] = "TempReading",
            ["fields"] = new JsonObject { ["sensor"] = sensor, ["value"] = value },
            ["timestamp"] = ts,
        }.ToJsonString();

    public static string Batch(IEnumerable<string> events) => "{\"events\": [" + string.Join(",", events) + "]}";
}
