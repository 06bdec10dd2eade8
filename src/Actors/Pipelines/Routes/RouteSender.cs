using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Pipelines.Routes;

/// <summary>
/// The delivery side of a pipeline's routes, a child of its entity: sends each routed batch the pipeline owes to its
/// target pipeline through the shard region (wherever that runs), in sequence order per target with up to
/// <see cref="Window"/> batches in flight, and sends again from the first unconfirmed batch when the target refused one
/// after a gap, answered <c>unavailable</c> (moving, restarting), or did not answer within <see cref="ResendAfter"/> (a
/// shard region drops what it holds for a pipeline at hand-off; a worker may die with the batch). Confirmations go to
/// the entity, which keeps the outbox (<see cref="RouteLedger"/>) in its snapshots. The entity gives it only batches
/// that are journaled, so a receiver never applies an output whose cause could be lost.
/// </summary>
public sealed class RouteSender : ReceiveActor, IWithTimers
{
    public const int Window = 32;

    public static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(500);

    private readonly string _source;
    private readonly string _tenantId;
    private readonly IActorRef _region;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Channel> _channels = new(StringComparer.Ordinal);

    public RouteSender(string source, string tenantId, IActorRef region, TimeProvider time, ILogger log)
    {
        _time = time;
        _source = source;
        _tenantId = tenantId;
        _region = region;
        _log = log;
        Receive<Owe>(o =>
        {
            foreach (var b in o.Batches) Add(b);
            foreach (var target in o.Batches.Select(b => b.Target).Distinct()) Pump(_channels[target]);
        });
        Receive<RouteAck>(Acked);
        Receive<PipelineError>(Refused);
        Receive<Tick>(_ => Check());
        Timers.StartPeriodicTimer("tick", Tick.Instance, TickInterval);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string source, string tenantId, IActorRef region, TimeProvider time, ILogger log)
        => Akka.Actor.Props.Create(() => new RouteSender(source, tenantId, region, time, log));

    private void Add(RoutedBatch b)
    {
        if (!_channels.TryGetValue(b.Target, out var c))
        {
            // Everything before the first batch owed is confirmed (the ledger keeps nothing else).
            _channels[b.Target] = c = new Channel(b.Target) { Confirmed = b.Sequence - 1, SentUpTo = b.Sequence - 1, Progress = _time.GetUtcNow() };
        }
        if (b.Sequence <= c.Confirmed || (c.Queue.Count > 0 && b.Sequence <= c.Queue[^1].Sequence)) return;
        c.Queue.Add(b);
    }

    /// <summary>Sends what the window allows, after the last batch sent.</summary>
    private void Pump(Channel c)
    {
        foreach (var b in c.Queue)
        {
            if (b.Sequence <= c.SentUpTo) continue;
            if (b.Sequence - c.Confirmed > Window) break;
            _region.Tell(new DeliverRoutedEvents(c.Target, _tenantId, _source, b.Sequence, b.Body));
            if (c.SentUpTo <= c.Confirmed) c.Progress = _time.GetUtcNow();
            c.SentUpTo = b.Sequence;
        }
    }

    private void Acked(RouteAck ack)
    {
        if (!_channels.TryGetValue(ack.Target, out var c)) return;
        if (ack.HighWater > c.Confirmed)
        {
            c.Confirmed = ack.HighWater;
            c.Progress = _time.GetUtcNow();
            int n = 0;
            while (n < c.Queue.Count && c.Queue[n].Sequence <= ack.HighWater) n++;
            c.Queue.RemoveRange(0, n);
            if (c.SentUpTo < c.Confirmed) c.SentUpTo = c.Confirmed;
            Context.Parent.Tell(new Confirmed(c.Target, ack.HighWater));
        }
        if (ack.HighWater < ack.Sequence && ack.HighWater >= c.Confirmed && c.SentUpTo > ack.HighWater && c.ResentFrom != ack.HighWater + 1)
        {
            // The receiver misses a batch before this one (dropped on its way): go back to it, once per gap.
            c.ResentFrom = ack.HighWater + 1;
            c.SentUpTo = ack.HighWater;
        }
        if (c.Queue.Count == 0)
        {
            _channels.Remove(c.Target);
            return;
        }
        Pump(c);
    }

    private void Refused(PipelineError e)
    {
        // The error names no batch; it concerns the target whose id it carries.
        var c = _channels.Values.FirstOrDefault(x => e.Message.Contains($"'{x.Target}'", StringComparison.Ordinal));
        if (c is null) return;
        if (e.Code == "pipeline_not_found")
        {
            _log.LogWarning("Route from pipeline {Source} to {Target}: the target pipeline does not exist any more; {Count} routed batches dropped",
                _source, c.Target, c.Queue.Count);
            _channels.Remove(c.Target);
            Context.Parent.Tell(new TargetGone(c.Target));
            return;
        }
        // Moving, restarting, or its engine failed: send again from the first unconfirmed batch soon.
        c.Progress = _time.GetUtcNow() - ResendAfter + TimeSpan.FromMilliseconds(500);
    }

    private void Check()
    {
        var now = _time.GetUtcNow();
        foreach (var c in _channels.Values)
        {
            if (c.Queue.Count == 0) continue;
            if (c.SentUpTo > c.Confirmed && now - c.Progress < ResendAfter) continue;
            if (c.SentUpTo > c.Confirmed)
            {
                _log.LogDebug("Route from pipeline {Source} to {Target}: no confirmation after batch {Confirmed}; sending again", _source, c.Target, c.Confirmed);
            }
            c.SentUpTo = c.Confirmed;
            c.ResentFrom = 0;
            c.Progress = now;
            Pump(c);
        }
    }

    /// <summary>From the entity: journaled batches to deliver.</summary>
    public sealed record Owe(IReadOnlyList<RoutedBatch> Batches);

    /// <summary>To the entity: the target confirmed every batch up to <paramref name="HighWater"/>.</summary>
    public sealed record Confirmed(string Target, long HighWater);

    /// <summary>To the entity: the target pipeline is gone (deleted).</summary>
    public sealed record TargetGone(string Target);

    private sealed class Channel(string target)
    {
        public string Target { get; } = target;

        public List<RoutedBatch> Queue { get; } = new();

        public long Confirmed { get; set; }

        public long SentUpTo { get; set; }

        public long ResentFrom { get; set; }

        public DateTimeOffset Progress { get; set; }
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
