using System.Buffers;
using System.Diagnostics;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// The state of one pipeline without any actor machinery: the definition, the <see cref="Engine"/> and the input
/// parser. The entity calls it for commands and for journal replay alike, so replay takes exactly the code path
/// the live events took. Single-threaded.
/// </summary>
public sealed class PipelineRuntime
{
    private readonly EngineOptions _options;
    private JsonEventReader _reader;
    private readonly List<Event> _accepted = new(1024);
    private readonly List<JsonEventError> _jsonErrors = new();
    private readonly ArrayBufferWriter<byte> _batchBuffer = new(64 * 1024);
    private readonly ListOutputSink _outputs = new();

    public PipelineRuntime(PipelineDefined definition, CompiledProgram program, EngineOptions options)
    {
        Definition = definition;
        Source = definition.Source;
        _options = options;
        Program = program;
        Engine = program.CreateEngine(options);
        _reader = new JsonEventReader(program.Types);
    }

    public PipelineDefined Definition { get; }

    public string Source { get; private set; }

    public CompiledProgram Program { get; private set; }

    public Engine Engine { get; private set; }

    /// <summary>Stream names in declaration order.</summary>
    public IReadOnlyList<string> StreamNames => Program.Streams.Select(s => s.Name).ToList();

    /// <summary>
    /// Parses and processes one request body. Outputs are left in <see cref="IngestOutcome.Outputs"/> (valid until the
    /// next call). A body that is not a valid request sets <see cref="IngestOutcome.RequestError"/> and changes nothing.
    /// The accepted events, as the engine got them, are in <see cref="IngestOutcome.Batch"/> in the journal's
    /// <see cref="EventBatchCodec"/> form (null when none was accepted).
    /// </summary>
    public IngestOutcome Ingest(ReadOnlyMemory<byte> body, bool isBatch, long ingestTimeNanos)
    {
        _accepted.Clear();
        _jsonErrors.Clear();
        _outputs.Events.Clear();
        LastBatch = null;
        // The reader refuses text that is not UTF-8 or holds an unpaired surrogate escape (other ways in than the API,
        // and journals written before the API checked bodies, may carry them): a bad request, never an engine failure.
        if (_reader.Read(body.Span, isBatch, ingestTimeNanos, _accepted, _jsonErrors) is { } requestError) return IngestOutcome.Invalid(requestError);
        var errors = _jsonErrors.Count == 0 ? (IReadOnlyList<IngestError>)Array.Empty<IngestError>() : _jsonErrors.ConvertAll(e => new IngestError(e.Index, e.Error));
        byte[]? batch = null;
        if (_accepted.Count > 0)
        {
            // Encoded before the engine sees them: what the journal holds is what came in.
            _batchBuffer.ResetWrittenCount();
            EventBatchCodec.Encode(_accepted, _batchBuffer);
            batch = _batchBuffer.WrittenSpan.ToArray();
            LastBatch = batch;
        }
        return Process(errors, batch);
    }

    /// <summary>
    /// The accepted events of the last <see cref="Ingest"/> call in <see cref="EventBatchCodec"/> form, set before the
    /// engine runs, so that a caller whose engine call failed still has what was read (null when nothing was accepted).
    /// </summary>
    public byte[]? LastBatch { get; private set; }

    /// <summary>A batch of no events in <see cref="EventBatchCodec"/> form.</summary>
    public static readonly byte[] EmptyBatch = EventBatchCodec.Encode(Array.Empty<Event>());

    /// <summary>
    /// Replays a journaled batch (<see cref="EventBatchAccepted.Batch"/>) into the engine: the same events, processed as
    /// when they were accepted. <paramref name="errors"/> are the request's rejected events, for the reply it is
    /// remembered with. Throws <see cref="SerializationException"/> (engine unchanged) when the bytes cannot be decoded, as for any
    /// unreadable journal record: the journal is damaged, or was written by a newer build.
    /// </summary>
    public IngestOutcome Replay(ReadOnlySpan<byte> batch, IReadOnlyList<IngestError>? errors)
    {
        _accepted.Clear();
        _outputs.Events.Clear();
        if (!EventBatchCodec.TryDecode(batch, Program.Types, _accepted, out var error))
            throw new SerializationException("a journaled event batch cannot be read: " + error);
        return Process(errors ?? Array.Empty<IngestError>(), null);
    }

