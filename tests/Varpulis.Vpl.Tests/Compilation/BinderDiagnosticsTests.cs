using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Diagnostics;
using static Varpulis.Vpl.Tests.Compilation.DiagnosticAssert;

namespace Varpulis.Vpl.Tests.Compilation;

/// <summary>
/// One test per binder diagnostic class (VPL0100–VPL0131), on a small program, asserting the exact id,
/// severity, line, column, message and hint — and that nothing else is reported (no cascades).
/// Positions are 1-based and were counted by hand from the program text.
/// </summary>
public class BinderDiagnosticsTests
{
    // ---- VPL0100 duplicate names -----------------------------------------------------------------

    [Fact]
    public void DuplicateStreamNameIsReportedAtTheSecondDeclaration()
        => AssertDiagnostics("stream A = E.emit(x: 1)\nstream A = E.emit(x: 2)",
            D(2, 8, Error, "VPL0100", "'A' is already declared as a stream"));

    [Fact]
    public void NameDeclaredAsAConstAndAnEventTypeIsADuplicate()
        => AssertDiagnostics("const Rate = 1\nevent Rate { x: int }",
            D(2, 7, Error, "VPL0100", "'Rate' is already declared as a 'const'"));

    [Fact]
    public void FieldDeclaredTwiceInAnEventType()
        => AssertDiagnostics("event E { a: int, a: str }",
            D(1, 19, Error, "VPL0100", "field 'a' is declared twice in 'E'"));

    [Fact]
    public void FieldEmittedTwice()
        => AssertDiagnostics("stream S = E.emit(a: 1, a: 2)",
            D(1, 25, Error, "VPL0100", "field 'a' appears twice in '.emit'"));

    // ---- VPL0101 unknown names -------------------------------------------------------------------

    [Fact]
    public void UnknownNameInAFunctionSuggestsTheParameter()
        => AssertDiagnostics("fn f(value: int) -> int:\n    return valeu + 1",
            D(2, 12, Error, "VPL0101", "unknown name 'valeu'", "did you mean 'value'?"));

    [Fact]
    public void AssignmentToAnUnknownVariableSuggestsTheGlobal()
        => AssertDiagnostics("var total = 0\nfn f() -> int:\n    totl := 1\n    return 0",
            D(3, 5, Error, "VPL0101", "unknown variable 'totl'", "did you mean 'total'?"));

    // ---- VPL0102 unknown fields of declared types ------------------------------------------------

    [Fact]
    public void UnknownFieldOfADeclaredTypeSuggestsTheClosestField()
        => AssertDiagnostics("event Tick { sym: str, price: float }\nstream S = Tick.where(pirce > 1.0).emit(sym: sym)",
            D(2, 23, Error, "VPL0102", "event type 'Tick' has no field 'pirce'", "did you mean 'price'?"));

    [Fact]
    public void UnknownFieldThroughAnAliasOfADeclaredType()
        => AssertDiagnostics("event Tick { sym: str, price: float }\nstream S = Tick as t .where(t.prise > 1.0).emit(sym: sym)",
            D(2, 31, Error, "VPL0102", "event type 'Tick' (alias 't') has no field 'prise'", "did you mean 'price'?"));

    [Fact]
    public void FieldsOfUndeclaredTypesAreNotChecked()
        => AssertDiagnostics("stream S = Tick.where(pirce > 1.0).emit(sym: sym)");

    // ---- VPL0103 unknown functions ---------------------------------------------------------------

    [Fact]
    public void UnknownFunctionSuggestsABuiltin()
        => AssertDiagnostics("stream S = E.emit(x: lenn(s))",
            D(1, 22, Error, "VPL0103", "unknown function 'lenn'", "did you mean 'len'?"));

    // ---- VPL0104 wrong arity ---------------------------------------------------------------------

    [Fact]
    public void BuiltinCalledWithTooManyArguments()
        => AssertDiagnostics("stream S = E.emit(x: len(a, b))",
            D(1, 22, Error, "VPL0104", "'len' takes 1 argument, but 2 were given"));

    [Fact]
    public void UserFunctionCalledWithTooFewArguments()
        => AssertDiagnostics("fn twice(x: int) -> int:\n    return x * 2\nstream S = E.emit(y: twice())",
            D(3, 22, Error, "VPL0104", "function 'twice' takes 1 argument, but 0 were given"));

