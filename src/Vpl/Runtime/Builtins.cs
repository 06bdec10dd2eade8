namespace Varpulis.Vpl.Runtime;

/// <summary>
/// One built-in function: its name, arity and implementation. Every built-in is pure (same arguments,
/// same result), so calls with constant arguments may be folded at compile time, and total: no input
/// makes it throw; an argument of the wrong kind gives <c>null</c>.
/// </summary>
public sealed class BuiltinFunction
{
    public required string Name { get; init; }

    public required int MinArgs { get; init; }

    /// <summary><see cref="int.MaxValue"/> for variadic functions (<c>coalesce</c>, <c>min</c>, <c>max</c>).</summary>
    public required int MaxArgs { get; init; }

    /// <summary>The general entry point. An argument count outside <c>[MinArgs, MaxArgs]</c> gives <c>null</c>.</summary>
    public required Func<Value[], Value> Invoke { get; init; }

    /// <summary>Allocation-free entry point for a call with exactly one argument, when the function accepts one.</summary>
    public Func<Value, Value>? Invoke1 { get; init; }

    /// <summary>Allocation-free entry point for a call with exactly two arguments, when the function accepts two.</summary>
    public Func<Value, Value, Value>? Invoke2 { get; init; }

    public override string ToString() => Name;
}

/// <summary>
/// The built-in functions of vpl.md §6.3. <c>now()</c> is not here: it reads the current event's time and is
/// compiled by the binder. The per-function behaviour (including null and wrong kinds) is documented on each
/// implementation method.
/// </summary>
/// <remarks>
/// General rules: a <c>null</c> argument gives <c>null</c> unless stated otherwise (<c>is_null</c>,
/// <c>coalesce</c>, <c>type_of</c>, <c>to_string</c>, <c>min</c>/<c>max</c> skip nulls); float-valued math
/// returns <c>null</c> when a finite input would give NaN or an infinity (<c>sqrt(-1)</c>, <c>log(0)</c>,
/// <c>exp(1000)</c>), while NaN and infinite inputs propagate. String lengths and positions count UTF-16 code
/// units, positions are 0-based.
/// </remarks>
public static partial class Builtins
{
    private static readonly Dictionary<string, BuiltinFunction> Table = Build();

    /// <summary>Looks a built-in up by name (case-sensitive).</summary>
    public static bool TryGet(string name, out BuiltinFunction f) => Table.TryGetValue(name, out f!);

    /// <summary>Every built-in's name, sorted (for did-you-mean hints and documentation).</summary>
    public static IEnumerable<string> Names { get; } = Table.Keys.Order(StringComparer.Ordinal).ToArray();

