using System.Text;
using System.Text.Json;
using Akka.Actor;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Tests.Infrastructure;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>
/// The connector host of a pipeline built from a compiled program, with a stand-in pipeline entity: a file source
/// feeds batches that are acknowledged by the entity's reply; outputs routed with <see cref="SinkRouter"/> reach a
/// file sink; the source resumes after a restart from its acknowledged position.
/// </summary>
public sealed class PipelineConnectorsTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("varpulis-host");
    private readonly CapturingLoggerFactory _logs = new();
    private readonly HttpClient _http = new();
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ConnectorTestSystem.Create("host", Path.Combine(Dir, "state"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        _http.Dispose();
        _temp.Dispose();
    }

    private string Dir => _temp.Path;

    /// <summary>Plays the pipeline entity: keeps the events of each source batch and replies like it would after the journal write.</summary>
    private sealed class FakePipeline : ReceiveActor
    {
        public FakePipeline(List<string> journal)
        {
            Receive<IngestSourceBatch>(b =>
            {
                using var doc = JsonDocument.Parse(b.Body);
                int n = 0;
                lock (journal)
                {
                    foreach (var e in doc.RootElement.GetProperty("events").EnumerateArray())
                    {
                        journal.Add(e.GetProperty("fields").GetProperty("id").GetString()!);
                        n++;
                    }
                }
                Sender.Tell(new IngestResult(n, 0, [], "[]"u8.ToArray(), 0, 1));
            });
        }
    }

    private string Program(string input, string output) => $$"""
        connector In = file(path: "{{input}}", poll_interval: 50ms, batch_size: 10)
        connector Out = file(path: "{{output}}")
        event Order:
            id: str
        stream Orders = Order.from(In)
        stream Copies = Orders.emit(id: id).to(Out)
        """;

    [Fact]
    public async Task AFileSourceFeedsThePipelineAndResumesFromItsAcknowledgedPosition()
    {
        var input = Path.Combine(Dir, "in.jsonl");
        var output = Path.Combine(Dir, "out.jsonl");
        System.IO.Directory.CreateDirectory(Dir);
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 25).Select(i => $$"""{"id":"o{{i}}"}"""));
        var program = VplCompiler.Compile(Program(input, output)).Program!;
        var journal = new List<string>();
        var pipeline = _system.ActorOf(Props.Create(() => new FakePipeline(journal)));
        var settings = new PipelineConnectorsSettings("p-file", "orders", Path.Combine(Dir, "state"));
        var host = _system.ActorOf(PipelineConnectors.Props(settings, program.ConnectorBindings, pipeline, new ConnectorFactory(settings, _http), TimeProvider.System, _logs));
        await Eventually.True(() => { lock (journal) return journal.Count == 25; }, "25 lines journaled");

        // Lines appended later are followed.
        await File.AppendAllLinesAsync(input, Enumerable.Range(25, 5).Select(i => $$"""{"id":"o{{i}}"}"""));
        await Eventually.True(() => { lock (journal) return journal.Count == 30; }, "30 lines journaled");
        ConnectorStatus Source() => host.Ask<ConnectorStatusList>(new GetConnectorStatus("p-file"), TimeSpan.FromSeconds(10)).Result.Connectors.Single(s => s.Direction == "source");
        // Counted once the batch is acknowledged, just after the pipeline's reply.
        await Eventually.True(() => Source().Delivered == 30, "30 events counted");
        var status = (await host.Ask<ConnectorStatusList>(new GetConnectorStatus("p-file"), TimeSpan.FromSeconds(10))).Connectors;
        Assert.Equal(new ConnectorStatus("In", "file", "source", "connected", null, 30, 0, 0, 0, null), status.Single(s => s.Direction == "source"));

        // Outputs of a journaled batch, routed the way the engine's .to calls them, reach the file sink.
        var router = new SinkRouter(program.ConnectorBindings);
        var engine = program.CreateEngine();
        var builder = new EventBuilder(program.Types);
        var inputs = Enumerable.Range(0, 3).Select(i =>
        {
            Assert.True(builder.TryBegin("Order", out _));
            Assert.True(builder.TrySet("id", Value.FromString("o" + i), out _));
            Assert.True(builder.TryBuild(1_000_000_000L * (i + 1), out var e, out _));
            return e!;
        }).ToList();
        var sink = new ListOutputSink();
        engine.Process(inputs, sink);
        var outputs = sink.Events;
        var records = outputs.Select(e => router.TryRoute("Copies", "Out", [], e, out var r) ? r : throw new InvalidOperationException()).ToList();
        host.Tell(new DeliverToSinks(1, records));
        await Eventually.True(() => File.Exists(output) && File.ReadAllLines(output).Length == 3, "3 lines in the sink file");
        Assert.Equal(
            Enumerable.Range(0, 3).Select(i => $$$"""{"event_type":"Copies","timestamp":"1970-01-01T00:00:0{{{i + 1}}}Z","data":{"id":"o{{{i}}}"}}"""),
            File.ReadAllLines(output));

        var stopped = await host.Ask<ConnectorsStopped>(new StopConnectors("p-file"), TimeSpan.FromSeconds(30));
        Assert.Equal("p-file", stopped.PipelineId);

        // A new host (the pipeline restarted or moved) reads only what was not acknowledged.
        await File.AppendAllLinesAsync(input, Enumerable.Range(30, 2).Select(i => $$"""{"id":"o{{i}}"}"""));
        _system.ActorOf(PipelineConnectors.Props(settings, program.ConnectorBindings, pipeline, new ConnectorFactory(settings, _http), TimeProvider.System, _logs));
        await Eventually.True(() => { lock (journal) return journal.Count == 32; }, "32 lines journaled");
        await Task.Delay(300);
        lock (journal) Assert.Equal(Enumerable.Range(0, 32).Select(i => "o" + i), journal);
    }
}
