using System.Collections.Concurrent;

namespace Varpulis.Api.Security;

/// <summary>
/// Token buckets by key (client IP for the rate limit, tenant for the event quota): <c>rate</c> tokens per second,
/// up to <c>burst</c>. Time comes from the node's <see cref="TimeProvider"/>.
/// </summary>
public sealed class TokenBuckets(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Takes <paramref name="cost"/> tokens if the bucket holds any (it may go into debt for a large cost); else how long until one is back.</summary>
    public bool TryTake(string key, double rate, double burst, double cost, out TimeSpan retryAfter)
    {
        var bucket = _buckets.GetOrAdd(key, _ => new Bucket(burst, time.GetTimestamp()));
        lock (bucket)
        {
            Refill(bucket, rate, burst);
            if (bucket.Tokens >= 1 || (cost < 1 && bucket.Tokens >= cost))
            {
                bucket.Tokens -= cost;
                retryAfter = TimeSpan.Zero;
                return true;
            }
            retryAfter = TimeSpan.FromSeconds((1 - bucket.Tokens) / rate);
            return false;
        }
    }

    /// <summary>Charges tokens after the fact (events counted once the entity parsed them).</summary>
    public void Charge(string key, double rate, double burst, double cost)
    {
        var bucket = _buckets.GetOrAdd(key, _ => new Bucket(burst, time.GetTimestamp()));
        lock (bucket)
        {
            Refill(bucket, rate, burst);
            bucket.Tokens -= cost;
        }
    }

    private void Refill(Bucket b, double rate, double burst)
    {
        long now = time.GetTimestamp();
        double secs = (now - b.Stamp) / (double)time.TimestampFrequency;
        b.Stamp = now;
        b.Tokens = Math.Min(burst, b.Tokens + secs * rate);
    }

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
    }
}
