using System.Text.RegularExpressions;
using Akka.Cluster;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// The roles of Varpulis cluster members. Besides <c>worker</c> and <c>coordinator</c>, a worker carries its id and
/// advertised HTTP address as roles (<c>varpulis-worker-id:worker-0</c>, <c>varpulis-advertise:http://host:9000</c>):
/// roles travel with the member in the cluster's gossip, so every node knows them from the moment the member joins,
/// whatever happens to the singletons.
/// </summary>
public static partial class MemberRoles
{
    public const string Worker = "worker";
    public const string Coordinator = "coordinator";

    private const string WorkerIdPrefix = "varpulis-worker-id:";
    private const string AdvertisePrefix = "varpulis-advertise:";

    /// <summary>What a worker id may look like: 1 to 64 letters, digits, dots, dashes and underscores.</summary>
    public static bool IsValidWorkerId(string id) => WorkerIdPattern().IsMatch(id);

    public static IReadOnlyList<string> ForWorker(string workerId, string advertiseAddress)
        => [Worker, WorkerIdPrefix + workerId, AdvertisePrefix + advertiseAddress];

    public static string? WorkerIdOf(Member m) => Find(m.Roles, WorkerIdPrefix);

    public static string? AdvertiseAddressOf(Member m) => Find(m.Roles, AdvertisePrefix);

    /// <summary>The roles as the API shows them: <c>worker</c>, <c>coordinator</c> (not the metadata roles).</summary>
    public static IReadOnlyList<string> Visible(Member m)
        => m.Roles.Where(r => r is Worker or Coordinator).OrderBy(r => r, StringComparer.Ordinal).ToList();

    private static string? Find(IEnumerable<string> roles, string prefix)
    {
        foreach (var r in roles)
        {
            if (r.StartsWith(prefix, StringComparison.Ordinal)) return r[prefix.Length..];
        }
        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex WorkerIdPattern();
}
