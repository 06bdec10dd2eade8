using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Abstractions;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Cluster;
using Varpulis.Host.Server;

namespace Varpulis.Cluster.Tests.Api;

/// <summary>
/// A coordinator and one worker as in production (<see cref="VarpulisServer.Build"/>: Kestrel, the API, the Akka.NET
/// node), both in this process on loopback: the worker learns its cluster from the coordinator's seed endpoint.
/// </summary>
public sealed class CoordinatorFixture : IAsyncLifetime
{
    public const string CoordinatorKey = "coordinator-key";
    public const string WorkerKey = "worker-key";

    private WebApplication? _coordinator;
    private WebApplication? _worker;

    public Uri CoordinatorUrl { get; private set; } = null!;

    public Uri WorkerUrl { get; private set; } = null!;

    public HttpClient Coordinator { get; private set; } = null!;

    public HttpClient Worker { get; private set; } = null!;

    public string StateDir { get; } = ServerProcess.TempDir();

    public async Task InitializeAsync()
    {
        var c = Settings(CoordinatorKey, Path.Combine(StateDir, "coordinator"));
        c.Metrics.Enabled = true;
        c.Cluster.HeartbeatIntervalSecs = 0.5;
        c.Cluster.HeartbeatTimeoutSecs = 3;
        _coordinator = VarpulisServer.Build(c, TextWriter.Null, _ => null, coordinator: true);
        await _coordinator.StartAsync();
        CoordinatorUrl = VarpulisServer.ApiAddress(_coordinator, c);
        Coordinator = Client(CoordinatorUrl, CoordinatorKey);
        await WaitReadyAsync(Coordinator);

        var w = Settings(WorkerKey, Path.Combine(StateDir, "worker"));
        w.Cluster.Coordinator = CoordinatorUrl.ToString().TrimEnd('/');
        w.Cluster.WorkerId = "worker-0";
        var plan = await WorkerBootstrap.PlanAsync(w, NullLogger.Instance, CancellationToken.None);
        _worker = VarpulisServer.Build(w, TextWriter.Null, _ => null, workerPlan: plan);
        await _worker.StartAsync();
        WorkerUrl = VarpulisServer.ApiAddress(_worker, w);
        Worker = Client(WorkerUrl, WorkerKey);
        await WaitReadyAsync(Worker);
    }

    public async Task DisposeAsync()
    {
        Coordinator?.Dispose();
        Worker?.Dispose();
        foreach (var app in new[] { _worker, _coordinator })
        {
            if (app is null) continue;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public static HttpClient Client(Uri url, string? key)
    {
        var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(120) };
        if (key is not null) http.DefaultRequestHeaders.Add("x-api-key", key);
        return http;
    }

    private static VarpulisSettings Settings(string key, string stateDir)
    {
        var s = new VarpulisSettings();
        s.Server.Port = ServerProcess.FreePort();
        s.Server.ApiKey = key;
        s.Server.StateDir = stateDir;
        s.Persistence.SnapshotIntervalSecs = 0;
        return s;
    }

    private static async Task WaitReadyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync("/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("node did not become ready at " + http.BaseAddress);
    }
}
