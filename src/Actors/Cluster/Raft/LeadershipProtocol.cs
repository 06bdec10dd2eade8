namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// Who leads the coordinators and since when: the <see cref="LeadershipKeeper"/>'s journal event, the value it
/// replicates to every node (Distributed Data) and its reply to <see cref="GetLeadership"/>. <see cref="Term"/> counts
/// the hand-overs of the coordinator singletons: it grows by one each time the singletons start on a coordinator (a
/// new leader, or the same one after a full restart), and is journaled, so it never goes back.
/// </summary>
public sealed record LeaderRecord(long Term, int NodeId, string Address, DateTimeOffset Since) : IClusterManagerProtocol;

/// <summary>Asks the <see cref="LeadershipKeeper"/> for the current <see cref="LeaderRecord"/>.</summary>
public sealed record GetLeadership : IClusterManagerProtocol
{
    public static readonly GetLeadership Instance = new();
}
