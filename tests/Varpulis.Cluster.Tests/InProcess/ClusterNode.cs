using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Node;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Cluster.Tests.InProcess;

/// <summary>
/// One node of an in-process cluster: a generic host running the production Akka.NET composition
/// (<see cref="NodeHostingExtensions.WithVarpulisNode"/>) for a coordinator or a worker, with its log kept in memory.
/// Several of them in one test process make a cluster over loopback remoting, sharing one embedded journal directory.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _crashed;

    private ClusterNode(IHost host, NodePlan plan, MemoryLog log)
    {
        _host = host;
        Plan = plan;
        Log = log;
    }

    public NodePlan Plan { get; }

    public MemoryLog Log { get; }

    public ActorSystem System => _host.Services.GetRequiredService<ActorSystem>();

    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(System);

    public string Address => Cluster.SelfAddress.ToString();

    public IActorRef Region => Registry.Get<PipelineEntity>();

    public IActorRef Manager => Registry.Get<ClusterManager>();

    public IActorRef Directory => Registry.Get<ServerDirectory>();

    public IActorRef Groups => Registry.Get<Varpulis.Actors.Groups.PipelineGroupManager>();

    private ActorRegistry Registry => _host.Services.GetRequiredService<ActorRegistry>();

    /// <summary>Timings short enough for tests: heartbeats every 0.5 s, downed after about 3 s of silence.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(3);

    public static Task<ClusterNode> StartCoordinatorAsync(string journalDir)
        => StartAsync(PlanFor(NodeKind.Coordinator, journalDir, [], null));

    /// <summary>Another coordinator, joining the first (HA: the singletons move to it when the first goes).</summary>
    public static Task<ClusterNode> StartSecondCoordinatorAsync(string journalDir, string seed)
        => StartAsync(PlanFor(NodeKind.Coordinator, journalDir, [seed], null) with { OwnsJournalFiles = false });

    public static Task<ClusterNode> StartWorkerAsync(string journalDir, string seed, string workerId)
        => StartAsync(PlanFor(NodeKind.Worker, journalDir, [seed], workerId));

    private static NodePlan PlanFor(NodeKind kind, string journalDir, IReadOnlyList<string> seeds, string? workerId)
    {
        var persistence = new PersistenceSettings { SnapshotIntervalSecs = 0 };
        return new NodePlan(kind, "127.0.0.1", "127.0.0.1", 0, seeds, persistence, journalDir, OwnsJournalFiles: kind == NodeKind.Coordinator,
            HeartbeatInterval, HeartbeatTimeout, workerId, workerId is null ? null : "http://127.0.0.1/" + workerId, 1000, "least-loaded");
    }

    private static async Task<ClusterNode> StartAsync(NodePlan plan)
    {
        var log = new MemoryLog();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddProvider(log);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddAkka(NodePlan.SystemName, (akka, _) =>
        {
            akka.ConfigureLoggers(l =>
            {
                l.ClearLoggers();
                l.AddLoggerFactory();
            });
            akka.WithVarpulisNode(new VarpulisSettings(), plan);
            // A crash is Terminate() without leaving the cluster first: the others must notice on their own.
            akka.AddHocon("akka.coordinated-shutdown.run-by-actor-system-terminate = off", HoconAddMode.Prepend);
        });
        var host = builder.Build();
        await host.StartAsync();
        var node = new ClusterNode(host, plan, log);
        await node.WaitUntilUpAsync();
        return node;
    }

    private async Task WaitUntilUpAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Cluster.SelfMember.Status != Akka.Cluster.MemberStatus.Up)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("node did not become Up: " + Log.Text);
            await Task.Delay(50);
        }
    }

    /// <summary>Like <c>kill -9</c> as far as the others can tell: the node stops answering without leaving.</summary>
    public async Task CrashAsync()
    {
        _crashed = true;
        await System.Terminate();
    }

    /// <summary>Leaves the cluster gracefully (pipelines hand off), then stops.</summary>
    public async Task LeaveAsync()
    {
        await _host.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_crashed)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _host.StopAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _host.Dispose();
    }
}

/// <summary>A logger provider that keeps every line (level, category, message) for assertions.</summary>
public sealed class MemoryLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join("\n", _lines);

    public IReadOnlyList<string> Lines => _lines.ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(MemoryLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
        }
    }
}
