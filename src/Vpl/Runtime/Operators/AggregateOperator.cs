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

    public AggregateOperator(Frame frame, AggregateCall[] calls, Eval[] fields, EventType resultType, KeySelector? partition, int[] keySlots, int startSlot, int endSlot)
    {
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

    public override void Push(Event row)
    {
        _single.Clear();
        _single.Add(row);
        Value key = Value.Null;
        if (_partition is not null)
        {
            _frame.Row = row;
            key = _partition.Key(_frame);
        }
        PushBatch(new WindowBatch(key, _single, 0, 0, false));
    }

    public override void PushBatch(in WindowBatch batch)
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
        if (batch.IsTimeWindow)
        {
            values[_startSlot] = Value.FromTimestamp(batch.WindowStart);
            values[_endSlot] = Value.FromTimestamp(batch.WindowEnd);
        }
        Next.Push(new Event(_resultType, batch.ResultTimestamp, values));
    }
}