    [Fact]
    public void NowTakesNoArguments()
        => AssertDiagnostics("stream S = E.emit(t: now(1))",
            D(1, 22, Error, "VPL0104", "'now' takes no arguments"));

    // ---- VPL0105 unknown operators ---------------------------------------------------------------

    [Fact]
    public void UnknownOperatorSuggestsWindow()
        => AssertDiagnostics("stream S = E.windw(5).emit(x: 1)",
            D(1, 14, Error, "VPL0105", "unknown operator '.windw'", "did you mean 'window'?"));

    // ---- VPL0106 invalid operator arguments ------------------------------------------------------

    [Fact]
    public void UnknownWindowArgumentSuggestsSliding()
        => AssertDiagnostics("stream S = E.window(5, slidng: 2).emit(x: x)",
            D(1, 24, Error, "VPL0106", "unknown window argument 'slidng'", "did you mean 'sliding'?"));

    /// <summary>
    /// No cascades: the window that failed to compile was still written, so the '.aggregate' after it must not
    /// also warn that it has no window (VPL0124).
    /// </summary>
    [Fact]
    public void AnInvalidWindowDoesNotMakeTheAggregateWarnThatItHasNoWindow()
        => AssertDiagnostics("stream S = E.window(5, slidng: 2).aggregate(n: count()).emit(n: n)",
            D(1, 24, Error, "VPL0106", "unknown window argument 'slidng'", "did you mean 'sliding'?"));

    [Fact]
    public void WhereWithTwoArguments()
        => AssertDiagnostics("stream S = E.where(a, b).emit(x: 1)",
            D(1, 13, Error, "VPL0106", "'.where' takes exactly one argument"));

    [Fact]
    public void ProcessNeedsACallOfADeclaredFunction()
        => AssertDiagnostics("stream S = E.process(v + 1)",
            D(1, 22, Error, "VPL0106", "'.process' takes a call of a declared function: .process(f(args))"));

    // ---- VPL0107 unknown types -------------------------------------------------------------------

    [Fact]
    public void StringIsNotAVplTypeName()
        => AssertDiagnostics("event E { x: string }",
            D(1, 14, Error, "VPL0107", "unknown type 'string'", "write 'str'"));

    [Fact]
    public void MisspelledTypeSuggestsTheType()
        => AssertDiagnostics("event E { x: flaot }",
            D(1, 14, Error, "VPL0107", "unknown type 'flaot'", "did you mean 'float'?"));

    // ---- VPL0108 unknown connectors --------------------------------------------------------------

    [Fact]
    public void UnknownConnectorSuggestsTheDeclaredOne()
        => AssertDiagnostics("connector Kafka = kafka(brokers: \"b:9092\")\nstream S = E.to(Kafak).emit(x: 1)",
            D(2, 17, Error, "VPL0108", "unknown connector 'Kafak'", "did you mean 'Kafka'?"));

    [Fact]
    public void UnknownConnectorWithoutCandidatesExplainsHowToDeclareIt()
        => AssertDiagnostics("stream S = E.to(Out).emit(x: 1)",
            D(1, 17, Error, "VPL0108", "unknown connector 'Out'", "declare it with: connector Name = kind(...)"));

    // ---- VPL0109 unknown contexts ----------------------------------------------------------------

    [Fact]
    public void UnknownContextSuggestsTheDeclaredOne()
        => AssertDiagnostics("context fast\nstream S = E.context(fats).emit(x: 1)",
            D(2, 22, Error, "VPL0109", "unknown context 'fats'", "did you mean 'fast'?"));

    // ---- VPL0110 stream cycles -------------------------------------------------------------------

    [Fact]
    public void TwoStreamsReadingEachOtherAreACycle()
        => AssertDiagnostics("stream A = B.emit(x: x)\nstream B = A.emit(x: x)",
            D(1, 8, Error, "VPL0110", "streams read each other in a cycle: A -> B -> A"));

    [Fact]
    public void AStreamReadingItselfIsACycle()
        => AssertDiagnostics("stream A = A.where(x > 1).emit(x: x)",
            D(1, 8, Error, "VPL0110", "streams read each other in a cycle: A -> A"));

    // ---- VPL0111 type mismatches -----------------------------------------------------------------

