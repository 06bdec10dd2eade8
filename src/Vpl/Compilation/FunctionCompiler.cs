using Varpulis.Vpl.Diagnostics;
using Varpulis.Vpl.Runtime;
using Varpulis.Vpl.Syntax;

namespace Varpulis.Vpl.Compilation;

/// <summary>
/// Compiles <c>fn</c> bodies into closures. A call runs with its own locals; a runaway loop or recursion is
/// stopped by a step budget (<see cref="EngineOptions.MaxFunctionSteps"/>) and a depth limit of 64, counted as
/// a runtime fault and answered with null, so no function can stall or crash a pipeline.
/// </summary>
internal static class FunctionCompiler
{
    public const int MaxCallDepth = 64;

    private enum Flow
    {
        Next,
        Break,
        Continue,
        Return,
    }

    private delegate Flow Exec(Frame f);

    private sealed class FunctionFault(string message) : Exception(message);

    public static void Compile(FunctionSymbol fn, CompileEnv env)
    {
        var scope = new FunctionScope(fn);
        foreach (var p in fn.Syntax.Parameters)
        {
            if (scope.TryResolve(p.Name.Text, out _, out _))
                env.Error(DiagnosticIds.DuplicateName, p.Name.Span, $"parameter '{p.Name.Text}' is declared twice");
            scope.Declare(p.Name.Text, mutable: false);
            if (p.Type is not null) TypeResolver.Resolve(p.Type, env);
        }
        if (fn.Syntax.ReturnType is not null) fn.ReturnType = TypeResolver.Resolve(fn.Syntax.ReturnType, env);
        var cx = new ExprContext(env, null) { Function = scope };
        var body = CompileBlock(fn.Syntax.Body, cx, scope);
        fn.LocalCount = scope.NextSlot;
        string name = fn.Name;
        fn.Body = f =>
        {
            var st = f.State;
            bool outermost = st.CallDepth == 0;
            if (outermost) st.StepsLeft = st.Options.MaxFunctionSteps;
            else if (st.CallDepth >= MaxCallDepth) throw new FunctionFault($"function '{name}' exceeded the call depth limit of {MaxCallDepth}");
            st.CallDepth++;
            try
            {
                body(f);
                return f.Locals[0];
            }
            catch (FunctionFault ex) when (outermost)
            {
                st.RuntimeFaults++;
                st.Options.Host?.Notice(f.Row?.Type.Name ?? name, "function_fault", ex.Message);
                return Value.Null;
            }
            finally
            {
                st.CallDepth--;
            }
        };
    }

    private static Exec CompileBlock(BlockSyntax block, ExprContext cx, FunctionScope scope)
    {
        scope.PushBlock();
        var stmts = block.Statements.Select(s => CompileStatement(s, cx, scope)).ToArray();
        scope.PopBlock();
        if (stmts.Length == 1) return stmts[0];
        return f =>
        {
            for (int i = 0; i < stmts.Length; i++)
            {
                var flow = stmts[i](f);
                if (flow != Flow.Next) return flow;
            }
            return Flow.Next;
        };
    }

    private static void Step(Frame f)
    {
        if (--f.State.StepsLeft < 0) throw new FunctionFault("a function exceeded its step budget (runaway loop?)");
    }

