using Akka.Actor;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Configuration;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster.Scaling;

/// <summary>
/// Scaling recommendations (runbook §1.4): a cluster singleton on the <c>coordinator</c> role, next to the cluster
/// manager. Every evaluation interval it asks the manager for the healthy workers and placed pipelines and applies
/// <see cref="ScalingRules"/>. When recommendations are on (<c>--scaling-min-workers</c>) and a webhook is set, a
/// non-<c>stable</c> recommendation is POSTed to it, at most once per webhook interval (60 s), in the background: a
/// failed POST is retried after 1, 2 and 4 s and then given up, each failure logged, and nothing waits for it.
/// </summary>
public sealed class ScalingAdvisor : ReceiveActor, IWithTimers
{
    public const string SingletonName = "scaling-advisor";
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    private readonly IActorRef _manager;
    private readonly ScalingSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private DateTimeOffset? _lastWebhook;
    private bool _delivering;
    private bool _evaluating;

    public ScalingAdvisor(IActorRef manager, ScalingSettings settings, TimeProvider time, ILoggerFactory loggers, HttpMessageHandler? handler = null)
    {
        _manager = manager;
        _settings = settings;
        _time = time;
        _log = loggers.CreateLogger<ScalingAdvisor>();
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromSeconds(10);

        Receive<GetScalingRecommendation>(_ =>
        {
            var replyTo = Sender;
            Evaluate().PipeTo(replyTo, success: r => new ScalingReport(r), failure: ex => new Status.Failure(ex));
        });
        Receive<Tick>(_ =>
        {
            if (_evaluating) return;
            _evaluating = true;
            Evaluate().PipeTo(Self, success: r => new Evaluated(r), failure: ex => new EvaluationFailed(ex));
        });
        Receive<Evaluated>(e =>
        {
            _evaluating = false;
            Consider(e.Recommendation);
        });
        Receive<EvaluationFailed>(f =>
        {
            _evaluating = false;
            _log.LogDebug(f.Cause, "Scaling evaluation skipped: the cluster manager did not answer");
        });
        Receive<Delivered>(d =>
        {
            _delivering = false;
            if (d.Error is null)
                _log.LogInformation("Scaling webhook: {Action} to {Target} workers delivered to {Url} ({Attempts} attempt(s))", d.Recommendation.Action, d.Recommendation.TargetWorkers, _settings.WebhookUrl, d.Attempts);
            else
                _log.LogError("Scaling webhook: {Action} to {Target} workers could not be delivered to {Url} after {Attempts} attempts: {Error}", d.Recommendation.Action, d.Recommendation.TargetWorkers, _settings.WebhookUrl, d.Attempts, d.Error);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef manager, ScalingSettings settings, TimeProvider time, ILoggerFactory loggers, HttpMessageHandler? handler = null)
        => Akka.Actor.Props.Create(() => new ScalingAdvisor(manager, settings, time, loggers, handler));

    protected override void PreStart()
    {
        if (_settings.Enabled) Timers.StartPeriodicTimer("evaluate", Tick.Instance, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(_settings.EvaluateIntervalSecs));
    }

    protected override void PostStop() => _http.Dispose();

    private async Task<ScalingRecommendation> Evaluate()
    {
        var summary = await _manager.Ask<SummaryReport>(GetClusterSummary.Instance, AskTimeout);
        return ScalingRules.Recommend(summary.Summary.Workers.Healthy, summary.Summary.Pipelines, _settings, _time.GetUtcNow());
    }

    private void Consider(ScalingRecommendation r)
    {
        if (r.Action == "stable") return;
        var now = _time.GetUtcNow();
        if (_lastWebhook is { } last && now - last < TimeSpan.FromSeconds(_settings.WebhookIntervalSecs))
        {
            _log.LogDebug("Scaling recommendation {Action} to {Target} workers: webhook already called at {Last}", r.Action, r.TargetWorkers, last);
            return;
        }
        _log.LogInformation("Scaling recommendation: {Action} from {Current} to {Target} workers ({Reason})", r.Action, r.CurrentWorkers, r.TargetWorkers, r.Reason);
        if (_settings.WebhookUrl is not { } url || _delivering) return;
        _lastWebhook = now;
        _delivering = true;
        DeliverAsync(url, r).PipeTo(Self);
    }

    private async Task<Delivered> DeliverAsync(string url, ScalingRecommendation r)
    {
        string? error = null;
        for (int attempt = 1; attempt <= Backoff.Length + 1; attempt++)
        {
            try
            {
                // A buffered body with Content-Length (not chunked): some webhook receivers accept nothing else.
                using var content = new ByteArrayContent(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(r, HaJsonContext.Default.ScalingRecommendation));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                using var resp = await _http.PostAsync(url, content);
                if (resp.IsSuccessStatusCode) return new Delivered(r, attempt, null);
                error = $"HTTP {(int)resp.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                error = ex.Message;
            }
            if (attempt <= Backoff.Length)
            {
                _log.LogWarning("Scaling webhook {Url} failed ({Error}); retrying in {Delay} s", url, error, Backoff[attempt - 1].TotalSeconds);
                await Task.Delay(Backoff[attempt - 1]);
            }
        }
        return new Delivered(r, Backoff.Length + 1, error);
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Evaluated(ScalingRecommendation Recommendation);

    private sealed record EvaluationFailed(Exception Cause);

    private sealed record Delivered(ScalingRecommendation Recommendation, int Attempts, string? Error);
}
