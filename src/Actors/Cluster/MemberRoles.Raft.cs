using Akka.Cluster;

namespace Varpulis.Actors.Cluster;

public static partial class MemberRoles
{
    private const string RaftNodeIdPrefix = "varpulis-raft-node-id:";

    /// <summary>The roles of a coordinator started with <c>--raft --raft-node-id N</c>.</summary>
    public static IReadOnlyList<string> ForRaftCoordinator(int nodeId)
        => [Coordinator, RaftNodeIdPrefix + nodeId.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>A coordinator's <c>--raft-node-id</c>; null for members started without <c>--raft</c>.</summary>
    public static int? RaftNodeIdOf(Member m)
        => m.Roles.FirstOrDefault(r => r.StartsWith(RaftNodeIdPrefix, StringComparison.Ordinal)) is { } role
            && int.TryParse(role.AsSpan(RaftNodeIdPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) ? id : null;
}
