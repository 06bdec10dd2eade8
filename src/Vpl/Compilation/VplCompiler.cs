using Varpulis.Vpl.Compilation.Connectors;
using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation;

/// <summary>
/// Compiles VPL source into a <see cref="CompiledProgram"/>: parses (with imports and loop expansion),
/// declares event types, connectors, contexts, functions and globals, evaluates globals at load, then
/// compiles streams in dependency order. Never throws for any input; problems are diagnostics.
/// </summary>
public static class VplCompiler
{
    public static Compilation Compile(string source, CompileOptions? options = null)
    {
        options ??= new CompileOptions();
        var diagnostics = new DiagnosticBag();
        var root = new SourceText(source, options.Path);
        var statements = SourceLoader.Load(root, options.ResolveImport, diagnostics);
        if (diagnostics.HasErrors) return new Compilation(Sorted(diagnostics), null, statements.Count);
        var env = new CompileEnv(diagnostics, options.Types ?? new TypeRegistry());
        try
        {
            var program = Bind(statements, env);
            return new Compilation(Sorted(diagnostics), diagnostics.HasErrors ? null : program, statements.Count);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A compiler bug must not take the host down: report it as a diagnostic.
            diagnostics.Error("VPL0999", root, new TextSpan(0, 0), "internal compiler error: " + ex.Message);
            return new Compilation(Sorted(diagnostics), null, statements.Count);
        }
    }

    private static List<Diagnostic> Sorted(DiagnosticBag bag)
        => bag.Items.OrderBy(d => d.Source.Path == bag.Items[0].Source.Path ? 0 : 1).ThenBy(d => d.Source.Path, StringComparer.Ordinal)
            .ThenBy(d => d.Span.Start).ThenBy(d => d.Severity).ToList();

    private static CompiledProgram? Bind(IReadOnlyList<StatementSyntax> statements, CompileEnv env)
    {
        DeclareNames(statements, env);
        DeclareEventTypes(env);

        foreach (var fn in env.Functions.Values)
        {
            env.File = fn.Syntax.File;
            FunctionCompiler.Compile(fn, env);
        }
        EvaluateGlobals(statements, env);

        var streams = statements.OfType<StreamDeclSyntax>().Where(s => env.StreamDecls.TryGetValue(s.Name.Text, out var d) && ReferenceEquals(d, s)).ToList();
        var order = DependencyOrder(streams, env);
        foreach (var s in order)
        {
            env.File = s.File;
            var plan = StreamCompiler.Compile(s, streams.IndexOf(s), env);
            if (plan is not null) env.Plans[s.Name.Text] = plan;
        }
        if (env.Diagnostics.HasErrors) return null;

        var plans = env.Plans.Values.OrderBy(p => p.Index).ToList();
        var checkpointed = env.GlobalList.Where(g => g.Kind == ConstKind.Var).Select(g => new KeyValuePair<string, int>(g.Name, g.Slot)).ToList();
        return new CompiledProgram(env.Types, plans, env.Connectors.Values.ToList(), env.ConnectorBindings.ToList(), env.GlobalValues, checkpointed, env.OutOfOrderness, env.Contexts.ToList());
    }

