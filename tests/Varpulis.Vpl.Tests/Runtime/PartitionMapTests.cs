using Varpulis.Vpl.Runtime;
using Xunit;

namespace Varpulis.Vpl.Tests.Runtime;

public class PartitionMapTests
{
    private sealed class State(Value key) : IPartitionState
    {
        public Value Key { get; } = key;
    }

    private static string Fresh(string s) => new(s.AsSpan());

    [Fact]
    public void AnEqualStringThatIsAnotherInstanceFindsTheSameState()
    {
        var map = new PartitionMap<State>();
        var a = new State(Value.FromString(Fresh("user-1")));
        map.Add(a.Key, a);

        Assert.True(map.TryGetValue(a.Key, out var same));
        Assert.Same(a, same);
        Assert.True(map.TryGetValue(Value.FromString(Fresh("user-1")), out var viaCopy));
        Assert.Same(a, viaCopy);
        Assert.True(map.TryGetValue(a.Key, out var again));
        Assert.Same(a, again);
        Assert.False(map.TryGetValue(Value.FromString("user-2"), out _));
    }

    [Fact]
    public void ARemovedStateIsNotFoundAgainUnderAnyInstanceOfItsKey()
    {
        var map = new PartitionMap<State>();
        string key = Fresh("u7"), copy = Fresh("u7");
        var a = new State(Value.FromString(key));
        map.Add(a.Key, a);
        Assert.True(map.TryGetValue(Value.FromString(key), out _));
        Assert.True(map.TryGetValue(Value.FromString(copy), out _));

        Assert.True(map.Remove(Value.FromString(copy)));

        Assert.False(map.TryGetValue(Value.FromString(key), out _));
        Assert.False(map.TryGetValue(Value.FromString(copy), out _));
        Assert.False(map.Remove(Value.FromString(key)));
        Assert.Equal(0, map.Count);

        var b = new State(Value.FromString(copy));
        map.Add(b.Key, b);
        Assert.True(map.TryGetValue(Value.FromString(key), out var found));
        Assert.Same(b, found);
    }

    [Fact]
    public void ManyKeysOfMixedKindsEachFindTheirOwnStateWhileTheCacheGrowsAndAfterRemovals()
    {
        var map = new PartitionMap<State>();
        var keys = new List<Value>();
        for (int i = 0; i < 5000; i++) keys.Add(i % 3 == 0 ? Value.FromInt(i) : Value.FromString($"k{i}"));
        foreach (var k in keys) map.Add(k, new State(k));
        for (int round = 0; round < 2; round++)
        {
            foreach (var k in keys)
            {
                Assert.True(map.TryGetValue(k, out var st));
                Assert.Equal(k, st.Key);
            }
        }
        for (int i = 0; i < keys.Count; i += 2) Assert.True(map.Remove(keys[i]));
        for (int i = 0; i < keys.Count; i++)
        {
            bool found = map.TryGetValue(keys[i], out var st);
            Assert.Equal(i % 2 == 1, found);
            if (found) Assert.Equal(keys[i], st!.Key);
        }
        Assert.Equal(2500, map.Count);

        map.Clear();
        Assert.Equal(0, map.Count);
        Assert.False(map.TryGetValue(keys[1], out _));
    }
}
