namespace Varpulis.Vpl.Diagnostics;

// Ids of connector declarations and their .from/.to bindings (VPL0400–VPL0499).
public static partial class DiagnosticIds
{
    /// <summary><c>unknown connector kind 'mqqt'</c>: the kinds are <c>mqtt kafka http file console</c>.</summary>
    public const string UnknownConnectorKind = "VPL0400";

    /// <summary>A required parameter is missing: <c>http connector 'Hook' needs 'url'</c>, a Kafka source without <c>group_id</c>, a broker binding without a topic.</summary>
    public const string MissingConnectorParameter = "VPL0401";

    /// <summary><c>mqtt connectors have no parameter 'hots'</c> (also on <c>.from</c>/<c>.to</c>, and a parameter given twice).</summary>
    public const string UnknownConnectorParameter = "VPL0402";

    /// <summary><c>'port' must be an int, not str</c>: a parameter value of the wrong type.</summary>
    public const string ConnectorParameterType = "VPL0403";

    /// <summary>A parameter value out of its range or format: a port of 0, <c>qos: 2</c>, a URL that is not http(s), an MQTT topic filter with <c>#</c> before the last level.</summary>
    public const string InvalidConnectorParameter = "VPL0404";

    /// <summary>A connector used in a direction its kind does not support: <c>.from</c> an <c>http</c> or <c>console</c> connector.</summary>
    public const string ConnectorDirection = "VPL0405";

    /// <summary>Warning: a secret (<c>password</c>, <c>sasl_password</c>, <c>bearer_token</c>) written in the program instead of <c>env("NAME")</c>.</summary>
    public const string SecretInSource = "VPL0406";

    /// <summary><c>env(...)</c> that is not <c>env("NAME")</c> with a literal variable name, or used where a parameter is not a string.</summary>
    public const string InvalidEnvReference = "VPL0407";
}
