using System.Buffers;
using System.Text;
using System.Text.Json;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Pipelines.Routes;

/// <summary>
/// The routing state of one pipeline, without actor machinery. As a sender: its routes, the sequence number it gave
/// last to each target pipeline, and the batches each target has not confirmed yet (its outbox). As a receiver: the
/// last sequence number it applied from each source (its inbox). All of it is deterministic from the pipeline's
/// journal (the routes are journaled; the outputs of a replayed batch are the outputs it had; a routed input batch is
/// journaled with its origin) and is part of the snapshot, so a pipeline recovers exactly the batches it still owes
/// and exactly what it has applied.
/// </summary>
public sealed class RouteLedger
{
    private readonly List<Compiled> _routes = new();
    private readonly Dictionary<string, long> _lastSent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<RoutedBatch>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _applied = new(StringComparer.Ordinal);
    private IReadOnlyList<PipelineRoute> _definitions = [];

    public bool HasRoutes => _routes.Count > 0;

    public IReadOnlyList<PipelineRoute> Routes => _definitions;

    /// <summary>Batches not yet confirmed, per target, in sequence order.</summary>
    public IEnumerable<RoutedBatch> Pending => _pending.Values.SelectMany(l => l);

    public int PendingCount => _pending.Values.Sum(l => l.Count);

    public void SetRoutes(IReadOnlyList<PipelineRoute> routes)
    {
        _definitions = routes;
        _routes.Clear();
        foreach (var r in routes) _routes.Add(new Compiled(r));
    }

    /// <summary>
    /// The routed batches of one processed request's outputs: per target pipeline, the matching events in the order
    /// produced, under the target's next sequence number. They are owed from now on (in <see cref="Pending"/>).
    /// </summary>
    public IReadOnlyList<RoutedBatch> Route(IReadOnlyList<Event> outputs)
    {
        if (_routes.Count == 0 || outputs.Count == 0) return [];
        Dictionary<string, List<Event>>? byTarget = null;
        List<string>? order = null;
        foreach (var e in outputs)
        {
            foreach (var r in _routes)
            {
                if (!r.Matches(e.Type.Name)) continue;
                var target = r.TargetFor(e);
                byTarget ??= new Dictionary<string, List<Event>>(StringComparer.Ordinal);
                order ??= new List<string>();
                if (!byTarget.TryGetValue(target, out var list))
                {
                    byTarget[target] = list = new List<Event>();
                    order.Add(target);
                }
                list.Add(e);
            }
        }
        if (byTarget is null) return [];
        var batches = new List<RoutedBatch>(order!.Count);
        foreach (var target in order)
        {
            long seq = _lastSent.GetValueOrDefault(target) + 1;
            _lastSent[target] = seq;
            var batch = new RoutedBatch(target, seq, Body(byTarget[target]));
            if (!_pending.TryGetValue(target, out var owed)) _pending[target] = owed = new List<RoutedBatch>();
            owed.Add(batch);
            batches.Add(batch);
        }
        return batches;
    }

    /// <summary>The target confirmed every batch up to <paramref name="highWater"/>.</summary>
    public void Confirm(string target, long highWater)
    {
        if (!_pending.TryGetValue(target, out var owed)) return;
        int n = 0;
        while (n < owed.Count && owed[n].Sequence <= highWater) n++;
        owed.RemoveRange(0, n);
        if (owed.Count == 0) _pending.Remove(target);
    }

    /// <summary>Forgets what is owed to a target that no longer exists.</summary>
    public void Abandon(string target) => _pending.Remove(target);

    /// <summary>The last sequence number applied from <paramref name="source"/> (0: none).</summary>
    public long Applied(string source) => _applied.GetValueOrDefault(source);

    /// <summary>A routed batch from <paramref name="source"/> is applied.</summary>
    public void MarkApplied(string source, long sequence)
    {
        if (sequence > _applied.GetValueOrDefault(source)) _applied[source] = sequence;
    }

    public RouteSnapshot? Export()
        => _definitions.Count == 0 && _applied.Count == 0 && _lastSent.Count == 0
            ? null
            : new RouteSnapshot(_definitions, new Dictionary<string, long>(_lastSent), Pending.ToList(), new Dictionary<string, long>(_applied));

    public void Import(RouteSnapshot? s)
    {
        _lastSent.Clear();
        _pending.Clear();
        _applied.Clear();
        SetRoutes(s?.Routes ?? []);
        if (s is null) return;
        foreach (var (k, v) in s.LastSent) _lastSent[k] = v;
        foreach (var (k, v) in s.Applied) _applied[k] = v;
        foreach (var b in s.Pending.OrderBy(b => b.Sequence))
        {
            if (!_pending.TryGetValue(b.Target, out var owed)) _pending[b.Target] = owed = new List<RoutedBatch>();
            owed.Add(b);
        }
    }

    /// <summary>Whether an event type matches a route pattern: exact, <c>Prefix*</c>, or <c>*</c>.</summary>
    public static bool Matches(string pattern, string eventType)
        => pattern == "*"
           || (pattern.EndsWith('*') ? eventType.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : pattern == eventType);

    /// <summary>
    /// The replica (0 .. <paramref name="replicas"/> - 1) of a partition key value: FNV-1a over its UTF-8 text, so one
    /// key always reaches the same replica, on every node and across restarts. A missing key goes to replica 0.
    /// </summary>
    public static int ReplicaOf(string? keyText, int replicas)
    {
        if (replicas <= 1 || keyText is null) return 0;
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(keyText))
        {
            h ^= b;
            h *= 16777619;
        }
        return (int)(h % (uint)replicas);
    }

    /// <summary>The text of a field value a partition key hashes: a string as it is, anything else as its JSON.</summary>
    public static string? KeyText(Value v)
    {
        if (v.IsNull) return null;
        if (v.IsString) return v.AsString;
        var buffer = new ArrayBufferWriter<byte>(32);
        using (var w = new Utf8JsonWriter(buffer)) ValueJson.Write(w, v);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The text of a JSON field value a partition key hashes (the same as <see cref="KeyText(Value)"/> for the same value).</summary>
    public static string? KeyText(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => v.GetString(),
        _ => v.GetRawText(),
    };

    /// <summary>Input events in the shape every ingest takes: <c>{"events": [{"event_type", "timestamp", "fields"}]}</c>.</summary>
    private static byte[] Body(List<Event> events)
    {
        var buffer = new ArrayBufferWriter<byte>(128 * events.Count + 16);
        using (var w = new Utf8JsonWriter(buffer, VplJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WritePropertyName("events");
            w.WriteStartArray();
            foreach (var e in events) EventJson.WriteOutput(w, e, OutputShape.Fields);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class Compiled(PipelineRoute route)
    {
        public bool Matches(string eventType)
        {
            foreach (var p in route.EventTypes)
            {
                if (RouteLedger.Matches(p, eventType)) return true;
            }
            return false;
        }

        public string TargetFor(Event e)
        {
            if (route.TargetIds.Count == 1 || route.PartitionKey is null) return route.TargetIds[0];
            return route.TargetIds[ReplicaOf(KeyText(e.Get(route.PartitionKey)), route.TargetIds.Count)];
        }
    }
}
