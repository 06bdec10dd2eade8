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
        services.AddSingleton(new TenantRegistry(settings.Server.ApiKey));
        services.AddSingleton<TokenBuckets>();
        services.AddSingleton<PipelineGateway>();
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
        app.MapHealth(startedAt);
        app.MapServerUi(app.Services.GetRequiredService<VarpulisSettings>());
        var api = app.MapGroup("/api/v1");
        api.MapPipelines();
        api.MapTenants();
        api.MapValidate();
        app.MapFallback((HttpContext ctx) => throw new ApiException(404, "not_found", $"no route {ctx.Request.Method} {ctx.Request.Path}"));
        return app;
    }
}

/// <summary>Loads the persisted tenants into the <see cref="TenantRegistry"/> before the server takes requests.</summary>
internal sealed class TenantRegistryLoader(PipelineGateway gateway, TenantRegistry registry) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var list = await gateway.AskDirectoryAsync<TenantList>(GetTenants.Instance, cancellationToken);
        registry.Load(list.Tenants);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
