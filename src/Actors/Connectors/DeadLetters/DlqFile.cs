using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Varpulis.Actors.Connectors.DeadLetters;

/// <summary>
/// <c>&lt;state-dir&gt;/dlq.jsonl</c>: the node's readable copy of the dead-letter queues of the pipelines it hosts,
/// one JSON object a line (runbook §2.3). Shared by every pipeline of the node (one instance per path, writes
/// serialized); each pipeline appends its new dead letters and rewrites its own lines when some leave its queue.
/// The journal is the queue of record; this file mirrors it.
/// </summary>
public sealed class DlqFile
{
    private static readonly ConcurrentDictionary<string, DlqFile> Files = new(StringComparer.Ordinal);
    private const string PipelineIdPrefix = "\"pipeline_id\":\"";
    private const string PipelineNameInfix = "\",\"pipeline_name\":";
    private readonly object _gate = new();

    private DlqFile(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>The file of a state directory (created on first write).</summary>
    public static DlqFile For(string stateDir)
    {
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(stateDir, "dlq.jsonl"));
        return Files.GetOrAdd(path, p => new DlqFile(p));
    }

    /// <summary>
    /// One line: <c>{"timestamp", "connector", "error", "event": {"event_type", "timestamp", "data"}, "pipeline_id",
    /// "pipeline_name", "id"}</c>; <c>timestamp</c> is when the event was dead-lettered.
    /// </summary>
    public static string Render(DeadLetter letter, string pipelineId, string pipelineName)
    {
        var lines = new DlqLines(pipelineId, pipelineName, 256);
        lines.Add(letter);
        return Encoding.UTF8.GetString(lines.Written[..^1]);
    }

    /// <summary>A new set of lines of one pipeline, to <see cref="Append"/> in one write.</summary>
    public DlqLines Lines(string pipelineId, string pipelineName, int capacity = 16 * 1024) => new(pipelineId, pipelineName, capacity);

    /// <summary>Appends <paramref name="lines"/> in one write.</summary>
    public void Append(DlqLines lines)
    {
        if (lines.Count == 0) return;
        lock (_gate)
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            using var f = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1);
            f.Write(lines.Written);
        }
    }

    /// <summary>Replaces the lines of <paramref name="pipelineId"/> with <paramref name="lines"/>, keeping every other pipeline's.</summary>
    public void Rewrite(string pipelineId, IReadOnlyList<string> lines)
    {
        lock (_gate)
        {
            var kept = new List<string>();
            if (File.Exists(Path))
            {
                foreach (var l in File.ReadLines(Path))
                {
                    if (l.Length > 0 && PipelineOf(l) != pipelineId) kept.Add(l);
                }
            }
            else if (lines.Count == 0)
            {
                return;
            }
            kept.AddRange(lines);
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var tmp = Path + ".tmp";
            File.WriteAllText(tmp, kept.Count == 0 ? "" : string.Join('\n', kept) + "\n", new UTF8Encoding(false));
            File.Move(tmp, Path, overwrite: true);
        }
    }

    private static string? PipelineOf(string line)
    {
        // The lines written here end with "pipeline_id":"<id>","pipeline_name":...,"id":<n>} (an id is a UUID or a
        // name without quotes or backslashes); anything else (a line edited by hand) is parsed.
        int at = line.LastIndexOf(PipelineIdPrefix, StringComparison.Ordinal);
        if (at >= 0 && line.EndsWith('}'))
        {
            int from = at + PipelineIdPrefix.Length;
            int to = line.IndexOf(PipelineNameInfix, from, StringComparison.Ordinal);
            if (to > from && line.AsSpan(from, to - from).IndexOfAny('"', '\\') < 0) return line[from..to];
        }
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("pipeline_id", out var p) ? p.GetString() : null;
        }
        catch (JsonException)
        {
            // A line that is not ours (edited by hand) is kept as it is.
            return null;
        }
    }
}

/// <summary>
/// Lines of <c>dlq.jsonl</c> for one pipeline, rendered into one buffer (written by <see cref="DlqFile.Append"/> in one
/// write). Letters that share their instant, connector and error (those of one sink's batch) share the rendering of
/// the line's head; a line is then that head, the event's JSON, the pipeline's tail and the id.
/// </summary>
public sealed class DlqLines
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly ArrayBufferWriter<byte> _buffer;
    private readonly ArrayBufferWriter<byte> _scratch = new(512);
    private readonly Utf8JsonWriter _writer;
    private readonly byte[] _tail;
    private byte[] _head = [];
    private long _ticks = long.MinValue;
    private string? _connector;
    private string? _error;

    internal DlqLines(string pipelineId, string pipelineName, int capacity)
    {
        _buffer = new ArrayBufferWriter<byte>(capacity);
        _writer = new Utf8JsonWriter(_scratch, WriterOptions);
        // ,"pipeline_id":"...","pipeline_name":"...","id":
        _writer.WriteStartObject();
        _writer.WriteString("pipeline_id", pipelineId);
        _writer.WriteString("pipeline_name", pipelineName);
        _writer.WritePropertyName("id");
        _writer.Flush();
        _tail = [(byte)',', .. _scratch.WrittenSpan[1..]];
    }

    public int Count { get; private set; }

    internal ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void Add(DeadLetter l) => Add(l.Id, l.Timestamp, l.Connector, l.Error, Encoding.UTF8.GetBytes(l.EventJson));

    /// <summary>
    /// One line: <c>{"timestamp", "connector", "error", "event", "pipeline_id", "pipeline_name", "id"}</c>, as
    /// <see cref="Utf8JsonWriter"/> writes it.
    /// </summary>
    public void Add(long id, DateTimeOffset timestamp, string connector, string error, ReadOnlySpan<byte> eventJson)
    {
        if (timestamp.UtcTicks != _ticks || !ReferenceEquals(connector, _connector) || !ReferenceEquals(error, _error))
        {
            _ticks = timestamp.UtcTicks;
            _connector = connector;
            _error = error;
            _scratch.ResetWrittenCount();
            _writer.Reset(_scratch);
            _writer.WriteStartObject();
            _writer.WriteString("timestamp", timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            _writer.WriteString("connector", connector);
            _writer.WriteString("error", error);
            _writer.WritePropertyName("event");
            _writer.Flush();
            _head = _scratch.WrittenSpan.ToArray();
        }
        var span = _buffer.GetSpan(_head.Length + eventJson.Length + _tail.Length + 22);
        _head.CopyTo(span);
        int at = _head.Length;
        eventJson.CopyTo(span[at..]);
        at += eventJson.Length;
        _tail.CopyTo(span[at..]);
        at += _tail.Length;
        System.Buffers.Text.Utf8Formatter.TryFormat(id, span[at..], out int digits);
        at += digits;
        span[at++] = (byte)'}';
        span[at++] = (byte)'\n';
        _buffer.Advance(at);
        Count++;
    }
}
