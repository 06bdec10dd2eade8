using System.Net;
using Akka.Actor;
using Akka.Http.Dsl;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Varpulis.Api.Management;

/// <summary>
/// The management endpoint's HTTP server: a Kestrel of its own on the management port (apart from the REST API's
/// pipeline), handing every request to Akka.Management's routes through Akka.Http's <see cref="AkkaRouter"/>, exactly as
/// Akka.Management's bundled server would. That bundled server (Akka.Http.Shim 1.5.73) is built against Ceen.Httpd
/// 0.9.9, whose only available successor 0.9.10 changed <c>HttpServer.ListenAsync</c>; it fails with a
/// <see cref="MissingMethodException"/>, hence Kestrel (docs/pbm.md).
/// </summary>
public sealed class ManagementHttpServer : IAsyncDisposable
{
    /// <summary>A management request body is a few form fields.</summary>
    private const long MaxRequestBodySize = 64 * 1024;

    private readonly KestrelServer _server;

    private ManagementHttpServer(KestrelServer server, Uri address)
    {
        _server = server;
        Address = address;
    }

    /// <summary>Where the server listens (the actual port when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>Binds <paramref name="ip"/>:<paramref name="port"/>; an address in use is an <see cref="IOException"/>.</summary>
    public static async Task<ManagementHttpServer> StartAsync(IPAddress ip, int port, ActorSystem system, Func<Uri, (string, HttpModuleBase)[]> routes, ILoggerFactory loggerFactory)
    {
        var options = new KestrelServerOptions
        {
            AddServerHeader = false,
            ApplicationServices = new ServiceCollection().AddSingleton(loggerFactory).BuildServiceProvider(),
        };
        options.Limits.MaxRequestBodySize = MaxRequestBodySize;
        options.Listen(ip, port);
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory);
        var server = new KestrelServer(Options.Create(options), transport, loggerFactory);
        var application = new Application(loggerFactory.CreateLogger<ManagementHttpServer>());
        await server.StartAsync(application, CancellationToken.None);
        var bound = new Uri(server.Features.Get<IServerAddressesFeature>()!.Addresses.First());
        // Routes are made once the port is known: Akka.Management's providers are told the endpoint's own URI.
        application.Router = new AkkaRouter(system, routes(bound));
        return new ManagementHttpServer(server, bound);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _server.StopAsync(cts.Token);
        _server.Dispose();
    }

    private sealed class Application(ILogger log) : IHttpApplication<HttpContext>
    {
        public volatile AkkaRouter? Router;

        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }

        public async Task ProcessRequestAsync(HttpContext http)
        {
            var router = Router;
            if (router is null)
            {
                http.Response.StatusCode = 503;
                http.Response.ContentType = ManagementRoute.JsonContentType;
                await http.Response.WriteAsync("""{"error":"the management endpoint is starting","code":"unavailable"}""");
                return;
            }
            var ceen = await CeenHttpContext.CreateAsync(http, log);
            var request = (CeenHttpRequest)ceen.Request;
            bool handled;
            while (true)
            {
                request.ClearHandlerStack();
                handled = await router.Process(ceen);
                if (ceen.Response.ClearInternalRedirect() is not { } path) break;
                request.Path = path;
            }
            if (!handled && !http.Response.HasStarted)
            {
                // Only without our provider's catch-all (a route table of someone else's): still the contract's JSON 404.
                await ManagementRoute.ErrorAsync(ceen, 404, "not_found", $"no route {http.Request.Method} {http.Request.Path}");
            }
            await ceen.Response.CompleteAsync();
        }
    }
}
