using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Sinks;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>The breaker's states and transitions on a clock the test moves.</summary>
public sealed class SinkCircuitBreakerTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now = new(2026, 1, 23, 10, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private readonly ManualClock _clock = new();

    private SinkCircuitBreaker Breaker() => new(5, TimeSpan.FromSeconds(30), _clock);

    [Fact]
    public void OpensAfterFiveConsecutiveFailuresAndRejectsUntilTheResetTimeout()
    {
        var b = Breaker();
        for (int i = 0; i < 4; i++) Assert.Equal(BreakerTransition.None, b.RecordFailure("e" + i));
        Assert.Equal(BreakerPermit.Deliver, b.Acquire(out _));
        Assert.Equal(BreakerTransition.Opened, b.RecordFailure("e4"));
        Assert.Equal((CircuitState.Open, "e4"), (b.State, b.LastError));
        _clock.Now += TimeSpan.FromSeconds(29.9);
        Assert.Equal(BreakerPermit.Reject, b.Acquire(out var t));
        Assert.Equal(BreakerTransition.None, t);
    }

    [Fact]
    public void ASuccessResetsTheConsecutiveCount()
    {
        var b = Breaker();
        for (int i = 0; i < 4; i++) b.RecordFailure("e");
        b.RecordSuccess();
        for (int i = 0; i < 4; i++) Assert.Equal(BreakerTransition.None, b.RecordFailure("e"));
        Assert.Equal(CircuitState.Closed, b.State);
    }

    [Fact]
    public void AfterTheResetTimeoutOneProbeIsLetThroughAndItsSuccessCloses()
    {
        var b = Breaker();
        for (int i = 0; i < 5; i++) b.RecordFailure("e");
        _clock.Now += TimeSpan.FromSeconds(30);
        Assert.Equal(BreakerPermit.Probe, b.Acquire(out var t));
        Assert.Equal((BreakerTransition.HalfOpened, CircuitState.HalfOpen), (t, b.State));
        Assert.Equal(BreakerPermit.Reject, b.Acquire(out _));
        Assert.Equal(BreakerTransition.Closed, b.RecordSuccess());
        Assert.Equal(BreakerPermit.Deliver, b.Acquire(out _));
    }

    [Fact]
    public void AFailedProbeReopensForAnotherResetTimeout()
    {
        var b = Breaker();
        for (int i = 0; i < 5; i++) b.RecordFailure("e");
        _clock.Now += TimeSpan.FromSeconds(31);
        Assert.Equal(BreakerPermit.Probe, b.Acquire(out _));
        Assert.Equal(BreakerTransition.Opened, b.RecordFailure("still down"));
        Assert.Equal((CircuitState.Open, "still down"), (b.State, b.LastError));
        _clock.Now += TimeSpan.FromSeconds(29);
        Assert.Equal(BreakerPermit.Reject, b.Acquire(out _));
        _clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal(BreakerPermit.Probe, b.Acquire(out _));
    }
}
