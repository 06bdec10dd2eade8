using System.Text.Json.Nodes;

namespace Varpulis.Vpl.Runtime.Patterns;

/// <summary>
/// An exact trend count or sum: a 64-bit integer that continues as a float once it would overflow
/// (vpl.md §5.8: counts never wrap), or a float from the start when a float value was summed.
/// </summary>
internal readonly struct TrendNumber
{
    private readonly long _long;
    private readonly double _double;
    private readonly bool _isFloat;

    private TrendNumber(long l)
    {
        _long = l;
        _double = 0;
        _isFloat = false;
    }

    private TrendNumber(double d)
    {
        _long = 0;
        _double = d;
        _isFloat = true;
    }

    public static readonly TrendNumber Zero = new(0L);
    public static readonly TrendNumber One = new(1L);

    public bool IsZero => _isFloat ? _double == 0 : _long == 0;

    public bool IsPositive => _isFloat ? _double > 0 : _long > 0;

    public double AsDouble => _isFloat ? _double : _long;

    public static TrendNumber FromLong(long l) => new(l);

    /// <summary>An int or float value as a number; null for anything else.</summary>
    public static TrendNumber? FromValue(Value v) => v.IsInt ? new TrendNumber(v.AsInt) : v.IsFloat ? new TrendNumber(v.AsFloat) : null;

    public static TrendNumber operator +(TrendNumber a, TrendNumber b)
    {
        if (!a._isFloat && !b._isFloat)
        {
            long r = a._long + b._long;
            if (((a._long ^ r) & (b._long ^ r)) >= 0) return new TrendNumber(r);
        }
        return new TrendNumber(a.AsDouble + b.AsDouble);
    }

    public static TrendNumber operator *(TrendNumber a, TrendNumber b)
    {
        if (!a._isFloat && !b._isFloat)
        {
            long high = Math.BigMul(a._long, b._long, out long low);
            if ((high == 0 && low >= 0) || (high == -1 && low < 0)) return new TrendNumber(low);
        }
        return new TrendNumber(a.AsDouble * b.AsDouble);
    }

    public Value ToValue() => _isFloat ? Value.FromFloat(_double) : Value.FromInt(_long);

    public JsonNode? Encode() => CheckpointCodec.EncodeValue(ToValue());

    public static TrendNumber Decode(JsonNode? node)
    {
        var v = CheckpointCodec.DecodeValue(node, new TypeRegistry());
        return FromValue(v) ?? Zero;
    }

    public override string ToString() => ToValue().ToString();
}
