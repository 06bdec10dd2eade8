using Varpulis.Vpl.Compilation.Connectors;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Connectors;

/// <summary>
/// Turns the engine's <c>.to(Connector, ...)</c> calls (<see cref="IEngineHost.Send"/>) into <see cref="SinkRecord"/>s:
/// finds the compiled binding, renders the event in the SSE shape and picks the topic and the Kafka key. Runs on the
/// pipeline's thread; the records then travel to <see cref="PipelineConnectors"/> in one <see cref="DeliverToSinks"/>
/// per journaled batch.
/// </summary>
public sealed class SinkRouter
{
    private readonly Dictionary<(string Stream, string Connector), List<ConnectorBinding>> _bindings = new();

    public SinkRouter(IEnumerable<ConnectorBinding> bindings)
    {
        foreach (var b in bindings.Where(b => b.Direction == BindingDirection.Sink))
        {
            var key = (b.Stream, b.Connector);
            if (!_bindings.TryGetValue(key, out var list)) _bindings[key] = list = new();
            list.Add(b);
        }
    }

    /// <summary>False when the program has no such sink binding (the engine only calls for compiled ones).</summary>
    public bool TryRoute(string stream, string connector, IReadOnlyList<KeyValuePair<string, Value>> args, Event e, out SinkRecord record)
    {
        record = null!;
        if (!_bindings.TryGetValue((stream, connector), out var candidates)) return false;
        string? topic = null;
        string? keyField = null;
        foreach (var a in args)
        {
            if (a.Key == "topic" && a.Value.IsString) topic = a.Value.AsString;
            else if (a.Key == "key" && a.Value.IsString) keyField = a.Value.AsString;
        }
        var binding = candidates.FirstOrDefault(b => b.Topic == (topic ?? b.Topic)) ?? candidates[0];
        topic ??= binding.Topic;
        keyField ??= binding.Parameters.Has("key") ? binding.Parameters.GetString("key") : null;
        string? key = null;
        if (keyField is not null && e.Type.TryGetSlot(keyField, out int slot) && slot < e.Fields.Length && !e.Fields[slot].IsNull)
        {
            var v = e.Fields[slot];
            key = v.IsString ? v.AsString : v.ToString();
        }
        record = new SinkRecord(connector, topic, key, EventJson.ToJsonLineUtf8(e, OutputShape.Data));
        return true;
    }
}
