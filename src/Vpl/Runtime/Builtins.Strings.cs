namespace Varpulis.Vpl.Runtime;

public static partial class Builtins
{
    /// <summary><c>len(x)</c>: UTF-16 length of a string, element count of an array, entry count of a map; else null.</summary>
    private static Value Len(Value v) => v.Kind switch
    {
        ValueKind.String => Value.FromInt(v.AsString.Length),
        ValueKind.Array => Value.FromInt(v.AsArray.Length),
        ValueKind.Map => Value.FromInt(v.AsMap.Count),
        _ => Value.Null,
    };

    /// <summary><c>split(s)</c>: the words of <paramref name="s"/> separated by runs of whitespace (no empty words).</summary>
    private static Value Split(Value s)
    {
        if (!s.IsString) return Value.Null;
        var parts = s.AsString.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return StringArray(parts);
    }

    /// <summary><c>split(s, sep)</c>: the pieces between occurrences of the non-empty separator (empty pieces kept,
    /// <c>split("a,,b", ",") = ["a", "", "b"]</c>). An empty separator or non-strings give null.</summary>
    private static Value Split(Value s, Value sep)
    {
        if (!s.IsString || !sep.IsString || sep.AsString.Length == 0) return Value.Null;
        return StringArray(s.AsString.Split(sep.AsString, StringSplitOptions.None));
    }

    private static Value StringArray(string[] parts)
    {
        var items = new Value[parts.Length];
        for (int i = 0; i < parts.Length; i++) items[i] = Value.FromString(parts[i]);
        return Value.FromArray(items);
    }

    /// <summary><c>join(array)</c>: <c>join(array, "")</c>.</summary>
    private static Value Join(Value a) => Join(a, Value.FromString(string.Empty));

    /// <summary><c>join(array, sep)</c>: the elements rendered as <c>to_string</c> renders them (a null element is
    /// <c>"null"</c>), separated by <paramref name="sep"/>. A non-array or non-string separator gives null.</summary>
    private static Value Join(Value a, Value sep)
    {
        if (!a.IsArray || !sep.IsString) return Value.Null;
        var items = a.AsArray;
        var parts = new string[items.Length];
        for (int i = 0; i < items.Length; i++) parts[i] = items[i].ToString();
        return Value.FromString(string.Join(sep.AsString, parts));
    }

    /// <summary><c>replace(s, old, new)</c>: every ordinal occurrence of <paramref name="old"/> replaced; an empty
    /// <paramref name="old"/> leaves <paramref name="s"/> unchanged; non-strings give null.</summary>
    private static Value Replace(Value s, Value old, Value with)
    {
        if (!s.IsString || !old.IsString || !with.IsString) return Value.Null;
        if (old.AsString.Length == 0) return s;
        return Value.FromString(s.AsString.Replace(old.AsString, with.AsString, StringComparison.Ordinal));
    }

    /// <summary>
    /// <c>contains(c, x)</c>: <c>x in c</c> — substring of a string, element of an array, key of a map. A null or
    /// non-container <paramref name="c"/> gives null; a null <paramref name="x"/> gives false.
    /// </summary>
    private static Value Contains(Value c, Value x)
    {
        if (c.Kind is not (ValueKind.String or ValueKind.Array or ValueKind.Map)) return Value.Null;
        return Value.FromBool(ValueOps.Contains(c, x) == 1);
    }

    /// <summary>
    /// <c>substring(s, start[, length])</c>, 0-based: a negative start counts from the end (<c>substring("hello", -3) =
    /// "llo"</c>); start and length are clamped to the string (<c>substring("abc", 1, 99) = "bc"</c>, a start past the end
    /// gives <c>""</c>). A negative length, non-int positions or a non-string give null.
    /// </summary>
    private static Value Substring(Value s, Value start, Value length, bool hasLength)
    {
        if (!s.IsString || !start.IsInt || (hasLength && (!length.IsInt || length.AsInt < 0))) return Value.Null;
        string str = s.AsString;
        long from = start.AsInt;
        if (from < 0) from = Math.Max(0, str.Length + from);
        if (from >= str.Length) return Value.FromString(string.Empty);
        long count = str.Length - from;
        if (hasLength) count = Math.Min(count, length.AsInt);
        return Value.FromString(str.Substring((int)from, (int)count));
    }
}
