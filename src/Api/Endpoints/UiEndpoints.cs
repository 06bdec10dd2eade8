using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Node;
using Varpulis.Api.Errors;
using Varpulis.Api.Http;
using Varpulis.Api.Ui;
using Varpulis.Contracts.Ui;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// The web UI at <c>/ui/</c>: its embedded files (open, like <c>/health</c>: the page holds no data until it calls the
/// API with the user's key) and <c>/ui/config.json</c>, which tells the page what this node is and offers.
/// <c>/</c> and <c>/ui</c> redirect to <c>/ui/</c>.
/// </summary>
public static class UiEndpoints
{
    /// <summary>
    /// What the page may load: its own files and API only (no CDN, no inline script or style), never framed.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly string[] GetOrHead = ["GET", "HEAD"];

    /// <summary>
    /// Maps the UI for this node: <c>varpulis coordinator</c> (the page shows its Cluster page) or <c>varpulis server</c>
    /// (authentication as configured by <c>--api-key</c>).
    /// </summary>
    public static void MapNodeUi(this IEndpointRouteBuilder app, VarpulisSettings settings, NodeRole role)
        => app.MapVarpulisUi(role.IsCoordinator ? "coordinator" : "server", !string.IsNullOrEmpty(settings.Server.ApiKey));

    /// <summary>Maps the UI; <paramref name="node"/> is <c>server</c> or <c>coordinator</c>.</summary>
    public static void MapVarpulisUi(this IEndpointRouteBuilder app, string node, bool authRequired)
    {
        app.MapMethods("/", GetOrHead, (HttpContext ctx) => Results.Redirect("/ui/"));
        app.MapMethods("/ui/config.json", GetOrHead, (HttpContext ctx, EndpointDataSource endpoints) =>
        {
            var config = new UiConfig(node, authRequired, VarpulisVersion.Current, FeaturesOf(endpoints));
            ctx.Response.Headers.CacheControl = "no-store";
            return ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, config, UiJsonContext.Default.UiConfig));
        });
        app.MapMethods("/ui/{**path}", GetOrHead, (HttpContext ctx, string? path) => ServeAsync(ctx, UiAssets.Embedded, path));
    }

    private static async Task ServeAsync(HttpContext ctx, UiAssets assets, string? path)
    {
        if (string.IsNullOrEmpty(path) && !ctx.Request.Path.Value!.EndsWith('/'))
        {
            // The page's relative links need the trailing slash.
            ctx.Response.Redirect("/ui/");
            return;
        }
        var name = string.IsNullOrEmpty(path) ? "index.html" : path;
        if (!assets.TryGet(name, out var asset)) throw new ApiException(404, "not_found", $"no UI file '{name}'");
        var headers = ctx.Response.Headers;
        headers.ETag = asset.ETag;
        // Revalidate on every load so an upgraded node serves its new UI at once; unchanged files answer 304.
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        if (ctx.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            ctx.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = asset.ContentType;
        ctx.Response.ContentLength = asset.Content.Length;
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await ctx.Response.Body.WriteAsync(asset.Content, ctx.RequestAborted);
    }

    /// <summary>
    /// The optional coordinator routes the Cluster page uses, by feature name: a coordinator without one of them shows
    /// "not available on this coordinator" in that section instead of calling it.
    /// </summary>
    private static readonly (string Feature, string Route)[] ClusterFeatures =
    [
        ("groups", "/api/v1/cluster/pipeline-groups"),
        ("cluster_metrics", "/api/v1/cluster/metrics"),
        ("scaling", "/api/v1/cluster/scaling"),
        ("raft", "/api/v1/cluster/raft/status"),
    ];

    /// <summary>The optional route groups this node serves, found among its endpoints.</summary>
    private static List<string> FeaturesOf(EndpointDataSource endpoints)
    {
        bool connectors = false, dlq = false, cluster = false;
        var routes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in endpoints.Endpoints)
        {
            if (e is not RouteEndpoint r || r.RoutePattern.RawText is not { } raw) continue;
            if (raw.StartsWith("/api/v1/pipelines/", StringComparison.Ordinal))
            {
                connectors |= raw.EndsWith("/connectors", StringComparison.Ordinal);
                dlq |= raw.EndsWith("/dlq", StringComparison.Ordinal);
            }
            cluster |= raw.StartsWith("/api/v1/cluster/workers", StringComparison.Ordinal);
            routes.Add(raw.TrimEnd('/'));
        }
        var features = new List<string>();
        if (connectors) features.Add("connectors");
        if (dlq) features.Add("dlq");
        if (cluster) features.Add("cluster");
        features.AddRange(ClusterFeatures.Where(c => routes.Contains(c.Route)).Select(c => c.Feature));
        return features;
    }
}
