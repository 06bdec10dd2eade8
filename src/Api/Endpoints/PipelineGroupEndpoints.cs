using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Cluster;
using Varpulis.Api.Errors;
using Varpulis.Api.Http;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Security;
using Varpulis.Contracts.Cluster;
using Varpulis.Vpl.Json;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// <c>/api/v1/cluster/pipeline-groups</c> (rest-api.md, Coordinator): deploy a group (validated whole first: one bad
/// source is a 400 <c>parse_error</c> naming its pipeline, and nothing is deployed), list it (an array, as the runbook's
/// jq filters need, paged with <c>?limit</c>/<c>?offset</c> and the total in <c>X-Total-Count</c>), show it with where
/// each pipeline runs now, tear it down, and inject events by its <c>_external</c> routes.
/// </summary>
public static class PipelineGroupEndpoints
{
    private const int MaxNameLength = PipelinesEndpoints.MaxNameLength;

    public static void MapPipelineGroups(this RouteGroupBuilder cluster)
    {
        var g = cluster.MapGroup("/pipeline-groups");
        g.MapPost("", Create);
        g.MapGet("", List);
        g.MapGet("/{id}", Get);
        g.MapDelete("/{id}", Delete);
        g.MapPost("/{id}/inject", (HttpContext ctx, string id, GroupGateway groups, PipelineGateway gw, TimeProvider t) => Inject(ctx, id, groups, gw, t, batch: false));
        g.MapPost("/{id}/inject-batch", (HttpContext ctx, string id, GroupGateway groups, PipelineGateway gw, TimeProvider t) => Inject(ctx, id, groups, gw, t, batch: true));
    }

