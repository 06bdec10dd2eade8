using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Varpulis.Vpl.Runtime;

/// <summary>The state of one partition, which knows the key it is stored under in a <see cref="PartitionMap{T}"/>.</summary>
internal interface IPartitionState
{
    Value Key { get; }
}

/// <summary>
/// The per-key states of a partitioned operator: a dictionary by key value with a direct-mapped front cache for
/// string keys. The event readers intern strings, so the events of one key carry the same string instance; a
/// cache hit costs a slot computed from the string's length and last four characters and a reference check,
/// instead of hashing every character (randomized Marvin) and comparing them. Keys that share their ends share a
/// slot and take the dictionary more often; the answer is the same either way. A slot names a state only under the very string instance that state's own key holds, so
/// removing a state clears the one slot that can name it; other instances of an equal string simply miss and
/// take the dictionary.
/// </summary>
internal sealed class PartitionMap<T> where T : class, IPartitionState
{
    private const int MinSlots = 64;
    private const int MaxSlots = 16384;

    private int _shift = 32 - 6;

    private readonly Dictionary<Value, T> _map = new();
    private string?[] _keys = new string?[MinSlots];
    private T?[] _states = new T?[MinSlots];

    public int Count => _map.Count;

    public Dictionary<Value, T>.ValueCollection Values => _map.Values;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(Value key, [NotNullWhen(true)] out T? state)
    {
        if (!key.IsString) return _map.TryGetValue(key, out state);
        string s = key.AsString;
        int slot = SlotOf(s);
        if (ReferenceEquals(_keys[slot], s))
        {
            state = _states[slot]!;
            return true;
        }
        return Miss(key, s, slot, out state);
    }

    private bool Miss(Value key, string s, int slot, [NotNullWhen(true)] out T? state)
    {
        if (!_map.TryGetValue(key, out state)) return false;
        if (state.Key.IsString && ReferenceEquals(state.Key.AsString, s))
        {
            _keys[slot] = s;
            _states[slot] = state;
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SlotOf(string s)
    {
        uint h = (uint)s.Length;
        for (int i = Math.Max(0, s.Length - 4); i < s.Length; i++) h = h * 31 + s[i];
        return (int)((h * 0x9E3779B1u) >> _shift);
    }

    /// <summary>Adds <paramref name="state"/>, whose <see cref="IPartitionState.Key"/> is <paramref name="key"/>.</summary>
    public void Add(Value key, T state)
    {
        _map.Add(key, state);
        if (_map.Count * 4 > _keys.Length && _keys.Length < MaxSlots)
        {
            // Slots are a cache: a bigger table starts empty and fills on the next lookups.
            _keys = new string?[_keys.Length * 2];
            _states = new T?[_keys.Length];
            _shift--;
        }
    }

    public bool Remove(Value key)
    {
        if (!_map.Remove(key, out var state)) return false;
        if (state.Key.IsString)
        {
            string s = state.Key.AsString;
            int slot = SlotOf(s);
            if (ReferenceEquals(_keys[slot], s))
            {
                _keys[slot] = null;
                _states[slot] = null;
            }
        }
        return true;
    }

    public void Clear()
    {
        _map.Clear();
        Array.Clear(_keys);
        Array.Clear(_states);
    }
}
