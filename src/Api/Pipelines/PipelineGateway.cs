using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Api.Errors;

namespace Varpulis.Api.Pipelines;

/// <summary>
/// The API's way to the actors: asks the pipeline region and the directory, and turns their error replies into
/// <see cref="ApiException"/>s with the contract's codes and statuses.
/// </summary>
public sealed class PipelineGateway(IRequiredActor<PipelineEntity> region, IRequiredActor<ServerDirectory> directory)
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What a client is told to wait (<c>Retry-After</c>) when a pipeline or the directory did not answer in time.</summary>
    public const int UnavailableRetryAfterSeconds = 5;

    /// <summary>How long an ask waits for its answer (<see cref="AskTimeout"/>; shorter in tests).</summary>
    internal TimeSpan Timeout { get; init; } = AskTimeout;

    public async Task<T> AskPipelineAsync<T>(IPipelineCommand command, CancellationToken ct)
    {
        var reply = await AskAsync(await region.GetAsync(ct), command, $"pipeline '{command.PipelineId}'", ct);
        return reply switch
        {
            T t => t,
            PipelineError e => throw ToApi(e),
            Status.Failure f => throw new ApiException(500, "engine_error", f.Cause.Message),
            _ => throw new ApiException(500, "internal_error", $"unexpected reply {reply.GetType().Name}"),
        };
    }

    public async Task<T> AskDirectoryAsync<T>(IDirectoryProtocol message, CancellationToken ct)
    {
        var reply = await AskAsync(await directory.GetAsync(ct), message, "the directory", ct);
        return reply switch
        {
            T t => t,
            DirectoryError e => throw new ApiException(e.Code switch
            {
                "quota_exceeded" => 429,
                "tenant_not_found" => 404,
                "conflict" => 409,
                _ => 500,
            }, e.Code, e.Message),
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

    /// <summary>503 <c>unavailable</c> with <c>Retry-After</c> (rest-api.md): the request may succeed if repeated later.</summary>
    public static ApiException Unavailable(string message)
    {
        const int retry = UnavailableRetryAfterSeconds;
        return new ApiException(503, "unavailable", $"{message}; retry in {retry} s", w => w.WriteNumber("retry_after_seconds", retry))
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
