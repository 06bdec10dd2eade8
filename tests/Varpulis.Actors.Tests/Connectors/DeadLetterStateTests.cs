using System.Text;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.DeadLetters;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>
/// The DLQ's state and its compact layout: letters are held as the blocks they were written in, read back with every
/// field, removed one by one or purged, paged, snapshotted without the removed ones; journals and snapshots written as
/// JSON before the layout still recover.
/// </summary>
public sealed class DeadLetterStateTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 23, 10, 0, 0, 123, TimeSpan.Zero);

    private static string Ev(int n) => $$$"""{"event_type":"Hot","timestamp":"2026-01-23T10:00:00Z","data":{"n":{{{n}}},"s":"é \"q\""}}""";

    private static DeadLetter Letter(long id, string connector = "Hook", string? topic = null, string? key = null, string error = "down")
        => new(id, At, connector, topic, key, error, Ev((int)id));

    private static byte[] Block(params DeadLetter[] letters)
    {
        var w = new DeadLetterLayout.BlockWriter();
        foreach (var l in letters) w.Add(l.Id, l.Timestamp, l.Connector, l.Topic, l.Key, l.Error, Encoding.UTF8.GetBytes(l.EventJson));
        return w.ToArray();
    }

    [Fact]
    public void ABlockReadsBackEveryFieldOfEveryLetter()
    {
        DeadLetter[] letters =
        [
            Letter(1, topic: "alerts", key: "k1"),
            Letter(2, topic: "alerts", key: "k1"),
            Letter(3, topic: null, key: "k2", error: "circuit breaker open: down"),
            Letter(4, connector: "Bus", topic: "other", key: null) with { Timestamp = At.ToOffset(TimeSpan.FromHours(2)) },
        ];
        var block = Block(letters);
        Assert.Equal(letters, DeadLetterLayout.Read(block));
        Assert.Equal([1L, 2L, 3L, 4L], DeadLetterLayout.Ids(block));
        // A letter repeating the previous one's connector, topic, key and error costs its id and time (18 bytes), four
        // 4-byte back references and its event (length + UTF-8 bytes).
        Assert.Equal(Block(letters[0]).Length + 18 + (4 * 4) + 4 + Encoding.UTF8.GetByteCount(Ev(2)), Block(letters[0], letters[1]).Length);
    }

    [Fact]
    public void LettersLeaveOneByOneOrUpToAnIdAndTheRestKeepTheirOrder()
    {
        var state = new DeadLetterState();
        state.Apply(new DeadLetterBlock(Block(Letter(1), Letter(2), Letter(3))));
        state.Apply(new DeadLetterBlock(Block(Letter(4), Letter(5))));
        Assert.Equal((5L, 6L), (state.Count, state.NextId));

        state.Apply(new DeadLettersRemoved([2, 4, 4, 99]));
        Assert.Equal([1L, 3L, 5L], state.Letters.Select(l => l.Id));
        Assert.Equal([3L, 5L], state.Present([3, 4, 5, 6]));
        Assert.Equal([3L, 5L], state.Page(1, 10).Select(l => l.Id));
        Assert.Equal([1L], state.Page(0, 1).Select(l => l.Id));
        Assert.Empty(state.Page(3, 10));

        state.Apply(new DeadLettersPurged(3));
        Assert.Equal([5L], state.Letters.Select(l => l.Id));
        Assert.Equal((1L, 6L), (state.Count, state.NextId));
        state.Apply(new DeadLettersPurged(5));
        Assert.Equal((0L, 6L), (state.Count, state.NextId));
    }

    [Fact]
    public void ASnapshotHoldsTheLiveLettersOnly()
    {
        var state = new DeadLetterState();
        state.Apply(new DeadLetterBlock(Block(Letter(1), Letter(2), Letter(3))));
        state.Apply(new DeadLetterBlock(Block(Letter(4))));
        state.Apply(new DeadLettersRemoved([2]));
        state.Apply(new SinkOutputsSettled(42));

        var snapshot = state.Snapshot();
        Assert.Equal(2, snapshot.Blocks.Count);
        var restored = new DeadLetterState();
        restored.Apply(snapshot);
        Assert.Equal([Letter(1), Letter(3), Letter(4)], restored.Letters);
        Assert.Equal((3L, 5L, 42L), (restored.Count, restored.NextId, restored.SettledSequenceNr));
    }

    [Fact]
    public void JournalsAndSnapshotsWrittenBeforeTheBlockLayoutStillRecover()
    {
        var state = new DeadLetterState();
        state.Apply(new DeadLetterSnapshot(3, 7, [Letter(1), Letter(2)]));
        state.Apply(new DeadLettersAdded([Letter(3)]));
        state.Apply(new DeadLetterBlock(Block(Letter(4))));
        Assert.Equal([Letter(1), Letter(2), Letter(3), Letter(4)], state.Letters);
        Assert.Equal((4L, 5L, 7L), (state.Count, state.NextId, state.SettledSequenceNr));
    }

    [Theory]
    [InlineData(999, 1_000_000, 0, false)]
    [InlineData(1000, 0, 0, true)]
    [InlineData(1000, 499, 1000, false)]
    [InlineData(1000, 500, 1000, true)]
    [InlineData(50_000, 10, 1_000_000_000, false)]
    [InlineData(100_000, 10, 1_000_000_000, true)]
    public void ALargeDlqIsSnapshottedOnlyOnceTheJournalHasGrownByHalfOfIt(int events, long bytesSince, long held, bool due)
        => Assert.Equal(due, DeadLetterState.SnapshotDue(events, bytesSince, held));

    [Fact]
    public void TheBytesHeldFollowTheBlocks()
    {
        var state = new DeadLetterState();
        byte[] a = Block(Letter(1), Letter(2)), b = Block(Letter(3));
        state.Apply(new DeadLetterBlock(a));
        state.Apply(new DeadLetterBlock(b));
        Assert.Equal(a.Length + b.Length, state.Bytes);
        state.Apply(new DeadLettersRemoved([3]));
        Assert.Equal(a.Length, state.Bytes);
        state.Apply(new DeadLettersPurged(2));
        Assert.Equal(0, state.Bytes);
    }
}
