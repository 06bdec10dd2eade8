using System.Globalization;
using System.Text.Json;
using Serilog;
using Serilog.Events;
using Serilog.Formatting;
using Varpulis.Actors.Configuration;
using Varpulis.Vpl.Json;

namespace Varpulis.Host.Logging;

/// <summary>Builds the Serilog logger of a node from <see cref="LoggingSettings"/> (level filters, text or JSON, timestamps).</summary>
public static class VarpulisLogging
{
    public static Serilog.Core.Logger Create(LoggingSettings settings, TextWriter? output = null)
    {
        var filter = LogFilter.Parse(settings.Level);
        var config = new LoggerConfiguration().MinimumLevel.Is(filter.Default);
        foreach (var (ns, level) in filter.Overrides) config.MinimumLevel.Override(ns, level);
        var formatter = new LineFormatter(json: settings.Format == "json", settings.Timestamps);
        return config
            .Enrich.FromLogContext()
            // The host's own report of a failed start carries a stack trace; `varpulis server` says it in one line instead.
            .Filter.ByExcluding(e => e.Level == LogEventLevel.Error && e.MessageTemplate.Text.StartsWith("Hosting failed to start", StringComparison.Ordinal)
                && e.Properties.TryGetValue("SourceContext", out var sc) && sc is ScalarValue { Value: "Microsoft.Extensions.Hosting.Internal.Host" })
            .WriteTo.Sink(new WriterSink(formatter, output ?? Console.Out))
            .CreateLogger();
    }

    /// <summary>The message with property values as plain text (strings without quotes).</summary>
    private static string Render(LogEvent e)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var token in e.MessageTemplate.Tokens)
        {
            if (token is Serilog.Parsing.PropertyToken p && e.Properties.TryGetValue(p.PropertyName, out var v))
            {
                if (v is ScalarValue { Value: string str }) sb.Append(str);
                else if (v is ScalarValue sv) sb.Append(Convert.ToString(sv.Value, CultureInfo.InvariantCulture));
                else sb.Append(v.ToString());
            }
            else
            {
                var w = new StringWriter(CultureInfo.InvariantCulture);
                token.Render(e.Properties, w, CultureInfo.InvariantCulture);
                sb.Append(w.ToString());
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Appends <paramref name="text"/> with control characters escaped: <c>\n</c>, <c>\r</c>, <c>\t</c>, others (NUL, ESC,
    /// C1, the Unicode line and paragraph separators) as <c>\uXXXX</c>.
    /// </summary>
    internal static void AppendEscaped(System.Text.StringBuilder sb, string text)
    {
        foreach (char c in text)
        {
            if (!char.IsControl(c) && c != '\u2028' && c != '\u2029')
            {
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                default:
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    /// <summary>Writes formatted events to a text writer, one at a time.</summary>
    private sealed class WriterSink(ITextFormatter formatter, TextWriter output) : Serilog.Core.ILogEventSink
    {
        private readonly Lock _gate = new();

        public void Emit(LogEvent logEvent)
        {
            var line = new StringWriter(CultureInfo.InvariantCulture);
            formatter.Format(logEvent, line);
            lock (_gate)
            {
                output.Write(line.ToString());
                output.Flush();
            }
        }
    }

    /// <summary>
    /// One line per event: <c>2025-01-01T12:00:00.000Z INFO Varpulis.X: message</c>, or a JSON object
    /// <c>{"timestamp", "level", "target", "message", "fields": {...}}</c>.
    /// </summary>
    private sealed class LineFormatter(bool json, bool timestamps) : ITextFormatter
    {
        public void Format(LogEvent e, TextWriter output)
        {
            string target = e.Properties.TryGetValue("SourceContext", out var sc) && sc is ScalarValue { Value: string s } ? s : "varpulis";
            string level = e.Level switch
            {
                LogEventLevel.Verbose => "TRACE",
                LogEventLevel.Debug => "DEBUG",
                LogEventLevel.Information => "INFO",
                LogEventLevel.Warning => "WARN",
                _ => "ERROR",
            };
            string time = e.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            string message = Render(e);
            if (!json)
            {
                // One line per event whatever the values hold: control characters (a pipeline name with a newline or a
                // NUL, an exception's stack trace) are escaped, so no value can start a line of its own.
                var line = new System.Text.StringBuilder(message.Length + 64);
                if (timestamps) line.Append(time).Append(' ');
                line.Append($"{level,-5} ");
                AppendEscaped(line, target);
                line.Append(": ");
                AppendEscaped(line, message);
                if (e.Exception is not null)
                {
                    line.Append(" | ");
                    AppendEscaped(line, e.Exception.ToString());
                }
                line.Append('\n');
                output.Write(line.ToString());
                return;
            }
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream, VplJson.WriterOptions))
            {
                w.WriteStartObject();
                if (timestamps) w.WriteString("timestamp", time);
                w.WriteString("level", level);
                w.WriteString("target", target);
                w.WriteString("message", message);
                w.WritePropertyName("fields");
                w.WriteStartObject();
                foreach (var (name, value) in e.Properties)
                {
                    if (name == "SourceContext") continue;
                    w.WritePropertyName(name);
                    switch (value)
                    {
                        case ScalarValue { Value: null }:
                            w.WriteNullValue();
                            break;
                        case ScalarValue { Value: bool b }:
                            w.WriteBooleanValue(b);
                            break;
                        case ScalarValue { Value: int or long or double or float or decimal } num:
                            w.WriteRawValue(Convert.ToString(num.Value, CultureInfo.InvariantCulture)!);
                            break;
                        case ScalarValue sv:
                            w.WriteStringValue(Convert.ToString(sv.Value, CultureInfo.InvariantCulture));
                            break;
                        default:
                            w.WriteStringValue(value.ToString());
                            break;
                    }
                }
                w.WriteEndObject();
                if (e.Exception is not null) w.WriteString("exception", e.Exception.ToString());
                w.WriteEndObject();
            }
            output.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            output.Write('\n');
        }
    }
}
