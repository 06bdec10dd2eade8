namespace Varpulis.Contracts.Cluster;

/// <summary>
/// The Akka.NET member roles of a Varpulis cluster, as <c>/cluster/members</c> on the management port lists them:
/// <c>worker</c>, <c>coordinator</c>, and on a worker two metadata roles carrying its id and advertised HTTP address
/// (<c>varpulis-worker-id:worker-0</c>, <c>varpulis-advertise:http://host:9000</c>).
/// </summary>
public static class ClusterRoles
{
    public const string Worker = "worker";
    public const string Coordinator = "coordinator";
    public const string WorkerIdPrefix = "varpulis-worker-id:";
    public const string AdvertisePrefix = "varpulis-advertise:";

    /// <summary>The worker id a member's roles carry, or null (a coordinator, a single server).</summary>
    public static string? WorkerIdOf(IEnumerable<string> roles) => Find(roles, WorkerIdPrefix);

    /// <summary>The advertised HTTP address a member's roles carry, or null.</summary>
    public static string? AdvertiseAddressOf(IEnumerable<string> roles) => Find(roles, AdvertisePrefix);

    /// <summary>The roles as the API and <c>pbm cluster show</c> show them: <c>coordinator</c>, <c>worker</c> (not the metadata), sorted.</summary>
    public static IReadOnlyList<string> Visible(IEnumerable<string> roles)
        => roles.Where(r => r is Worker or Coordinator).OrderBy(r => r, StringComparer.Ordinal).ToList();

    private static string? Find(IEnumerable<string> roles, string prefix)
    {
        foreach (var r in roles)
        {
            if (r.StartsWith(prefix, StringComparison.Ordinal)) return r[prefix.Length..];
        }
        return null;
    }
}