    private static Dictionary<string, BuiltinFunction> Build()
    {
        var t = new Dictionary<string, BuiltinFunction>(StringComparer.Ordinal);

        // Math.
        Unary(t, "abs", Abs);
        Unary(t, "sqrt", v => FloatMath(v, Math.Sqrt));
        Unary(t, "floor", v => RoundToInt(v, Math.Floor));
        Unary(t, "ceil", v => RoundToInt(v, Math.Ceiling));
        Fixed(t, "round", 1, 2, a => a.Length == 1 ? Round1(a[0]) : Round2(a[0], a[1]), Round1, Round2);
        Binary(t, "pow", ValueOps.Power);
        Fixed(t, "log", 1, 2, a => a.Length == 1 ? Log(a[0]) : Log(a[0], a[1]), Log, Log);
        Unary(t, "log10", v => FloatMath(v, Math.Log10));
        Unary(t, "exp", v => FloatMath(v, Math.Exp));
        Unary(t, "sin", v => FloatMath(v, Math.Sin));
        Unary(t, "cos", v => FloatMath(v, Math.Cos));
        Unary(t, "tan", v => FloatMath(v, Math.Tan));
        Fixed(t, "min", 1, int.MaxValue, a => Extreme(a, wantMax: false), v => Extreme1(v, wantMax: false), (x, y) => Extreme2(x, y, wantMax: false));
        Fixed(t, "max", 1, int.MaxValue, a => Extreme(a, wantMax: true), v => Extreme1(v, wantMax: true), (x, y) => Extreme2(x, y, wantMax: true));

        // Strings.
        Unary(t, "len", Len);
        Unary(t, "lower", v => v.IsString ? Value.FromString(v.AsString.ToLowerInvariant()) : Value.Null);
        Unary(t, "upper", v => v.IsString ? Value.FromString(v.AsString.ToUpperInvariant()) : Value.Null);
        Unary(t, "trim", v => v.IsString ? Value.FromString(v.AsString.Trim()) : Value.Null);
        Fixed(t, "split", 1, 2, a => a.Length == 1 ? Split(a[0]) : Split(a[0], a[1]), Split, Split);
        Fixed(t, "join", 1, 2, a => a.Length == 1 ? Join(a[0]) : Join(a[0], a[1]), Join, Join);
        Fixed(t, "replace", 3, 3, a => Replace(a[0], a[1], a[2]));
        Binary(t, "starts_with", (s, p) => s.IsString && p.IsString ? Value.FromBool(s.AsString.StartsWith(p.AsString, StringComparison.Ordinal)) : Value.Null);
        Binary(t, "ends_with", (s, p) => s.IsString && p.IsString ? Value.FromBool(s.AsString.EndsWith(p.AsString, StringComparison.Ordinal)) : Value.Null);
        Binary(t, "contains", Contains);
        Fixed(t, "substring", 2, 3, a => Substring(a[0], a[1], a.Length == 3 ? a[2] : Value.Null, a.Length == 3), null, (s, i) => Substring(s, i, Value.Null, false));
        Unary(t, "to_string", v => Value.FromString(v.ToString()));

        // Conversion and tests.
        Unary(t, "to_int", ToInt);
        Unary(t, "to_float", ToFloat);
        Unary(t, "is_null", v => Value.FromBool(v.IsNull));
        Unary(t, "type_of", v => Value.FromString(ValueOps.TypeName(v)));
        Fixed(t, "coalesce", 1, int.MaxValue, Coalesce, v => v, (x, y) => x.IsNull ? y : x);

        // Collections.
        Unary(t, "first", v => v.IsArray && v.AsArray.Length > 0 ? v.AsArray[0] : Value.Null);
        Unary(t, "last", v => v.IsArray && v.AsArray.Length > 0 ? v.AsArray[^1] : Value.Null);
        Unary(t, "sum", v => v.IsArray ? Aggregates.AggregateFunctions.Aggregate(Aggregates.AggregateFunctions.Sum, [], v.AsArray) : Value.Null);
        Unary(t, "avg", v => v.IsArray ? Aggregates.AggregateFunctions.Aggregate(Aggregates.AggregateFunctions.Avg, [], v.AsArray) : Value.Null);
        Unary(t, "sort", Sort);
        Unary(t, "reverse", Reverse);
        Unary(t, "keys", Keys);
        Unary(t, "values", Values);
        Fixed(t, "range", 1, 3, a => a.Length switch
        {
            1 => Range(Value.FromInt(0), a[0], Value.FromInt(1)),
            2 => Range(a[0], a[1], Value.FromInt(1)),
            _ => Range(a[0], a[1], a[2]),
        }, v => Range(Value.FromInt(0), v, Value.FromInt(1)), (x, y) => Range(x, y, Value.FromInt(1)));

        // Time.
        Unary(t, "timestamp", Timestamp);
        return t;
    }

    private static void Unary(Dictionary<string, BuiltinFunction> t, string name, Func<Value, Value> f)
        => Fixed(t, name, 1, 1, a => f(a[0]), f);

    private static void Binary(Dictionary<string, BuiltinFunction> t, string name, Func<Value, Value, Value> f)
        => Fixed(t, name, 2, 2, a => f(a[0], a[1]), null, f);

    private static void Fixed(
        Dictionary<string, BuiltinFunction> t,
        string name,
        int min,
        int max,
        Func<Value[], Value> body,
        Func<Value, Value>? one = null,
        Func<Value, Value, Value>? two = null)
    {
        t[name] = new BuiltinFunction
        {
            Name = name,
            MinArgs = min,
            MaxArgs = max,
            Invoke = args => args is null || args.Length < min || args.Length > max ? Value.Null : body(args),
            Invoke1 = min <= 1 && max >= 1 ? one : null,
            Invoke2 = min <= 2 && max >= 2 ? two : null,
        };
    }
}
