using System.Runtime.CompilerServices;

namespace Varpulis.Vpl.Io;

/// <summary>
/// A small bounded cache from short UTF-8 byte sequences to their strings, so a file with a million events over
/// three symbols holds three strings, not a million. Direct-mapped: a colliding key replaces the entry. Not
/// thread-safe.
/// </summary>
internal sealed class Utf8StringInterner
{
    public const int MaxKeyBytes = 64;
    private const int Capacity = 4096;

    private readonly byte[]?[] _keys = new byte[]?[Capacity];
    private readonly string?[] _values = new string?[Capacity];

    /// <summary>Looks a key up; on a miss <paramref name="slot"/> is where <see cref="Store"/> should put it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ReadOnlySpan<byte> key, out string value, out int slot)
    {
        slot = (int)(Hash(key) & (Capacity - 1));
        var k = _keys[slot];
        if (k is not null && key.SequenceEqual(k))
        {
            value = _values[slot]!;
            return true;
        }
        value = null!;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Store(int slot, ReadOnlySpan<byte> key, string value)
    {
        var k = _keys[slot];
        if (k is null || k.Length != key.Length) k = _keys[slot] = new byte[key.Length];
        key.CopyTo(k);
        _values[slot] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<byte> key)
    {
        uint h = 2166136261;
        foreach (byte b in key) h = (h ^ b) * 16777619;
        return h ^ (h >> 15);
    }
}