    [Fact]
    public void ComparingAStringWithAnIntIsATypeMismatch()
        => AssertDiagnostics("stream S = E.where(\"a\" > 1).emit(x: 1)",
            D(1, 20, Error, "VPL0111", "operator '>' cannot be applied to str and int"));

    [Fact]
    public void NotOfAnIntIsATypeMismatch()
        => AssertDiagnostics("stream S = E.where(not 5).emit(x: 1)",
            D(1, 20, Error, "VPL0111", "'not' needs a bool, but its operand is int"));

    // ---- VPL0112 non-bool conditions -------------------------------------------------------------

    [Fact]
    public void WhereOnADeclaredIntFieldIsNotABool()
        => AssertDiagnostics("event E { n: int }\nstream S = E.where(n).emit(n: n)",
            D(2, 20, Error, "VPL0112", "the '.where' condition must be a bool, but this expression is int"));

    [Fact]
    public void WhereOnAStringLiteralIsNotABool()
        => AssertDiagnostics("stream S = E.where(\"yes\").emit(x: 1)",
            D(1, 20, Error, "VPL0112", "the '.where' condition must be a bool, but this expression is str"));

    // ---- VPL0113 two windows / two aggregates ----------------------------------------------------

    [Fact]
    public void TwoWindowsWithoutAnEmitBetweenThem()
        => AssertDiagnostics("stream S = E.window(5).window(10).aggregate(n: count()).emit(n: n)",
            D(1, 24, Error, "VPL0113", "a second '.window' needs an '.emit' or '.select' between the two windows"));

    [Fact]
    public void TwoAggregatesWithoutAnEmitBetweenThem()
        => AssertDiagnostics("stream S = E.window(5).aggregate(a: count()).aggregate(b: count()).emit(a: a)",
            D(1, 46, Error, "VPL0113", "a second '.aggregate' needs an '.emit' or '.select' in between"));

    [Fact]
    public void TwoWindowsSeparatedByAnEmitAreFine()
        => AssertDiagnostics("stream S = E.window(2).aggregate(s: sum(v)).emit(s: s).window(2).aggregate(t: sum(s)).emit(t: t)");

    // ---- VPL0114 having without aggregate --------------------------------------------------------

    [Fact]
    public void HavingWithoutAggregate()
        => AssertDiagnostics("stream S = E.having(n > 1).emit(n: n)",
            D(1, 13, Error, "VPL0114", "'.having' filters aggregate results and needs a preceding '.aggregate(...)'", "use '.where(...)' to filter events"));

    // ---- VPL0115 aggregates where they are not allowed -------------------------------------------

    [Fact]
    public void AggregateFunctionOutsideAggregate()
        => AssertDiagnostics("stream S = E.emit(x: stddev(v))",
            D(1, 22, Error, "VPL0115", "aggregate function 'stddev' is only allowed in .aggregate(...) or over a Kleene alias (e.g. stddev(t.price) with '-> all T as t')"));

    [Fact]
    public void NestedAggregates()
        => AssertDiagnostics("stream S = E.window(2).aggregate(x: sum(count())).emit(x: x)",
            D(1, 41, Error, "VPL0115", "aggregate functions cannot be nested"));

    // ---- VPL0116 pattern operators without a pattern ---------------------------------------------

    [Fact]
    public void WithinOnANonPatternStream()
        => AssertDiagnostics("stream S = E.within(5m).emit(x: 1)",
            D(1, 14, Error, "VPL0116", "'.within' is only valid on a pattern stream (a sequence 'A as a -> B ...' or a named pattern)"));

    // ---- VPL0117 invalid joins -------------------------------------------------------------------

    [Fact]
    public void JoinWithoutOn()
        => AssertDiagnostics("stream J = join(A, B).emit(x: 1)",
            D(1, 12, Error, "VPL0117", "join(...) needs '.on(A.key == B.key)' as its first operator"));

    [Fact]
    public void OnOutsideAJoin()
        => AssertDiagnostics("stream S = E.on(x == 1).emit(x: 1)",
            D(1, 13, Error, "VPL0117", "'.on' is only valid directly after join(...)"));

    [Fact]
    public void JoinOnWithoutAKeyForAnInput()
        => AssertDiagnostics("stream J = join(A, B).on(A.k == 1).emit(x: 1)",
            D(1, 22, Error, "VPL0117", "'.on' does not give a key for join input 'A'", "add an equality such as A.key == B.key"));

