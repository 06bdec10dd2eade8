using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime.Operators;

namespace Varpulis.Vpl.Runtime.Windows;

/// <summary>
/// <c>.window(N)</c> (tumbling: every N events per partition, then empty) and
/// <c>.window(N, sliding: M)</c> (the last N events, emitted every M events once N are buffered).
/// Count windows that are not full are never flushed.
/// </summary>
internal sealed class CountWindowOperator : Operator
{
    private sealed class PartitionState(Value key) : IPartitionState
    {
        public Value Key { get; } = key;
        public readonly Queue<Event> Events = new();
        public long Seen;
    }

    private readonly Frame _frame;
    private readonly int _size;
    private readonly int _slide;
    private readonly KeySelector? _partition;
    private readonly PartitionMap<PartitionState> _partitions = new();
    private PartitionState? _single;

    /// <param name="slide">0 for a tumbling window.</param>
    public CountWindowOperator(Frame frame, int size, int slide, KeySelector? partition)
    {
        _frame = frame;
        _size = size;
        _slide = slide;
        _partition = partition;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Push(Event row)
    {
        Value key = Value.Null;
        PartitionState? st;
        if (_partition is null)
        {
            st = _single ??= GetOrCreate(Value.Null);
        }
        else
        {
            _frame.Row = row;
            key = _partition.Key(_frame);
            st = GetOrCreate(key);
        }
        st.Events.Enqueue(row);
        st.Seen++;
        if (_slide == 0)
        {
            if (st.Events.Count >= _size)
            {
                var batch = new List<Event>(st.Events);
                st.Events.Clear();
                Next.PushBatch(new WindowBatch(key, batch, 0, 0, false));
            }
        }
        else
        {
            if (st.Events.Count > _size) st.Events.Dequeue();
            if (st.Events.Count == _size && (st.Seen - _size) % _slide == 0)
                Next.PushBatch(new WindowBatch(key, new List<Event>(st.Events), 0, 0, false));
        }
    }

    private PartitionState GetOrCreate(Value key)
    {
        if (!_partitions.TryGetValue(key, out var st))
        {
            st = new PartitionState(key);
            _partitions.Add(key, st);
        }
        return st;
    }

    public override string StateKind => _slide == 0 ? "window.count" : "window.sliding_count";

    public override JsonNode SaveState()
    {
        var a = new JsonArray();
        foreach (var st in _partitions.Values.OrderBy(st => st.Key, ValueTotalComparer.Instance))
        {
            a.Add(new JsonObject
            {
                ["key"] = CheckpointCodec.EncodeValue(st.Key),
                ["seen"] = st.Seen,
                ["events"] = CheckpointCodec.EncodeEvents(st.Events),
            });
        }
        return new JsonObject { ["partitions"] = a };
    }

    public override void LoadState(JsonNode state)
    {
        _partitions.Clear();
        _single = null;
        var types = Stream.Engine.Program.Types;
        foreach (var p in state["partitions"]?.AsArray() ?? new JsonArray())
        {
            var st = GetOrCreate(CheckpointCodec.DecodeValue(p!["key"], types));
            st.Seen = (long)p["seen"]!;
            foreach (var e in CheckpointCodec.DecodeEvents(p["events"], types)) st.Events.Enqueue(e);
        }
    }
}
