using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Akka.Persistence;
using Varpulis.Actors.Directory;

namespace Varpulis.Actors.Health;

/// <summary>
/// Readiness of a node (rest-api.md <c>/ready</c>): the actor system runs, this node is an <c>Up</c> cluster member,
/// the journal answers a query, and the directory has recovered from it.
/// </summary>
public sealed class NodeReadiness(ActorSystem system, IRequiredActor<ServerDirectory> directory)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>Null when ready, else why not.</summary>
    public async Task<string?> CheckAsync(CancellationToken ct)
    {
        if (system.WhenTerminated.IsCompleted) return "actor system terminated";
        var status = Akka.Cluster.Cluster.Get(system).SelfMember.Status;
        if (status != MemberStatus.Up) return $"cluster member status is {status.ToString().ToLowerInvariant()}";
        try
        {
            // The SQL journal (the default one, except on a raft coordinator whose own state is replicated over the
            // coordinators' data directories: there the directory's recovery below proves that store answers).
            var journal = Akka.Persistence.Persistence.Instance.Apply(system).JournalFor("akka.persistence.journal.sql");
            var reply = await journal.Ask<object>(r => new ReplayMessages(0, 0, 0, "varpulis-readiness-probe", r), Timeout, ct);
            if (reply is not RecoverySuccess) return "journal did not answer: " + (reply as ReplayMessagesFailure)?.Cause.Message;
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            return "journal did not answer in time";
        }
        try
        {
            var dir = await directory.GetAsync(ct);
            await dir.Ask<DirectoryPong>(DirectoryPing.Instance, Timeout, ct);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            return "directory is still recovering";
        }
        return null;
    }
}
