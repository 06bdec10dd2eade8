using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation.Connectors;

/// <summary>A declaration as the compiler keeps it: the checked parameters and where each was written.</summary>
internal sealed record DeclaredConnector(
    ConnectorDeclSyntax Syntax,
    ConnectorKindSpec? Spec,
    Dictionary<string, ConnectorValue> Values,
    Dictionary<string, TextSpan> Spans);

/// <summary>
/// Checks connector declarations and their <c>.from</c>/<c>.to</c> bindings against <see cref="ConnectorSchema"/>
/// (kinds, parameter names, types, values, directions, required parameters) and builds the typed
/// <see cref="ConnectorBinding"/> of each. Parameters are constants or <c>env("NAME")</c> (declarations only).
/// </summary>
internal static class ConnectorCompiler
{
    /// <summary>Checks a declaration; returns what bindings need (the kind spec is null for an unknown kind).</summary>
    public static DeclaredConnector Declare(ConnectorDeclSyntax c, CompileEnv env)
    {
        var spec = ConnectorSchema.FindKind(c.Kind.Text);
        var values = new Dictionary<string, ConnectorValue>(StringComparer.Ordinal);
        var spans = new Dictionary<string, TextSpan>(StringComparer.Ordinal);
        if (spec is null)
        {
            env.Error(DiagnosticIds.UnknownConnectorKind, c.Kind.Span, $"unknown connector kind '{c.Kind.Text}'",
                NameSuggester.DidYouMean(c.Kind.Text, ConnectorSchema.KindNames) ?? "the kinds are " + string.Join(", ", ConnectorSchema.KindNames));
            return new DeclaredConnector(c, null, values, spans);
        }
        var misspelt = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in c.Args)
        {
            if (a.Name is null)
            {
                env.Error(DiagnosticIds.InvalidArguments, a.Span, "connector parameters must be named: kind(key: value, ...)");
                continue;
            }
            var p = FindParameter(spec, a.Name, ParameterPlace.Declaration, "", env);
            if (p is null)
            {
                // A misspelt required parameter is reported once, as the misspelling.
                if (NameSuggester.Suggest(a.Name.Text, spec.Parameters.Select(x => x.Name)) is { } meant) misspelt.Add(meant);
                continue;
            }
            if (!NotDuplicate(a.Name, spans, env)) continue;
            spans[p.Name] = a.Name.Span;
            var v = Evaluate(p, a.Value, allowEnv: true, env);
            if (v is null) continue;
            if (v.EnvVar is null && v.Map is null && p.Check?.Invoke(v.Literal, null) is { } problem)
            {
                env.Error(DiagnosticIds.InvalidConnectorParameter, a.Value.Span, Qualify(p.Name, problem));
                continue;
            }
            if (p.Secret && v.EnvVar is null)
            {
                env.Warning(DiagnosticIds.SecretInSource, a.Value.Span, $"'{p.Name}' is written in the program, where the API and logs of the source show it",
                    $"read it from the environment: {p.Name}: env(\"{EnvName(c.Name.Text, p.Name)}\")");
            }
            values[p.Name] = v;
        }
        // A required parameter written with a bad value was reported already.
        foreach (var p in spec.Parameters.Where(p => p.Required && !spans.ContainsKey(p.Name) && !misspelt.Contains(p.Name)))
        {
            env.Error(DiagnosticIds.MissingConnectorParameter, c.Kind.Span, $"{spec.Name} connector '{c.Name.Text}' needs '{p.Name}'",
                $"connector {c.Name.Text} = {spec.Name}({p.Name}: {Example(p)}, ...)");
        }
        return new DeclaredConnector(c, spec, values, spans);
    }

    /// <summary>
    /// Checks <c>.from(Connector, args)</c> / <c>.to(Connector, args)</c> and records the binding. Returns the
    /// binding arguments as constants (for the engine's <c>.to</c> operator), or null when the binding is invalid.
    /// </summary>
    public static List<KeyValuePair<string, Value>>? Bind(
        CompileEnv env, string stream, string? eventType, BindingDirection direction, NameSyntax connector, IEnumerable<ArgumentSyntax> args)
    {
        string verb = direction == BindingDirection.Source ? ".from" : ".to";
        if (!env.ConnectorDecls.TryGetValue(connector.Text, out var decl))
        {
            env.Error(DiagnosticIds.UnknownConnector, connector.Span, $"unknown connector '{connector.Text}'",
                NameSuggester.DidYouMean(connector.Text, env.ConnectorDecls.Keys) ?? "declare it with: connector Name = kind(...)");
            return null;
        }
        var spec = decl.Spec;
        var list = new List<KeyValuePair<string, Value>>();
        bool ok = spec is not null;
        if (spec is not null && !(direction == BindingDirection.Source ? spec.IsSource : spec.IsSink))
        {
            var others = ConnectorSchema.Kinds.Where(k => direction == BindingDirection.Source ? k.IsSource : k.IsSink).Select(k => k.Name);
            env.Error(DiagnosticIds.ConnectorDirection, connector.Span,
                $"{spec.Name} connectors are {(spec.IsSource ? "sources" : "sinks")} only; '{connector.Text}' cannot be used with '{verb}'",
                $"{verb} takes a connector of kind {string.Join(", ", others)}");
            spec = null;
            ok = false;
        }
        var place = direction == BindingDirection.Source ? ParameterPlace.From : ParameterPlace.To;
        var given = new Dictionary<string, ConnectorValue>(StringComparer.Ordinal);
        var spans = new Dictionary<string, TextSpan>(StringComparer.Ordinal);
        foreach (var a in args)
        {
            if (a.Name is null)
            {
                env.Error(DiagnosticIds.InvalidArguments, a.Span, $"'{verb}' arguments after the connector must be named (key: value)");
                ok = false;
                continue;
            }
            if (spec is null) continue;
            var p = FindParameter(spec, a.Name, place, $" on '{verb}'", env);
            if (p is null || !NotDuplicate(a.Name, spans, env))
            {
                ok = false;
                continue;
            }
            var v = Evaluate(p, a.Value, allowEnv: false, env);
            if (v is null)
            {
                ok = false;
                continue;
            }
            if (p.Check?.Invoke(v.Literal, direction) is { } problem)
            {
                env.Error(DiagnosticIds.InvalidConnectorParameter, a.Value.Span, Qualify(p.Name, problem));
                ok = false;
                continue;
            }
            given[p.Name] = v;
            spans[p.Name] = a.Name.Span;
            list.Add(new(p.Name, v.Literal));
        }
        if (!ok || spec is null) return null;

        var values = new Dictionary<string, ConnectorValue>(StringComparer.Ordinal);
        foreach (var p in spec.Parameters)
        {
            if (p.DefaultFor(direction) is { } d) values[p.Name] = ConnectorValue.Of(d);
        }
        foreach (var kv in decl.Values) values[kv.Key] = kv.Value;
        foreach (var kv in given) values[kv.Key] = kv.Value;

        // Declaration values that depend on the direction (an MQTT topic filter cannot be published to).
        foreach (var p in spec.Parameters.Where(p => p.Check is not null && !given.ContainsKey(p.Name) && decl.Values.ContainsKey(p.Name)))
        {
            var v = decl.Values[p.Name];
            if (v.EnvVar is null && v.Map is null && p.Check!(v.Literal, direction) is { } problem)
            {
                env.Error(DiagnosticIds.InvalidConnectorParameter, connector.Span, $"'{verb}({connector.Text})': " + Qualify(p.Name, problem));
                ok = false;
            }
        }
        foreach (var p in spec.Parameters)
        {
            bool needed = p.RequiredForBinding || (p.RequiredForSource && direction == BindingDirection.Source);
            if (!needed || values.ContainsKey(p.Name) || decl.Spans.ContainsKey(p.Name)) continue;
            string where = p.Places.HasFlag(place) ? $"{verb}({connector.Text}, {p.Name}: {Example(p)})" : $"connector {connector.Text} = {spec.Name}(..., {p.Name}: {Example(p)})";
            env.Error(DiagnosticIds.MissingConnectorParameter, connector.Span,
                $"{(direction == BindingDirection.Source ? "reading from" : "writing to")} {spec.Name} connector '{connector.Text}' needs '{p.Name}'", where);
            ok = false;
        }
        if (!ok) return null;
        var topic = values.TryGetValue("topic", out var t) && t.Literal.IsString ? t.Literal.AsString : null;
        var parameters = new ConnectorParameters(connector.Text, spec.Kind, values);
        env.ConnectorBindings.Add(new ConnectorBinding(connector.Text, spec.Kind, direction, stream, eventType, topic, parameters));
        return list;
    }

    private static ConnectorParameterSpec? FindParameter(ConnectorKindSpec spec, NameSyntax name, ParameterPlace place, string where, CompileEnv env)
    {
        var p = spec.Find(name.Text);
        if (p is null)
        {
            var candidates = spec.Parameters.Where(x => x.Places.HasFlag(place)).Select(x => x.Name).ToList();
            env.Error(DiagnosticIds.UnknownConnectorParameter, name.Span, $"{spec.Name} connectors have no parameter '{name.Text}'{where}",
                NameSuggester.DidYouMean(name.Text, candidates)
                ?? (candidates.Count == 0 ? $"{spec.Name} connectors take no parameters here" : "the parameters are " + string.Join(", ", candidates)));
            return null;
        }
        if (!p.Places.HasFlag(place))
        {
            var at = p.Places.HasFlag(ParameterPlace.Declaration) ? "on the connector declaration" : p.Places.HasFlag(ParameterPlace.To) ? "on '.to'" : "on '.from'";
            env.Error(DiagnosticIds.UnknownConnectorParameter, name.Span, $"'{name.Text}' cannot be given{(where.Length == 0 ? " on the declaration" : where)}", $"give it {at}");
            return null;
        }
        return p;
    }

    private static bool NotDuplicate(NameSyntax name, Dictionary<string, TextSpan> seen, CompileEnv env)
    {
        if (!seen.ContainsKey(name.Text)) return true;
        env.Error(DiagnosticIds.UnknownConnectorParameter, name.Span, $"parameter '{name.Text}' is given twice");
        return false;
    }

    /// <summary>The value of one parameter: type-checked constant, <c>env("NAME")</c>, or a map of those.</summary>
    private static ConnectorValue? Evaluate(ConnectorParameterSpec p, ExprSyntax expr, bool allowEnv, CompileEnv env)
    {
        if (expr is CallExprSyntax { Function.Text: "env" } call)
            return EnvReference(p, call, allowEnv, env);
        if (p.Type == ConnectorParameterType.StringMap)
        {
            if (expr is not MapExprSyntax map)
            {
                var k = ExpressionCompiler.CompileConstant(expr, new ExprContext(env, null), $"'{p.Name}'");
                if (k is not null) TypeError(p, k.Value, expr.Span, env);
                return null;
            }
            var entries = new List<KeyValuePair<string, ConnectorValue>>();
            foreach (var e in map.Entries)
            {
                var v = Evaluate(p with { Type = ConnectorParameterType.String }, e.Value, allowEnv, env);
                if (v is null) return null;
                entries.Add(new(e.Key, v));
            }
            return ConnectorValue.OfMap(entries);
        }
        var c = ExpressionCompiler.CompileConstant(expr, new ExprContext(env, null), $"'{p.Name}'");
        if (c is null) return null;
        var value = c.Value;
        bool typeOk = p.Type switch
        {
            ConnectorParameterType.String => value.IsString,
            ConnectorParameterType.Int => value.IsInt,
            ConnectorParameterType.Bool => value.IsBool,
            ConnectorParameterType.Duration => value.IsDuration,
            ConnectorParameterType.StringList => value.IsString || (value.IsArray && value.AsArray.All(x => x.IsString)),
            _ => false,
        };
        if (!typeOk)
        {
            TypeError(p, value, expr.Span, env);
            return null;
        }
        return ConnectorValue.Of(value);
    }

    private static ConnectorValue? EnvReference(ConnectorParameterSpec p, CallExprSyntax call, bool allowEnv, CompileEnv env)
    {
        if (!allowEnv)
        {
            env.Error(DiagnosticIds.InvalidEnvReference, call.Span, "env(...) is only available in connector declarations", "declare the value on the connector");
            return null;
        }
        if (p.Type != ConnectorParameterType.String && p.Type != ConnectorParameterType.StringList)
        {
            env.Error(DiagnosticIds.InvalidEnvReference, call.Span, $"'{p.Name}' is {Article(p.Type)} {ConnectorSchema.TypeName(p.Type)}; env(...) gives a string");
            return null;
        }
        if (call.Args.Count != 1 || call.Args[0].Name is not null || call.Args[0].Value is not StringLiteralSyntax { Value: var name } || !IsVariableName(name))
        {
            env.Error(DiagnosticIds.InvalidEnvReference, call.Span, "env(...) takes one environment variable name as a string literal", "env(\"MQTT_PASSWORD\")");
            return null;
        }
        return ConnectorValue.Env(name);
    }

    private static void TypeError(ConnectorParameterSpec p, Value v, TextSpan span, CompileEnv env)
        => env.Error(DiagnosticIds.ConnectorParameterType, span, $"'{p.Name}' must be {Article(p.Type)} {ConnectorSchema.TypeName(p.Type)}, not {ValueOps.TypeName(v)}");

    private static string Article(ConnectorParameterType t) => t is ConnectorParameterType.Int ? "an" : "a";

    private static bool IsVariableName(string s)
        => s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');

    /// <summary>Checks answer "must be ..." (prefixed with the parameter) or a whole sentence.</summary>
    private static string Qualify(string name, string problem)
        => problem.StartsWith("must", StringComparison.Ordinal) ? $"'{name}' {problem}" : problem;

    private static string EnvName(string connector, string parameter) => (connector + "_" + parameter).ToUpperInvariant();

    private static string Example(ConnectorParameterSpec p) => p.Type switch
    {
        ConnectorParameterType.Int => "1",
        ConnectorParameterType.Bool => "true",
        ConnectorParameterType.Duration => "30s",
        ConnectorParameterType.StringList => p.Name == "brokers" ? "[\"localhost:9092\"]" : "[\"...\"]",
        ConnectorParameterType.StringMap => "{\"Name\": \"value\"}",
        _ => p.Name switch
        {
            "host" => "\"localhost\"",
            "url" => "\"http://localhost:8080/events\"",
            "path" => "\"/var/lib/varpulis/events.jsonl\"",
            "group_id" => "\"varpulis\"",
            "topic" => "\"events\"",
            _ => "\"...\"",
        },
    };
}
