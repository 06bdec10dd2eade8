namespace Varpulis.Actors.Connectors;

/// <summary>
/// Lets one log line through per interval and counts the ones held back, for messages that can repeat at event
/// rate (<c>DLQ write</c>, rejected messages, broker errors).
/// </summary>
public sealed class LogThrottle(TimeSpan interval, TimeProvider time)
{
    private readonly object _gate = new();
    private DateTimeOffset _next = DateTimeOffset.MinValue;
    private long _suppressed;

    /// <summary>True when a line may be logged now; <paramref name="suppressed"/> is how many were held back since the last one.</summary>
    public bool ShouldLog(out long suppressed)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (now < _next)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }
            _next = now + interval;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
