using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Errors;

namespace Varpulis.Api.Pipelines;

/// <summary>
/// The API's way to the actors: asks the pipeline region (commands for one pipeline) and the directory (operations
/// that span the index and the pipelines: deploy, reload, delete, listing, usage), and turns their error replies into
/// <see cref="ApiException"/>s with the contract's codes and statuses.
/// </summary>
public sealed class PipelineGateway(IRequiredActor<PipelineEntity> region, IRequiredActor<ServerDirectory> directory)
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What a client is told to wait (<c>Retry-After</c>) when a pipeline or the directory did not answer in time.</summary>
    public const int UnavailableRetryAfterSeconds = 5;

    /// <summary><c>Retry-After</c> of a pipeline that refuses events while its DLQ backlog is at its bound.</summary>
    public const int DeadLetterBacklogRetryAfterSeconds = 1;

    /// <summary>How long an ask waits for its answer (<see cref="AskTimeout"/>; shorter in tests).</summary>
    internal TimeSpan Timeout { get; init; } = AskTimeout;

    /// <summary>How long before the ask times out a request becomes too late for its entity to process (its reply must make it back).</summary>
    public static readonly TimeSpan DeadlineMargin = TimeSpan.FromSeconds(5);

    public async Task<T> AskPipelineAsync<T>(IPipelineCommand command, CancellationToken ct)
    {
        var reply = await AskAsync(await region.GetAsync(ct), command, $"pipeline '{command.PipelineId}'", ct);
        return reply switch
        {
            T t => t,
            PipelineError e => throw ToApi(e),
            // A DLQ request its connectors could not serve: a replay already running is a conflict.
            Varpulis.Actors.Connectors.ConnectorsError { Code: "replay_in_progress" } e => throw new ApiException(409, e.Code, e.Message),
            Varpulis.Actors.Connectors.ConnectorsError e => throw new ApiException(500, e.Code, e.Message),
            Status.Failure f => throw new ApiException(500, "engine_error", f.Cause.Message),
            _ => throw new ApiException(500, "internal_error", $"unexpected reply {reply.GetType().Name}"),
        };
    }

    /// <summary>How long one attempt of a keyed ingest request waits before it is sent again.</summary>
    internal static readonly TimeSpan IngestAttempt = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Sends input events to their pipeline. A pipeline that answers <c>unavailable</c> (handing off to another
    /// worker, restarting) refused the request unprocessed: it is sent again after a short pause. A request with an
    /// <c>Idempotency-Key</c> that gets no answer within <see cref="IngestAttempt"/> is sent again too: a shard region
    /// drops messages it holds for a pipeline at the moment it hands it off, and a repeat of the key is answered with
    /// the first reply, never processed twice. Without a key, a lost request ends as 503 when the gateway's timeout
    /// expires, as any unanswered ask does.
    /// </summary>
    public async Task<IngestResult> AskIngestAsync(IngestEvents command, CancellationToken ct)
    {
        var target = await region.GetAsync(ct);
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            var attempt = command.IdempotencyKey is null || left < IngestAttempt ? left : IngestAttempt;
            object reply;
            try
            {
                reply = await target.Ask<object>(command, attempt, ct);
            }
            catch (AskTimeoutException)
            {
                if (command.IdempotencyKey is null) break;
                continue;
            }
            if (reply is PipelineError { Code: "unavailable" } && deadline - DateTime.UtcNow > RetryPause)
            {
                await Task.Delay(RetryPause, ct);
                continue;
            }
            return reply switch
            {
                IngestResult r => r,
                PipelineError e => throw ToApi(e),
                _ => throw new ApiException(500, "internal_error", $"unexpected reply {reply.GetType().Name}"),
            };
        }
        throw Unavailable($"pipeline '{command.PipelineId}' did not answer within {Timeout.TotalSeconds:0.###} s (busy, recovering or moving)");
    }

    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(200);

    public async Task<T> AskDirectoryAsync<T>(IDirectoryProtocol message, CancellationToken ct)
    {
        var reply = await AskAsync(await directory.GetAsync(ct), message, "the directory", ct);
        return reply switch
        {
            T t => t,
            DirectoryError { Code: "no_workers_available" } e => throw Unavailable(e.Message, e.Code),
            DirectoryError e => throw new ApiException(e.Code switch
            {
                "quota_exceeded" => 429,
                "tenant_not_found" => 404,
                "conflict" => 409,
                _ => 500,
            }, e.Code, e.Message),
            // The directory's pipeline operations pass the entity's refusals on.
            PipelineError e => throw ToApi(e),
            _ => throw new ApiException(500, "internal_error", $"unexpected reply {reply.GetType().Name}"),
        };
    }

    private async Task<object> AskAsync(IActorRef target, object message, string who, CancellationToken ct)
    {
        try
        {
            return await target.Ask<object>(message, Timeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw Unavailable($"{who} did not answer within {Timeout.TotalSeconds:0.###} s (busy, recovering or moving)");
        }
    }

    /// <summary>
    /// The moment past which a request this gateway sends is too late for its entity to process: the gateway has given
    /// up on it (its ask timed out, less the time a reply needs to come back), and its client may have sent it again.
    /// </summary>
    public long DeadlineUnixMs(TimeProvider time)
    {
        var margin = Timeout > DeadlineMargin * 2 ? DeadlineMargin : Timeout / 2;
        return time.GetUtcNow().Add(Timeout - margin).ToUnixTimeMilliseconds();
    }

    /// <summary>
    /// 503 with <c>Retry-After</c> (rest-api.md): the request may succeed if repeated later (<c>unavailable</c>: not
    /// answering in time, moving, restarting; <c>no_workers_available</c>: no worker can take a pipeline now).
    /// </summary>
    public static ApiException Unavailable(string message, string code = "unavailable", int retry = UnavailableRetryAfterSeconds)
    {
        return new ApiException(503, code, $"{message}; retry in {retry} s", w => w.WriteNumber("retry_after_seconds", retry))
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = retry.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
    }

    public static ApiException ToApi(PipelineError e) => e.Code switch
    {
        "pipeline_not_found" => new ApiException(404, e.Code, e.Message),
        "stream_not_found" => new ApiException(404, e.Code, e.Message),
        "parse_error" => ParseError(e.Message, e.Diagnostics ?? []),
        "invalid_request" => new ApiException(400, e.Code, e.Message),
        "conflict" => new ApiException(409, e.Code, e.Message),
        "quota_exceeded" => new ApiException(429, e.Code, e.Message),
        "idempotency_key_reused" => new ApiException(422, e.Code, e.Message),
        "unavailable" => Unavailable(e.Message),
        // The DLQ catches up within a second or so: the client is told to come back sooner than for a move.
        PipelineError.DeadLetterBacklogCode => Unavailable(e.Message, retry: DeadLetterBacklogRetryAfterSeconds),
        // A full DLQ empties only when someone replays or clears it: the usual wait.
        PipelineError.DeadLetterQueueFullCode => Unavailable(e.Message),
        "engine_error" => new ApiException(500, e.Code, e.Message),
        _ => new ApiException(500, e.Code, e.Message),
    };

    public static ApiException ParseError(string message, IReadOnlyList<DiagnosticInfo> diagnostics)
        => new(400, "parse_error", message, w => WriteDiagnostics(w, diagnostics));

    public static void WriteDiagnostics(Utf8JsonWriter w, IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        w.WritePropertyName("diagnostics");
        w.WriteStartArray();
        foreach (var d in diagnostics)
        {
            w.WriteStartObject();
            w.WriteString("severity", d.Severity);
            w.WriteNumber("line", d.Line);
            w.WriteNumber("column", d.Column);
            w.WriteString("message", d.Message);
            if (d.Hint is not null) w.WriteString("hint", d.Hint);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
