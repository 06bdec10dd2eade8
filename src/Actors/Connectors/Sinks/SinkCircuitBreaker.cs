namespace Varpulis.Actors.Connectors.Sinks;

/// <summary>What the breaker lets a sink do now.</summary>
public enum BreakerPermit
{
    /// <summary>Closed: deliver normally.</summary>
    Deliver,

    /// <summary>Half-open: deliver one event as the probe.</summary>
    Probe,

    /// <summary>Open: deliver nothing; events go to the dead-letter queue.</summary>
    Reject,
}

/// <summary>A state change the sink logs: opened (with the last error), half-open, closed.</summary>
public enum BreakerTransition
{
    None,
    Opened,
    HalfOpened,
    Closed,
}

/// <summary>
/// The circuit breaker of one sink (pure state over a <see cref="TimeProvider"/>): Closed; Open after
/// <c>failure_threshold</c> consecutive failed deliveries; after <c>reset_timeout</c> the next delivery is one probe
/// (HalfOpen); its success closes the circuit, its failure opens it again for another <c>reset_timeout</c>.
/// </summary>
public sealed class SinkCircuitBreaker(int failureThreshold, TimeSpan resetTimeout, TimeProvider time)
{
    private int _consecutiveFailures;
    private DateTimeOffset _openedAt;
    private bool _probeInFlight;

    public CircuitState State { get; private set; } = CircuitState.Closed;

    public string? LastError { get; private set; }

    /// <summary>When an open circuit lets its probe through.</summary>
    public DateTimeOffset ProbeDue => _openedAt + resetTimeout;

    /// <summary>Asks to deliver; an open circuit past its reset timeout becomes half-open and grants one probe.</summary>
    public BreakerPermit Acquire(out BreakerTransition transition)
    {
        transition = BreakerTransition.None;
        switch (State)
        {
            case CircuitState.Closed:
                return BreakerPermit.Deliver;
            case CircuitState.Open when time.GetUtcNow() >= ProbeDue:
                State = CircuitState.HalfOpen;
                transition = BreakerTransition.HalfOpened;
                _probeInFlight = true;
                return BreakerPermit.Probe;
            case CircuitState.HalfOpen when !_probeInFlight:
                _probeInFlight = true;
                return BreakerPermit.Probe;
            default:
                return BreakerPermit.Reject;
        }
    }

    public BreakerTransition RecordSuccess()
    {
        _consecutiveFailures = 0;
        _probeInFlight = false;
        if (State == CircuitState.Closed) return BreakerTransition.None;
        State = CircuitState.Closed;
        return BreakerTransition.Closed;
    }

    public BreakerTransition RecordFailure(string error)
    {
        LastError = error;
        _probeInFlight = false;
        if (State == CircuitState.HalfOpen)
        {
            Open();
            return BreakerTransition.Opened;
        }
        if (State == CircuitState.Open) return BreakerTransition.None;
        if (++_consecutiveFailures < failureThreshold) return BreakerTransition.None;
        Open();
        return BreakerTransition.Opened;
    }

    private void Open()
    {
        State = CircuitState.Open;
        _openedAt = time.GetUtcNow();
        _consecutiveFailures = 0;
    }
}
