using System.Collections.Immutable;
using Varpulis.Actors.Cluster;

namespace Varpulis.Actors.Tests.Cluster;

/// <summary>Where pipelines go: least loaded or in turn, never onto a draining or full worker, moves and affinity honoured.</summary>
public sealed class PlacementPolicyTests
{
    private const string A = "akka.tcp://varpulis@127.0.0.1:4001";
    private const string B = "akka.tcp://varpulis@127.0.0.1:4002";
    private const string C = "akka.tcp://varpulis@127.0.0.1:4003";

    private static RegionShards Region(string address, params string[] shards) => new(address, shards);

    private static PlacementDirectives Directives(
        string[]? draining = null,
        Dictionary<string, string>? moves = null,
        Dictionary<string, int>? capacity = null,
        Dictionary<string, string>? affinity = null,
        string mode = PlacementDirectives.LeastLoaded)
        => new(
            draining ?? [],
            moves ?? new Dictionary<string, string>(),
            capacity ?? new Dictionary<string, int>(),
            affinity ?? new Dictionary<string, string>(),
            new Dictionary<string, string> { [A] = "worker-a", [B] = "worker-b", [C] = "worker-c" },
            mode);

    [Fact]
    public void NewPipelinesGoToTheLeastLoadedWorker()
    {
        int turn = 0;
        var regions = new[] { Region(A, "1", "2"), Region(B, "3"), Region(C, "4", "5", "6") };
        Assert.Equal(B, PlacementPolicy.Allocate("7", regions, Directives(), ref turn));
    }

    [Fact]
    public void TiesGoToTheLowestAddress()
    {
        int turn = 0;
        var regions = new[] { Region(C), Region(B), Region(A) };
        Assert.Equal(A, PlacementPolicy.Allocate("1", regions, Directives(), ref turn));
    }

    [Fact]
    public void RoundRobinTakesWorkersInTurnWhateverTheirLoad()
    {
        int turn = 0;
        var regions = new[] { Region(A, "1", "2", "3"), Region(B), Region(C) };
        var d = Directives(mode: PlacementDirectives.RoundRobin);
        var picks = Enumerable.Range(0, 4).Select(i => PlacementPolicy.Allocate("n" + i, regions, d, ref turn)).ToList();
        Assert.Equal([A, B, C, A], picks);
    }

    [Fact]
    public void ADrainingWorkerTakesNothingNew()
    {
        int turn = 0;
        var regions = new[] { Region(A), Region(B, "1", "2", "3") };
        Assert.Equal(B, PlacementPolicy.Allocate("4", regions, Directives(draining: [A]), ref turn));
    }

    [Fact]
    public void AFullWorkerTakesNothingNew()
    {
        int turn = 0;
        var regions = new[] { Region(A, "1"), Region(B, "2", "3") };
        Assert.Equal(B, PlacementPolicy.Allocate("4", regions, Directives(capacity: new() { [A] = 1 }), ref turn));
    }

    [Fact]
    public void WhenEveryWorkerIsDrainingThePipelineStillGoesSomewhere()
    {
        int turn = 0;
        var regions = new[] { Region(A, "1"), Region(B) };
        Assert.Equal(B, PlacementPolicy.Allocate("2", regions, Directives(draining: [A, B]), ref turn));
    }

    [Fact]
    public void ARequestedMoveWinsOverLoadAndAffinityFollowsWorkerIds()
    {
        int turn = 0;
        var regions = new[] { Region(A), Region(B, "1", "2"), Region(C, "3") };
        Assert.Equal(C, PlacementPolicy.Allocate("x", regions, Directives(moves: new() { ["x"] = C }), ref turn));
        Assert.Equal(B, PlacementPolicy.Allocate("y", regions, Directives(affinity: new() { ["y"] = "worker-b" }), ref turn));
        // Affinity to a draining worker falls back to the least loaded.
        Assert.Equal(A, PlacementPolicy.Allocate("y", regions, Directives(draining: [B], affinity: new() { ["y"] = "worker-b" }), ref turn));
    }

    [Fact]
    public void RebalanceMovesEveryPipelineOfADrainingWorkerAndPendingMovesOnly()
    {
        var regions = new[] { Region(A, "1", "2"), Region(B, "3", "4"), Region(C, "5") };
        var moves = PlacementPolicy.Rebalance(regions, Directives(draining: [A], moves: new() { ["3"] = C, ["5"] = C }), ImmutableHashSet<string>.Empty, 16);
        Assert.Equal(["1", "2", "3"], moves);
    }

    [Fact]
    public void RebalanceLeavesShardsInProgressAndRespectsTheLimit()
    {
        var regions = new[] { Region(A, "1", "2", "3"), Region(B) };
        var moves = PlacementPolicy.Rebalance(regions, Directives(draining: [A]), ImmutableHashSet.Create("1"), 1);
        Assert.Equal(["2"], moves);
    }

    [Fact]
    public void NothingMovesWhenWorkersJoin()
    {
        var regions = new[] { Region(A, "1", "2", "3", "4"), Region(B) };
        Assert.Empty(PlacementPolicy.Rebalance(regions, Directives(), ImmutableHashSet<string>.Empty, 16));
    }

    [Fact]
    public void ADrainWithNowhereToGoMovesNothing()
    {
        var regions = new[] { Region(A, "1") };
        Assert.Empty(PlacementPolicy.Rebalance(regions, Directives(draining: [A]), ImmutableHashSet<string>.Empty, 16));
    }
}