    private static Exec CompileStatement(FnStatementSyntax s, ExprContext cx, FunctionScope scope)
    {
        var env = cx.Env;
        switch (s)
        {
            case LocalDeclSyntax d:
                {
                    if (d.Type is not null) TypeResolver.Resolve(d.Type, env);
                    var value = ExpressionCompiler.Compile(d.Value, cx).Eval;
                    int slot = scope.Declare(d.Name.Text, d.Mutable);
                    return f =>
                    {
                        Step(f);
                        f.Locals[slot] = value(f);
                        return Flow.Next;
                    };
                }
            case AssignSyntax a:
                {
                    var value = ExpressionCompiler.Compile(a.Value, cx).Eval;
                    if (scope.TryResolve(a.Target.Text, out int slot, out bool mutable))
                    {
                        if (!mutable)
                            env.Error(DiagnosticIds.AssignToImmutable, a.Target.Span, $"'{a.Target.Text}' cannot be assigned: it is a parameter or a 'let'", "declare it with 'var'");
                        return f =>
                        {
                            Step(f);
                            f.Locals[slot] = value(f);
                            return Flow.Next;
                        };
                    }
                    if (env.Globals.TryGetValue(a.Target.Text, out var g))
                    {
                        if (g.Kind != ConstKind.Var)
                            env.Error(DiagnosticIds.AssignToImmutable, a.Target.Span, $"'{a.Target.Text}' cannot be assigned: it is a '{g.Kind.ToString().ToLowerInvariant()}'", "declare it with 'var'");
                        scope.Function.AssignsGlobals = true;
                        int gslot = g.Slot;
                        return f =>
                        {
                            Step(f);
                            f.Globals[gslot] = value(f);
                            return Flow.Next;
                        };
                    }
                    env.Error(DiagnosticIds.UnknownName, a.Target.Span, $"unknown variable '{a.Target.Text}'",
                        NameSuggester.DidYouMean(a.Target.Text, scope.VisibleNames.Concat(env.Globals.Keys)));
                    return static _ => Flow.Next;
                }
            case IfSyntax i:
                {
                    var conds = i.Branches.Select(b => ExpressionCompiler.CompileCondition(b.Condition, cx, "the condition of 'if'").Eval).ToArray();
                    var bodies = i.Branches.Select(b => CompileBlock(b.Body, cx, scope)).ToArray();
                    var els = i.Else is null ? null : CompileBlock(i.Else, cx, scope);
                    return f =>
                    {
                        Step(f);
                        for (int k = 0; k < conds.Length; k++)
                        {
                            if (conds[k](f).IsTrue) return bodies[k](f);
                        }
                        return els is null ? Flow.Next : els(f);
                    };
                }
            case WhileSyntax w:
                {
                    var cond = ExpressionCompiler.CompileCondition(w.Condition, cx, "the condition of 'while'").Eval;
                    scope.LoopDepth++;
                    var body = CompileBlock(w.Body, cx, scope);
                    scope.LoopDepth--;
                    return f =>
                    {
                        while (true)
                        {
                            Step(f);
                            if (!cond(f).IsTrue) return Flow.Next;
                            var flow = body(f);
                            if (flow == Flow.Break) return Flow.Next;
                            if (flow == Flow.Return) return flow;
                        }
                    };
                }
            case ForSyntax fo:
                {
                    var iterable = ExpressionCompiler.Compile(fo.Iterable, cx).Eval;
                    scope.PushBlock();
                    int slot = scope.Declare(fo.Variable.Text, mutable: false);
                    scope.LoopDepth++;
                    var body = CompileBlock(fo.Body, cx, scope);
                    scope.LoopDepth--;
                    scope.PopBlock();
                    return f =>
                    {
                        Step(f);
                        var items = Iterate(iterable(f));
                        foreach (var item in items)
                        {
                            Step(f);
                            f.Locals[slot] = item;
                            var flow = body(f);
                            if (flow == Flow.Break) break;
                            if (flow == Flow.Return) return flow;
                        }
                        return Flow.Next;
                    };
                }
            case BreakSyntax b:
                if (scope.LoopDepth == 0) env.Error(DiagnosticIds.BreakOutsideLoop, b.Span, "'break' outside a loop");
                return static _ => Flow.Break;
            case ContinueSyntax c:
                if (scope.LoopDepth == 0) env.Error(DiagnosticIds.BreakOutsideLoop, c.Span, "'continue' outside a loop");
                return static _ => Flow.Continue;
            case ReturnSyntax r:
                {
                    if (r.Value is null)
                    {
                        return static f =>
                        {
                            f.Locals[0] = Value.Null;
                            return Flow.Return;
                        };
                    }
                    var value = ExpressionCompiler.Compile(r.Value, cx).Eval;
                    return f =>
                    {
                        Step(f);
                        f.Locals[0] = value(f);
                        return Flow.Return;
                    };
                }
            case EmitSyntax e:
                {
                    var fn = scope.Function;
                    fn.Emits = true;
                    var names = new List<string>();
                    var evals = new List<Eval>();
                    foreach (var arg in e.Args)
                    {
                        string? fname = arg.Name?.Text ?? arg.Value switch
                        {
                            NameExprSyntax n => n.Name,
                            MemberExprSyntax m => m.Member.Text,
                            _ => null,
                        };
                        if (fname is null)
                        {
                            env.Error(DiagnosticIds.InvalidArguments, arg.Span, "emit arguments need a name: write 'name: expression'");
                            continue;
                        }
                        if (names.Contains(fname))
                        {
                            env.Error(DiagnosticIds.DuplicateName, arg.Span, $"field '{fname}' is emitted twice");
                            continue;
                        }
                        names.Add(fname);
                        evals.Add(ExpressionCompiler.Compile(arg.Value, cx).Eval);
                        if (!fn.EmittedFields.Contains(fname)) fn.EmittedFields.Add(fname);
                    }
                    var type = env.Types.DefineOpen($"{fn.Name}#emit#{e.EventType.Text}", names);
                    var slots = names.Select(type.GetOrAddSlot).ToArray();
                    var evalArr = evals.ToArray();
                    return f =>
                    {
                        Step(f);
                        if (f.Emitted is null) return Flow.Next;
                        var values = new Value[type.FieldCount];
                        for (int k = 0; k < evalArr.Length; k++) values[slots[k]] = evalArr[k](f);
                        f.Emitted.Add(new Event(type, f.Row?.Timestamp ?? 0, values));
                        return Flow.Next;
                    };
                }
            case ExprStatementSyntax x:
                {
                    var value = ExpressionCompiler.Compile(x.Expression, cx).Eval;
                    return f =>
                    {
                        Step(f);
                        value(f);
                        return Flow.Next;
                    };
                }
            default:
                return static _ => Flow.Next;
        }
    }

