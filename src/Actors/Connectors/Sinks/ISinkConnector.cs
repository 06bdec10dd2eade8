using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Sinks;

/// <summary>
/// The result of one delivery attempt: for each record, null when delivered, else the error. A delivery is
/// never partially unknown: a record whose outcome cannot be known (timeout) counts as failed.
/// </summary>
public sealed class SinkDeliveryResult
{
    public SinkDeliveryResult(IReadOnlyList<string?> errors)
    {
        Errors = errors;
    }

    /// <summary>Per record, in order: null = delivered, else why not.</summary>
    public IReadOnlyList<string?> Errors { get; }

    public int DeliveredCount => Errors.Count(e => e is null);

    public bool AllDelivered => Errors.All(e => e is null);

    public static SinkDeliveryResult Delivered(int count) => new(new string?[count]);

    public static SinkDeliveryResult Failed(int count, string error) => new(Enumerable.Repeat<string?>(error, count).ToArray());
}

/// <summary>
/// A connector's writing side: delivers a batch of output events and says, per event, whether it was delivered.
/// Implementations connect lazily and reconnect on the next delivery after a failure; they must honour the
/// cancellation token (the sink's <c>timeout</c>) so that a hanging endpoint fails instead of stalling.
/// </summary>
public interface ISinkConnector : IAsyncDisposable
{
    string Connector { get; }

    ConnectorKind Kind { get; }

    Task<SinkDeliveryResult> DeliverAsync(IReadOnlyList<SinkRecord> records, CancellationToken cancellationToken);
}
