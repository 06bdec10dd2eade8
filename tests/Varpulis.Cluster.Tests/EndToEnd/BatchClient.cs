using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Varpulis.Actors.Pipelines;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Cluster.Tests.EndToEnd;

/// <summary>
/// A client that keeps sending numbered batches to one pipeline through whichever node is up (each with its own key),
/// as a producer would during operations: batch b goes with <c>Idempotency-Key: PIPELINE-b</c> and is sent again
/// (to any node) until it is acknowledged, so a retry after a timeout or a dropped connection never counts twice.
/// The output events of every acknowledged batch are kept in order, to compare with a single-node run. With a
/// <paramref name="path"/> (a pipeline group's <c>inject-batch</c>) it sends to the coordinator only. A 503 is retried
/// after its <c>Retry-After</c> (rest-api.md), and each refusal is kept (<see cref="Refusals"/>).
/// </summary>
public sealed class BatchClient(Func<IReadOnlyList<(Uri Url, string Key)>> endpoints, string pipelineId, Func<int, string> batchOf, string? path = null)
{
    public BatchClient(ClusterRun run, string pipelineId, Func<int, string> batchOf, string? path = null)
        : this(path is null ? run.Endpoints : () => [(run.CoordinatorUrl, ClusterRun.CoordinatorKey)], pipelineId, batchOf, path)
    {
    }

    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(150);

    private readonly List<string> _outputs = new();
    private readonly List<string> _refusals = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(45) };
    private int _acknowledged;

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    public int Retries { get; private set; }

    /// <summary>The longest a batch waited for its acknowledgement (moves, failovers).</summary>
    public TimeSpan LongestWait { get; private set; }

    /// <summary>The output events of each acknowledged batch, in order (normalized JSON).</summary>
    public IReadOnlyList<string> Outputs
    {
        get
        {
            lock (_outputs) return _outputs.ToList();
        }
    }

    /// <summary>Every answer that made a batch wait, as <c>STATUS code</c> (for example <c>503 leader_unavailable</c>), in order.</summary>
    public IReadOnlyList<string> Refusals
    {
        get
        {
            lock (_refusals) return _refusals.ToList();
        }
    }

    /// <summary>Waits until <paramref name="batches"/> more batches are acknowledged, failing as soon as <paramref name="running"/> (its <see cref="RunAsync"/>) fails.</summary>
    public async Task ProgressAsync(Task running, int batches, TimeSpan? timeout = null)
    {
        int target = Acknowledged + batches;
        await ClusterRun.WaitForAsync($"{batches} more batches of {pipelineId}", () =>
        {
            if (running.IsFaulted) throw running.Exception!;
            return Task.FromResult(Acknowledged >= target);
        }, timeout ?? TimeSpan.FromSeconds(180));
    }

    public async Task RunAsync(CancellationToken stop)
    {
        var random = new Random(pipelineId.GetHashCode(StringComparison.Ordinal));
        for (int b = 0; !stop.IsCancellationRequested; b++)
        {
            var body = batchOf(b);
            var started = Stopwatch.StartNew();
            while (true)
            {
                if (started.Elapsed > GiveUpAfter) throw new TimeoutException($"batch {b} of {pipelineId} not acknowledged after {GiveUpAfter}");
                var nodes = endpoints();
                var (url, key) = nodes[random.Next(nodes.Count)];
                using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(url, path ?? $"/api/v1/pipelines/{pipelineId}/events-batch"))
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                req.Headers.Add("x-api-key", key);
                req.Headers.Add("Idempotency-Key", $"{pipelineId}-{b}");
                try
                {
                    using var resp = await _http.SendAsync(req, CancellationToken.None);
                    var text = await resp.Content.ReadAsStringAsync(CancellationToken.None);
                    if (resp.StatusCode == HttpStatusCode.OK)
                    {
                        var reply = JsonNode.Parse(text)!;
                        if ((int)reply["rejected"]! != 0) throw new InvalidOperationException($"batch {b} had rejected events: {text}");
                        lock (_outputs) _outputs.Add(reply["output_events"]!.ToJsonString());
                        Interlocked.Increment(ref _acknowledged);
                        break;
                    }
                    if (resp.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout))
                        throw new InvalidOperationException($"batch {b} of {pipelineId} via {url}: {(int)resp.StatusCode} {text}");
                    lock (_refusals) _refusals.Add($"{(int)resp.StatusCode} {CodeOf(text)}");
                    if (resp.Headers.RetryAfter?.Delta is { } retryAfter)
                    {
                        Retries++;
                        await Task.Delay(retryAfter, CancellationToken.None);
                        continue;
                    }
                }
                catch (HttpRequestException)
                {
                    // The node went away (stopped, killed): another one takes the retry.
                }
                catch (TaskCanceledException)
                {
                    // No answer in time: the same key makes the retry safe.
                }
                Retries++;
                await Task.Delay(200, CancellationToken.None);
            }
            if (started.Elapsed > LongestWait) LongestWait = started.Elapsed;
            await Task.Delay(20, CancellationToken.None);
        }
    }

    private static string CodeOf(string body)
    {
        try
        {
            return (string?)JsonNode.Parse(body)?["code"] ?? "?";
        }
        catch (System.Text.Json.JsonException)
        {
            return "?";
        }
    }

    /// <summary>A single node's runtime of <paramref name="source"/>, for references.</summary>
    public static PipelineRuntime Runtime(string source)
    {
        var program = PipelineCompiler.Compile(source, out var diagnostics)
            ?? throw new InvalidOperationException(PipelineCompiler.Summary(diagnostics));
        return new PipelineRuntime(new PipelineDefined("ref", "default", "ref", source, DateTimeOffset.UnixEpoch), program, new EngineOptions());
    }

    /// <summary>What a single node answers for the first <paramref name="batches"/> batches: the reference.</summary>
    public static IReadOnlyList<string> Reference(string source, Func<int, string> batchOf, int batches)
    {
        var runtime = Runtime(source);
        var list = new List<string>(batches);
        for (int b = 0; b < batches; b++)
        {
            var outcome = runtime.Ingest(Encoding.UTF8.GetBytes(batchOf(b)), isBatch: true, ingestTimeNanos: 0);
            list.Add(JsonNode.Parse(PipelineRuntime.RenderArray(outcome.Outputs, OutputShape.Flat))!.ToJsonString());
        }
        return list;
    }
}