    private IngestOutcome Process(IReadOnlyList<IngestError> errors, byte[]? batch)
    {
        long start = Stopwatch.GetTimestamp();
        if (_accepted.Count > 0) Engine.Process(_accepted, _outputs);
        long elapsed = Stopwatch.GetTimestamp() - start;
        return new IngestOutcome(_accepted.Count, errors.Count, errors, _outputs.Events, elapsed, null, _accepted) { Batch = batch };
    }

    /// <summary>Replaces the program; the new engine starts from a checkpoint of the old one.</summary>
    public RestoreReport Reload(string source, CompiledProgram program)
    {
        var engine = program.CreateEngine(_options);
        var report = engine.Restore(Engine.CreateCheckpoint());
        Engine = engine;
        Program = program;
        Source = source;
        _reader = new JsonEventReader(program.Types);
        return report;
    }

    /// <summary>Restores a checkpoint document; throws <see cref="CheckpointException"/> (engine unchanged) when it is unreadable.</summary>
    public RestoreReport Restore(string checkpointJson)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(checkpointJson, documentOptions: VplJson.DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new CheckpointException("checkpoint is not valid JSON: " + JsonText.Describe(ex, System.Text.Encoding.UTF8.GetBytes(checkpointJson)), ex);
        }
        if (node is not JsonObject obj) throw new CheckpointException("a checkpoint must be a JSON object");
        return Engine.Restore(obj);
    }

    public string CreateCheckpointJson() => Engine.CreateCheckpoint().ToJsonString(VplJson.SerializerOptions);

    /// <summary>Renders events as a JSON array in the given shape.</summary>
    public static byte[] RenderArray(IReadOnlyList<Event> events, OutputShape shape)
    {
        if (events.Count == 0) return "[]"u8.ToArray();
        var buffer = new ArrayBufferWriter<byte>(256 * events.Count);
        using (var writer = new Utf8JsonWriter(buffer, VplJson.WriterOptions))
        {
            writer.WriteStartArray();
            foreach (var e in events) EventJson.WriteOutput(writer, e, shape);
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Renders live runs as a JSON array.</summary>
    public static string RenderRuns(IReadOnlyList<RunInfo> runs)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, VplJson.WriterOptions))
        {
            writer.WriteStartArray();
            foreach (var r in runs)
            {
                writer.WriteStartObject();
                writer.WriteString("stream", r.Stream);
                writer.WritePropertyName("partition");
                ValueJson.Write(writer, r.Partition);
                writer.WriteNumber("step_reached", r.StepReached);
                writer.WriteString("next_step", r.NextStep);
                writer.WritePropertyName("captures");
                writer.WriteStartObject();
                foreach (var (name, value) in r.Captures)
                {
                    writer.WritePropertyName(name);
                    ValueJson.Write(writer, value);
                }
                writer.WriteEndObject();
                writer.WriteString("started_at", TimeFormat.FormatTimestamp(r.StartedAt));
                if (r.Deadline is { } d) writer.WriteString("deadline", TimeFormat.FormatTimestamp(d));
                else writer.WriteNull("deadline");
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

}

/// <summary>What one ingestion did.</summary>
public sealed record IngestOutcome(
    int Accepted,
    int Rejected,
    IReadOnlyList<IngestError> Errors,
    IReadOnlyList<Event> Outputs,
    long ElapsedTicks,
    string? RequestError,
    IReadOnlyList<Event> AcceptedEvents)
{
    /// <summary>The accepted events in <see cref="EventBatchCodec"/> form, for the journal (null when none, or on replay).</summary>
    public byte[]? Batch { get; init; }

    public static IngestOutcome Invalid(string error) => new(0, 0, Array.Empty<IngestError>(), Array.Empty<Event>(), 0, error, Array.Empty<Event>());

    public double ElapsedMicros => ElapsedTicks * 1_000_000.0 / Stopwatch.Frequency;
}
