using System.Text;
using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

/// <summary>
/// Inputs built to crash or stall a parser: each must give diagnostics, never an exception, a stack
/// overflow or a hang (the whole class runs in a few seconds; a quadratic path would take minutes).
/// </summary>
public class HostileInputTests
{
    private const int OneMegabyte = 1 << 20;

    private static string Repeat(string s, int totalLength)
    {
        var sb = new StringBuilder(totalLength + s.Length);
        while (sb.Length < totalLength) sb.Append(s);
        return sb.ToString();
    }

    private static DiagnosticBag ParseOk(string text, out ProgramSyntax program)
    {
        var bag = new DiagnosticBag();
        program = Parser.Parse(new SourceText(text, "hostile.vpl"), bag);
        return bag;
    }

    [Theory]
    [InlineData("(")]
    [InlineData("[")]
    [InlineData("{a: ")]
    [InlineData("-")]
    [InlineData("not ")]
    [InlineData("f(")]
    [InlineData("a ** ")]
    [InlineData("if a then ")]
    [InlineData("x => ")]
    [InlineData("a.")]
    public void DeepNestingInAnExpressionIsOneDiagnostic(string unit)
    {
        var bag = ParseOk("const X = " + Repeat(unit, 10_000 * unit.Length) + "1\nconst Y = 2", out var program);
        Assert.Equal(DiagnosticIds.NestingTooDeep, bag.Items[0].Id);
        Assert.Equal("nesting deeper than 64 levels", bag.Items[0].Message);
        Assert.Single(bag.Items, d => d.Id == DiagnosticIds.NestingTooDeep);
        // The parser recovers at the next statement.
        Assert.Contains(program.Statements, s => s is ConstDeclSyntax { Name.Text: "Y" });
    }

    [Fact]
    public void SixtyFourLevelsAreFineAndSixtyFiveAreNot()
    {
        ParseClean("const X = " + new string('(', 63) + "1" + new string(')', 63));
        var errors = Errors("const X = " + new string('(', 65) + "1" + new string(')', 65));
        Assert.Equal("1:75 VPL0030 nesting deeper than 64 levels", errors[0]);
    }

    [Theory]
    [InlineData(" + ")]
    [InlineData(" - ")]
    [InlineData(" * ")]
    [InlineData(" or ")]
    [InlineData(" and ")]
    [InlineData(" ?? ")]
    public void LongOperatorChainsAreNotNesting(string op)
    {
        // A left-associative chain is parsed in a loop and is not nesting: 100,000 terms parse cleanly (issue 8 item 7).
        var chain = string.Join(op, Enumerable.Repeat("a", 100_000));
        var bag = ParseOk("const X = " + chain + "\nconst Y = 2", out var program);
        Assert.Empty(bag.Items);
        var x = Assert.IsType<ConstDeclSyntax>(program.Statements[0]);
        Assert.Equal(99_999, x.Value.SelfAndDescendants().Count(e => e is BinaryExprSyntax));
        Assert.Contains(program.Statements, s => s is ConstDeclSyntax { Name.Text: "Y" });
    }

    [Fact]
    public void BracketsInsideAChainStillCountAsNesting()
    {
        var deep = new string('(', 64) + "a" + new string(')', 64);
        ParseClean("const X = " + string.Join(" + ", Enumerable.Repeat(deep, 1_000)));
        var errors = Errors("const X = a + " + new string('(', 65) + "a" + new string(')', 65));
        Assert.Equal("1:79 VPL0030 nesting deeper than 64 levels", errors[0]);
    }

    [Fact]
    public void DeepPatternsTypesAndBlocks()
    {
        Assert.Contains(ParseOk("pattern P = " + Repeat("SEQ(", 40_000) + "A", out _).Items, d => d.Id == DiagnosticIds.NestingTooDeep);
        Assert.Contains(ParseOk("event E { x: " + Repeat("[", 10_000) + "int }", out _).Items, d => d.Id == DiagnosticIds.NestingTooDeep);
        var blocks = new StringBuilder("fn f():\n");
        for (int i = 1; i < 200; i++) blocks.Append(' ', i).Append("if x:\n");
        blocks.Append(' ', 200).Append("return 1\n");
        Assert.Contains(ParseOk(blocks.ToString(), out _).Items, d => d.Id == DiagnosticIds.NestingTooDeep);
    }