    /// <summary>First pass: every top-level name, so streams and functions may refer to later declarations.</summary>
    private static void DeclareNames(IReadOnlyList<StatementSyntax> statements, CompileEnv env)
    {
        var taken = new Dictionary<string, string>(StringComparer.Ordinal); // name → what
        bool Claim(NameSyntax name, string what, SourceText file)
        {
            env.File = file;
            if (taken.TryGetValue(name.Text, out var other))
            {
                env.Error(DiagnosticIds.DuplicateName, name.Span, $"'{name.Text}' is already declared as {other}");
                return false;
            }
            taken[name.Text] = what;
            return true;
        }
        foreach (var st in statements)
        {
            env.File = st.File;
            switch (st)
            {
                case EventDeclSyntax e:
                    if (Claim(e.Name, "an event type", st.File)) env.DeclaredEvents[e.Name.Text] = e;
                    break;
                case StreamDeclSyntax s:
                    if (Claim(s.Name, "a stream", st.File)) env.StreamDecls[s.Name.Text] = s;
                    break;
                case PatternDeclSyntax p:
                    if (Claim(p.Name, "a pattern", st.File)) env.PatternDecls[p.Name.Text] = p;
                    break;
                case ConnectorDeclSyntax c:
                    if (Claim(c.Name, "a connector", st.File))
                    {
                        var declared = ConnectorCompiler.Declare(c, env);
                        env.ConnectorDecls[c.Name.Text] = declared;
                        var literals = declared.Values.Where(kv => kv.Value.EnvVar is null && kv.Value.Map is null)
                            .Select(kv => new KeyValuePair<string, Value>(kv.Key, kv.Value.Literal)).ToList();
                        env.Connectors[c.Name.Text] = new ConnectorInfo(c.Name.Text, c.Kind.Text, literals);
                    }
                    break;
                case ContextDeclSyntax cx:
                    if (Claim(cx.Name, "a context", st.File)) env.Contexts.Add(cx.Name.Text);
                    break;
                case FunctionDeclSyntax f:
                    if (Builtins.TryGet(f.Name.Text, out _) || f.Name.Text == "now")
                    {
                        env.Error(DiagnosticIds.FunctionShadowsBuiltin, f.Name.Span, $"'{f.Name.Text}' is a built-in function", "choose another name");
                        break;
                    }
                    if (Claim(f.Name, "a function", st.File)) env.Functions[f.Name.Text] = new FunctionSymbol(f);
                    break;
                case ConstDeclSyntax g:
                    if (Claim(g.Name, $"a '{g.Kind.ToString().ToLowerInvariant()}'", st.File))
                    {
                        var sym = new GlobalSymbol(g.Name.Text, g.Kind, env.GlobalList.Count, g.Name.Span);
                        env.Globals[g.Name.Text] = sym;
                        env.GlobalList.Add(sym);
                    }
                    break;
            }
        }
        env.GlobalValues = new Value[env.GlobalList.Count];
    }

    private static void DeclareEventTypes(CompileEnv env)
    {
        var declared = new Dictionary<string, EventType>(StringComparer.Ordinal);
        var inProgress = new HashSet<string>(StringComparer.Ordinal);
        EventType? Declare(EventDeclSyntax e)
        {
            if (declared.TryGetValue(e.Name.Text, out var done)) return done;
            env.File = e.File;
            EventType? baseType = null;
            if (e.Base is { } b)
            {
                if (!env.DeclaredEvents.TryGetValue(b.Text, out var baseDecl))
                {
                    env.Error(DiagnosticIds.UnknownBaseType, b.Span, $"unknown event type '{b.Text}'", NameSuggester.DidYouMean(b.Text, env.DeclaredEvents.Keys));
                }
                else if (!inProgress.Add(e.Name.Text))
                {
                    env.Error(DiagnosticIds.UnknownBaseType, b.Span, $"event type '{e.Name.Text}' extends itself");
                    return null;
                }
                else
                {
                    baseType = Declare(baseDecl);
                    inProgress.Remove(e.Name.Text);
                }
            }
            env.File = e.File;
            var fields = new List<(string, VplType)>();
            var seen = new HashSet<string>(baseType?.FieldNames ?? Array.Empty<string>(), StringComparer.Ordinal);
            foreach (var f in e.Fields)
            {
                if (!seen.Add(f.Name.Text))
                {
                    env.Error(DiagnosticIds.DuplicateName, f.Name.Span, $"field '{f.Name.Text}' is declared twice in '{e.Name.Text}'");
                    continue;
                }
                fields.Add((f.Name.Text, TypeResolver.Resolve(f.Type, env)));
            }
            var t = env.Types.Declare(e.Name.Text, baseType, fields);
            declared[e.Name.Text] = t;
            return t;
        }
        foreach (var e in env.DeclaredEvents.Values) Declare(e);
    }

