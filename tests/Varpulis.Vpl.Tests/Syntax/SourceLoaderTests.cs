using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Syntax;
using Xunit;
using static Varpulis.Vpl.Tests.Syntax.SyntaxTestHelpers;

namespace Varpulis.Vpl.Tests.Syntax;

public class SourceLoaderTests
{
    private static Func<string, string, SourceText?> Resolver(Dictionary<string, string> files, List<(string, string)>? calls = null)
        => (path, from) =>
        {
            calls?.Add((path, from));
            return files.TryGetValue(path, out var text) ? new SourceText(text, path) : null;
        };

    private static string Names(IEnumerable<StatementSyntax> statements) => string.Join(" ", statements.Select(s => s switch
    {
        EventDeclSyntax e => e.Name.Text,
        StreamDeclSyntax st => st.Name.Text,
        ConstDeclSyntax c => c.Name.Text,
        _ => s.GetType().Name,
    }));

    [Fact]
    public void ImportedStatementsComeFirstAtTheImport()
    {
        var files = new Dictionary<string, string> { ["events.vpl"] = "event A {}\nevent B {}" };
        var calls = new List<(string, string)>();
        var bag = new DiagnosticBag();
        var root = new SourceText("const X = 1\nimport \"events.vpl\"\nstream S = A", "main.vpl");
        var statements = SourceLoader.Load(root, Resolver(files, calls), bag);
        Assert.Equal(0, bag.Count);
        Assert.Equal("X A B S", Names(statements));
        Assert.Equal(new[] { ("events.vpl", "main.vpl") }, calls);
        Assert.Equal("main.vpl", statements[0].File.Path);
        Assert.Equal("events.vpl", statements[1].File.Path);
        Assert.Equal("main.vpl", statements[3].File.Path);
    }

    [Fact]
    public void NestedImportsAndASharedFileIncludedOnce()
    {
        var files = new Dictionary<string, string>
        {
            ["a.vpl"] = "import \"common.vpl\"\nconst A = 1",
            ["b.vpl"] = "import \"common.vpl\"\nconst B = 2",
            ["common.vpl"] = "event Common {}",
        };
        var calls = new List<(string, string)>();
        var bag = new DiagnosticBag();
        var statements = SourceLoader.Load(new SourceText("import \"a.vpl\"\nimport \"b.vpl\"", "main.vpl"), Resolver(files, calls), bag);
        Assert.Equal(0, bag.Count);
        Assert.Equal("Common A B", Names(statements));
        Assert.Equal(new[] { ("a.vpl", "main.vpl"), ("common.vpl", "a.vpl"), ("b.vpl", "main.vpl"), ("common.vpl", "b.vpl") }, calls);
    }

    [Fact]
    public void CycleIsAnError()
    {
        var files = new Dictionary<string, string>
        {
            ["a.vpl"] = "import \"b.vpl\"\nconst A = 1",
            ["b.vpl"] = "const B = 1\nimport \"a.vpl\"",
        };
        var bag = new DiagnosticBag();
        var statements = SourceLoader.Load(new SourceText("import \"a.vpl\"", "main.vpl"), Resolver(files), bag);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.ImportCycle, d.Id);
        Assert.Equal("import cycle: a.vpl -> b.vpl -> a.vpl", d.Message);
        Assert.Equal("b.vpl", d.Source.Path);
        Assert.Equal((2, 1), (d.Line, d.Column));
        Assert.Equal("B A", Names(statements));
    }

    [Fact]
    public void SelfImportIsACycle()
    {
        var bag = new DiagnosticBag();
        SourceLoader.Load(new SourceText("import \"main.vpl\"", "main.vpl"), Resolver(new() { ["main.vpl"] = "" }), bag);
        Assert.Equal("import cycle: main.vpl -> main.vpl", Assert.Single(bag.Items).Message);
    }

    [Fact]
    public void DepthElevenIsAnError()
    {
        var files = new Dictionary<string, string>();
        for (int i = 1; i <= 11; i++) files[$"f{i}.vpl"] = (i < 11 ? $"import \"f{i + 1}.vpl\"\n" : "") + $"const C{i} = {i}";
        var bag = new DiagnosticBag();
        var statements = SourceLoader.Load(new SourceText("import \"f1.vpl\"", "main.vpl"), Resolver(files), bag);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.ImportTooDeep, d.Id);
        Assert.Equal("imports are nested deeper than 10 levels", d.Message);
        Assert.Equal("f10.vpl", d.Source.Path);
        Assert.Equal("C10 C9 C8 C7 C6 C5 C4 C3 C2 C1", Names(statements));

        // Ten levels are fine.
        files["f10.vpl"] = "const C10 = 10";
        var ok = new DiagnosticBag();
        SourceLoader.Load(new SourceText("import \"f1.vpl\"", "main.vpl"), Resolver(files), ok);
        Assert.Equal(0, ok.Count);
    }

    [Fact]
    public void MissingFile()
    {
        var bag = new DiagnosticBag();
        var statements = SourceLoader.Load(new SourceText("const X = 1\nimport \"nope.vpl\"", "main.vpl"), Resolver(new()), bag);
        var d = Assert.Single(bag.Items);
        Assert.Equal("2:1 VPL0061 cannot find imported file 'nope.vpl'", $"{d.Line}:{d.Column} {d.Id} {d.Message}");
        Assert.Equal("X", Names(statements));
    }

    [Fact]
    public void WithoutResolverImportsAreAnError()
    {
        var bag = new DiagnosticBag();
        var statements = SourceLoader.Load(new SourceText("import \"x.vpl\"\nconst X = 1", "<input>"), null, bag);
        var d = Assert.Single(bag.Items);
        Assert.Equal("1:1 VPL0060 imports are only available from the command line (file-based programs)", $"{d.Line}:{d.Column} {d.Id} {d.Message}");
        Assert.Equal("X", Names(statements));
    }

    [Fact]
    public void SyntaxErrorsOfImportedFilesNameTheirFile()
    {
        var bag = new DiagnosticBag();
        SourceLoader.Load(new SourceText("import \"bad.vpl\"", "main.vpl"), Resolver(new() { ["bad.vpl"] = "\nstream S = 5" }), bag);
        var d = Assert.Single(bag.Items);
        Assert.Equal("bad.vpl:2:12: error VPL0026: expected a source after '='", d.ToString());
    }
}
