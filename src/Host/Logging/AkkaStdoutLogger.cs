using Akka.Event;
using Serilog.Events;

namespace Varpulis.Host.Logging;

/// <summary>
/// Akka.NET's standard-out logger (<c>akka.stdout-logger-class</c>): what the actor system logs before its loggers
/// start and after they stop (<c>Remoting shut down</c> at shutdown, for example). Instead of Akka's own
/// <c>[INFO][date][Thread]</c> lines on standard output, these go through the node's Serilog logger, so they take the
/// configured format (every line JSON in JSON mode), filters and escaping like every other line.
/// </summary>
public sealed class AkkaStdoutLogger : MinimalLogger
{
    /// <summary>The logger of the node that runs the actor system (set when the node is built).</summary>
    internal static Serilog.ILogger? Target { get; set; }

    protected override void Log(object message)
    {
        if (message is not Akka.Event.LogEvent e || Target is not { } target) return;
        var level = e.LogLevel() switch
        {
            LogLevel.DebugLevel => LogEventLevel.Debug,
            LogLevel.InfoLevel => LogEventLevel.Information,
            LogLevel.WarningLevel => LogEventLevel.Warning,
            _ => LogEventLevel.Error,
        };
        // Messages logged with a string source carry a placeholder class: their target is plain "Akka".
        var source = e.LogClass is { } c && c != typeof(DummyClassForStringSources) ? c.FullName ?? "Akka" : "Akka";
        var log = target.ForContext("SourceContext", source);
        if (!log.IsEnabled(level)) return;
        log.Write(level, e.Cause, "{AkkaSource}: {AkkaMessage}", e.LogSource, e.Message?.ToString());
    }
}
