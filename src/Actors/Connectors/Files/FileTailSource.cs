using System.Globalization;
using System.Threading.Channels;
using Akka;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors.Sources;

namespace Varpulis.Actors.Connectors.Files;

/// <summary>
/// Reads a JSON-lines file from the last acknowledged position and follows it (lines appended later are read
/// within <c>poll_interval</c>). The position (byte offset after the last journaled line) is kept in
/// <paramref name="positionFile"/>, written atomically in <see cref="AcknowledgeAsync"/>. A file that becomes shorter
/// than the position (truncated or replaced) is read again from the start.
/// </summary>
public sealed class FileTailSource(string connector, string path, string positionFile, string? eventType, TimeSpan pollInterval, int capacity, ConnectorHealth health, ILogger log)
    : IConnectorSource
{
    public string Connector => connector;

    public Source<SourceRecord, NotUsed> Connect()
    {
        var channel = Channel.CreateBounded<SourceRecord>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        var stop = new CancellationTokenSource();
        _ = Task.Run(() => TailAsync(channel.Writer, stop.Token));
        return ChannelSource.FromReader(channel.Reader)
            .WatchTermination((mat, done) =>
            {
                done.ContinueWith(_ => stop.Cancel(), TaskScheduler.Default);
                return mat;
            });
    }

    private async Task TailAsync(ChannelWriter<SourceRecord> writer, CancellationToken ct)
    {
        try
        {
            long position = LoadPosition();
            health.SetConnection(ConnectionState.Connected);
            log.LogInformation("Source {Connector} of pipeline {PipelineId} reading {Path} from byte {Position}", connector, health.PipelineId, path, position);
            var pending = new MemoryStream();
            var buffer = new byte[64 * 1024];
            while (!ct.IsCancellationRequested)
            {
                if (!File.Exists(path))
                {
                    await Task.Delay(pollInterval, ct).ConfigureAwait(false);
                    continue;
                }
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (stream.Length < position)
                {
                    log.LogWarning("Source {Connector} of pipeline {PipelineId}: {Path} is shorter than the position read ({Position}); reading it again from the start", connector, health.PipelineId, path, position);
                    position = 0;
                }
                stream.Seek(position, SeekOrigin.Begin);
                long lineStart = position;
                pending.SetLength(0);
                int n;
                while ((n = await stream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    int from = 0;
                    for (int i = 0; i < n; i++)
                    {
                        if (buffer[i] != (byte)'\n') continue;
                        pending.Write(buffer, from, i - from);
                        long end = lineStart + pending.Length + 1;
                        var line = pending.ToArray();
                        pending.SetLength(0);
                        from = i + 1;
                        lineStart = end;
                        position = end;
                        if (line.Length == 0 || (line.Length == 1 && line[0] == '\r')) continue;
                        await writer.WriteAsync(new SourceRecord(line, new SourcePosition(path, 0, end)), ct).ConfigureAwait(false);
                    }
                    pending.Write(buffer, from, n - from);
                }
                // A line without its '\n' yet is read again, whole, on the next pass.
                await Task.Delay(pollInterval, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            writer.TryComplete(new IOException($"cannot read {path}: {ex.Message}", ex));
            return;
        }
        writer.TryComplete();
    }

    private long LoadPosition()
    {
        if (!File.Exists(positionFile)) return 0;
        return long.TryParse(File.ReadAllText(positionFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long p) ? p : 0;
    }

    public Task AcknowledgeAsync(IReadOnlyList<SourceRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return Task.CompletedTask;
        long position = records.Max(r => r.Position.Offset);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(positionFile))!);
        var tmp = positionFile + ".tmp";
        File.WriteAllText(tmp, position.ToString(CultureInfo.InvariantCulture));
        File.Move(tmp, positionFile, overwrite: true);
        return Task.CompletedTask;
    }

    public string? DefaultEventType(SourcePosition position) => eventType;
}
