using System.Buffers;
using System.Diagnostics;
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
    private EventBuilder _builder;
    private readonly List<Event> _accepted = new(1024);
    private readonly List<IngestError> _errors = new();
    private readonly ListOutputSink _outputs = new();

    public PipelineRuntime(PipelineDefined definition, CompiledProgram program, EngineOptions options)
    {
        Definition = definition;
        Source = definition.Source;
        _options = options;
        Program = program;
        Engine = program.CreateEngine(options);
        _builder = new EventBuilder(program.Types);
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
    /// </summary>
    public IngestOutcome Ingest(ReadOnlyMemory<byte> body, bool isBatch, long ingestTimeNanos)
    {
        _accepted.Clear();
        _errors.Clear();
        _outputs.Events.Clear();
        // The API checks bodies before they get here; other ways in (and journals written before that check) may not:
        // text that is not UTF-8, or an unpaired surrogate escape, is a bad request, never an engine failure.
        if (JsonText.FindEncodingProblem(body.Span, "request body") is { } problem) return IngestOutcome.Invalid(problem);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, VplJson.DocumentOptions);
        }
        catch (JsonException ex)
        {
            return IngestOutcome.Invalid("invalid JSON: " + JsonText.Describe(ex, body.Span));
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (!isBatch)
            {
                if (!EventJson.TryReadInput(root, _builder, ingestTimeNanos, out var e, out var error))
                    return IngestOutcome.Invalid(error ?? "invalid event");
                _accepted.Add(e!);
            }
            else
            {
                if (root.ValueKind != JsonValueKind.Object)
                    return IngestOutcome.Invalid("a batch must be a JSON object {\"events\": [...]}");
                JsonElement events = default;
                bool found = false;
                foreach (var p in root.EnumerateObject())
                {
                    if (p.NameEquals("events") && !found)
                    {
                        events = p.Value;
                        found = true;
                    }
                    else
                    {
                        return IngestOutcome.Invalid($"unknown property '{Truncate(p.Name)}'; a batch is {{\"events\": [...]}}");
                    }
                }
                if (!found) return IngestOutcome.Invalid("missing required field 'events'");
                if (events.ValueKind != JsonValueKind.Array) return IngestOutcome.Invalid("'events' must be an array");
                int index = 0;
                foreach (var item in events.EnumerateArray())
                {
                    if (EventJson.TryReadInput(item, _builder, ingestTimeNanos, out var e, out var error)) _accepted.Add(e!);
                    else _errors.Add(new IngestError(index, error ?? "invalid event"));
                    index++;
                }
            }
        }

        long start = Stopwatch.GetTimestamp();
        if (_accepted.Count > 0) Engine.Process(_accepted, _outputs);
        long elapsed = Stopwatch.GetTimestamp() - start;
        return new IngestOutcome(_accepted.Count, _errors.Count, _errors, _outputs.Events, elapsed, null, _accepted);
    }

    /// <summary>Replaces the program; the new engine starts from a checkpoint of the old one.</summary>
    public RestoreReport Reload(string source, CompiledProgram program)
    {
        var engine = program.CreateEngine(_options);
        var report = engine.Restore(Engine.CreateCheckpoint());
        Engine = engine;
        Program = program;
        Source = source;
        _builder = new EventBuilder(program.Types);
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

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "...";
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
    public static IngestOutcome Invalid(string error) => new(0, 0, Array.Empty<IngestError>(), Array.Empty<Event>(), 0, error, Array.Empty<Event>());

    public double ElapsedMicros => ElapsedTicks * 1_000_000.0 / Stopwatch.Frequency;
}
