using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serilog;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Metrics;
using Varpulis.Actors.Node;
using Varpulis.Actors.Outputs;
using Varpulis.Actors.Persistence;
using Varpulis.Api;
using Varpulis.Api.Endpoints;
using Varpulis.Api.Errors;
using Varpulis.Api.Management;
using Varpulis.Host.Cluster;
using Varpulis.Host.Configuration;
using Varpulis.Host.Logging;

namespace Varpulis.Host.Server;

/// <summary>
/// The composition root of <c>varpulis server</c> (a single server, or a worker with <c>--coordinator</c>) and of
/// <c>varpulis coordinator</c>: Kestrel (API port, and the Prometheus port when enabled), Serilog, OpenTelemetry when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and the Akka.NET node. A worker learns its cluster from its coordinator
/// first (<see cref="WorkerBootstrap"/>) and is built with that plan.
/// </summary>
public static class VarpulisServer
{
    public static WebApplication Build(VarpulisSettings settings, TextWriter? logOutput = null, Func<string, string?>? env = null, bool coordinator = false, NodePlan? workerPlan = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        SettingsLoader.Validate(settings, coordinator);
        // The SQLite provider completes its "async" calls synchronously on pool threads: start with enough threads
        // that a journal write never waits for the pool's slow thread injection.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        // One process per state directory (SQLite): taken before anything opens the databases, released at shutdown.
        var stateLock = settings.Persistence.IsPostgres ? null : StateDirectoryLock.Acquire(settings.Server.StateDir);
        try
        {
            stateLock?.RequireWritable(VarpulisPersistence.SqliteFileNames);
            return Build(settings, stateLock, logOutput, env, coordinator, workerPlan);
        }
        catch
        {
            stateLock?.Dispose();
            throw;
        }
    }

