using System.Text;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.AspNetCore.Http;
using Varpulis.Actors.Configuration;
using Varpulis.Actors.Outputs;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Pipelines;
using Varpulis.Api.Security;

namespace Varpulis.Api.Endpoints;

/// <summary>
/// <c>GET /api/v1/pipelines/{id}/logs</c>: the pipeline's output events as Server-Sent Events. Each subscriber reads
/// its own drop-oldest backlog of the pipeline's BroadcastHub; a subscriber that falls behind gets
/// <c>event: warning</c> with the number of events it skipped, never a stalled pipeline. The pipeline may run on
/// another node: this node's hub follows it there, and after it moves; the stream ends when it is deleted.
/// </summary>
public static class PipelineLogsEndpoint
{
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    public static async Task Stream(HttpContext ctx, string id, PipelineGateway gw, OutputHubs hubs, ActorSystem system, VarpulisSettings settings)
    {
        var caller = ApiAccessMiddleware.CallerOf(ctx);
        await gw.AskPipelineAsync<PipelineInfo>(new GetPipelineInfo(id, caller.TenantId), ctx.RequestAborted);

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);

        var body = ctx.Response.Body;
        var ct = ctx.RequestAborted;
        var source = hubs.Get(id, caller.TenantId).Subscribe(
            Math.Max(1, settings.Server.SseBufferEvents),
            TimeSpan.FromSeconds(Math.Max(1, settings.Server.SseKeepAliveSecs)));
        var (killSwitch, done) = source
            .ViaMaterialized(KillSwitches.Single<OutputMessage>(), Keep.Right)
            .SelectAsync(1, async m =>
            {
                await body.WriteAsync(Frame(m), ct);
                await body.FlushAsync(ct);
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Both)
            .Run(system.Materializer());
        using var registration = ct.Register(() => killSwitch.Shutdown());
        try
        {
            await done;
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // The client disconnected.
        }
        catch (IOException)
        {
            // The connection broke while writing.
        }
    }

    private static byte[] Frame(OutputMessage m) => m.Kind switch
    {
        OutputMessageKind.Event => Encoding.UTF8.GetBytes("data: " + m.Data + "\n\n"),
        OutputMessageKind.Warning => Encoding.UTF8.GetBytes("event: warning\ndata: " + m.Data + "\n\n"),
        _ => KeepAlive,
    };
}
