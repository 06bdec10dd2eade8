namespace Varpulis.Vpl.Diagnostics;

// Ids of the binder and compiler (VPL0100–VPL0199). Syntax ids (VPL0001–VPL0099) live beside them;
// pattern ids are VPL0300–VPL0399.
public static partial class DiagnosticIds
{
    /// <summary>A name is declared twice (stream, event type, function, constant, connector, pattern).</summary>
    public const string DuplicateName = "VPL0100";

    /// <summary>An identifier that is not a field, alias, constant, variable or parameter.</summary>
    public const string UnknownName = "VPL0101";

    /// <summary>A field that a declared event type does not have.</summary>
    public const string UnknownField = "VPL0102";

    /// <summary>A call of a function that is neither built in nor declared.</summary>
    public const string UnknownFunction = "VPL0103";

    /// <summary>A call with the wrong number of arguments.</summary>
    public const string WrongArity = "VPL0104";

    /// <summary>A stream operator the engine does not implement.</summary>
    public const string UnknownOperator = "VPL0105";

    /// <summary>Operator arguments of the wrong number, name or kind.</summary>
    public const string InvalidArguments = "VPL0106";

    /// <summary>A type name that is not a VPL type.</summary>
    public const string UnknownType = "VPL0107";

    /// <summary><c>.to</c>/<c>.from</c> naming a connector that is not declared.</summary>
    public const string UnknownConnector = "VPL0108";

    /// <summary><c>.context</c> naming a context that is not declared.</summary>
    public const string UnknownContext = "VPL0109";

    /// <summary>Derived streams that read each other in a cycle.</summary>
    public const string StreamCycle = "VPL0110";

    /// <summary>An operator applied to values of types it does not accept.</summary>
    public const string TypeMismatch = "VPL0111";

    /// <summary>A condition whose type is known not to be bool.</summary>
    public const string ConditionNotBool = "VPL0112";

    /// <summary>Two windows or two aggregates without an <c>.emit</c>/<c>.select</c> between them.</summary>
    public const string DuplicateWindow = "VPL0113";

    /// <summary><c>.having</c> without a preceding <c>.aggregate</c>.</summary>
    public const string HavingWithoutAggregate = "VPL0114";

    /// <summary>An aggregate-only function outside <c>.aggregate</c> and not over a Kleene alias.</summary>
    public const string AggregateNotAllowed = "VPL0115";

    /// <summary>A pattern operator (<c>.within</c>, <c>.not</c>, ...) on a stream without a pattern.</summary>
    public const string PatternOperatorWithoutPattern = "VPL0116";

    /// <summary>A join without <c>.on(...)</c>, or an <c>.on</c> that is not an equality of input fields.</summary>
    public const string InvalidJoin = "VPL0117";

    /// <summary>Assignment to a constant, a <c>let</c> or a parameter.</summary>
    public const string AssignToImmutable = "VPL0118";

    /// <summary><c>break</c>/<c>continue</c> outside a loop.</summary>
    public const string BreakOutsideLoop = "VPL0119";

    /// <summary>An argument that must be a constant (window size, limit, period).</summary>
    public const string NotConstant = "VPL0120";

    /// <summary>A constant argument out of its range (a window of 0 events, a negative duration).</summary>
    public const string InvalidValue = "VPL0121";

    /// <summary>A lambda where no function takes one.</summary>
    public const string LambdaNotAllowed = "VPL0122";

    /// <summary>Warning: a source name that is no declared type, stream or pattern but looks like a typo of one.</summary>
    public const string PossibleTypo = "VPL0123";

    /// <summary>Warning: <c>.aggregate</c> without <c>.window</c> aggregates each event on its own.</summary>
    public const string AggregateWithoutWindow = "VPL0124";

    /// <summary>Warning: a function with <c>emit</c> statements called outside <c>.process</c> (its events go nowhere).</summary>
    public const string EmitOutsideProcess = "VPL0125";

    /// <summary><c>extends</c> naming an event type that is not declared.</summary>
    public const string UnknownBaseType = "VPL0126";

    /// <summary>An alias declared twice in one stream, or shadowing an input name.</summary>
    public const string DuplicateAlias = "VPL0127";

    /// <summary>A feature the stream's source does not support here (e.g. <c>.from</c> on a derived stream).</summary>
    public const string InvalidSource = "VPL0128";

    /// <summary>A function whose name is a built-in function.</summary>
    public const string FunctionShadowsBuiltin = "VPL0129";

    /// <summary>A global initializer that failed to evaluate, or reads a global declared after it.</summary>
    public const string InvalidInitializer = "VPL0130";

    /// <summary>Warning: a declaration or operator that has no effect.</summary>
    public const string NoEffect = "VPL0131";
}
