using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Connectors;
using Varpulis.Api.Errors;
using Varpulis.Api.Http;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Security;
using Varpulis.Contracts.Connectors;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// A pipeline's connectors and dead-letter queue (rest-api.md, docs/connectors.md): connector health, the DLQ page,
/// clearing it and replaying it to its sinks. Every request goes through the shard region to the node that runs the
/// pipeline, so any node answers.
/// </summary>
public static class ConnectorsEndpoints
{
    public static void MapConnectors(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/pipelines");
        g.MapGet("/{id}/connectors", Health);
        g.MapGet("/{id}/dlq", List);
        g.MapDelete("/{id}/dlq", Clear);
        g.MapPost("/{id}/dlq/replay", Replay);
    }

    private static async Task Health(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var list = await gw.AskPipelineAsync<ConnectorStatusList>(new GetConnectorStatus(id) { TenantId = caller.TenantId }, ctx.RequestAborted);
        IReadOnlyList<ConnectorHealthInfo> items = list.Connectors
            .Select(c => new ConnectorHealthInfo(c.Name, c.Kind, c.Direction, c.State, c.Circuit, c.Delivered, c.Failed, c.Dlq, c.LastError, c.Rejected))
            .ToList();
        await Write(ctx, items, ConnectorsJsonContext.Default.IReadOnlyListConnectorHealthInfo);
    }

    private static async Task List(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var paging = Paging.From(ctx.Request);
        var page = await gw.AskPipelineAsync<DeadLetterPage>(new GetDeadLetters(id, paging.Offset, paging.Limit) { TenantId = caller.TenantId }, ctx.RequestAborted);
        var events = page.Letters.Select(l =>
        {
            using var doc = JsonDocument.Parse(l.EventJson);
            return new DeadLetterInfo(l.Id, l.Timestamp, l.Connector, l.Topic, l.Key, l.Error, doc.RootElement.Clone());
        }).ToList();
        var pagination = new PaginationInfo(page.Total, paging.Limit, paging.Offset, paging.Offset + events.Count < page.Total);
        await Write(ctx, new DeadLetterList(id, events, page.Total, pagination), ConnectorsJsonContext.Default.DeadLetterList);
    }

    private static async Task Clear(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var cleared = await gw.AskPipelineAsync<DeadLettersCleared>(new ClearDeadLetters(id) { TenantId = caller.TenantId }, CancellationToken.None);
        await Write(ctx, new DeadLettersClearResult(id, true, cleared.Removed), ConnectorsJsonContext.Default.DeadLettersClearResult);
    }

    /// <summary><c>?connector=NAME</c> replays one sink's letters only; <c>?limit=N</c> the N oldest.</summary>
    private static async Task Replay(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        string? connector = ctx.Request.Query.TryGetValue("connector", out var c) ? c.ToString() : null;
        if (connector is { Length: 0 }) throw ApiException.BadRequest("connector must not be empty");
        int limit = int.MaxValue;
        if (ctx.Request.Query.TryGetValue("limit", out var l)
            && (!int.TryParse(l.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
        {
            throw ApiException.BadRequest("limit must be a positive integer");
        }
        var r = await gw.AskPipelineAsync<DeadLettersReplayed>(new ReplayDeadLetters(id, connector, limit) { TenantId = caller.TenantId }, CancellationToken.None);
        await Write(ctx, new DeadLettersReplayResult(id, r.Delivered, r.Failed, r.Skipped, r.Remaining), ConnectorsJsonContext.Default.DeadLettersReplayResult);
    }

    private static Task Write<T>(HttpContext ctx, T value, JsonTypeInfo<T> type)
        => ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, value, type));
}