    private static void EvaluateGlobals(IReadOnlyList<StatementSyntax> statements, CompileEnv env)
    {
        var frame = new Frame(new EngineState(env.GlobalValues, EngineOptions.Default));
        foreach (var g in statements.OfType<ConstDeclSyntax>())
        {
            if (!env.Globals.TryGetValue(g.Name.Text, out var sym) || sym.Initialized) continue;
            env.File = g.File;
            var declaredType = g.Type is null ? null : TypeResolver.Resolve(g.Type, env);
            var bound = ExpressionCompiler.Compile(g.Value, new ExprContext(env, null) { Initializing = sym });
            Value v;
            try
            {
                v = bound.Constant ?? bound.Eval(frame);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                env.Error(DiagnosticIds.InvalidInitializer, g.Value.Span, $"the value of '{g.Name.Text}' could not be computed: {ex.Message}");
                v = Value.Null;
            }
            env.GlobalValues[sym.Slot] = v;
            sym.Type = declaredType ?? Bound.TypeOf(v);
            if (g.Kind != ConstKind.Var) sym.Constant = v;
            sym.Initialized = true;
        }
    }

    /// <summary>Streams ordered so each comes after the streams it reads; cycles are reported.</summary>
    private static List<StreamDeclSyntax> DependencyOrder(List<StreamDeclSyntax> streams, CompileEnv env)
    {
        var order = new List<StreamDeclSyntax>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done
        var reported = new HashSet<string>(StringComparer.Ordinal);
        void Visit(StreamDeclSyntax s, List<string> path)
        {
            string name = s.Name.Text;
            if (state.TryGetValue(name, out int st))
            {
                if (st == 1)
                {
                    int from = path.IndexOf(name);
                    var cycle = path.Skip(from).Append(name).ToList();
                    if (reported.Add(name))
                    {
                        env.File = s.File;
                        env.Error(DiagnosticIds.StreamCycle, s.Name.Span, $"streams read each other in a cycle: {string.Join(" -> ", cycle)}");
                    }
                }
                return;
            }
            state[name] = 1;
            path.Add(name);
            foreach (var dep in Dependencies(s, env))
            {
                if (env.StreamDecls.TryGetValue(dep, out var d)) Visit(d, path);
            }
            path.RemoveAt(path.Count - 1);
            state[name] = 2;
            order.Add(s);
        }
        foreach (var s in streams) Visit(s, new List<string>());
        // Streams in a cycle are not compiled.
        return order.Where(s => !reported.Contains(s.Name.Text)).ToList();
    }

    private static IEnumerable<string> Dependencies(StreamDeclSyntax s, CompileEnv env)
    {
        IEnumerable<string> FromPattern(PatternExprSyntax p) => p switch
        {
            PatternItemSyntax i => [i.EventType.Text],
            SeqPatternSyntax q => q.Items.SelectMany(FromPattern),
            AndPatternSyntax a => FromPattern(a.Left).Concat(FromPattern(a.Right)),
            OrPatternSyntax o => FromPattern(o.Left).Concat(FromPattern(o.Right)),
            _ => [],
        };
        var names = new List<string>();
        switch (s.Source)
        {
            case NamedSourceSyntax n:
                names.Add(n.Name.Text);
                if (env.PatternDecls.TryGetValue(n.Name.Text, out var pd)) names.AddRange(FromPattern(pd.Pattern));
                break;
            case SequenceSourceSyntax q:
                names.AddRange(q.Steps.Select(x => x.EventType.Text));
                break;
            case MergeSourceSyntax m:
                names.AddRange(m.Inputs.Select(i => i.Source.Text));
                break;
            case JoinSourceSyntax j:
                names.AddRange(j.Inputs.Select(i => i.Text));
                break;
        }
        names.AddRange(s.Operators.OfType<NotOperatorSyntax>().Select(o => o.EventType.Text));
        return names.Where(env.IsStreamName);
    }
}
