namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// The version of a replicated coordinator-state record: <see cref="Generation"/> is the writer's generation (one more
/// than the highest any majority had seen when it recovered: a new leader writes under a higher generation than
/// every earlier one), <see cref="Sequence"/> counts its writes. Compared as (generation, sequence).
/// </summary>
public sealed record StateVersion(long Generation, long Sequence) : IComparable<StateVersion>
{
    public static readonly StateVersion Zero = new(0, 0);

    public int CompareTo(StateVersion? other)
    {
        if (other is null) return 1;
        int g = Generation.CompareTo(other.Generation);
        return g != 0 ? g : Sequence.CompareTo(other.Sequence);
    }

    public static bool operator >(StateVersion a, StateVersion b) => a.CompareTo(b) > 0;

    public static bool operator <(StateVersion a, StateVersion b) => a.CompareTo(b) < 0;

    public static bool operator >=(StateVersion a, StateVersion b) => a.CompareTo(b) >= 0;

    public static bool operator <=(StateVersion a, StateVersion b) => a.CompareTo(b) <= 0;

    public static StateVersion Max(StateVersion a, StateVersion b) => a >= b ? a : b;

    /// <summary><c>generation.sequence</c>, as the log and <c>/api/v1/cluster/raft/status</c> show it.</summary>
    public override string ToString() => $"{Generation}.{Sequence}";
}

/// <summary>Stores one record on a coordinator's <see cref="CoordinatorStateKeeper"/> if it is newer than the stored one; answered by <see cref="CoordinatorStateStored"/> once it is on disk.</summary>
public sealed record PutCoordinatorState(string Key, StateVersion Version, byte[] Data) : IClusterManagerProtocol;

/// <summary>
/// The answer to <see cref="PutCoordinatorState"/>: <see cref="Accepted"/> when the record is now on disk at
/// <see cref="Version"/>; false when the keeper holds a newer one (<see cref="Stored"/>), or the same.
/// </summary>
public sealed record CoordinatorStateStored(string Key, StateVersion Version, bool Accepted, StateVersion Stored) : IClusterManagerProtocol;

/// <summary>Asks a keeper for one record; answered by <see cref="CoordinatorStateValue"/>.</summary>
public sealed record GetCoordinatorState(string Key) : IClusterManagerProtocol;

/// <summary>
/// A keeper's copy of a record (<see cref="Version"/> zero and no data when it has none) and <see cref="Latest"/>,
/// the newest version of any record in its data directory.
/// </summary>
public sealed record CoordinatorStateValue(string Key, StateVersion Version, byte[] Data, StateVersion Latest) : IClusterManagerProtocol;

/// <summary>Anti-entropy between keepers: the versions one keeper holds. The other pulls what is newer there and pushes what is newer here.</summary>
public sealed record CoordinatorStateDigest(IReadOnlyDictionary<string, StateVersion> Versions) : IClusterManagerProtocol;

/// <summary>Asks a keeper to send its copies of these records (as <see cref="PutCoordinatorState"/>).</summary>
public sealed record PullCoordinatorState(IReadOnlyList<string> Keys) : IClusterManagerProtocol;

/// <summary>Asks the local keeper for its data directory's version; answered by <see cref="CoordinatorStateSummary"/>.</summary>
public sealed record GetCoordinatorStateSummary : IClusterManagerProtocol
{
    public static readonly GetCoordinatorStateSummary Instance = new();
}

/// <summary>A data directory's newest record version and its number of records.</summary>
public sealed record CoordinatorStateSummary(StateVersion Latest, int Records) : IClusterManagerProtocol;