    private static IEnumerable<Value> Iterate(Value v)
    {
        if (v.IsArray) return v.AsArray;
        if (v.IsMap) return v.AsMap.Keys.Select(Value.FromString).ToArray();
        if (v.IsString) return v.AsString.Select(c => Value.FromString(c.ToString())).ToArray();
        return Array.Empty<Value>();
    }
}

/// <summary>Resolves type syntax (<c>int</c>, <c>[T]</c>, <c>{K: V}</c>, <c>T?</c>) to <see cref="VplType"/>.</summary>
internal static class TypeResolver
{
    private static readonly string[] Names = ["int", "float", "bool", "str", "timestamp", "duration"];

    public static VplType Resolve(TypeSyntax t, CompileEnv env) => t switch
    {
        NamedTypeSyntax n => n.Name.Text switch
        {
            "int" => VplType.Int,
            "float" => VplType.Float,
            "bool" => VplType.Bool,
            "str" => VplType.String,
            "timestamp" => VplType.Timestamp,
            "duration" => VplType.Duration,
            _ => Unknown(n, env),
        },
        ArrayTypeSyntax a => VplType.ArrayOf(Resolve(a.Element, env)),
        MapTypeSyntax m => VplType.MapOf(Resolve(m.Key, env), Resolve(m.Value, env)),
        OptionalTypeSyntax o => Resolve(o.Inner, env).AsNullable(),
        _ => VplType.Any,
    };

    private static VplType Unknown(NamedTypeSyntax n, CompileEnv env)
    {
        string? hint = n.Name.Text == "string" ? "write 'str'" : NameSuggester.DidYouMean(n.Name.Text, Names);
        env.Error(DiagnosticIds.UnknownType, n.Span, $"unknown type '{n.Name.Text}'", hint ?? "types are int, float, bool, str, timestamp, duration, [T], {K: V}, T?");
        return VplType.Any;
    }
}
