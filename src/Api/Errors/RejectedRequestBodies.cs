using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Varpulis.Api.Errors;

/// <summary>
/// Kestrel answers a request it cannot parse (a NUL or a control character in the path, a request line or header
/// that is not HTTP) by itself, before any middleware runs, with an empty <c>400</c> and <c>Connection: close</c>.
/// This connection middleware gives those answers the contract's JSON error body: it watches the response bytes
/// Kestrel hands to the transport, and only a header block that starts a 4xx, declares <c>Content-Length: 0</c> and
/// closes the connection — which no endpoint of ours produces, since all our errors have bodies — is rewritten. Every
/// other write passes through untouched, with no copy.
/// </summary>
public static class RejectedRequestBodies
{
    /// <summary>Wraps each connection's output.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => ctx =>
    {
        ctx.Transport = new Pipe(ctx.Transport);
        return next(ctx);
    };

    /// <summary>The replacement of an empty rejection, or null to leave the bytes alone.</summary>
    internal static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (!written.StartsWith("HTTP/1.1 4"u8) || written.Length < 12) return null;
        int end = written.IndexOf("\r\n\r\n"u8);
        if (end < 0 || end + 4 != written.Length) return null;
        var head = written[..end];
        if (head.IndexOf("\r\nContent-Length: 0\r\n"u8) < 0 && !head.EndsWith("\r\nContent-Length: 0"u8)) return null;
        if (head.IndexOf("\r\nConnection: close"u8) < 0) return null;
        int status = (written[9] - '0') * 100 + (written[10] - '0') * 10 + (written[11] - '0');
        var (code, message) = status switch
        {
            413 => ("payload_too_large", "request body is too large"),
            414 => ("invalid_request", "the request target (path and query) is too long"),
            431 => ("invalid_request", "the request headers are too large"),
            _ => ("invalid_request", "malformed HTTP request: the request line or a header is invalid (a path may not hold NUL or bytes that are not UTF-8)"),
        };
        var body = Encoding.UTF8.GetBytes($"{{\"error\":\"{message}\",\"code\":\"{code}\"}}");
        var headers = Encoding.ASCII.GetString(head)
            .Replace("\r\nContent-Length: 0", "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " + body.Length, StringComparison.Ordinal);
        return [.. Encoding.ASCII.GetBytes(headers + "\r\n\r\n"), .. body];
    }

    private sealed class Pipe(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input => inner.Input;

        public PipeWriter Output { get; } = new Writer(inner.Output);
    }

    /// <summary>Forwards to the transport's writer; looks at each advanced chunk before committing it.</summary>
    private sealed class Writer(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _lent;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lent = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_lent = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            // A rejection's header block is small and written in one piece; the bytes are still ours to replace until
            // they are advanced.
            if (bytes is >= 12 and <= 4096 && bytes <= _lent.Length && _lent.Span[0] == (byte)'H'
                && Rewrite(_lent.Span[..bytes]) is { } replacement)
            {
                _lent = default;
                inner.Write(replacement);
                return;
            }
            _lent = default;
            inner.Advance(bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
    }
}
