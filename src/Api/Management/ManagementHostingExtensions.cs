using System.Net;
using Akka;
using Akka.Actor;
using Akka.Hosting;
using Akka.Management;
using Akka.Management.Dsl;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Varpulis.Actors.Configuration;

namespace Varpulis.Api.Management;

public static class ManagementHostingExtensions
{
    /// <summary>
    /// Akka.Management on the node: its settings and route providers (only <see cref="VarpulisManagementRoutes"/>, which
    /// serves Akka.Management's own routes behind the access gate). The HTTP endpoint itself is served by
    /// <see cref="AddVarpulisManagementEndpoint"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithVarpulisManagement(this AkkaConfigurationBuilder builder, VarpulisSettings settings)
    {
        var endpoint = ManagementEndpointAddress.Of(settings);
        builder.AddSetup(new ManagementAccess(settings.Server.ApiKey));
        builder.WithAkkaManagement(new AkkaManagementOptions
        {
            HostName = endpoint.Advertised,
            Port = endpoint.Port,
            BindHostName = endpoint.Bind,
            BindPort = endpoint.Port,
            RouteProviders = new Dictionary<string, Type?>
            {
                // Akka.Management's defaults are served (behind the gate, in our order) by our provider.
                ["cluster-bootstrap"] = null,
                ["remote-address"] = null,
                ["cluster-client-receptionist"] = null,
                ["varpulis"] = typeof(VarpulisManagementRoutes),
            },
            RouteProvidersReadOnly = false,
        });
        return builder;
    }

    /// <summary>
    /// Serves the management endpoint over HTTP on the node's bind address and <c>management.port</c> from a hosted service
    /// registered after <c>AddAkka</c> (so the actor system is up), until the actor system shuts down. A configured port
    /// that cannot be bound fails the host's start with a <see cref="ManagementEndpointException"/>, as a taken API port
    /// does (not from inside Akka.Hosting's own start, which would print its stack trace); see
    /// <see cref="ManagementSettings.Port"/> for the default port.
    /// </summary>
    public static IServiceCollection AddVarpulisManagementEndpoint(this IServiceCollection services, VarpulisSettings settings)
        => services.AddHostedService(sp => new ManagementEndpointService(sp, settings));
}

/// <summary>Where a node's management endpoint listens and the host name its links use.</summary>
internal sealed record ManagementEndpointAddress(IPAddress Ip, string Bind, int Port, string Advertised, bool Configured)
{
    public static ManagementEndpointAddress Of(VarpulisSettings settings)
    {
        var bind = settings.Server.Bind.Trim('[', ']');
        var ip = bind.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(bind);
        // Links to this endpoint (Akka.Management's self URI) name a reachable host, not the wildcard address.
        // (as the remoting host is derived, NodePlanner.Hostnames: the configured hostname, else a worker's advertise address's host,
        // else the machine's name).
        var advertised = ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) ? PublicHost(settings.Cluster) : bind;
        return new ManagementEndpointAddress(ip, bind, settings.Management.EffectivePort, advertised, settings.Management.Port is not null);
    }

    private static string PublicHost(ClusterSettings cluster)
    {
        if (!string.IsNullOrEmpty(cluster.Hostname)) return cluster.Hostname;
        if (cluster.AdvertiseAddress is { } a && Uri.TryCreate(a, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host)) return uri.Host;
        return Dns.GetHostName();
    }
}

/// <summary>Starts the endpoint with the host: a configured port strictly, the default port best effort once the host has started.</summary>
internal sealed class ManagementEndpointService(IServiceProvider services, VarpulisSettings settings) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved now, after Akka.Hosting's service (registered before this one) has started the actor system.
        var system = services.GetRequiredService<ActorSystem>();
        var lifetime = services.GetService<IHostApplicationLifetime>();
        var loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        var address = ManagementEndpointAddress.Of(settings);
        var log = loggerFactory.CreateLogger(typeof(ManagementHostingExtensions).Namespace!);
        var endpoint = new EndpointPlan(system, address.Ip, address.Bind, address.Port, address.Advertised, settings.Server.ApiKey, loggerFactory, log);
        if (address.Configured)
        {
            await endpoint.StartAsync(strict: true);
            return;
        }
        // The default port is best effort, and tried once the host has started: a node that fails to start for
        // another reason (its API port taken) says only that.
        if (lifetime is null) await endpoint.StartAsync(strict: false);
        else lifetime.ApplicationStarted.Register(() => _ = endpoint.StartAsync(strict: false));
    }

    /// <summary>The endpoint closes with the actor system (a coordinated-shutdown task), after the node has left its cluster.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Where and how a node's management endpoint is to be served, and its start.</summary>
internal sealed class EndpointPlan(ActorSystem system, IPAddress ip, string bind, int port, string advertised, string? apiKey, ILoggerFactory loggerFactory, ILogger log)
{
    /// <summary>
    /// Binds the endpoint and ties it to the actor system's shutdown. A port that cannot be bound is a
    /// <see cref="ManagementEndpointException"/> when <paramref name="strict"/>, else a warning.
    /// </summary>
    public async Task StartAsync(bool strict)
    {
        ManagementHttpServer server;
        try
        {
            server = await ManagementHttpServer.StartAsync(ip, port, system, bound => AkkaManagement.Get(system).Routes(s =>
                ManagementRouteProviderSettings.Create(new Uri($"http://{Host(advertised)}:{bound.Port}/"), s.ReadOnly)), loggerFactory);
        }
        catch (IOException ex)
        {
            if (strict)
            {
                throw new ManagementEndpointException(
                    $"cannot serve Akka.Management HTTP on {bind}:{port}: {ex.Message} Choose another port with --management-port (0 picks a free one).");
            }
            log.LogWarning("Akka.Management HTTP not started: the default port {Bind}:{Port} is not available ({Reason}). Set --management-port to serve it (pbm, /cluster routes).",
                bind, port, ex.Message);
            return;
        }
        catch (Exception ex) when (!strict)
        {
            // Started after the host, nobody awaits this: say it rather than leave an unobserved task.
            log.LogError(ex, "Akka.Management HTTP not started on {Bind}:{Port}", bind, port);
            return;
        }
        ManagementEndpoint.Get(system).Server = server;
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "varpulis-management-http", async () =>
        {
            await server.DisposeAsync();
            return Done.Instance;
        });
        log.LogInformation("Akka.Management HTTP on {Address} ({Access})", server.Address,
            string.IsNullOrEmpty(apiKey) ? "no API key: loopback callers only" : "API key required");
    }

    private static string Host(string host) => host.Contains(':') ? $"[{host}]" : host;
}

/// <summary>The management endpoint a node serves (none when its default port was taken), for logs and tests.</summary>
public sealed class ManagementEndpoint : IExtension
{
    public static ManagementEndpoint Get(ActorSystem system) => system.WithExtension<ManagementEndpoint, ManagementEndpointProvider>();

    public ManagementHttpServer? Server { get; internal set; }

    /// <summary>The endpoint's address, or null when the node runs without it.</summary>
    public Uri? Address => Server?.Address;
}

public sealed class ManagementEndpointProvider : ExtensionIdProvider<ManagementEndpoint>
{
    public override ManagementEndpoint CreateExtension(ExtendedActorSystem system) => new();
}

/// <summary>
/// A configured management port that cannot be served: a startup failure whose message says what to change (it carries
/// no inner exception, so hosts that report the innermost cause report this one).
/// </summary>
public sealed class ManagementEndpointException(string message) : Exception(message);
