using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Event;
using Akka.Http.Dsl;
using Ceen;
using Varpulis.Contracts;

namespace Varpulis.Api.Management;

/// <summary>
/// A route of the management endpoint (Akka.Management's HTTP server, Ceen.Httpd underneath): JSON out, errors as the
/// contract's <see cref="ErrorBody"/>, and no exception ever reaching the server (which would answer a bare 500).
/// </summary>
public abstract class ManagementRoute : HttpModuleBase
{
    public const string JsonContentType = "application/json; charset=utf-8";

    public sealed override async Task<bool> HandleAsync(IAkkaHttpContext context)
    {
        try
        {
            return await HandleAsync(context.ActorSystem, context.HttpContext);
        }
        catch (Exception ex)
        {
            Logging.GetLogger(context.ActorSystem, GetType()).Error(ex, "management route {0} {1} failed", context.HttpContext.Request.Method, context.HttpContext.Request.Path);
            return await ErrorAsync(context.HttpContext, 500, "internal_error", "the management request failed: " + ex.Message);
        }
    }

    /// <summary>Answers the request (true) or leaves it to the next route (false).</summary>
    protected abstract Task<bool> HandleAsync(ActorSystem system, IHttpContext http);

    public static async Task<bool> WriteAsync<T>(IHttpContext http, int status, T value, JsonTypeInfo<T> type)
    {
        http.Response.StatusCode = (HttpStatusCode)status;
        await http.Response.WriteAllAsync(JsonSerializer.SerializeToUtf8Bytes(value, type), JsonContentType);
        return true;
    }

    public static Task<bool> ErrorAsync(IHttpContext http, int status, string code, string message)
        => WriteAsync(http, status, new ErrorBody(message, code), ContractsJsonContext.Default.ErrorBody);

    /// <summary>405 for a method the path does not serve.</summary>
    protected static Task<bool> MethodNotAllowedAsync(IHttpContext http)
        => ErrorAsync(http, 405, "method_not_allowed", $"{http.Request.Method} is not allowed on {http.Request.Path}");

    /// <summary>
    /// A form field of the request: <c>application/x-www-form-urlencoded</c> and <c>multipart/form-data</c> bodies (what
    /// <c>curl -d</c> and <c>curl -F</c> send, as for the JVM's routes) are parsed by the server; the query string also counts.
    /// </summary>
    protected static string? Field(IHttpContext http, string name)
    {
        var v = http.Request.Form[name];
        if (string.IsNullOrEmpty(v)) v = http.Request.QueryString[name];
        return string.IsNullOrEmpty(v) ? null : v;
    }
}

/// <summary>First route of all: answers 401 for a caller <see cref="ManagementAccess"/> refuses; seed-node discovery stays open.</summary>
internal sealed class ManagementAccessGate(ManagementAccess access) : ManagementRoute
{
    /// <summary>Akka.Management's cluster-bootstrap contact-point route: nodes that are not members yet must reach it without a key.</summary>
    public const string SeedNodesPath = "/bootstrap/seed-nodes";

    protected override async Task<bool> HandleAsync(ActorSystem system, IHttpContext http)
    {
        if (http.Request.Path == SeedNodesPath) return false;
        var refusal = access.Refusal(http.Request.Headers["x-api-key"], http.Request.RemoteEndPoint);
        if (refusal is null) return false;
        return await ErrorAsync(http, 401, "invalid_api_key", refusal);
    }
}

/// <summary>Last route of all: the contract's JSON 404 instead of the server's empty one.</summary>
internal sealed class ManagementNotFound : ManagementRoute
{
    protected override Task<bool> HandleAsync(ActorSystem system, IHttpContext http)
        => ErrorAsync(http, 404, "not_found", $"no route {http.Request.Method} {http.Request.Path}");
}
