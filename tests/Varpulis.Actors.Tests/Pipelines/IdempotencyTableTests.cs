using System.Text;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Tests.Pipelines;

/// <summary>Remembered replies: the first reply per key, its body checked, bounded by count and age, carried in snapshots.</summary>
public sealed class IdempotencyTableTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"events\":[]}");
    private static readonly IngestResult Reply = new(3, 1, [new IngestError(2, "bad")], "[{\"x\":1}]"u8.ToArray(), 1, 17);
    private const long Hour = 3_600_000_000_000;

    [Fact]
    public void AKeyIsNewThenPendingThenAnswered()
    {
        var t = new IdempotencyTable();
        Assert.Equal(IdempotencyTable.Lookup.New, t.Find("k", Body));
        t.Begin("k", Body, 0);
        Assert.Equal(IdempotencyTable.Lookup.Pending, t.Find("k", Body));
        t.Complete("k", Body, 0, Reply);
        Assert.Equal(IdempotencyTable.Lookup.Done, t.Find("k", Body));
        Assert.Same(Reply, t.ReplyOf("k"));
    }

    [Fact]
    public void TheSameKeyWithAnotherBodyIsAMismatch()
    {
        var t = new IdempotencyTable();
        t.Complete("k", Body, 0, Reply);
        Assert.Equal(IdempotencyTable.Lookup.Mismatch, t.Find("k", Encoding.UTF8.GetBytes("{\"events\":[1]}")));
    }

    [Fact]
    public void KeysOlderThanADayAreForgotten()
    {
        var t = new IdempotencyTable();
        t.Complete("old", Body, 0, Reply);
        t.Complete("new", Body, 24 * Hour - 1, Reply);
        Assert.Equal(2, t.Count);
        t.Complete("newer", Body, 24 * Hour + 1, Reply);
        Assert.Equal(IdempotencyTable.Lookup.New, t.Find("old", Body));
        Assert.Equal(IdempotencyTable.Lookup.Done, t.Find("new", Body));
    }

    [Fact]
    public void OnlyTheLastHundredThousandKeysAreKept()
    {
        var t = new IdempotencyTable();
        for (int i = 0; i <= IdempotencyTable.MaxKeys; i++) t.Complete("k" + i, Body, i, Reply);
        Assert.Equal(IdempotencyTable.MaxKeys, t.Count);
        Assert.Equal(IdempotencyTable.Lookup.New, t.Find("k0", Body));
        Assert.Equal(IdempotencyTable.Lookup.Done, t.Find("k1", Body));
    }

    [Fact]
    public void ExportAndImportKeepEveryAnsweredKeyInOrder()
    {
        var t = new IdempotencyTable();
        t.Complete("a", Body, 1, Reply);
        t.Begin("in-flight", Body, 2);
        t.Complete("b", Body, 3, Reply);
        var exported = t.Export();
        Assert.Equal(["a", "b"], exported.Select(r => r.Key));
        var back = new IdempotencyTable();
        back.Import(exported);
        Assert.Equal(IdempotencyTable.Lookup.Done, back.Find("b", Body));
        Assert.Equal(IdempotencyTable.Lookup.New, back.Find("in-flight", Body));
        Assert.Equal(IdempotencyTable.Lookup.Mismatch, back.Find("a", "x"u8.ToArray()));
    }
}
