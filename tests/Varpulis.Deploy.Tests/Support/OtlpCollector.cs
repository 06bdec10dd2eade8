using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Varpulis.Deploy.Tests.Support;

/// <summary>
/// A minimal OpenTelemetry collector: an OTLP/HTTP receiver on a free loopback port (<c>POST /v1/traces</c>, protobuf)
/// that decodes each export into spans with their resource's <c>service.name</c>, name and string attributes.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<ReceivedSpan> _spans = new();

    private OtlpCollector(WebApplication app, int port)
    {
        _app = app;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    /// <summary>The value for OTEL_EXPORTER_OTLP_ENDPOINT (with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf).</summary>
    public string Endpoint { get; }

    public IReadOnlyList<ReceivedSpan> Spans
    {
        get
        {
            lock (_spans) return _spans.ToList();
        }
    }

    public static async Task<OtlpCollector> StartAsync()
    {
        int port = LocalProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var collector = new OtlpCollector(app, port);
        app.MapPost("/v1/traces", async (HttpContext ctx) =>
        {
            using var ms = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(ms);
            var spans = Decode(ms.ToArray());
            lock (collector._spans) collector._spans.AddRange(spans);
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return collector;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    /// <summary>An ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1) into its spans.</summary>
    public static List<ReceivedSpan> Decode(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1) continue;
            string? service = null;
            var scopes = new List<byte[]>();
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1) service = Attributes(value, attributeField: 1).GetValueOrDefault("service.name");
                else if (f == 2) scopes.Add(value);
            }
            foreach (var scope in scopes)
            {
                string scopeName = "";
                foreach (var (f, value) in Fields(scope))
                {
                    if (f == 1) scopeName = Fields(value).Where(x => x.Field == 1).Select(x => Encoding.UTF8.GetString(x.Value)).FirstOrDefault() ?? "";
                    if (f != 2) continue;
                    var name = Fields(value).Where(x => x.Field == 5).Select(x => Encoding.UTF8.GetString(x.Value)).FirstOrDefault() ?? "";
                    spans.Add(new ReceivedSpan(service ?? "", scopeName, name, Attributes(value, attributeField: 9)));
                }
            }
        }
        return spans;
    }

    /// <summary>The KeyValue fields numbered <paramref name="attributeField"/> of a message, with string or integer values.</summary>
    private static Dictionary<string, string> Attributes(byte[] message, int attributeField)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (f, kv) in Fields(message))
        {
            if (f != attributeField) continue;
            string? key = null, value = null;
            foreach (var (kf, kvalue) in Fields(kv))
            {
                if (kf == 1) key = Encoding.UTF8.GetString(kvalue);
                else if (kf == 2)
                {
                    foreach (var (af, av) in Fields(kvalue, keepVarints: true))
                    {
                        if (af == 1) value = Encoding.UTF8.GetString(av);
                        else if (af == 3) value = ReadVarint(av, 0, out _).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
            if (key is not null) result[key] = value ?? "";
        }
        return result;
    }

    /// <summary>The fields of a protobuf message: length-delimited ones with their bytes (varints as their encoding when asked).</summary>
    private static List<(int Field, byte[] Value)> Fields(byte[] buffer, bool keepVarints = false)
    {
        var fields = new List<(int, byte[])>();
        int pos = 0;
        while (pos < buffer.Length)
        {
            ulong key = ReadVarint(buffer, pos, out pos);
            int field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    int start = pos;
                    ReadVarint(buffer, pos, out pos);
                    if (keepVarints) fields.Add((field, buffer[start..pos]));
                    break;
                case 1:
                    pos += 8;
                    break;
                case 2:
                    int length = (int)ReadVarint(buffer, pos, out pos);
                    fields.Add((field, buffer[pos..(pos + length)]));
                    pos += length;
                    break;
                case 5:
                    pos += 4;
                    break;
                default:
                    throw new FormatException($"unsupported protobuf wire type {key & 7}");
            }
        }
        return fields;
    }

    private static ulong ReadVarint(byte[] buffer, int pos, out int next)
    {
        ulong result = 0;
        int shift = 0;
        while (true)
        {
            byte b = buffer[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
        }
        next = pos;
        return result;
    }
}

/// <summary>One span as the collector received it.</summary>
public sealed record ReceivedSpan(string Service, string Scope, string Name, IReadOnlyDictionary<string, string> Attributes);