    // ---- VPL0118 assignment to immutable names ---------------------------------------------------

    [Fact]
    public void AssignmentToAConst()
        => AssertDiagnostics("const LIMIT = 10\nfn f() -> int:\n    LIMIT := 2\n    return LIMIT",
            D(3, 5, Error, "VPL0118", "'LIMIT' cannot be assigned: it is a 'const'", "declare it with 'var'"));

    [Fact]
    public void AssignmentToAParameter()
        => AssertDiagnostics("fn g(x: int) -> int:\n    x := 2\n    return x",
            D(2, 5, Error, "VPL0118", "'x' cannot be assigned: it is a parameter or a 'let'", "declare it with 'var'"));

    [Fact]
    public void AssignmentToAVarIsFine()
        => AssertDiagnostics("var count = 0\nfn f() -> int:\n    count := count + 1\n    return count");

    // ---- VPL0119 break/continue outside loops ----------------------------------------------------

    [Fact]
    public void BreakOutsideALoop()
        => AssertDiagnostics("fn f() -> int:\n    break",
            D(2, 5, Error, "VPL0119", "'break' outside a loop"));

    [Fact]
    public void ContinueOutsideALoop()
        => AssertDiagnostics("fn f() -> int:\n    continue",
            D(2, 5, Error, "VPL0119", "'continue' outside a loop"));

    // ---- VPL0120 arguments that must be constant -------------------------------------------------

    [Fact]
    public void WindowSizeFromAVarIsNotConstant()
        => AssertDiagnostics("var size = 3\nstream S = E.window(size).aggregate(n: count()).emit(n: n)",
            D(2, 21, Error, "VPL0120", "the window size must be a constant"));

    [Fact]
    public void WindowSizeFromAConstIsFine()
        => AssertDiagnostics("const SIZE = 3\nstream S = E.window(SIZE).aggregate(n: count()).emit(n: n)");

    // ---- VPL0121 constants out of range ----------------------------------------------------------

    [Fact]
    public void CountWindowOfZeroEvents()
        => AssertDiagnostics("stream S = E.window(0).aggregate(n: count()).emit(n: n)",
            D(1, 21, Error, "VPL0121", "a count window needs a positive number of events"));

    [Fact]
    public void PercentileAbove100()
        => AssertDiagnostics("stream S = E.window(3).aggregate(p: percentile(v, 150)).emit(p: p)",
            D(1, 37, Error, "VPL0121", "percentile: p must be a number between 0 and 100, got 150"));

    // ---- VPL0122 lambdas -------------------------------------------------------------------------

    [Fact]
    public void LambdaWhereNoFunctionTakesOne()
        => AssertDiagnostics("stream S = E.emit(f: x => x + 1)",
            D(1, 22, Error, "VPL0122", "lambda expressions are not supported here: no built-in function takes a function argument", "declare a function with 'fn' and call it"));

    // ---- VPL0123 possible typos (warning) --------------------------------------------------------

    [Fact]
    public void SourceNameThatLooksLikeADeclaredTypeWarns()
    {
        var c = AssertDiagnostics("event Tick { price: float }\nstream S = Ticks.emit(p: price)",
            D(2, 12, Warning, "VPL0123", "'Ticks' is not a declared event type, stream or pattern; it is read as an undeclared event type", "did you mean 'Tick'?"));
        Assert.True(c.Success);
    }

    // ---- VPL0124 aggregate without window (warning) ----------------------------------------------

    [Fact]
    public void AggregateWithoutWindowWarns()
    {
        var c = AssertDiagnostics("stream S = E.aggregate(n: count()).emit(n: n)",
            D(1, 14, Warning, "VPL0124", "'.aggregate' without a '.window' aggregates each event on its own", "add a window, e.g. .window(1m)"));
        Assert.True(c.Success);
    }

    // ---- VPL0125 emit outside .process (warning) -------------------------------------------------

