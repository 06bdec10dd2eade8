using System.Collections.Concurrent;
using System.Text.Json;
using Varpulis.Actors.Connectors.Sources;

namespace Varpulis.Actors.Tests.Infrastructure;

/// <summary>
/// Stands in for the pipeline entity: "journals" each source batch (keeps its events) and answers, or fails the
/// batches it is told to fail. <see cref="Events"/> holds the event objects in arrival order.
/// </summary>
public sealed class RecordingTarget : ISourceBatchTarget
{
    private int _failNext;

    public ConcurrentQueue<JsonElement> Events { get; } = new();

    public ConcurrentQueue<SourceBatch> Batches { get; } = new();

    public Func<SourceBatch, Task>? OnBatch { get; set; }

    /// <summary>The next <paramref name="n"/> batches fail (as an unreachable pipeline would).</summary>
    public void FailNext(int n) => Interlocked.Exchange(ref _failNext, n);

    public async Task<SourceBatchOutcome> DeliverAsync(SourceBatch batch, CancellationToken cancellationToken)
    {
        if (Interlocked.Decrement(ref _failNext) >= 0) throw new TimeoutException("pipeline did not answer");
        Interlocked.Exchange(ref _failNext, 0);
        if (OnBatch is not null) await OnBatch(batch);
        using var doc = JsonDocument.Parse(batch.Body);
        foreach (var e in doc.RootElement.GetProperty("events").EnumerateArray()) Events.Enqueue(e.Clone());
        Batches.Enqueue(batch);
        return new SourceBatchOutcome(batch.EventCount, 0, Array.Empty<string>());
    }

    public IReadOnlyList<string> Field(string name) => Events.Select(e => e.GetProperty("fields").GetProperty(name).ToString()).ToList();
}
