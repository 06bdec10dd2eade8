using Microsoft.Extensions.Logging;
using Varpulis.Vpl.Runtime;

namespace Varpulis.Actors.Pipelines;

/// <summary>
/// The engine's side effects inside the server: <c>.print</c> and <c>.log</c> go to the log with the pipeline id;
/// <c>.to(Connector)</c> collects the output for the pipeline's sinks in <paramref name="connectors"/> (sent to them
/// once the request is journaled).
/// </summary>
internal sealed class PipelineEngineHost(string pipelineId, ILogger log, Connectors.PipelineConnectorState? connectors = null) : IEngineHost
{
    public void Send(string stream, string connector, IReadOnlyList<KeyValuePair<string, Value>> args, Event e)
    {
        if (connectors?.Route(stream, connector, args, e) == true) return;
        log.LogDebug("Pipeline {PipelineId} stream {Stream}: no sink connector '{Connector}' on this node; dropped {Event}", pipelineId, stream, connector, e);
    }

    public void Print(string stream, string text)
        => log.LogInformation("Pipeline {PipelineId} stream {Stream} print: {Text}", pipelineId, stream, text);

    public void Log(string stream, string level, string message, Event e)
    {
        var lvl = level.ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warn" or "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        };
        log.Log(lvl, "Pipeline {PipelineId} stream {Stream}: {Message}", pipelineId, stream, message);
    }

    public void Notice(string stream, string code, string message)
        => log.LogWarning("Pipeline {PipelineId} stream {Stream} {Code}: {Message}", pipelineId, stream, code, message);
}
