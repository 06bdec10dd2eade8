using System.Text;
using Varpulis.Actors.Connectors.Sinks;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Files;

/// <summary>
/// Appends one JSON line per event to a file (<c>file</c> sinks) or to standard output (<c>console</c>), flushed per
/// delivery; a write error (disk full, permission) fails the delivery.
/// </summary>
public sealed class FileSinkConnector : ISinkConnector
{
    private readonly string? _path;
    private readonly TextWriter? _console;
    private FileStream? _stream;

    private FileSinkConnector(string connector, ConnectorKind kind, string? path, TextWriter? console)
    {
        Connector = connector;
        Kind = kind;
        _path = path;
        _console = console;
    }

    public static FileSinkConnector ToFile(string connector, string path) => new(connector, ConnectorKind.File, path, null);

    public static FileSinkConnector ToConsole(string connector, TextWriter output) => new(connector, ConnectorKind.Console, null, output);

    public string Connector { get; }

    public ConnectorKind Kind { get; }

    public async Task<SinkDeliveryResult> DeliverAsync(IReadOnlyList<SinkRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            if (_console is not null)
            {
                var sb = new StringBuilder();
                foreach (var r in records) sb.Append(Encoding.UTF8.GetString(r.Json)).Append('\n');
                await _console.WriteAsync(sb.ToString()).ConfigureAwait(false);
                await _console.FlushAsync(cancellationToken).ConfigureAwait(false);
                return SinkDeliveryResult.Delivered(records.Count);
            }
            if (_stream is null)
            {
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path!))!);
                _stream = new FileStream(_path!, FileMode.Append, FileAccess.Write, FileShare.Read);
            }
            int length = records.Sum(r => r.Json.Length + 1);
            var buffer = new byte[length];
            int pos = 0;
            foreach (var r in records)
            {
                r.Json.CopyTo(buffer, pos);
                pos += r.Json.Length;
                buffer[pos++] = (byte)'\n';
            }
            await _stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            return SinkDeliveryResult.Delivered(records.Count);
        }
        catch (IOException ex)
        {
            // Reopen on the next delivery: the file may have been rotated or the disk freed.
            _stream?.Dispose();
            _stream = null;
            return SinkDeliveryResult.Failed(records.Count, $"cannot write {_path ?? "standard output"}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            return SinkDeliveryResult.Failed(records.Count, $"cannot write {_path}: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null) await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
