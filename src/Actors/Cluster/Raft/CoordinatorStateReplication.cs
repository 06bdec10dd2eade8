using Akka.Actor;
using Akka.Cluster;

namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// Majority reads and writes of the coordinator state over the coordinators' <see cref="CoordinatorStateKeeper"/>s
/// (the leader's journal and snapshot store use it). A write goes to every coordinator in the cluster and is done when
/// <c>majority</c> of the configured peers (<c>--raft-peers</c>) have stored it on disk; a read asks every coordinator
/// and takes the newest version among a majority of answers. Any read majority meets every write majority, so a new
/// leader sees every acknowledged write. The first read sets this node's generation above every generation that
/// majority has seen; a keeper never replaces a record by an older version, so the writes of a deposed leader are
/// refused once a newer one has written.
/// </summary>
public sealed class CoordinatorStateReplication : IExtension
{
    /// <summary>How long one read or write round waits for the keepers' answers.</summary>
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Records larger than this do not fit in one remoting frame with their envelope.</summary>
    public static readonly long MaxRecordBytes = Node.NodeHostingExtensions.MaxFrameBytes - (1L << 20);

    private readonly ExtendedActorSystem _system;
    private readonly object _gate = new();
    private long _generation;
    private long _sequence;

    public CoordinatorStateReplication(ExtendedActorSystem system)
    {
        _system = system;
        Majority = system.Settings.Config.GetInt("varpulis.coordinator-state.majority", 1);
    }

    public static CoordinatorStateReplication Get(ActorSystem system) => system.WithExtension<CoordinatorStateReplication, Provider>();

    /// <summary>How many coordinators must hold a write (a majority of <c>--raft-peers</c>).</summary>
    public int Majority { get; }

    /// <summary>The coordinators' addresses: this one first, then every other coordinator that is a member.</summary>
    private List<Address> Coordinators()
    {
        var cluster = Akka.Cluster.Cluster.Get(_system);
        var others = cluster.State.Members
            .Where(m => m.HasRole(MemberRoles.Coordinator) && m.Address != cluster.SelfAddress
                && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining or MemberStatus.Leaving)
            .Select(m => m.Address);
        return [cluster.SelfAddress, .. others];
    }

    /// <summary>
    /// The newest copy of <paramref name="key"/> among a majority of the coordinators, retried until
    /// <paramref name="deadline"/> (after a full restart the other coordinators join a few seconds after the first).
    /// </summary>
    public async Task<(StateVersion Version, byte[] Data)> ReadAsync(string key, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            var targets = Coordinators();
            var asks = targets.Select(a => AskAsync<CoordinatorStateValue>(a, new GetCoordinatorState(key))).ToList();
            var answers = (await Task.WhenAll(asks)).Where(v => v is not null).Select(v => v!).ToList();
            if (answers.Count >= Majority)
            {
                var newest = answers.MaxBy(v => v.Version)!;
                var latest = answers.Select(v => v.Latest).Aggregate(StateVersion.Zero, StateVersion.Max);
                lock (_gate)
                {
                    // First read: one above every generation the majority has seen; later, only if someone wrote under a newer one.
                    if (_generation == 0 || _generation < latest.Generation) _generation = latest.Generation + 1;
                }
                return (newest.Version, newest.Data);
            }
            if (DateTime.UtcNow >= until)
                throw new TimeoutException($"coordinator state '{key}': only {answers.Count} of the {Majority} coordinators needed (a majority of the peers) answered");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Writes <paramref name="data"/> as <paramref name="key"/>'s next version; returns once a majority of the coordinators have it on disk, else throws.</summary>
    public async Task<StateVersion> WriteAsync(string key, byte[] data)
    {
        if (data.Length > MaxRecordBytes)
            throw new InvalidOperationException($"coordinator state '{key}' is {data.Length} bytes, more than the {MaxRecordBytes} bytes one remoting frame carries");
        StateVersion version;
        lock (_gate)
        {
            if (_generation == 0) throw new InvalidOperationException($"coordinator state '{key}' is written before any was read: recover first");
            version = new StateVersion(_generation, ++_sequence);
        }
        var put = new PutCoordinatorState(key, version, data);
        var targets = Coordinators();
        var pending = targets.Select(a => AskAsync<CoordinatorStateStored>(a, put)).ToList();
        int accepted = 0, refused = 0;
        StateVersion newer = StateVersion.Zero;
        while (pending.Count > 0 && accepted < Majority)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (await done is not { } reply) continue;
            if (reply.Accepted)
            {
                accepted++;
            }
            else
            {
                refused++;
                newer = StateVersion.Max(newer, reply.Stored);
            }
        }
        if (accepted >= Majority) return version;
        if (refused > 0)
            throw new InvalidOperationException($"coordinator state '{key}': {refused} coordinators hold a newer version ({newer}) than this one's {version}: another coordinator leads");
        throw new TimeoutException($"coordinator state '{key}': only {accepted} of the {Majority} coordinators needed (a majority of the peers) stored it");
    }

    private async Task<T?> AskAsync<T>(Address address, object message) where T : class
    {
        try
        {
            return await CoordinatorStateKeeper.At(_system, address).Ask<T>(message, RoundTimeout);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException or ActorNotFoundException)
        {
            return null;
        }
    }

    private sealed class Provider : ExtensionIdProvider<CoordinatorStateReplication>
    {
        public override CoordinatorStateReplication CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
