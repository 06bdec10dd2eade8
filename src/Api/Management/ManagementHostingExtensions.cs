using System.Net;
using Akka;
using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Hosting;
using Akka.Management;
using Akka.Management.Dsl;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Varpulis.Actors.Configuration;

namespace Varpulis.Api.Management;

public static class ManagementHostingExtensions
{
    /// <summary>
    /// Akka.Management on the node: its settings and route providers (only <see cref="VarpulisManagementRoutes"/>, which
    /// serves Akka.Management's own routes behind the access gate), served over HTTP on the node's bind address and
    /// <c>management.port</c> once the actor system is up, until it shuts down. See <see cref="ManagementSettings.Port"/>
    /// for a port that is taken.
    /// </summary>
    public static AkkaConfigurationBuilder WithVarpulisManagement(this AkkaConfigurationBuilder builder, VarpulisSettings settings)
    {
        var bind = settings.Server.Bind.Trim('[', ']');
        var ip = bind.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(bind);
        bool configured = settings.Management.Port is not null;
        int port = settings.Management.EffectivePort;
        // Links to this endpoint (Akka.Management's self URI) name a reachable host, not the wildcard address.
        var advertised = ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) ? settings.Cluster.Hostname : bind;

        builder.AddSetup(new ManagementAccess(settings.Server.ApiKey));
        builder.WithAkkaManagement(new AkkaManagementOptions
        {
            HostName = advertised,
            Port = port,
            BindHostName = bind,
            BindPort = port,
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
        builder.AddStartup(async (system, _) =>
        {
            var loggerFactory = DependencyResolver.For(system).Resolver.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            var log = loggerFactory.CreateLogger(typeof(ManagementHostingExtensions).Namespace!);
            ManagementHttpServer server;
            try
            {
                server = await ManagementHttpServer.StartAsync(ip, port, system, bound => AkkaManagement.Get(system).Routes(s =>
                    ManagementRouteProviderSettings.Create(new Uri($"http://{Host(advertised)}:{bound.Port}/"), s.ReadOnly)), loggerFactory);
            }
            catch (IOException ex)
            {
                if (configured)
                {
                    throw new ManagementEndpointException(
                        $"cannot serve Akka.Management HTTP on {bind}:{port}: {ex.Message} Choose another port with --management-port (0 picks a free one).");
                }
                log.LogWarning("Akka.Management HTTP not started: the default port {Bind}:{Port} is not available ({Reason}). Set --management-port to serve it (pbm, /cluster routes).",
                    bind, port, ex.Message);
                return;
            }
            ManagementEndpoint.Get(system).Server = server;
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "varpulis-management-http", async () =>
            {
                await server.DisposeAsync();
                return Done.Instance;
            });
            log.LogInformation("Akka.Management HTTP on {Address} ({Access})", server.Address,
                string.IsNullOrEmpty(settings.Server.ApiKey) ? "no API key: loopback callers only" : "API key required");
        });
        return builder;
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
