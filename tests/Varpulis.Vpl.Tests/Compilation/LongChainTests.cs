using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Tests.Patterns;
using Xunit;

namespace Varpulis.Vpl.Tests.Compilation;

/// <summary>
/// Left-associative chains of any length (issue 8 item 7): they compile and evaluate without recursing per
/// element (100,000 terms would overflow the stack), with exact results; an allow-list is a set lookup.
/// </summary>
public class LongChainTests
{
    private static string Chain(string op, int n, Func<int, string> term) => string.Join(op, Enumerable.Range(0, n).Select(term));

    private static List<string> Run(string program, params (string Type, (string Name, Value Value)[] Fields)[] events)
    {
        var p = PatternKit.Compile(program);
        var input = events.Select((e, i) => PatternKit.Make(p, e.Type, i, e.Fields)).ToList();
        return PatternKit.Run(p, input).Select(PatternKit.Render).ToList();
    }

    [Theory]
    [InlineData(66)]
    [InlineData(100_000)]
    public void ASumOfManyTermsIsExact(int n)
    {
        var outputs = Run($"stream S = E .where({Chain(" + ", n, _ => "v")} > 0) .emit(total: {Chain(" + ", n, _ => "v")}, mixed: {Chain(" - ", n, i => i == 0 ? "w" : "v")})",
            ("E", [("v", Value.FromInt(3)), ("w", Value.FromInt(1_000_000))]),
            ("E", [("v", Value.FromInt(0)), ("w", Value.FromInt(0))]),
            ("E", [("v", Value.FromFloat(0.5)), ("w", Value.FromFloat(0))]));
        Assert.Equal(
            [
                $"S{{total={3L * n},mixed={1_000_000L - 3L * (n - 1)}}}@0",
                $"S{{total={Value.FromFloat(0.5 * n)},mixed={Value.FromFloat(-0.5 * (n - 1))}}}@2",
            ],
            outputs);
    }

    [Theory]
    [InlineData(70)]
    [InlineData(10_000)]
    [InlineData(100_000)]
    public void AnAllowListOfManyAlternativesFilters(int n)
    {
        // x == 0 or x == 2 or ... : the even numbers below 2n.
        var outputs = Run($"stream S = E .where({Chain(" or ", n, i => $"x == {2 * i}")}) .emit(x: x)",
            ("E", [("x", Value.FromInt(0))]),
            ("E", [("x", Value.FromInt(1))]),
            ("E", [("x", Value.FromInt(2 * n - 2))]),
            ("E", [("x", Value.FromInt(2 * n))]),
            ("E", [("x", Value.FromFloat(4.0))]),
            ("E", [("x", Value.FromFloat(4.5))]),
            ("E", [("x", Value.FromString("4"))]),
            ("E", [("y", Value.FromInt(4))]));
        Assert.Equal(["S{x=0}@0", $"S{{x={2 * n - 2}}}@2", "S{x=4.0}@4"], outputs);
    }

    [Fact]
    public void ALongOrOverDifferentFieldsIsEvaluatedInOrder()
    {
        // Not an allow-list (two fields, one non-literal): the fold evaluates the terms left to right.
        string where = Chain(" or ", 10_000, i => i % 2 == 0 ? $"x == {i}" : $"y == x + {i}");
        var outputs = Run($"stream S = E .where({where}) .emit(x: x, y: y)",
            ("E", [("x", Value.FromInt(9_998)), ("y", Value.FromInt(0))]),
            ("E", [("x", Value.FromInt(1)), ("y", Value.FromInt(9_000))]),
            ("E", [("x", Value.FromInt(1)), ("y", Value.FromInt(10_001))]),
            ("E", [("x", Value.FromInt(9_999)), ("y", Value.FromInt(0))]));
        Assert.Equal(["S{x=9998,y=0}@0", "S{x=1,y=9000}@1"], outputs);
    }

    [Fact]
    public void LongAndAndCoalesceChainsAreExact()
    {
        string all = Chain(" and ", 100_000, i => $"x > {i % 7}");
        string first = Chain(" ?? ", 100_000, i => i == 99_999 ? "5" : "missing");
        var outputs = Run($"stream S = E .where({all}) .emit(x: x, d: {first})",
            ("E", [("x", Value.FromInt(7))]),
            ("E", [("x", Value.FromInt(6))]),
            ("E", [("x", Value.FromInt(100))]));
        Assert.Equal(["S{x=7,d=5}@0", "S{x=100,d=5}@2"], outputs);
    }

    [Fact]
    public void ALongConstantChainFolds()
    {
        var outputs = Run($"const N = {Chain(" + ", 100_000, _ => "1")}\nconst M = 2 * {Chain(" * ", 50, _ => "1")} + {Chain(" + ", 1_000, _ => "1")}\nstream S = E .emit(n: N, m: M, k: {Chain(" + ", 20, _ => "1")} + x + {Chain(" + ", 20, _ => "1")})",
            ("E", [("x", Value.FromInt(100))]));
        Assert.Equal(["S{n=100000,m=1002,k=140}@0"], outputs);
    }

    [Fact]
    public void APatternsTrailingWhereWithThousandsOfConjuncts()
    {
        // Each conjunct names a and b only: all of them move into the step of b (vpl.md §5.1).
        string where = "a.k == b.k and " + Chain(" and ", 5_000, i => $"b.x != {i + 10}");
        var outputs = Run($"stream M = A as a -> B as b .where({where}) .emit(a: a.id, b: b.id)",
            ("A", [("id", Value.FromInt(1)), ("k", Value.FromInt(1))]),
            ("B", [("id", Value.FromInt(2)), ("k", Value.FromInt(2)), ("x", Value.FromInt(0))]),
            ("B", [("id", Value.FromInt(3)), ("k", Value.FromInt(1)), ("x", Value.FromInt(20))]),
            ("B", [("id", Value.FromInt(4)), ("k", Value.FromInt(1)), ("x", Value.FromInt(5_010))]));
        Assert.Equal(["M{a=1,b=4}@3"], outputs);
    }
}
