using Akka.Actor;
using Varpulis.Api.Errors;
using Varpulis.Api.Pipelines;

namespace Varpulis.Api.Cluster;

/// <summary>
/// The API's way to a coordinator singleton (through its proxy): one ask per request; no answer in time is 503
/// <c>unavailable</c>, an answer of the expected type is the result, and any other answer is a refusal that
/// <see cref="Refusal"/> turns into an <see cref="ApiException"/> with the contract's code.
/// </summary>
public abstract class SingletonGateway(Func<CancellationToken, Task<IActorRef>> singleton, string who)
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    protected async Task<T> AskSingletonAsync<T>(object message, CancellationToken ct, TimeSpan? timeout)
    {
        object reply;
        try
        {
            reply = await (await singleton(ct)).Ask<object>(message, timeout ?? AskTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw PipelineGateway.Unavailable($"{who} did not answer in time (no coordinator is up, or it is moving)");
        }
        return reply is T t ? t : throw Refusal(reply) ?? new ApiException(500, "internal_error", $"unexpected reply {reply.GetType().Name}");
    }

    /// <summary>The API error for a refusal of the singleton; null for an answer it does not know.</summary>
    protected abstract ApiException? Refusal(object reply);
}
