using System.Net;
using System.Text.Json;
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
using Varpulis.Contracts;

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
                await ErrorAsync(http, 503, "unavailable", "the management endpoint is starting");
                return;
            }
            CeenHttpContext ceen;
            try
            {
                ceen = await CeenHttpContext.CreateAsync(http, log);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
            {
                await ErrorAsync(http, ex.StatusCode, ex.StatusCode == 413 ? "payload_too_large" : "invalid_request", "the request body cannot be read: " + ex.Message);
                return;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                await ErrorAsync(http, 400, "invalid_request", "the form body cannot be read: " + ex.Message);
                return;
            }
            try
            {
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
                    await ErrorAsync(http, 404, "not_found", $"no route {http.Request.Method} {http.Request.Path}");
                    return;
                }
                await ceen.Response.CompleteAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !http.Response.HasStarted)
            {
                // A route of Akka.Management's own (ours never throw: ManagementRoute answers 500 itself).
                log.LogError(ex, "management request {Method} {Path} failed", http.Request.Method, http.Request.Path);
                await ErrorAsync(http, 500, "internal_error", "the management request failed: " + ex.Message);
            }
        }

        private static async Task ErrorAsync(HttpContext http, int status, string code, string message)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = ManagementRoute.JsonContentType;
            await http.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(message, code), ContractsJsonContext.Default.ErrorBody), http.RequestAborted);
        }
    }
}
