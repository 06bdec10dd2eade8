using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Errors;
using Varpulis.Api.Http;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Security;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// <c>/api/v1/pipelines</c>: deploy, list, inspect, reload, delete, ingest, metrics, checkpoint/restore and runs
/// (rest-api.md, single-node server). The SSE log stream is in <see cref="PipelineLogsEndpoint"/>.
/// </summary>
public static class PipelinesEndpoints
{
    internal const int MaxNameLength = 256;

    public static void MapPipelines(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/pipelines");
        g.MapPost("", Deploy);
        g.MapGet("", List);
        g.MapGet("/{id}", Get);
        g.MapDelete("/{id}", Delete);
        g.MapPost("/{id}/reload", Reload);
        g.MapPost("/{id}/events", (HttpContext ctx, string id, PipelineGateway gw, TokenBuckets b, TimeProvider t) => Ingest(ctx, id, gw, b, t, batch: false));
        g.MapPost("/{id}/events-batch", (HttpContext ctx, string id, PipelineGateway gw, TokenBuckets b, TimeProvider t) => Ingest(ctx, id, gw, b, t, batch: true));
        g.MapGet("/{id}/metrics", Metrics);
        g.MapPost("/{id}/checkpoint", Checkpoint);
        g.MapPost("/{id}/restore", Restore);
        g.MapGet("/{id}/runs", Runs);
        g.MapGet("/{id}/logs", PipelineLogsEndpoint.Stream);
    }

    private static async Task Deploy(HttpContext ctx, PipelineGateway gw, TimeProvider time)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var body = await ApiJson.ReadBodyAsync(ctx, ApiJson.DefaultBodyLimit);
        string name, source;
        using (var doc = ApiJson.Parse(body))
        {
            var root = ApiJson.RequireObject(doc, "name", "source");
            name = ApiJson.RequireString(root, "name", MaxNameLength);
            source = ApiJson.RequireString(root, "source", PipelineCompiler.MaxSourceLength);
        }
        if (name.Trim().Length == 0) throw ApiException.BadRequest("field 'name' must not be empty");