    [Theory]
    [InlineData("(")]
    [InlineData(")")]
    [InlineData("a.")]
    [InlineData("\"")]
    [InlineData("\"a")]
    [InlineData("stream ")]
    [InlineData("stream S = ")]
    [InlineData("stream S = A.")]
    [InlineData("stream S = A -> ")]
    [InlineData("event E:\n  ")]
    [InlineData("fn f():\n  ")]
    [InlineData("/*")]
    [InlineData("//")]
    [InlineData("@")]
    [InlineData("1.")]
    [InlineData("9")]
    [InlineData("'")]
    [InlineData("$")]
    [InlineData("\0")]
    [InlineData("\\u{")]
    [InlineData("const X = [")]
    [InlineData("pattern P = SEQ(A, ")]
    [InlineData("for i in 0..2:\n  ")]
    public void OneMegabyteOfGarbage(string unit)
    {
        var bag = ParseOk(Repeat(unit, OneMegabyte), out _);
        Assert.True(bag.HasErrors);
        Assert.InRange(bag.Count, 1, DiagnosticBag.MaxDiagnostics);
    }

    [Fact]
    public void OneMegabyteOfRandomCharacters()
    {
        var random = new Random(12345);
        var chars = new char[OneMegabyte];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)random.Next(0, 0x10000);
        var bag = ParseOk(new string(chars), out _);
        Assert.True(bag.HasErrors);
        Assert.Equal(DiagnosticBag.MaxDiagnostics, bag.Count);
    }

    [Fact]
    public void InvalidUtf8DecodesToReplacementCharacters()
    {
        byte[] bytes = [.. "stream S = A .where(x == \""u8, 0xC3, 0x28, 0xFF, .. "\")\nstream T = "u8, 0xE2, 0x82, .. "B"u8];
        var text = Encoding.UTF8.GetString(bytes);
        var bag = ParseOk(text, out var program);
        // Inside a string the replacement characters are data; outside they are invalid characters.
        Assert.Equal(new[] { "2:12 VPL0001 invalid character U+FFFD '\uFFFD'" }, Render(bag));
        Assert.Equal(2, program.Statements.Count);
    }

    [Fact]
    public void NulBytes()
    {
        var bag = ParseOk("stream S\0 = A\0\0.where(x)\0", out var program);
        Assert.Equal(new[]
        {
            "1:9 VPL0001 invalid character U+0000",
            "1:14 VPL0001 invalid character U+0000",
            "1:25 VPL0001 invalid character U+0000",
        }, Render(bag));
        Assert.Single(program.Statements);
    }

    [Fact]
    public void RandomTokenSoupNeverThrows()
    {
        string[] vocabulary =
        [
            "stream", "S", "=", "A", "->", "all", "where", "as", ".", "where", "(", ")", "[", "]", "{", "}", ",", ":", "x",
            "1", "2.5", "5m", "\"s\"", "@2026-01-01", "event", "fn", "if", "else", "elif", "for", "in", "0..3", "pattern",
            "SEQ", "AND", "OR", "NOT", "+", "*", "?", "not", "and", "==", "=>", ":=", "\n", "\n    ", "\n  ", "merge", "join",
            "timer", "emit", "return", "import", "let", "var", "const", "context", "connector", "{i}", "..=", "??", "?.",
        ];
        var random = new Random(4242);
        for (int round = 0; round < 2000; round++)
        {
            var sb = new StringBuilder();
            int n = random.Next(1, 60);
            for (int i = 0; i < n; i++) sb.Append(vocabulary[random.Next(vocabulary.Length)]).Append(' ');
            ParseOk(sb.ToString(), out _);
        }
    }

    [Fact]
    public void RandomEditsOfAValidProgramNeverThrow()
    {
        const string program = """
            import "lib.vpl"
            event Login:
                user: str
                tags: [str]?
            event Tick { symbol: str, price: float }
            connector Mqtt = mqtt(host: "localhost", port: 1883)
            const LIMIT: int = 100
            fn score(x: int, y) -> float:
                let z = x * 2 ** -1
                if z > 3: return 1.0
                elif z in [1, 2]:
                    z := z - 1
                else:
                    emit Alert(v: z, m: {"a": 1})
                for i in 0..=3:
                    while i < 2:
                        break
                return if z > 0 then z else -z
            for k in 0..3:
                stream S{k} = Tick.from(Mqtt, topic: "t{k}") as t .where(t.price > {k})
            stream Fraud = Login as a -> all Purchase where user == a.user as b -> Logout
                .within(30m) .not(Reset where user == a.user) .emit(n: len(b), s: b[0:2], f: x => x?.y ?? 0)
            pattern P = SEQ(A as a, NOT B, C+ where v > a.v as c) within 1m partition by key
            stream M = merge(A, stream N = B .where(c)) .window(session: 5m)
            stream J = join(A, B).on(A.k == B.k)
            stream T = timer(5s, initial_delay: @2026-01-23T10:00:00Z - @2026-01-23)
            """;
        const string alphabet = " \n\t()[]{}:,.=->+*?\"'#/@$abc019_{}k";
        Assert.Equal(14, ParseClean(program).Statements.Count);
        var random = new Random(777);
        for (int round = 0; round < 3000; round++)
        {
            var chars = program.ToList();
            int edits = random.Next(1, 6);
            for (int e = 0; e < edits && chars.Count > 0; e++)
            {
                int at = random.Next(chars.Count);
                switch (random.Next(3))
                {
                    case 0:
                        chars.RemoveAt(at);
                        break;
                    case 1:
                        chars.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                    default:
                        int other = random.Next(chars.Count);
                        (chars[at], chars[other]) = (chars[other], chars[at]);
                        break;
                }
            }
            ParseOk(new string(chars.ToArray()), out _);
        }
    }

    [Fact]
    public void HundredThousandValidStreams()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 100_000; i++) sb.Append("stream S").Append(i).Append(" = A as a -> B where x > a.x .within(5m) .emit(v: b.x)\n");
        var bag = ParseOk(sb.ToString(), out var program);
        Assert.Equal(0, bag.Count);
        Assert.Equal(100_000, program.Statements.Count);
    }

    [Fact]
    public void HugeNumbersAndLiterals()
    {
        var bag = ParseOk("const A = " + new string('9', 100_000) + "\nconst B = " + new string('9', 5000) + ".5\nconst C = 1e" + new string('9', 1000)
            + "\nconst D = \"" + new string('x', OneMegabyte) + "\"", out var program);
        Assert.Equal(new[]
        {
            "1:11 VPL0008 integer literal is too large",
            "2:11 VPL0008 float literal is too large",
            "3:11 VPL0008 float literal is too large",
        }, Render(bag));
        Assert.Equal(OneMegabyte, ((StringLiteralSyntax)((ConstDeclSyntax)program.Statements[3]).Value).Value.Length);
    }

    [Fact]
    public void UnbalancedBrackets()
    {
        Assert.Equal(new[] { "1:27 VPL0021 expected ')' to close '(' opened at 1:21" },
            Errors("stream S = A .where((x > 1]\nstream T = B"));
        Assert.Equal(new[] { "1:14 VPL0020 unexpected ')'" }, Errors("stream S = A ))))\nstream T = B"));
        var (program, _) = ParseWithDiagnostics("stream S = A .emit(a: [1, 2}, b: {x: 1])\nstream T = B");
        Assert.Equal(2, program.Statements.Count);
    }
}
