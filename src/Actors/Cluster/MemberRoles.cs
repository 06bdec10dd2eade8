using System.Text.RegularExpressions;
using Akka.Cluster;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster;

/// <summary>
/// The roles of Varpulis cluster members. Besides <c>worker</c> and <c>coordinator</c>, a worker carries its id and
/// advertised HTTP address as roles (<c>varpulis-worker-id:worker-0</c>, <c>varpulis-advertise:http://host:9000</c>):
/// roles travel with the member in the cluster's gossip, so every node knows them from the moment the member joins,
/// whatever happens to the singletons. The names are in <see cref="ClusterRoles"/>, which <c>pbm</c> reads too.
/// </summary>
public static partial class MemberRoles
{
    public const string Worker = ClusterRoles.Worker;
    public const string Coordinator = ClusterRoles.Coordinator;

    /// <summary>What a worker id may look like: 1 to 64 letters, digits, dots, dashes and underscores.</summary>
    public static bool IsValidWorkerId(string id) => WorkerIdPattern().IsMatch(id);

    public static IReadOnlyList<string> ForWorker(string workerId, string advertiseAddress)
        => [Worker, ClusterRoles.WorkerIdPrefix + workerId, ClusterRoles.AdvertisePrefix + advertiseAddress];

    public static string? WorkerIdOf(Member m) => ClusterRoles.WorkerIdOf(m.Roles);

    public static string? AdvertiseAddressOf(Member m) => ClusterRoles.AdvertiseAddressOf(m.Roles);

    /// <summary>The roles as the API shows them: <c>worker</c>, <c>coordinator</c> (not the metadata roles).</summary>
    public static IReadOnlyList<string> Visible(Member m) => ClusterRoles.Visible(m.Roles);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex WorkerIdPattern();
}
