using System.Net;
using System.Text;

namespace Varpulis.Actors.Tests.Infrastructure;

/// <summary>
/// A local HTTP endpoint (HttpListener on a free loopback port) that records the bodies it accepts (2xx) and, on
/// demand, answers 500 or hangs (accepts the request, never answers).
/// </summary>
public sealed class HttpEndpoint : IDisposable
{
    public enum Mode
    {
        Accept,
        Fail,
        Hang,
    }

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private int _failed;

    public HttpEndpoint()
    {
        Port = MosquittoBroker.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/alerts";

    public volatile Mode Behaviour = Mode.Accept;

    /// <summary>Bodies answered 2xx, in order.</summary>
    public List<string> Accepted { get; } = new();

    public int FailedRequests => Volatile.Read(ref _failed);

    public List<string> AcceptedSnapshot()
    {
        lock (Accepted) return Accepted.ToList();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        switch (Behaviour)
        {
            case Mode.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
                return;
            case Mode.Fail:
                Interlocked.Increment(ref _failed);
                ctx.Response.StatusCode = 500;
                ctx.Response.Close();
                return;
            default:
                lock (Accepted) Accepted.Add(body);
                ctx.Response.StatusCode = 204;
                ctx.Response.Close();
                return;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
    }
}