    private static async Task Create(HttpContext ctx, GroupGateway groups, ClusterGateway cluster)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var body = await ApiJson.ReadBodyAsync(ctx, ApiJson.LargeBodyLimit);
        string name;
        List<GroupPipelineSpec> pipelines;
        List<GroupRouteSpec> routes;
        using (var doc = ApiJson.Parse(body))
        {
            var root = ApiJson.RequireObject(doc, "name", "pipelines", "routes");
            name = ApiJson.RequireString(root, "name", MaxNameLength);
            pipelines = ReadPipelines(root);
            routes = ReadRoutes(root);
        }
        if (PipelineGroupPlan.Validate(name, pipelines, routes) is { } invalid)
        {
            throw invalid.Code == "parse_error"
                ? PipelineGateway.ParseError(invalid.Message, invalid.Diagnostics ?? [])
                : ApiException.BadRequest(invalid.Message);
        }
        var deployed = await groups.AskAsync<PipelineGroupDeployed>(
            new CreatePipelineGroup(name, caller.TenantId, pipelines, routes, caller.Quota.MaxPipelines, caller.Quota.MaxStreamsPerPipeline),
            CancellationToken.None, CreatePipelineGroup.Timeout);
        var info = await DescribeAsync([deployed.Group], cluster, ctx.RequestAborted);
        await ApiJson.WriteAsync(ctx, 201, w => JsonSerializer.Serialize(w, info[0], PipelineGroupJsonContext.Default.GroupInfo));
    }

    private static async Task List(HttpContext ctx, GroupGateway groups, ClusterGateway cluster)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var paging = Paging.From(ctx.Request);
        var all = await groups.AskAsync<PipelineGroupList>(new GetPipelineGroups(caller.TenantId), ctx.RequestAborted);
        var page = all.Groups.Skip(paging.Offset).Take(paging.Limit).ToList();
        var info = await DescribeAsync(page, cluster, ctx.RequestAborted);
        ctx.Response.Headers["X-Total-Count"] = all.Groups.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (paging.Offset + page.Count < all.Groups.Count)
            ctx.Response.Headers["Link"] = $"<{ctx.Request.Path}?limit={paging.Limit}&offset={paging.Offset + page.Count}>; rel=\"next\"";
        await ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, info, PipelineGroupJsonContext.Default.IReadOnlyListGroupInfo));
    }

    private static async Task Get(HttpContext ctx, string id, GroupGateway groups, ClusterGateway cluster)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var found = await groups.AskAsync<PipelineGroupFound>(new GetPipelineGroup(id, caller.TenantId), ctx.RequestAborted);
        var info = await DescribeAsync([found.Group], cluster, ctx.RequestAborted);
        await ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, info[0], PipelineGroupJsonContext.Default.GroupInfo));
    }

    private static async Task Delete(HttpContext ctx, string id, GroupGateway groups)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var deleted = await groups.AskAsync<PipelineGroupDeleted>(new DeletePipelineGroup(id, caller.TenantId), CancellationToken.None, CreatePipelineGroup.Timeout);
        var reply = new GroupTornDown(true, deleted.GroupId, deleted.PipelinesDeleted);
        await ApiJson.WriteAsync(ctx, 200, w => JsonSerializer.Serialize(w, reply, PipelineGroupJsonContext.Default.GroupTornDown));
    }

    /// <summary>
    /// Injects events by the group's <c>_external</c> routes. One event: the reply of <c>POST .../events</c> (with the
    /// pipeline that took it). A batch: split by target pipeline (order kept within each), each part sent as one
    /// <c>events-batch</c> (journaled before it is answered), the replies merged as <c>events-batch</c>'s with the
    /// original indexes; an event no route takes is rejected with an error at its index. An <c>Idempotency-Key</c> is
    /// passed on per target pipeline (<c>KEY/pipeline-id</c>), so a repeated inject processes nothing again.
    /// </summary>
    private static async Task Inject(HttpContext ctx, string id, GroupGateway groups, PipelineGateway gw, TimeProvider time, bool batch)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var (key, body) = await PipelinesEndpoints.ReadEventsAsync(ctx, batch);
        var group = await groups.ForEventsAsync(id, caller.TenantId, ctx.RequestAborted);
        if (group.Phase != GroupPhase.Deployed) throw new ApiException(409, "conflict", $"pipeline group '{id}' is {group.Phase}");
        long deadline = gw.DeadlineUnixMs(time);
        if (!batch)
        {
            GroupDeployment target;
            using (var doc = ApiJson.Parse(body))
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("the request body must be a JSON object");
                target = Route(group, root, out var error) ?? throw ApiException.BadRequest(error!);
            }
            var r = await gw.AskIngestAsync(new IngestEvents(target.PipelineId, caller.TenantId, body, false, Derived(key, target), deadline), CancellationToken.None);
            await PipelinesEndpoints.WriteEventReplyAsync(ctx, r.OutputEventsJson, w =>
            {
                w.WriteString("pipeline_name", target.PipelineName);
                w.WriteString("pipeline_id", target.PipelineId);
            });
            return;
        }

        var parts = new Dictionary<string, (GroupDeployment Target, List<int> Indexes, ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)>(StringComparer.Ordinal);
        var order = new List<string>();
        var unrouted = new List<IngestError>();
        using (var doc = ApiJson.Parse(body))
        {
            var root = ApiJson.RequireObject(doc, "events");
            if (!root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
                throw ApiException.BadRequest("missing required field 'events' (an array of events)");
            int index = 0;
            foreach (var e in events.EnumerateArray())
            {
                string? error = "an event must be a JSON object";
                var target = e.ValueKind == JsonValueKind.Object ? Route(group, e, out error) : null;
                if (target is null)
                {
                    unrouted.Add(new IngestError(index++, error!));
                    continue;
                }
                if (!parts.TryGetValue(target.PipelineId, out var part))
                {
                    var buffer = new ArrayBufferWriter<byte>(4096);
                    var writer = new Utf8JsonWriter(buffer);
                    writer.WriteStartObject();
                    writer.WritePropertyName("events");
                    writer.WriteStartArray();
                    parts[target.PipelineId] = part = (target, new List<int>(), buffer, writer);
                    order.Add(target.PipelineId);
                }
                e.WriteTo(part.Writer);
                part.Indexes.Add(index++);
            }
        }
        var sends = order.Select(pid =>
        {
            var part = parts[pid];
            part.Writer.WriteEndArray();
            part.Writer.WriteEndObject();
            part.Writer.Flush();
            part.Writer.Dispose();
            var sub = part.Buffer.WrittenSpan.ToArray();
            return gw.AskIngestAsync(new IngestEvents(pid, caller.TenantId, sub, true, Derived(key, part.Target), deadline), CancellationToken.None);
        }).ToList();
        var results = await Task.WhenAll(sends);
        var errors = new List<IngestError>(unrouted);
        int accepted = 0, rejected = unrouted.Count;
        long processing = 0;
        for (int i = 0; i < results.Length; i++)
        {
            var r = results[i];
            var indexes = parts[order[i]].Indexes;
            accepted += r.Accepted;
            rejected += r.Rejected;
            processing = Math.Max(processing, r.ProcessingTimeUs);
            foreach (var e in r.Errors) errors.Add(new IngestError(e.Index >= 0 && e.Index < indexes.Count ? indexes[e.Index] : e.Index, e.Error));
        }
        errors.Sort((a, b) => a.Index.CompareTo(b.Index));
        await PipelinesEndpoints.WriteBatchReplyAsync(ctx, accepted, rejected, errors, w =>
        {
            w.WriteStartArray();
            foreach (var r in results)
            {
                using var outputs = JsonDocument.Parse(r.OutputEventsJson);
                foreach (var o in outputs.RootElement.EnumerateArray()) o.WriteTo(w);
            }
            w.WriteEndArray();
        }, processing);
    }

    /// <summary>The deployment an injected event goes to, or null with the reason.</summary>
    private static GroupDeployment? Route(PipelineGroup group, JsonElement e, out string? error)
    {
        error = null;
        if (!e.TryGetProperty("event_type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            error = "missing required field 'event_type'";
            return null;
        }
        var fields = e.TryGetProperty("fields", out var f) ? f : default;
        var target = PipelineGroupPlan.Dispatch(group, type.GetString()!, fields);
        if (target is null) error = $"no '{PipelineGroup.External}' route of group '{group.Name}' takes event type '{type.GetString()}'";
        return target;
    }

    private static string? Derived(string? key, GroupDeployment target) => key is null ? null : key + "/" + target.PipelineId;

    /// <summary>GroupInfo for each group, with where each deployed pipeline runs now (one ask to the cluster manager).</summary>
    private static async Task<IReadOnlyList<GroupInfo>> DescribeAsync(IReadOnlyList<PipelineGroup> groups, ClusterGateway cluster, CancellationToken ct)
    {
        var ids = groups.SelectMany(g => g.Deployments.Select(d => d.PipelineId)).ToList();
        var placed = ids.Count == 0
            ? new Dictionary<string, PipelinePlacementInfo>()
            : (await cluster.AskAsync<PlacementList>(new GetPlacements(ids), ct)).Pipelines.ToDictionary(p => p.PipelineId, StringComparer.Ordinal);
        return groups.Select(g => PipelineGroupPlan.Describe(g, placed)).ToList();
    }

    private static List<GroupPipelineSpec> ReadPipelines(JsonElement root)
    {
        if (!root.TryGetProperty("pipelines", out var list) || list.ValueKind == JsonValueKind.Null) throw ApiException.BadRequest("missing required field 'pipelines'");
        if (list.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest("field 'pipelines' must be an array");
        var result = new List<GroupPipelineSpec>();
        int i = 0;
        foreach (var p in list.EnumerateArray())
        {
            string at = $"pipelines[{i++}]";
            if (p.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"{at} must be an object");
            foreach (var prop in p.EnumerateObject())
            {
                if (prop.Name is not ("name" or "source" or "worker_affinity" or "replicas" or "partition_key"))
                    throw ApiException.BadRequest($"{at}: unknown field '{prop.Name}'; expected 'name', 'source', 'worker_affinity', 'replicas', 'partition_key'");
            }
            string name = Field(() => ApiJson.RequireString(p, "name", MaxNameLength), at);
            string source = Field(() => ApiJson.RequireString(p, "source", PipelineCompiler.MaxSourceLength), at);
            string? affinity = Field(() => ApiJson.OptionalString(p, "worker_affinity", MaxNameLength), at);
            string? key = Field(() => ApiJson.OptionalString(p, "partition_key", MaxNameLength), at);
            int replicas = 1;
            if (p.TryGetProperty("replicas", out var r) && r.ValueKind != JsonValueKind.Null)
            {
                if (r.ValueKind != JsonValueKind.Number || !r.TryGetInt32(out replicas))
                    throw ApiException.BadRequest($"{at}: field 'replicas' must be an integer");
            }
            result.Add(new GroupPipelineSpec(name, source, affinity, replicas, key));
        }
        return result;
    }

    private static List<GroupRouteSpec> ReadRoutes(JsonElement root)
    {
        var result = new List<GroupRouteSpec>();
        if (!root.TryGetProperty("routes", out var list) || list.ValueKind == JsonValueKind.Null) return result;
        if (list.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest("field 'routes' must be an array");
        int i = 0;
        foreach (var r in list.EnumerateArray())
        {
            string at = $"routes[{i++}]";
            if (r.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"{at} must be an object");
            foreach (var prop in r.EnumerateObject())
            {
                if (prop.Name is not ("from_pipeline" or "to_pipeline" or "event_types"))
                    throw ApiException.BadRequest($"{at}: unknown field '{prop.Name}'; expected 'from_pipeline', 'to_pipeline', 'event_types'");
            }
            string from = Field(() => ApiJson.RequireString(r, "from_pipeline", MaxNameLength), at);
            string to = Field(() => ApiJson.RequireString(r, "to_pipeline", MaxNameLength), at);
            if (!r.TryGetProperty("event_types", out var types) || types.ValueKind == JsonValueKind.Null) throw ApiException.BadRequest($"{at}: missing required field 'event_types'");
            if (types.ValueKind != JsonValueKind.Array || types.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
                throw ApiException.BadRequest($"{at}: field 'event_types' must be an array of strings");
            result.Add(new GroupRouteSpec(from, to, types.EnumerateArray().Select(t => t.GetString()!).ToList()));
        }
        return result;
    }

    /// <summary>A field check of an item of a list, its message prefixed with where the item is.</summary>
    private static T Field<T>(Func<T> read, string at)
    {
        try
        {
            return read();
        }
        catch (ApiException ex) when (ex.Status == 400)
        {
            throw ApiException.BadRequest($"{at}: {ex.Message}");
        }
    }
}
