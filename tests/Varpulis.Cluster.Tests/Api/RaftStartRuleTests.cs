using Varpulis.Contracts.Cluster;
using Varpulis.Host.Cluster;

namespace Varpulis.Cluster.Tests.Api;

/// <summary>
/// Which raft coordinator starts a cluster when none is in one: the lowest id among the peers that answer it and the
/// peers those see. Two coordinators started at once saw different peers for a moment (coordinator 1's endpoint up for
/// 3, not yet for 2) and both started a cluster: 2 must wait for 1.
/// </summary>
public sealed class RaftStartRuleTests
{
    private static SeedInfo Peer(int id, params int[] answering)
        => new("varpulis", [], 1, 5, new JournalInfo("postgresql", null, null, null)) { RaftNodeId = id, RaftPeersAnswering = answering };

    [Fact]
    public void ThePeerThatDoesNotSeeTheLowestIdYetWaitsWhenAnotherPeerSeesIt()
        => Assert.False(RaftJoiner.IsLowest(2, [Peer(3, 1, 2)]));

    [Fact]
    public void TheLowestIdStartsWhateverItsPeersSee()
        => Assert.True(RaftJoiner.IsLowest(1, [Peer(2, 3), Peer(3, 1, 2)]));

    [Fact]
    public void WithTheLowestIdDownForEveryoneTheNextLowestStarts()
        => Assert.True(RaftJoiner.IsLowest(2, [Peer(3, 2)]));

    [Fact]
    public void ALowerIdThatAnswersDirectlyWins()
        => Assert.False(RaftJoiner.IsLowest(2, [Peer(1, 2, 3), Peer(3, 1, 2)]));

    [Fact]
    public void APeerOfAnOlderVersionWithoutTheListCountsByItsOwnId()
        => Assert.True(RaftJoiner.IsLowest(2, [new SeedInfo("varpulis", [], 1, 5, new JournalInfo("postgresql", null, null, null)) { RaftNodeId = 3 }]));
}