    private static WebApplication Build(VarpulisSettings settings, StateDirectoryLock? stateLock, TextWriter? logOutput, Func<string, string?> env, bool coordinator, NodePlan? workerPlan)
    {
        var startedAt = DateTimeOffset.UtcNow;
        // A coordinator serves /metrics on its API port (runbook §6.2); a server on --metrics-port.
        bool metricsPort = settings.Metrics.Enabled && !coordinator;
        VarpulisMetrics.Initialize();
        var logger = VarpulisLogging.Create(settings.Logging, logOutput);
        AkkaStdoutLogger.Target = logger;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger, dispose: true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

        var bind = SettingsLoader.ParseBind(settings.Server.Bind)!;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // Bodies are limited per endpoint by the API (1 MiB, 16 MiB), with the contract's 413 body.
            k.Limits.MaxRequestBodySize = null;
            // Requests Kestrel rejects before any middleware (a NUL in the path) still get the JSON error body.
            k.Listen(bind, settings.Server.Port, l => l.Use(RejectedRequestBodies.Middleware));
            if (metricsPort) k.Listen(bind, settings.Metrics.Port, l => l.Use(RejectedRequestBodies.Middleware));
        });

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new OutputHubs(
            sp.GetRequiredService<ActorSystem>(),
            () => sp.GetRequiredService<ActorRegistry>().Get<Varpulis.Actors.Pipelines.PipelineEntity>()));
        var kind = coordinator ? NodeKind.Coordinator : settings.Cluster.IsWorker ? NodeKind.Worker : NodeKind.Single;
        var holder = new NodePlanHolder(kind switch
        {
            NodeKind.Coordinator => workerPlan ?? NodePlanner.Coordinator(settings),
            NodeKind.Worker => workerPlan ?? throw new InvalidOperationException("a worker is built with the plan its coordinator gave (WorkerBootstrap.PlanAsync)"),
            _ => NodePlan.Single(settings),
        });
        builder.Services.AddSingleton(holder);
        builder.Services.AddSingleton(new NodeRole(kind));
        if (kind == NodeKind.Coordinator)
        {
            builder.Services.AddSingleton(NodePlanner.JournalOf(settings, holder.Plan.JournalDir));
            builder.Services.AddSingleton(sp => new Varpulis.Actors.Cluster.Raft.RaftView(sp.GetRequiredService<ActorSystem>(), holder.Plan.Raft));
            if (holder.Plan.Raft is not null) builder.Services.AddHostedService<RaftJoiner>();
        }
        builder.Services.AddAkka(NodePlan.SystemName, (akka, sp) =>
        {
            // Lines Akka writes while its loggers are not running (start, shutdown) go through Serilog too.
            akka.AddHocon($"akka.stdout-logger-class = \"{typeof(AkkaStdoutLogger).AssemblyQualifiedName}\"", HoconAddMode.Prepend);
            akka.ConfigureLoggers(l =>
            {
                l.ClearLoggers();
                l.AddLoggerFactory();
            });
            akka.WithVarpulisNode(settings, sp.GetRequiredService<NodePlanHolder>().Plan);
            akka.WithVarpulisManagement(settings);
        });
        builder.Services.AddVarpulisManagementEndpoint(settings);
        builder.Services.AddVarpulisApi(settings);

        var otlp = env("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (!string.IsNullOrEmpty(otlp))
        {
            var service = env("OTEL_SERVICE_NAME");
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(r => r.AddService(string.IsNullOrEmpty(service) ? "varpulis" : service, serviceVersion: VarpulisVersion.Current))
                .WithTracing(t => t
                    .AddSource(ApiTelemetry.SourceName, Varpulis.Actors.Cluster.ClusterTelemetry.SourceName)
                    .AddAspNetCoreInstrumentation()
                    .AddOtlpExporter());
        }

        if (stateLock is not null) builder.Services.AddSingleton(_ => stateLock);

        var app = builder.Build();
        if (stateLock is not null)
        {
            // Resolved once so the container owns it (disposed with the app); also released as soon as the host stops.
            app.Services.GetRequiredService<StateDirectoryLock>();
            app.Lifetime.ApplicationStopped.Register(stateLock.Dispose);
        }
        if (metricsPort)
        {
            int port = settings.Metrics.Port;
            app.MapWhen(ctx => ctx.Connection.LocalPort == port, branch => branch.Run(PrometheusEndpoint.ServeAsync));
        }
        else if (settings.Metrics.Enabled)
        {
            app.MapWhen(ctx => ctx.Request.Path == "/metrics", branch => branch.Run(PrometheusEndpoint.ServeAsync));
        }
        app.UseVarpulisApi(startedAt);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Varpulis.Host.Server");
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var auth = string.IsNullOrEmpty(settings.Server.ApiKey) ? "authentication off (loopback only)" : "API key required";
            var plan = holder.Plan;
            log.LogInformation("Varpulis {Version} listening on {Addresses} ({Kind}); {Auth}; state in {Store}", VarpulisVersion.Current,
                string.Join(", ", addresses), kind == NodeKind.Worker ? "worker " + plan.WorkerId : kind.ToString().ToLowerInvariant(), auth,
                plan.Persistence.IsPostgres ? "PostgreSQL" : Path.GetFullPath(plan.JournalDir));
        });
        return app;
    }

    /// <summary>The actual API address (after start; the first address Kestrel reports that is not the metrics port).</summary>
    public static Uri ApiAddress(WebApplication app, VarpulisSettings settings)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        foreach (var a in addresses)
        {
            var uri = new Uri(a.Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1"));
            if (!settings.Metrics.Enabled || uri.Port != settings.Metrics.Port || settings.Metrics.Port == settings.Server.Port) return uri;
        }
        throw new InvalidOperationException("server has no address");
    }
}

/// <summary>Serves the default Prometheus registry (our metrics, process and .NET runtime metrics) at <c>/metrics</c>.</summary>
internal static class PrometheusEndpoint
{
    public static async Task ServeAsync(HttpContext ctx)
    {
        if (ctx.Request.Path != "/metrics" && ctx.Request.Path != "/")
        {
            ctx.Response.StatusCode = 404;
            ctx.Response.ContentType = "application/json; charset=utf-8";
            await ctx.Response.WriteAsync("{\"error\":\"the metrics port serves /metrics only\",\"code\":\"not_found\"}");
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(ctx.Response.Body, ctx.RequestAborted);
    }
}