        using var activity = ApiTelemetry.Source.StartActivity("pipeline.deploy");
        activity?.SetTag("varpulis.pipeline.name", name);
        activity?.SetTag("varpulis.tenant", caller.TenantId);
        var id = Guid.NewGuid().ToString();
        activity?.SetTag("varpulis.pipeline.id", id);
        // The directory indexes it within the quota and the worker's entity compiles it (once) and starts it.
        var entry = new PipelineEntry(id, caller.TenantId, name, source, time.GetUtcNow());
        var info = await gw.AskDirectoryAsync<PipelineInfo>(
            new DeployPipelineRequest(entry, caller.Quota.MaxPipelines, caller.Quota.MaxStreamsPerPipeline), CancellationToken.None);
        await ApiJson.WriteAsync(ctx, 201, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", info.Id);
            w.WriteString("name", info.Name);
            w.WriteString("status", info.Status);
            w.WriteEndObject();
        });
    }

    /// <summary>One ask: the directory's page, with where (<c>worker_id</c>, in a cluster) and since when each pipeline runs.</summary>
    private static async Task List(HttpContext ctx, PipelineGateway gw, TimeProvider time)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var paging = Paging.From(ctx.Request);
        var listing = await gw.AskDirectoryAsync<PipelineListing>(new QueryPipelines(caller.TenantId, paging.Offset, paging.Limit), ctx.RequestAborted);
        var now = time.GetUtcNow();
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("pipelines");
            w.WriteStartArray();
            foreach (var item in listing.Items)
            {
                w.WriteStartObject();
                w.WriteString("id", item.Entry.PipelineId);
                w.WriteString("name", item.Entry.Name);
                w.WriteString("status", item.Status);
                w.WriteString("source", item.Entry.Source);
                w.WriteNumber("uptime_secs", item.StartedAt is { } started ? Math.Max(0, (long)(now - started).TotalSeconds) : 0);
                if (item.WorkerId is not null) w.WriteString("worker_id", item.WorkerId);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            paging.Write(w, listing.Total, listing.Items.Count);
            w.WriteEndObject();
        });
    }

    private static async Task Get(HttpContext ctx, string id, PipelineGateway gw, TimeProvider time)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var info = await gw.AskPipelineAsync<PipelineInfo>(new GetPipelineInfo(id, caller.TenantId), ctx.RequestAborted);
        var now = time.GetUtcNow();
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", info.Id);
            w.WriteString("name", info.Name);
            w.WriteString("status", info.Status);
            w.WriteString("source", info.Source);
            w.WriteNumber("uptime_secs", Uptime(info, now));
            w.WriteString("created_at", Rfc3339(info.CreatedAt));
            if (info.WorkerId is not null) w.WriteString("worker_id", info.WorkerId);
            w.WritePropertyName("streams");
            w.WriteStartArray();
            foreach (var s in info.Streams) w.WriteStringValue(s);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task Delete(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        await gw.AskDirectoryAsync<PipelineDeleted>(new RemovePipelineRequest(id, caller.TenantId), CancellationToken.None);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("deleted", true);
            w.WriteEndObject();
        });
    }

    private static async Task Reload(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var body = await ApiJson.ReadBodyAsync(ctx, ApiJson.DefaultBodyLimit);
        string source;
        using (var doc = ApiJson.Parse(body))
        {
            var root = ApiJson.RequireObject(doc, "source");
            source = ApiJson.RequireString(root, "source", PipelineCompiler.MaxSourceLength);
        }
        var r = await gw.AskDirectoryAsync<PipelineReloaded>(
            new ReloadPipelineRequest(id, caller.TenantId, source, caller.Quota.MaxStreamsPerPipeline), CancellationToken.None);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("reloaded", true);
            WriteStrings(w, "kept_state", r.KeptState);
            WriteStrings(w, "reset_state", r.ResetState);
            w.WriteEndObject();
        });
    }

    private static async Task Ingest(HttpContext ctx, string id, PipelineGateway gw, TokenBuckets buckets, TimeProvider time, bool batch)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        double rate = caller.Quota.MaxEventsPerSecond;
        if (!buckets.TryTake("events:" + caller.TenantId, rate, rate, 0, out _))
        {
            throw new ApiException(429, "quota_exceeded",
                $"tenant '{caller.TenantId}' exceeded its quota of {caller.Quota.MaxEventsPerSecond} events per second");
        }
        var (key, body) = await ReadEventsAsync(ctx, batch);
        using var activity = ApiTelemetry.Source.StartActivity("pipeline.ingest");
        activity?.SetTag("varpulis.pipeline.id", id);
        activity?.SetTag("varpulis.batch", batch);
        // Past this the gateway has given up: the entity must not process a request nobody waits for any more.
        var result = await gw.AskIngestAsync(new IngestEvents(id, caller.TenantId, body, batch, key, gw.DeadlineUnixMs(time)), CancellationToken.None);
        activity?.SetTag("varpulis.events.accepted", result.Accepted);
        buckets.Charge("events:" + caller.TenantId, rate, rate, result.Accepted);
        if (batch) await WriteBatchReplyAsync(ctx, result.Accepted, result.Rejected, result.Errors, w => w.WriteRawValue(result.OutputEventsJson, skipInputValidation: true), result.ProcessingTimeUs);
        else await WriteEventReplyAsync(ctx, result.OutputEventsJson);
    }

    /// <summary>The reply of <c>events</c>: <c>{accepted: true, output_events}</c>, then what <paramref name="more"/> writes.</summary>
    internal static Task WriteEventReplyAsync(HttpContext ctx, byte[] outputEventsJson, Action<Utf8JsonWriter>? more = null)
        => ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("accepted", true);
            w.WritePropertyName("output_events");
            w.WriteRawValue(outputEventsJson, skipInputValidation: true);
            more?.Invoke(w);
            w.WriteEndObject();
        });

    /// <summary>The reply of <c>events-batch</c>: counts, errors by index, the output events (an array <paramref name="writeOutputs"/> writes) and the processing time.</summary>
    internal static Task WriteBatchReplyAsync(HttpContext ctx, int accepted, int rejected, IEnumerable<IngestError> errors, Action<Utf8JsonWriter> writeOutputs, long processingTimeUs)
        => ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("accepted", accepted);
            w.WriteNumber("rejected", rejected);
            w.WritePropertyName("errors");
            w.WriteStartArray();
            foreach (var e in errors)
            {
                w.WriteStartObject();
                w.WriteNumber("index", e.Index);
                w.WriteString("error", e.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("output_events");
            writeOutputs(w);
            w.WriteNumber("processing_time_us", processingTimeUs);
            w.WriteEndObject();
        });

    private static async Task Metrics(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var m = await gw.AskPipelineAsync<PipelineMetrics>(new GetPipelineMetrics(id, caller.TenantId), ctx.RequestAborted);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("pipeline_id", m.PipelineId);
            w.WriteNumber("events_processed", m.EventsProcessed);
            w.WriteNumber("output_events_emitted", m.OutputEventsEmitted);
            w.WriteNumber("events_per_second", m.EventsPerSecond);
            w.WriteNumber("latency_p50_us", m.LatencyP50Us);
            w.WriteNumber("latency_p99_us", m.LatencyP99Us);
            w.WriteNumber("active_runs", m.ActiveRuns);
            w.WriteNumber("late_events", m.LateEvents);
            w.WriteNumber("dlq_events", m.DlqEvents);
            w.WriteEndObject();
        });
    }

    private static async Task Checkpoint(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var c = await gw.AskPipelineAsync<CheckpointTaken>(new CheckpointPipeline(id, caller.TenantId), ctx.RequestAborted);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("pipeline_id", c.PipelineId);
            w.WritePropertyName("checkpoint");
            w.WriteRawValue(c.CheckpointJson, skipInputValidation: true);
            w.WriteNumber("events_processed", c.EventsProcessed);
            w.WriteString("created_at", Rfc3339(c.CreatedAt));
            w.WriteEndObject();
        });
    }

    private static async Task Restore(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var body = await ApiJson.ReadBodyAsync(ctx, ApiJson.LargeBodyLimit);
        string checkpoint;
        using (var doc = ApiJson.Parse(body))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("the request body must be a JSON object");
            // Either the checkpoint response document as is, {checkpoint: {...}}, or the bare checkpoint.
            if (root.TryGetProperty("checkpoint", out var inner))
            {
                if (inner.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("field 'checkpoint' must be an object");
                checkpoint = inner.GetRawText();
            }
            else if (root.TryGetProperty("streams", out _))
            {
                checkpoint = root.GetRawText();
            }
            else
            {
                throw ApiException.BadRequest("missing required field 'checkpoint'");
            }
        }
        var r = await gw.AskPipelineAsync<PipelineRestored>(new RestorePipeline(id, caller.TenantId, checkpoint), CancellationToken.None);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("pipeline_id", r.PipelineId);
            w.WriteBoolean("restored", true);
            w.WriteNumber("events_restored", r.EventsRestored);
            WriteStrings(w, "restored_streams", r.RestoredStreams);
            WriteStrings(w, "reset_streams", r.ResetStreams);
            w.WriteEndObject();
        });
    }

    private static async Task Runs(HttpContext ctx, string id, PipelineGateway gw)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        var stream = ctx.Request.Query["stream"].ToString();
        if (string.IsNullOrEmpty(stream)) throw ApiException.BadRequest("missing required query parameter 'stream'");
        var paging = Paging.From(ctx.Request);
        var runs = await gw.AskPipelineAsync<PipelineRuns>(new ListPipelineRuns(id, caller.TenantId, stream, paging.Limit, paging.Offset), ctx.RequestAborted);
        await ApiJson.WriteAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("pipeline_id", runs.PipelineId);
            w.WriteString("stream", runs.Stream);
            w.WritePropertyName("runs");
            w.WriteRawValue(Encoding.UTF8.GetBytes(runs.RunsJson), skipInputValidation: true);
            w.WriteNumber("count", runs.Count);
            paging.Write(w, runs.Total, runs.Count);
            w.WriteEndObject();
        });
    }

    /// <summary>An events request (<c>events</c>, <c>inject</c>; <c>events-batch</c>, <c>inject-batch</c> when <paramref name="batch"/>): its <c>Idempotency-Key</c> and its body within the size limit.</summary>
    internal static async Task<(string? Key, byte[] Body)> ReadEventsAsync(HttpContext ctx, bool batch)
    {
        var key = IdempotencyKey(ctx);
        return (key, await ApiJson.ReadBodyAsync(ctx, batch ? ApiJson.LargeBodyLimit : ApiJson.DefaultBodyLimit));
    }

    /// <summary>The <c>Idempotency-Key</c> header: 1 to 255 visible ASCII characters, or none.</summary>
    internal static string? IdempotencyKey(HttpContext ctx)
    {
        if (!ctx.Request.Headers.TryGetValue("Idempotency-Key", out var values)) return null;
        var key = values.ToString();
        if (key.Length is 0 or > 255 || key.Any(c => c is < '!' or > '~'))
            throw ApiException.BadRequest("the Idempotency-Key header must be 1 to 255 visible ASCII characters");
        return key;
    }

    internal static long Uptime(PipelineInfo info, DateTimeOffset now) => Math.Max(0, (long)(now - info.StartedAt).TotalSeconds);

    internal static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> items)
    {
        w.WritePropertyName(name);
        w.WriteStartArray();
        foreach (var s in items) w.WriteStringValue(s);
        w.WriteEndArray();
    }
}

/// <summary>The spans of the API (exported when OpenTelemetry is configured).</summary>
public static class ApiTelemetry
{
    public const string SourceName = "Varpulis";

    public static readonly ActivitySource Source = new(SourceName);
}
