using System.Runtime.CompilerServices;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime.Aggregates;

namespace Varpulis.Vpl.Runtime.Operators;

/// <summary>One aggregate call of an <c>.aggregate(...)</c> (or Kleene collection) expression: function, constant extra args and argument.</summary>
internal sealed record AggregateCall(AggregateFunction Function, Value[] ConstArgs, Eval? Argument);

/// <summary>
/// <c>.aggregate(name: expr, ...)</c>: reduces each window batch to one event per partition holding the
/// aggregate fields, the partition key fields and, for time windows, <c>window_start</c>/<c>window_end</c>.
/// Without a window it aggregates each row on its own.
/// </summary>
internal sealed class AggregateOperator : Operator
{
    private readonly Frame _frame;
    private readonly AggregateCall[] _calls;
    private readonly IAggregator[] _aggregators;
    private readonly Eval[] _fields;
    private readonly EventType _resultType;
    private readonly KeySelector? _partition;
    private readonly int[] _keySlots;
    private readonly int _startSlot;
    private readonly int _endSlot;
    private readonly Value[] _results;
    private readonly List<Event> _single = new(1);
    private readonly bool _regroup;

    /// <param name="regroup">True when the partition key was declared after the window: each batch is split by key.</param>
    public AggregateOperator(Frame frame, AggregateCall[] calls, Eval[] fields, EventType resultType, KeySelector? partition, int[] keySlots, int startSlot, int endSlot, bool regroup)
    {
        _regroup = regroup;
        _frame = frame;
        _calls = calls;
        _fields = fields;
        _resultType = resultType;
        _partition = partition;
        _keySlots = keySlots;
        _startSlot = startSlot;
        _endSlot = endSlot;
        _results = new Value[calls.Length];
        _aggregators = calls.Select(c => c.Function.Create(c.ConstArgs)).ToArray();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Push(Event row)
    {
        _single.Clear();
        _single.Add(row);
        Value key = _partition.KeyOf(_frame, row);
        PushBatch(new WindowBatch(key, _single, 0, 0, false));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void PushBatch(in WindowBatch batch)
    {
        if (!_regroup || _partition is null)
        {
            Reduce(batch, batch.ResultTimestamp);
            return;
        }
        var groups = new Dictionary<Value, List<Event>>();
        foreach (var e in batch.Events)
        {
            _frame.Row = e;
            var key = _partition.Key(_frame);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = new List<Event>();
            list.Add(e);
        }
        foreach (var (key, events) in groups.OrderBy(g => g.Key, ValueTotalComparer.Instance))
            Reduce(batch with { Key = key, Events = events }, batch.ResultTimestamp);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Reduce(in WindowBatch batch, long timestamp)
    {
        var f = _frame;
        for (int k = 0; k < _calls.Length; k++)
        {
            var agg = _aggregators[k];
            agg.Reset();
            var arg = _calls[k].Argument;
            foreach (var e in batch.Events)
            {
                if (arg is null)
                {
                    agg.Add(Value.True);
                }
                else
                {
                    f.Row = e;
                    agg.Add(arg(f));
                }
            }
            _results[k] = agg.Result();
            long skipped = agg.TakeSkipped(out var first);
            if (skipped > 0) Stream.CountTypeErrors(skipped, _calls[k].Function.Name, first);
        }
        f.Row = batch.Events[^1];
        var saved = f.Captures;
        f.Captures = _results;
        var values = new Value[_resultType.FieldCount];
        for (int i = 0; i < _fields.Length; i++) values[i] = _fields[i](f);
        f.Captures = saved;
        if (_partition is not null)
        {
            for (int i = 0; i < _keySlots.Length; i++)
            {
                if (_keySlots[i] >= 0) values[_keySlots[i]] = _partition.Part(batch.Key, i);
            }
        }
        if (batch.IsTimeWindow && _startSlot >= 0)
        {
            values[_startSlot] = Value.FromTimestamp(batch.WindowStart);
            values[_endSlot] = Value.FromTimestamp(batch.WindowEnd);
        }
        Next.Push(new Event(_resultType, timestamp, values));
    }
}
