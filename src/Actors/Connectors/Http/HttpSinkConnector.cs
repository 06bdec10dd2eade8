using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Varpulis.Actors.Connectors.Sinks;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Http;

/// <summary>The request settings of an HTTP sink, with secrets resolved (never logged: see <see cref="Describe"/>).</summary>
public sealed record HttpSinkSettings(string Connector, Uri Url, string Method, IReadOnlyList<KeyValuePair<string, string>> Headers, string? BearerToken, int BatchSize)
{
    public static HttpSinkSettings From(ConnectorParameters p, Func<string, string?>? environment = null) => new(
        p.Connector,
        new Uri(p.GetString("url", environment)!),
        p.GetString("method", environment)!.ToUpperInvariant(),
        p.GetStringMap("headers", environment),
        p.GetString("bearer_token", environment),
        (int)p.GetInt("batch_size"));

    /// <summary>The URL without user info or query (which may carry credentials).</summary>
    public string Describe() => Url.GetLeftPart(UriPartial.Path);
}

/// <summary>
/// The HTTP sink of one connector: POST (or PUT) of JSON; with <c>batch_size</c> 1 the body is the event object,
/// above 1 a JSON array of the events of the delivery. A 2xx answer delivers every event of the request; any other
/// status, a connection error or no answer within the timeout fails them all.
/// </summary>
public sealed class HttpSinkConnector(HttpSinkSettings settings, HttpClient client, ConnectorHealth health, ILogger log) : ISinkConnector
{
    public string Connector => settings.Connector;

    public ConnectorKind Kind => ConnectorKind.Http;

    public async Task<SinkDeliveryResult> DeliverAsync(IReadOnlyList<SinkRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return SinkDeliveryResult.Delivered(0);
        var results = new List<string?>(records.Count);
        if (settings.BatchSize <= 1)
        {
            foreach (var r in records) results.Add(await SendAsync(r.Json, cancellationToken).ConfigureAwait(false));
        }
        else
        {
            foreach (var chunk in records.Chunk(settings.BatchSize))
            {
                var error = await SendAsync(Array(chunk), cancellationToken).ConfigureAwait(false);
                results.AddRange(Enumerable.Repeat(error, chunk.Length));
            }
        }
        return new SinkDeliveryResult(results);
    }

    /// <summary><c>[e1,e2,...]</c> of the events' JSON.</summary>
    private static byte[] Array(SinkRecord[] chunk)
    {
        using var body = new MemoryStream(2 + chunk.Sum(r => r.Json.Length + 1));
        body.WriteByte((byte)'[');
        for (int i = 0; i < chunk.Length; i++)
        {
            if (i > 0) body.WriteByte((byte)',');
            body.Write(chunk[i].Json);
        }
        body.WriteByte((byte)']');
        return body.ToArray();
    }

    private async Task<string?> SendAsync(byte[] body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(settings.Method), settings.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var h in settings.Headers) request.Headers.TryAddWithoutValidation(h.Key, h.Value);
        if (settings.BearerToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.BearerToken);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            health.SetConnection(ConnectionState.Connected);
            if (response.IsSuccessStatusCode) return null;
            return $"{settings.Describe()} answered {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            string error = ex is OperationCanceledException ? $"{settings.Describe()} did not answer in time" : $"{settings.Describe()}: {ex.Message}";
            health.SetConnection(ConnectionState.Reconnecting, error);
            log.LogDebug("Sink {Connector} of pipeline {PipelineId}: {Error}", Connector, health.PipelineId, error);
            return error;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
