using System.Globalization;
using Microsoft.AspNetCore.Http;
using Varpulis.Actors.Cluster.Raft;
using Varpulis.Api.Errors;

namespace Varpulis.Api.Security;

/// <summary>
/// Coordinator writes need a leader (runbook §2.1): on a coordinator started with <c>--raft</c>, a mutating
/// <c>/api/v1</c> request while no leader is settled (it was lost and the singletons are moving to another
/// coordinator, or fewer than a majority of the peers are reachable) is refused with 503 <c>leader_unavailable</c> and
/// <c>Retry-After</c>, before it reaches anything. Reads keep answering. Events (<c>events</c>, <c>events-batch</c>,
/// <c>inject</c>, <c>inject-batch</c>) go to the pipelines on the workers, which keep running: they are not writes of
/// coordinator state and pass; so do validations, which change nothing.
/// </summary>
public sealed class LeaderGateMiddleware(RequestDelegate next, IServiceProvider services)
{
    public const int RetryAfterSeconds = 2;

    public async Task InvokeAsync(HttpContext ctx)
    {
        if (services.GetService(typeof(RaftView)) is not RaftView { Enabled: true } view || !IsCoordinatorWrite(ctx.Request))
        {
            await next(ctx);
            return;
        }
        if (view.WhyNoLeader() is { } why) throw LeaderUnavailable(why);
        try
        {
            await next(ctx);
        }
        catch (ApiException ex) when (ex.Status == 503 && ex.Code == "unavailable" && view.WhyNoLeader() is { } lost)
        {
            // The leader was lost while the write waited for it: say so (the write did not reach the lost leader's
            // successor; whether the lost one applied it before dying is in the state the new leader recovers).
            throw LeaderUnavailable(lost);
        }
    }

    public static ApiException LeaderUnavailable(string why)
        => new(503, "leader_unavailable", $"no coordinator leader: {why}; retry in {RetryAfterSeconds} s",
            w => w.WriteNumber("retry_after_seconds", RetryAfterSeconds))
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture) },
        };

    internal static bool IsCoordinatorWrite(HttpRequest request)
    {
        var method = request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return false;
        var path = request.Path.Value ?? "";
        if (!path.StartsWith("/api/v1/", StringComparison.Ordinal)) return false;
        if (path is "/api/v1/validate" or "/api/v1/cluster/validate") return false;
        return !(path.EndsWith("/events", StringComparison.Ordinal) || path.EndsWith("/events-batch", StringComparison.Ordinal)
            || path.EndsWith("/inject", StringComparison.Ordinal) || path.EndsWith("/inject-batch", StringComparison.Ordinal));
    }
}
