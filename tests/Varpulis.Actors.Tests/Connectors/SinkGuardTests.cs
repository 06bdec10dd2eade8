using System.Text;
using System.Text.Json;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.DeadLetters;
using Varpulis.Actors.Tests.Infrastructure;
using Varpulis.Vpl.Compilation;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>
/// HTTP sinks behind the circuit breaker, with the dead-letter queue and replay, through the pipeline's connector
/// host (<see cref="PipelineConnectors"/>) created from a compiled program; a real HTTP endpoint on loopback fails
/// or hangs on demand; the DLQ is journaled in SQLite.
/// </summary>
public sealed class SinkGuardTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("varpulis-guard");
    private readonly HttpEndpoint _endpoint = new();
    private readonly CapturingLoggerFactory _logs = new();
    private readonly ManualClock _clock = new();
    private readonly HttpClient _http = new();
    private ActorSystem _system = null!;

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = new DateTimeOffset(2026, 1, 23, 10, 0, 0, TimeSpan.Zero).UtcTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
    }

    public Task InitializeAsync()
    {
        _system = ConnectorTestSystem.Create("guard", StateDir);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        _endpoint.Dispose();
        _http.Dispose();
        _dir.Dispose();
    }

    private string StateDir => _dir.Path;

    private IActorRef Start(string pipelineId, string connectorParams)
    {
        var program = VplCompiler.Compile($"connector Hook = http(url: \"{_endpoint.Url}\", {connectorParams})\nstream Alerts = Reading.emit(n: n).to(Hook)").Program!;
        var settings = new PipelineConnectorsSettings(pipelineId, "alerts-pipeline", StateDir);
        return _system.ActorOf(PipelineConnectors.Props(settings, program.ConnectorBindings, ActorRefs.Nobody, new ConnectorFactory(settings, _http), _clock, _logs), "connectors-" + pipelineId);
    }

    private static string Ev(int n) => $$$"""{"event_type":"Alerts","timestamp":"2026-01-23T10:00:{{{n % 60:00}}}Z","data":{"n":{{{n}}}}}""";

    private static DeliverToSinks Deliver(long seq, params int[] ns) => new(seq, ns.Select(n => new SinkRecord("Hook", null, null, Encoding.UTF8.GetBytes(Ev(n)))).ToList());

    private string DlqPath => Path.Combine(StateDir, "dlq.jsonl");

    private List<JsonElement> DlqLines()
        => File.Exists(DlqPath) ? File.ReadAllLines(DlqPath).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList() : new();

    private static async Task<ConnectorStatus> StatusAsync(IActorRef connectors)
        => (await connectors.Ask<ConnectorStatusList>(new GetConnectorStatus("p"), TimeSpan.FromSeconds(10))).Connectors.Single();

    [Fact]
    public async Task FailuresOpenTheCircuitDeadLetterTheEventsAndReplayDeliversExactlyTheMissingOnes()
    {
        var connectors = Start("p-guard", "failure_threshold: 5, reset_timeout: 30s, retries: 0, timeout: 5s");
        string error500 = $"http://127.0.0.1:{_endpoint.Port}/alerts answered 500 Internal Server Error";

        for (int n = 1; n <= 3; n++) connectors.Tell(Deliver(n, n));
        await Eventually.True(() => _endpoint.AcceptedSnapshot().Count == 3, "3 events delivered");

        _endpoint.Behaviour = HttpEndpoint.Mode.Fail;
        for (int n = 4; n <= 8; n++)
        {
            connectors.Tell(Deliver(n, n));
            int failures = n - 3;
            await Eventually.True(() => _endpoint.FailedRequests == failures, $"{failures} failed requests");
        }
        await Eventually.True(() => _logs.Matching("Circuit breaker opened").Count == 1, "the breaker to open");
        var opened = _logs.Matching("Circuit breaker opened").Single();
        Assert.Equal(LogLevel.Warning, opened.Level);
        Assert.Equal($"Circuit breaker opened: sink Hook of pipeline p-guard after 5 consecutive failed deliveries; last error: {error500}; probing again in 30 s", opened.Message);

        // Open: no request is made, the events go straight to the DLQ.
        connectors.Tell(Deliver(9, 9));
        connectors.Tell(Deliver(10, 10));
        await Eventually.True(() => DlqLines().Count == 7, "7 dead letters in dlq.jsonl");
        Assert.Equal(5, _endpoint.FailedRequests);
        var lines = DlqLines();
        Assert.Equal(Enumerable.Range(4, 7).Select(Ev), lines.Select(l => l.GetProperty("event").GetRawText()));
        Assert.Equal(
            Enumerable.Repeat(error500, 5).Concat(Enumerable.Repeat("circuit breaker open: " + error500, 2)),
            lines.Select(l => l.GetProperty("error").GetString()));
        Assert.All(lines, l =>
        {
            Assert.Equal(["timestamp", "connector", "error", "event", "pipeline_id", "pipeline_name", "id"], l.EnumerateObject().Select(p => p.Name));
            Assert.Equal("Hook", l.GetProperty("connector").GetString());
            Assert.Equal("p-guard", l.GetProperty("pipeline_id").GetString());
            Assert.Equal("alerts-pipeline", l.GetProperty("pipeline_name").GetString());
            Assert.Equal("2026-01-23T10:00:00.000Z", l.GetProperty("timestamp").GetString());
        });
        Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i), lines.Select(l => l.GetProperty("id").GetInt64()));
        Assert.Single(_logs.Matching("DLQ write: pipeline p-guard (alerts-pipeline) sink Hook"));
        var status = await StatusAsync(connectors);
        Assert.Equal(new ConnectorStatus("Hook", "http", "sink", "connected", "open", 3, 5, 0, 7, error500), status);
        Assert.Equal(7, ConnectorMetrics.DlqEvents.WithLabels("p-guard", "Hook").Value);

        // The endpoint recovers; after the reset timeout one probe goes through and closes the circuit.
        _endpoint.Behaviour = HttpEndpoint.Mode.Accept;
        _clock.Advance(TimeSpan.FromSeconds(30));
        connectors.Tell(Deliver(11, 11));
        await Eventually.True(() => _logs.Matching("Circuit breaker closed").Count == 1, "the breaker to close");
        Assert.Single(_logs.Matching("Circuit breaker half-open: sink Hook of pipeline p-guard sends one probe"));
        Assert.Equal("closed", (await StatusAsync(connectors)).Circuit);

        var replayed = await connectors.Ask<DeadLettersReplayed>(new ReplayDeadLetters("p-guard"), TimeSpan.FromSeconds(60));
        Assert.Equal(new DeadLettersReplayed(7, 0, 0, 0), replayed);
        Assert.Empty(DlqLines());
        var page = await connectors.Ask<DeadLetterPage>(new GetDeadLetters("p-guard", 0, 100), TimeSpan.FromSeconds(10));
        Assert.Equal(0, page.Total);
        // The endpoint holds exactly the events of a run where it never failed.
        Assert.Equal(Enumerable.Range(1, 11).Select(Ev), _endpoint.AcceptedSnapshot().OrderBy(b => JsonDocument.Parse(b).RootElement.GetProperty("data").GetProperty("n").GetInt32()));
        Assert.Equal(11, (await StatusAsync(connectors)).Delivered);
        // Every output was delivered or dead-lettered: the settled position reaches the last batch.
        await Eventually.True(() => connectors.Ask<SinkProgress>(new GetSinkProgress("p-guard"), TimeSpan.FromSeconds(10)).Result.SettledSequenceNr == 11, "outputs settled through 11");
    }

    [Fact]
    public async Task AFailedProbeReopensAndReplayLeavesWhatStillFails()
    {
        var connectors = Start("p-probe", "failure_threshold: 2, reset_timeout: 10s, retries: 1, timeout: 5s");
        _endpoint.Behaviour = HttpEndpoint.Mode.Fail;
        connectors.Tell(Deliver(1, 1));
        connectors.Tell(Deliver(2, 2));
        await Eventually.True(() => _logs.Matching("Circuit breaker opened").Count == 1, "the breaker to open");
        // Each delivery was tried twice (one retry) before it counted as a failure.
        Assert.Equal(4, _endpoint.FailedRequests);
        _clock.Advance(TimeSpan.FromSeconds(10));
        connectors.Tell(Deliver(3, 3));
        await Eventually.True(() => _logs.Matching("Circuit breaker opened").Count == 2, "the failed probe to reopen the breaker");
        Assert.Equal(5, _endpoint.FailedRequests);
        await Eventually.True(() => DlqLines().Count == 3, "3 dead letters");
        // Replay while open: nothing is sent, nothing leaves the DLQ.
        var replayed = await connectors.Ask<DeadLettersReplayed>(new ReplayDeadLetters("p-probe"), TimeSpan.FromSeconds(60));
        Assert.Equal(new DeadLettersReplayed(0, 3, 0, 3), replayed);
        Assert.Equal(5, _endpoint.FailedRequests);
        Assert.Equal(3, DlqLines().Count);
        var cleared = await connectors.Ask<DeadLettersCleared>(new ClearDeadLetters("p-probe"), TimeSpan.FromSeconds(10));
        Assert.Equal(3, cleared.Removed);
        Assert.Empty(DlqLines());
    }

    [Fact]
    public async Task AHangingSinkNeverBlocksTheSenderAndLosesNothing()
    {
        var connectors = Start("p-hang", "failure_threshold: 2, reset_timeout: 1h, retries: 0, timeout: 500ms, queue_capacity: 50, batch_size: 10");
        _endpoint.Behaviour = HttpEndpoint.Mode.Hang;
        for (int seq = 1; seq <= 200; seq++) connectors.Tell(Deliver(seq, Enumerable.Range((seq - 1) * 10, 10).ToArray()));
        // The connector host answers while the endpoint hangs.
        var during = await StatusAsync(connectors);
        Assert.Equal("sink", during.Direction);
        await Eventually.True(() => StatusAsync(connectors).Result.Dlq == 2000, "all 2000 events dead-lettered");
        var status = await StatusAsync(connectors);
        Assert.Equal((0L, "open"), (status.Delivered, status.Circuit));
        var lines = DlqLines();
        Assert.Equal(Enumerable.Range(0, 2000), lines.Select(l => l.GetProperty("event").GetProperty("data").GetProperty("n").GetInt32()).Order());
        var reasons = lines.Select(l => l.GetProperty("error").GetString()!).Select(e => e.StartsWith("circuit breaker open", StringComparison.Ordinal) ? "open" : e).Distinct().Order().ToList();
        Assert.Contains("sink queue full (50 events waiting)", reasons);
        Assert.Contains(_endpoint.Url + " did not answer in time", reasons);
        Assert.Contains("open", reasons);
    }

    [Fact]
    public async Task DeadLettersSurviveARestartOfTheNodeAndTheFileFollowsTheJournal()
    {
        var file = DlqFile.For(StateDir);
        var dlq = _system.ActorOf(DeadLetterQueue.Props("p-durable", "durable", file, _clock, _logs.CreateLogger("t")));
        var letters = Enumerable.Range(1, 3).Select(n => new SinkRecord("Hook", null, null, Encoding.UTF8.GetBytes(Ev(n)))).ToList();
        var stored = await dlq.Ask<DeadLetterQueue.Stored>(new DeadLetterQueue.Store(letters, _clock.GetUtcNow(), "down", 1), TimeSpan.FromSeconds(10));
        Assert.Equal(3, stored.Count);
        await dlq.Ask<DeadLetterQueue.Removed>(new DeadLetterQueue.Remove([2]), TimeSpan.FromSeconds(10));
        await _system.Terminate();
        // The file lost a line meanwhile (a crash between the journal write and the append): recovery restores it.
        File.WriteAllLines(DlqPath, File.ReadAllLines(DlqPath).Take(1));

        _system = ConnectorTestSystem.Create("guard2", StateDir);
        var again = _system.ActorOf(DeadLetterQueue.Props("p-durable", "durable", file, _clock, _logs.CreateLogger("t")));
        var page = await again.Ask<DeadLetterPage>(new GetDeadLetters("p-durable", 0, 10), TimeSpan.FromSeconds(30));
        Assert.Equal(2L, page.Total);
        Assert.Equal([1L, 3L], page.Letters.Select(l => l.Id));
        Assert.Equal([Ev(1), Ev(3)], page.Letters.Select(l => l.EventJson));
        Assert.Equal([Ev(1), Ev(3)], DlqLines().Select(l => l.GetProperty("event").GetRawText()));
        // Ids keep increasing after recovery.
        var more = await again.Ask<DeadLetterQueue.Stored>(new DeadLetterQueue.Store([letters[0]], _clock.GetUtcNow(), "down", 2), TimeSpan.FromSeconds(10));
        var after = await again.Ask<DeadLetterPage>(new GetDeadLetters("p-durable", 2, 10), TimeSpan.FromSeconds(10));
        Assert.Equal((1, 4L), (more.Count, after.Letters.Single().Id));
    }

    [Fact]
    public async Task TheDlqTellsItsPipelinesBoundsHowManyLettersItHoldsAfterEveryChangeAndAfterRecovery()
    {
        var file = DlqFile.For(StateDir);
        var bounds = new DeadLetterBounds("p-bounded", backlogLimit: 100, maxHeld: 3);
        var dlq = _system.ActorOf(DeadLetterQueue.Props("p-bounded", "bounded", file, _clock, _logs.CreateLogger("t"), bounds));
        var letters = Enumerable.Range(1, 3).Select(n => new SinkRecord("Hook", null, null, Encoding.UTF8.GetBytes(Ev(n)))).ToList();
        await dlq.Ask<DeadLetterQueue.Stored>(new DeadLetterQueue.Store(letters.Take(2).ToList(), _clock.GetUtcNow(), "down", 1), TimeSpan.FromSeconds(10));
        Assert.Equal((2L, null), (bounds.Held, bounds.Refusal()));

        // The third letter: the DLQ holds its maximum, the pipeline takes nothing more.
        await dlq.Ask<DeadLetterQueue.Stored>(new DeadLetterQueue.Store([letters[2]], _clock.GetUtcNow(), "down", 2), TimeSpan.FromSeconds(10));
        Assert.Equal((3L, "dlq_full"), (bounds.Held, bounds.Refusal()?.Code));

        // A replayed letter leaves: under the bound again.
        await dlq.Ask<DeadLetterQueue.Removed>(new DeadLetterQueue.Remove([2]), TimeSpan.FromSeconds(10));
        Assert.Equal((2L, null), (bounds.Held, bounds.Refusal()));
        await dlq.Ask<DeadLetterQueue.Stored>(new DeadLetterQueue.Store([letters[1]], _clock.GetUtcNow(), "down", 3), TimeSpan.FromSeconds(10));
        Assert.Equal(3L, bounds.Held);
        bounds.Unpublish();

        // After a restart the recovered DLQ tells the new bounds what it holds before it answers anything.
        await _system.Terminate();
        _system = ConnectorTestSystem.Create("guard-bounds", StateDir);
        var recovered = new DeadLetterBounds("p-bounded", backlogLimit: 100, maxHeld: 3);
        var again = _system.ActorOf(DeadLetterQueue.Props("p-bounded", "bounded", file, _clock, _logs.CreateLogger("t"), recovered));
        Assert.Equal(3L, (await again.Ask<DeadLetterPage>(new GetDeadLetters("p-bounded", 0, 10), TimeSpan.FromSeconds(30))).Total);
        Assert.Equal((3L, "dlq_full"), (recovered.Held, recovered.Refusal()?.Code));

        // Cleared: nothing held, events taken again.
        Assert.Equal(3L, (await again.Ask<DeadLettersCleared>(new ClearDeadLetters("p-bounded"), TimeSpan.FromSeconds(10))).Removed);
        Assert.Equal((0L, null), (recovered.Held, recovered.Refusal()));
        Assert.Empty(DlqLines());
        recovered.Unpublish();
    }

    [Fact]
    public async Task AHangingDeliveryDoesNotMakeThePipelineKeepTheOutputsThatLaterWentToTheDlq()
    {
        var settings = new PipelineConnectorsSettings("p-entries", "entries", StateDir);
        var program = VplCompiler.Compile($"connector Hook = http(url: \"{_endpoint.Url}\", retries: 0, timeout: 1h, queue_capacity: 2, batch_size: 1)\nstream Alerts = Reading.emit(n: n).to(Hook)").Program!;
        var progress = new List<SinkProgress>();
        var parent = _system.ActorOf(Props.Create(() => new RecordingParent(
            PipelineConnectors.Props(settings, program.ConnectorBindings, ActorRefs.Nobody, new ConnectorFactory(settings, _http), _clock, _logs), progress)));
        _endpoint.Behaviour = HttpEndpoint.Mode.Hang;
        // Entry 1 is on its way to an endpoint that never answers, 2 and 3 wait in the queue, 4 to 6 find it full.
        for (int seq = 1; seq <= 6; seq++) parent.Tell(Deliver(seq, seq));
        await Eventually.True(() => DlqLines().Count == 3, "3 dead letters");

        var state = new PipelineConnectorState();
        for (int seq = 1; seq <= 6; seq++) state.AddUnsettled(seq, Deliver(seq, seq).Records);
        await Eventually.True(
            () =>
            {
                lock (progress)
                {
                    foreach (var p in progress)
                    {
                        state.Settle(p.SettledSequenceNr);
                        if (p.SettledEntries is { } entries) state.SettleEntries(entries);
                    }
                    progress.Clear();
                }
                return state.Unsettled.Count() == 3;
            },
            "the pipeline to keep 3 entries");
        Assert.Equal([1L, 2L, 3L], state.Unsettled.Select(u => u.SequenceNr));
        Assert.Equal([4, 5, 6], DlqLines().Select(l => l.GetProperty("event").GetProperty("data").GetProperty("n").GetInt32()));
        // The journaled settled position stays before the hanging entry, so a restart sends 1 to 3 again.
        Assert.Equal(0, (await parent.Ask<SinkProgress>(new GetSinkProgress("p-entries"), TimeSpan.FromSeconds(10))).SettledSequenceNr);
    }

    /// <summary>Plays the pipeline entity: hosts the connectors, forwards requests to them and keeps their <see cref="SinkProgress"/> reports.</summary>
    private sealed class RecordingParent : ReceiveActor
    {
        public RecordingParent(Props connectors, List<SinkProgress> progress)
        {
            var child = Context.ActorOf(connectors, "connectors");
            Receive<SinkProgress>(p => Sender.Equals(child), p =>
            {
                lock (progress) progress.Add(p);
            });
            Receive<DeadLetterCount>(_ => { });
            ReceiveAny(m => child.Forward(m));
        }
    }
}
