using System.Security.Cryptography;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// The first reply to each <c>Idempotency-Key</c> of a pipeline, for the last <see cref="MaxKeys"/> keys seen within
/// <see cref="Retention"/>: a repeated key gets the same reply and nothing is processed again. Keys travel with their
/// batch in the journal (<see cref="EventBatchAccepted.IdempotencyKey"/>, with the body's hash) and sit in the snapshots, so this holds across
/// restarts and moves. A key used again with another body is refused rather than answered with a reply that is not its own.
/// </summary>
public sealed class IdempotencyTable
{
    public const int MaxKeys = 100_000;

    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public int Count => _entries.Count;

    /// <summary>What a request with this key and body should get.</summary>
    public Lookup Find(string key, byte[] body)
    {
        if (!_entries.TryGetValue(key, out var e)) return Lookup.New;
        if (!e.BodyHash.AsSpan().SequenceEqual(HashOf(body))) return Lookup.Mismatch;
        return e.Reply is null ? Lookup.Pending : Lookup.Done;
    }

    public IngestResult? ReplyOf(string key) => _entries.TryGetValue(key, out var e) ? e.Reply : null;

    /// <summary>The request is being written to the journal: a repeat waits for its reply.</summary>
    public void Begin(string key, byte[] body, long ingestTimeNanos) => BeginWithHash(key, HashOf(body), ingestTimeNanos);

    /// <summary><see cref="Begin"/> with the body's hash (<see cref="HashOf"/>) already computed.</summary>
    public void BeginWithHash(string key, byte[] bodyHash, long ingestTimeNanos) => Add(key, bodyHash, ingestTimeNanos, null);

    /// <summary>The request is journaled (or replayed from the journal) with this reply.</summary>
    public void Complete(string key, byte[] body, long ingestTimeNanos, IngestResult reply) => CompleteWithHash(key, HashOf(body), ingestTimeNanos, reply);

    /// <summary><see cref="Complete"/> with the body's hash (<see cref="HashOf"/>): the journal keeps the hash, not the body.</summary>
    public void CompleteWithHash(string key, byte[] bodyHash, long ingestTimeNanos, IngestResult reply)
    {
        if (_entries.TryGetValue(key, out var e)) e.Reply = reply;
        else Add(key, bodyHash, ingestTimeNanos, reply);
    }

    /// <summary>What a body is compared by (SHA-256).</summary>
    public static byte[] HashOf(byte[] body) => SHA256.HashData(body);

    /// <summary>The completed entries, oldest first (for a snapshot).</summary>
    public IReadOnlyList<IdempotentReply> Export()
    {
        var list = new List<IdempotentReply>(_entries.Count);
        foreach (var key in _order)
        {
            if (_entries.TryGetValue(key, out var e) && e.Reply is not null)
                list.Add(new IdempotentReply(key, Convert.ToBase64String(e.BodyHash), e.IngestTimeNanos, e.Reply));
        }
        return list;
    }

    public void Import(IReadOnlyList<IdempotentReply>? replies)
    {
        _entries.Clear();
        _order.Clear();
        if (replies is null) return;
        foreach (var r in replies) Add(r.Key, Convert.FromBase64String(r.BodyHash), r.IngestTimeNanos, r.Reply);
    }

    private void Add(string key, byte[] hash, long ingestTimeNanos, IngestResult? reply)
    {
        if (!_entries.ContainsKey(key)) _order.Enqueue(key);
        _entries[key] = new Entry(hash, ingestTimeNanos) { Reply = reply };
        long horizon = ingestTimeNanos - (long)Retention.TotalMilliseconds * 1_000_000;
        while (_order.Count > 0)
        {
            var oldest = _order.Peek();
            if (!_entries.TryGetValue(oldest, out var o))
            {
                _order.Dequeue();
                continue;
            }
            if (_entries.Count <= MaxKeys && o.IngestTimeNanos >= horizon) break;
            if (o.Reply is null) break; // in flight: it goes once written
            _order.Dequeue();
            _entries.Remove(oldest);
        }
    }

    public enum Lookup
    {
        New,
        Pending,
        Done,
        Mismatch,
    }

    private sealed class Entry(byte[] bodyHash, long ingestTimeNanos)
    {
        public byte[] BodyHash { get; } = bodyHash;
        public long IngestTimeNanos { get; } = ingestTimeNanos;
        public IngestResult? Reply { get; set; }
    }
}

/// <summary>One remembered reply in a snapshot: the key, the SHA-256 of the request body (base64), when it came, the reply.</summary>
public sealed record IdempotentReply(string Key, string BodyHash, long IngestTimeNanos, IngestResult Reply);
