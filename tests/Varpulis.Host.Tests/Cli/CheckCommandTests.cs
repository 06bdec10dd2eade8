using Varpulis.Host.Cli;

namespace Varpulis.Host.Tests.Cli;

public class CheckCommandTests
{
    private static (int Code, string Output) Check(string path)
    {
        var output = new StringWriter();
        int code = CheckCommand.Run(path, output);
        return (code, output.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void ValidProgramSaysSyntaxOkWithTheStatementCount()
    {
        using var dir = new TempDir();
        var p = dir.File("ok.vpl", "event Tick:\n    price: float\nconst LIMIT = 50.0\nstream S = Tick .where(price > LIMIT) .emit(p: price)\n");
        var (code, output) = Check(p);
        Assert.Equal(0, code);
        Assert.Equal("Syntax OK (3 statements)\n", output);
    }

    [Fact]
    public void LoopExpansionAndImportsCountTheirStatements()
    {
        using var dir = new TempDir();
        dir.File("types.vpl", "event Tick:\n    price: float\n");
        var p = dir.File("main.vpl", "import \"types.vpl\"\nfor i in 0..3:\n    stream S{i} = Tick .where(price > {i}) .emit(p: price)\n");
        var (code, output) = Check(p);
        Assert.Equal(0, code);
        Assert.Equal("Syntax OK (4 statements)\n", output);
    }

    [Fact]
    public void ErrorsArePrintedWithPositionSourceLineCaretAndHint()
    {
        using var dir = new TempDir();
        var p = dir.File("bad.vpl", "event Tick:\n    price: float\nstream S = Tick .where(prise > 1) .emit(p: price)\n");
        var (code, output) = Check(p);
        Assert.Equal(1, code);
        Assert.Equal(
            $"{p}:3:24: error VPL0102: event type 'Tick' has no field 'prise'\n" +
            "  stream S = Tick .where(prise > 1) .emit(p: price)\n" +
            "                         ^^^^^\n" +
            "  hint: did you mean 'price'?\n" +
            "1 error\n",
            output);
    }

    [Fact]
    public void WarningsAreShownAndTheProgramStillPasses()
    {
        using var dir = new TempDir();
        var p = dir.File("warn.vpl", "stream S = Tick .aggregate(n: count()) .emit(n: n)\n");
        var (code, output) = Check(p);
        Assert.Equal(0, code);
        Assert.StartsWith($"{p}:1:18: warning VPL0124: '.aggregate' without a '.window' aggregates each event on its own\n", output);
        Assert.EndsWith("Syntax OK (1 statement)\n", output);
    }

    [Fact]
    public void MissingFileIsAnError()
    {
        using var dir = new TempDir();
        var (code, output) = Check(dir.Combine("nope.vpl"));
        Assert.Equal(1, code);
        Assert.StartsWith($"error: cannot read '{dir.Combine("nope.vpl")}':", output);
    }

    [Fact]
    public void SeveralErrorsAreAllReported()
    {
        using var dir = new TempDir();
        var p = dir.File("two.vpl", "stream A = X .windw(5)\nstream B = Y .emit(v: nosuchfn(1))\n");
        var (code, output) = Check(p);
        Assert.Equal(1, code);
        Assert.Contains($"{p}:1:15: error VPL0105: unknown operator '.windw'", output);
        Assert.Contains("hint: did you mean 'window'?", output);
        Assert.Contains($"{p}:2:23: error VPL0103: unknown function 'nosuchfn'", output);
        Assert.EndsWith("2 errors\n", output);
    }
}
