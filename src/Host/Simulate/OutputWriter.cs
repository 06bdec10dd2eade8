using System.Buffers;
using System.Runtime.CompilerServices;
using Varpulis.Vpl.Json;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Host.Simulate;

/// <summary>
/// Where simulate's output events go: JSON lines into a shared stream (standard output or a file), or
/// nowhere (counted only). Engines write into their own <see cref="OutputBuffer"/>; buffers flush into the
/// stream in whole lines under a lock, so parallel workers never interleave inside a line.
/// </summary>
internal sealed class OutputWriter : IDisposable
{
    private readonly Stream? _stream;
    private readonly bool _ownsStream;
    private readonly object _gate = new();

    public OutputWriter(Stream? stream, bool ownsStream)
    {
        _stream = stream;
        _ownsStream = ownsStream;
    }

    public bool Writes => _stream is not null;

    public OutputBuffer CreateBuffer() => new(this);

    internal void Write(ReadOnlySpan<byte> bytes)
    {
        if (_stream is null) return;
        lock (_gate) _stream.Write(bytes);
    }

    public void Flush()
    {
        if (_stream is null) return;
        lock (_gate) _stream.Flush();
    }

    public void Dispose()
    {
        Flush();
        if (_ownsStream) _stream?.Dispose();
    }
}

/// <summary>One engine's output sink: counts, and renders JSON lines when the writer writes.</summary>
internal sealed class OutputBuffer(OutputWriter writer) : IOutputSink
{
    private const int FlushThreshold = 256 * 1024;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold + 4096);

    public long Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnOutput(Event output)
    {
        Count++;
        if (!writer.Writes) return;
        EventJson.WriteJsonLine(_buffer, output);
        if (_buffer.WrittenCount >= FlushThreshold) Flush();
    }

    public void Flush()
    {
        if (_buffer.WrittenCount == 0) return;
        writer.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }
}
