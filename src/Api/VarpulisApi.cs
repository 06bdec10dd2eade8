using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Health;
using Varpulis.Api.Endpoints;
using Varpulis.Api.Errors;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Security;

namespace Varpulis.Api;

/// <summary>Registration and mapping of the single-node HTTP API.</summary>
public static class VarpulisApi
{
    public static IServiceCollection AddVarpulisApi(this IServiceCollection services, VarpulisSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(new TenantRegistry(settings.Server.ApiKey, keyRequired: settings.Coordinator.RoleKeys.Count > 0));
        services.AddSingleton(new ApiKeyRoles(settings.Coordinator.RoleKeys));
        services.AddSingleton<TokenBuckets>();
        services.AddSingleton<PipelineGateway>();
        services.AddSingleton<Cluster.ClusterGateway>();
        services.AddSingleton<Cluster.GroupGateway>();
        services.AddSingleton<NodeReadiness>();
        services.AddHostedService<TenantRegistryLoader>();
        return services;
    }

    /// <summary>The middleware and routes: error contract, rate limit and authentication on <c>/api/v1</c>, endpoints, JSON 404s.</summary>
    public static WebApplication UseVarpulisApi(this WebApplication app, DateTimeOffset startedAt)
    {
        app.UseMiddleware<ErrorContractMiddleware>();
        app.UseStatusCodePages(ctx => ctx.HttpContext.Response.ContentLength is null or 0 && !ctx.HttpContext.Response.HasStarted
            ? ErrorContractMiddleware.StatusCodeBodyAsync(ctx.HttpContext)
            : Task.CompletedTask);
        app.UseMiddleware<ApiAccessMiddleware>();
        app.UseMiddleware<LeaderGateMiddleware>();
        app.MapHealth(startedAt);
        var role = app.Services.GetRequiredService<Varpulis.Actors.Node.NodeRole>();
        app.MapNodeUi(app.Services.GetRequiredService<VarpulisSettings>(), role);
        var api = app.MapGroup("/api/v1");
        api.MapPipelines();
        api.MapConnectors();
        api.MapTenants();
        api.MapValidate();
        if (role.IsCoordinator)
        {
            api.MapCluster();
            api.MapHa();
        }
        app.MapFallback((HttpContext ctx) => throw new ApiException(404, "not_found", $"no route {ctx.Request.Method} {ctx.Request.Path}"));
        return app;
    }
}

/// <summary>
/// Keeps the <see cref="TenantRegistry"/> in step with the cluster's tenant replica: follows its changes, and reads it
/// once at startup (before the server takes requests).
/// </summary>
internal sealed class TenantRegistryLoader(ActorSystem system, TenantRegistry registry) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        TenantReplica.Follow(system, registry.Replace);
        if (await TenantReplica.ReadAsync(system, majority: false, cancellationToken) is { } tenants) registry.Replace(tenants);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
