using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Varpulis.Contracts.Management;

namespace Varpulis.Api.Management;

/// <summary>The cluster as <c>GET /cluster/members</c> shows it, computed as the JVM's Akka Management does.</summary>
public static class ClusterMembership
{
    // Which members observed a member unreachable lives in the cluster's reachability table, which Akka.NET keeps
    // internal (Cluster.ReadView.Reachability). Read once through reflection; should an Akka.NET upgrade move it, the
    // routes keep working with empty observer lists (and ClusterMembersRoutesSpecs fails, to say so).
    private static readonly Func<Akka.Cluster.Cluster, ImmutableDictionary<UniqueAddress, ImmutableHashSet<UniqueAddress>>?> ObserversOf = ObserversAccessor();

    public static ClusterMembers Snapshot(Akka.Cluster.Cluster cluster)
    {
        var state = cluster.State;
        var members = state.Members.Select(ToContract).ToList();

        var observers = ObserversOf(cluster) ?? ImmutableDictionary<UniqueAddress, ImmutableHashSet<UniqueAddress>>.Empty;
        var unreachable = state.Unreachable
            .OrderBy(m => m.Address, Member.AddressOrdering)
            .Select(m => new ClusterUnreachableMember(
                m.Address.ToString(),
                observers.TryGetValue(m.UniqueAddress, out var by)
                    ? by.Select(u => u.Address).OrderBy(a => a, Member.AddressOrdering).Select(a => a.ToString()).ToList()
                    : []))
            .ToList();

        var up = state.Members.Where(m => m.Status == MemberStatus.Up).ToList();
        string? oldest = up.Count == 0 ? null : up.Min(Member.AgeOrdering)!.Address.ToString();
        var oldestPerRole = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var role in up.SelectMany(m => m.Roles).Distinct())
            oldestPerRole[role] = up.Where(m => m.HasRole(role)).Min(Member.AgeOrdering)!.Address.ToString();

        return new ClusterMembers(cluster.SelfAddress.ToString(), members, unreachable, state.Leader?.ToString(), oldest, oldestPerRole);
    }

    public static ClusterMember ToContract(Member m)
        => new(m.Address.ToString(), m.UniqueAddress.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), m.Status.ToString(),
            m.Roles.OrderBy(r => r, StringComparer.Ordinal).ToList());

    /// <summary>
    /// The member an address names: its full form (<c>akka.tcp://varpulis@10.0.0.1:4053</c>), without the protocol
    /// (<c>varpulis@10.0.0.1:4053</c>, as the JVM accepts), or just <c>host:port</c>.
    /// </summary>
    public static Member? Find(Akka.Cluster.Cluster cluster, string address)
        => cluster.State.Members.FirstOrDefault(m => Names(m.Address, address));

    public static bool Names(Address a, string text)
        => text == a.ToString() || text == a.HostPort() || text == $"{a.Host}:{a.Port}";

    private static Func<Akka.Cluster.Cluster, ImmutableDictionary<UniqueAddress, ImmutableHashSet<UniqueAddress>>?> ObserversAccessor()
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var readView = typeof(Akka.Cluster.Cluster).GetProperty("ReadView", Any);
        var reachability = readView?.PropertyType.GetProperty("Reachability", Any);
        var grouped = reachability?.PropertyType.GetProperty("ObserversGroupedByUnreachable", Any);
        if (readView is null || reachability is null || grouped is null) return _ => null;
        return cluster => grouped.GetValue(reachability.GetValue(readView.GetValue(cluster)))
            as ImmutableDictionary<UniqueAddress, ImmutableHashSet<UniqueAddress>>;
    }
}