    /// <summary>
    /// A function with <c>emit</c> statements called from an expression (not <c>.process</c>): its events go
    /// nowhere. The id exists (DiagnosticIds.EmitOutsideProcess) but the message is not fixed anywhere yet,
    /// so this asserts id, severity and position, and that the message names the function.
    /// </summary>
    [Fact]
    public void FunctionWithEmitCalledOutsideProcessWarns()
    {
        var c = VplCompiler.Compile("fn alert(v: int) -> int:\n    emit Alert(v: v)\n    return v\nstream S = E.emit(x: alert(v))");
        var d = Assert.Single(c.Diagnostics);
        Assert.Equal(("VPL0125", DiagnosticSeverity.Warning, 4, 22), (d.Id, d.Severity, d.Line, d.Column));
        Assert.Contains("'alert'", d.Message, StringComparison.Ordinal);
        Assert.True(c.Success);
    }

    // ---- VPL0126 unknown base types --------------------------------------------------------------

    [Fact]
    public void ExtendsAnUnknownTypeSuggestsTheDeclaredOne()
        => AssertDiagnostics("event Base { id: int }\nevent Child extends Bsae { name: str }",
            D(2, 21, Error, "VPL0126", "unknown event type 'Bsae'", "did you mean 'Base'?"));

    [Fact]
    public void EventTypeExtendingItself()
        => AssertDiagnostics("event Loop extends Loop { x: int }",
            D(1, 20, Error, "VPL0126", "event type 'Loop' extends itself"));

    // ---- VPL0127 duplicate aliases ---------------------------------------------------------------

    [Fact]
    public void AliasAlreadyDefinedByTheUpstreamStream()
        => AssertDiagnostics("stream U = E as a .where(a.x > 1)\nstream D = U as a .emit(x: x)",
            D(2, 17, Error, "VPL0127", "alias 'a' is already defined"));

    // ---- VPL0128 invalid sources -----------------------------------------------------------------

    [Fact]
    public void FromOnADerivedStream()
        => AssertDiagnostics("connector C = mqtt(host: \"h\")\nstream A = E.emit(x: 1)\nstream B = A.from(C).emit(x: x)",
            D(3, 13, Error, "VPL0128", "'.from' reads events of a type from a connector; 'A' is a stream"));

    // ---- VPL0129 functions shadowing built-ins ---------------------------------------------------

    [Fact]
    public void FunctionNamedLikeABuiltin()
        => AssertDiagnostics("fn len(x: int) -> int:\n    return x",
            D(1, 4, Error, "VPL0129", "'len' is a built-in function", "choose another name"));

    // ---- VPL0130 invalid initializers ------------------------------------------------------------

    [Fact]
    public void GlobalReadingALaterGlobal()
        => AssertDiagnostics("const A = B + 1\nconst B = 2",
            D(1, 11, Error, "VPL0130", "'B' is used before it is initialized", "a global can only read globals declared above it"));

    // ---- VPL0131 no effect (warning) -------------------------------------------------------------

    [Fact]
    public void ProcessWithAFunctionThatNeverEmitsWarns()
    {
        var c = AssertDiagnostics("fn noop(v: int) -> int:\n    return v\nstream S = E.process(noop(v))",
            D(3, 13, Warning, "VPL0131", "function 'noop' has no 'emit' statement, so '.process' drops every event"));
        Assert.True(c.Success);
    }

    // ---- several errors ----------------------------------------------------------------------------

    [Fact]
    public void EveryErrorOfAProgramIsReportedInSourceOrder()
        => AssertDiagnostics(
            "event Tick { price: float }\nstream A = Tick.windw(5)\nstream B = Tick.where(prise > 1.0)\nstream C = Tick.having(price > 1.0)",
            D(2, 17, Error, "VPL0105", "unknown operator '.windw'", "did you mean 'window'?"),
            D(3, 23, Error, "VPL0102", "event type 'Tick' has no field 'prise'", "did you mean 'price'?"),
            D(4, 16, Error, "VPL0114", "'.having' filters aggregate results and needs a preceding '.aggregate(...)'", "use '.where(...)' to filter events"));

    [Fact]
    public void EveryBinderIdIsCoveredHere()
    {
        // Keeps this class in step with DiagnosticIds.Binding.cs: VPL0100..VPL0131 all have a test above.
        var ids = typeof(DiagnosticIds).GetFields().Select(f => (string)f.GetValue(null)!)
            .Where(id => string.CompareOrdinal(id, "VPL0100") >= 0 && string.CompareOrdinal(id, "VPL0199") <= 0)
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Enumerable.Range(100, 32).Select(i => $"VPL0{i}").ToArray(), ids);
    }
}
