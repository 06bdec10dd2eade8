using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Sources;

/// <summary>
/// A connector's reading side. <see cref="Connect"/> is one connection: a source of messages that fails when the
/// connection is lost (the graph then reconnects with backoff) and completes only when the graph is stopped.
/// </summary>
public interface IConnectorSource
{
    string Connector { get; }

    /// <summary>One connection attempt. Messages not yet acknowledged when it fails are delivered again by the next one.</summary>
    Source<SourceRecord, NotUsed> Connect();

    /// <summary>
    /// Acknowledges upstream the messages of a batch the pipeline has journaled, in order: MQTT PUBACKs, the Kafka
    /// offsets after the batch, the file position after its last line.
    /// </summary>
    Task AcknowledgeAsync(IReadOnlyList<SourceRecord> records, CancellationToken cancellationToken);

    /// <summary>The event type of a message that names none: the type read by the binding whose topic matches.</summary>
    string? DefaultEventType(SourcePosition position);
}

/// <summary>What the pipeline did with a source batch (its reply after the journal write).</summary>
public sealed record SourceBatchOutcome(int Accepted, int Rejected, IReadOnlyList<string> Errors);

/// <summary>
/// Where a source's batches go: the pipeline entity in a server (an ask that completes after the journal write).
/// A failed task means the batch was not taken: the source reconnects and reads it again.
/// </summary>
public interface ISourceBatchTarget
{
    Task<SourceBatchOutcome> DeliverAsync(SourceBatch batch, CancellationToken cancellationToken);
}

/// <summary>Batching, back-pressure and reconnection of one source.</summary>
public sealed record SourceSettings(int BatchSize, TimeSpan BatchTimeout, int MaxInFlight, TimeSpan MinBackoff, TimeSpan MaxBackoff)
{
    public static SourceSettings From(ConnectorParameters p) => new(
        (int)p.GetInt("batch_size"), p.GetDuration("batch_timeout"), (int)p.GetInt("max_in_flight"), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
}

/// <summary>A running source graph: stop it with <see cref="DrainAsync"/>.</summary>
public sealed class RunningSource(SharedKillSwitch drainSwitch, SharedKillSwitch abortSwitch, Task completion, StopFlag stopping)
{
    /// <summary>Completes when the graph has stopped (after a drain: every batch in flight answered and acknowledged).</summary>
    public Task Completion { get; } = completion;

    /// <summary>Stops reading; batches already read are still delivered and acknowledged, then the graph completes.</summary>
    public Task DrainAsync()
    {
        stopping.Set();
        drainSwitch.Shutdown();
        return Completion;
    }

    /// <summary>Stops at once; messages not acknowledged are delivered again by the broker later.</summary>
    public void Abort()
    {
        stopping.Set();
        abortSwitch.Abort(new OperationCanceledException("source stopped"));
    }
}

/// <summary>Set once a source is being stopped on purpose: its connection ending then is no loss to report.</summary>
public sealed class StopFlag
{
    private volatile bool _set;

    public bool IsSet => _set;

    public void Set() => _set = true;
}

/// <summary>
/// The ingest graph of one source: connection → batches of at most <c>batch_size</c> messages or
/// <c>batch_timeout</c> → the pipeline, at most <c>max_in_flight</c> batches unanswered (back-pressure reaches the
/// connection) → acknowledgement upstream once the pipeline has journaled the batch. A lost connection or a batch
/// the pipeline did not take restarts the connection with exponential backoff (1 s to 30 s), from the last
/// acknowledged position.
/// </summary>
public static class SourceGraph
{
    public static RunningSource Run(
        IConnectorSource source, SourceSettings settings, ISourceBatchTarget target, ConnectorHealth health, ILogger log, IMaterializer materializer)
    {
        // The drain switch ends the messages of the current connection (what was read is still delivered and
        // acknowledged); the abort switch, outside the restarts, ends everything at once.
        var drainSwitch = KillSwitches.Shared("drain-" + source.Connector);
        var abortSwitch = KillSwitches.Shared("abort-" + source.Connector);
        int attempt = 0;
        var stopping = new StopFlag();
        var rejectedLog = new LogThrottle(TimeSpan.FromSeconds(10), TimeProvider.System);
        var restarting = RestartSource.OnFailuresWithBackoff(
            () =>
            {
                if (Interlocked.Increment(ref attempt) > 1) health.SetConnection(ConnectionState.Reconnecting);
                return source.Connect()
                    .Via(drainSwitch.Flow<SourceRecord>())
                    .GroupedWithin(settings.BatchSize, settings.BatchTimeout)
                    .Select(records => SourceBatchBuilder.Build(source.Connector, records.ToList(), source.DefaultEventType))
                    .SelectAsync(settings.MaxInFlight, async batch =>
                    {
                        var outcome = batch.EventCount == 0
                            ? new SourceBatchOutcome(0, 0, Array.Empty<string>())
                            : await target.DeliverAsync(batch, CancellationToken.None).ConfigureAwait(false);
                        return (batch, outcome);
                    })
                    .SelectAsync(1, async t =>
                    {
                        await source.AcknowledgeAsync(t.batch.Records, CancellationToken.None).ConfigureAwait(false);
                        Account(t.batch, t.outcome, health, log, rejectedLog);
                        return NotUsed.Instance;
                    })
                    .WatchTermination((mat, done) =>
                    {
                        done.ContinueWith(
                            d =>
                            {
                                if (!d.IsFaulted || stopping.IsSet) return;
                                var error = d.Exception!.GetBaseException().Message;
                                health.SetConnection(ConnectionState.Reconnecting, error);
                                log.LogWarning("Source {Connector} of pipeline {PipelineId} lost its connection: {Error}; reconnecting with backoff",
                                    source.Connector, health.PipelineId, error);
                            },
                            TaskScheduler.Default);
                        return mat;
                    });
            },
            RestartSettings.Create(settings.MinBackoff, settings.MaxBackoff, 0.2));
        var completion = restarting.Via(abortSwitch.Flow<NotUsed>()).RunWith(Sink.Ignore<NotUsed>(), materializer);
        var tracked = completion.ContinueWith(
            t =>
            {
                bool failed = t.IsFaulted && !stopping.IsSet && t.Exception!.GetBaseException() is not OperationCanceledException;
                health.SetConnection(failed ? ConnectionState.Failed : ConnectionState.Stopped, failed ? t.Exception!.GetBaseException().Message : null);
                if (failed) log.LogError(t.Exception, "Source {Connector} of pipeline {PipelineId} stopped", source.Connector, health.PipelineId);
            },
            TaskScheduler.Default);
        return new RunningSource(drainSwitch, abortSwitch, tracked, stopping);
    }

    private static void Account(SourceBatch batch, SourceBatchOutcome outcome, ConnectorHealth health, ILogger log, LogThrottle rejectedLog)
    {
        health.AddDelivered(outcome.Accepted);
        int rejected = batch.Rejected.Count + outcome.Rejected;
        if (rejected > 0)
        {
            var first = batch.Rejected.Count > 0 ? batch.Rejected[0].Error : outcome.Errors.FirstOrDefault() ?? "rejected by the pipeline";
            health.AddRejected(rejected, first);
            if (rejectedLog.ShouldLog(out long held))
                log.LogWarning("Source {Connector} of pipeline {PipelineId}: {Rejected} messages rejected ({Held} more rejection lines held back), first: {Error}",
                    batch.Connector, health.PipelineId, rejected, held, first);
        }
        log.LogTrace("Source {Connector} of pipeline {PipelineId}: batch of {Events} events journaled and acknowledged", batch.Connector, health.PipelineId, batch.EventCount);
    }
}
