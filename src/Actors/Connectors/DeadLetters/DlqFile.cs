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
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
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
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("timestamp", letter.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("connector", letter.Connector);
            w.WriteString("error", letter.Error);
            w.WritePropertyName("event");
            w.WriteRawValue(letter.EventJson, skipInputValidation: true);
            w.WriteString("pipeline_id", pipelineId);
            w.WriteString("pipeline_name", pipelineName);
            w.WriteNumber("id", letter.Id);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public void Append(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0) return;
        lock (_gate)
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            using var f = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            using var w = new StreamWriter(f, new UTF8Encoding(false));
            foreach (var l in lines)
            {
                w.Write(l);
                w.Write('\n');
            }
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
