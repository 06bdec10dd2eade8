using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Varpulis.Contracts;

namespace Varpulis.Pbm.Http;

/// <summary>
/// Requests to one node's management endpoint with its admin key; every failure becomes a <see cref="PbmFailure"/> that
/// says in one line what went wrong (refused connection, wrong key, the node's own error message).
/// </summary>
public sealed class ManagementClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _target;

    public ManagementClient(Uri baseAddress, string? apiKey, TimeSpan timeout)
    {
        _target = baseAddress.Authority;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = timeout };
        if (!string.IsNullOrEmpty(apiKey)) _http.DefaultRequestHeaders.Add("x-api-key", apiKey);
    }

    public Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
        => SendAsync(new HttpRequestMessage(HttpMethod.Get, path), type, ct);

    /// <summary>A request with form fields, as the cluster routes take them (<c>operation=Down</c>, <c>address=...</c>).</summary>
    public Task<T> SendFormAsync<T>(HttpMethod method, string path, IReadOnlyDictionary<string, string> form, JsonTypeInfo<T> type, CancellationToken ct)
        => SendAsync(new HttpRequestMessage(method, path) { Content = new FormUrlEncodedContent(form) }, type, ct);

    public Task<T> SendAsync<T>(HttpMethod method, string path, JsonTypeInfo<T> type, CancellationToken ct)
        => SendAsync(new HttpRequestMessage(method, path), type, ct);

    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var _ = request;
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new PbmFailure(ExitCodes.Unreachable, $"cannot reach {_target}: {Reason(ex)}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new PbmFailure(ExitCodes.Unreachable,
                $"{_target} did not answer within {_http.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            int status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    return JsonSerializer.Deserialize(body, type) ?? throw new JsonException("null");
                }
                catch (JsonException)
                {
                    throw new PbmFailure(ExitCodes.Refused, $"{_target} answered {status} with a body pbm does not understand: {Snippet(body)}");
                }
            }
            var error = ErrorOf(body);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new PbmFailure(ExitCodes.Unauthorized,
                    $"{_target} refused the request: {error?.Error ?? "401 Unauthorized"} (give the node's admin key with --api-key or VARPULIS_API_KEY)");
            }
            throw new PbmFailure(ExitCodes.Refused, error is not null
                ? $"{error.Error} ({status} {error.Code})"
                : $"{_target} answered {status}: {Snippet(body)}");
        }
    }

    private static ErrorBody? ErrorOf(byte[] body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, ContractsJsonContext.Default.ErrorBody) is { Error: not null, Code: not null } e ? e : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Reason(HttpRequestException ex) => ex.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused (is a Varpulis node serving its management port there? see --management-port)",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData } => "unknown host",
        SocketException s => s.Message,
        _ => ex.Message,
    };

    private static string Snippet(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body).ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : text.Length > 200 ? text[..200] + "..." : text;
    }

    public void Dispose() => _http.Dispose();
}
