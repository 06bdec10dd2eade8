using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Ceen;
using Ceen.Httpd;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using ILogger = Microsoft.Extensions.Logging.ILogger;
using Microsoft.Extensions.Logging;
using CeenLogLevel = Ceen.LogLevel;
using CeenStatus = Ceen.HttpStatusCode;

namespace Varpulis.Api.Management;

/// <summary>
/// An ASP.NET Core request seen through Ceen's <see cref="IHttpContext"/>, the interface Akka.Management's route modules
/// are written against: the management endpoint runs on Kestrel and hands each request to those modules as Ceen's own
/// server would (form fields parsed up front, headers written with the first byte of the body).
/// </summary>
internal sealed class CeenHttpContext : IHttpContext
{
    private static readonly IStorageCreator SharedStorage = new MemoryStorageCreator();
    private static readonly ServerConfig NoModules = new();
    private readonly ILogger _log;

    private CeenHttpContext(HttpContext http, IDictionary<string, string> form, IList<IMultipartItem> files, ILogger log)
    {
        _log = log;
        Request = new CeenHttpRequest(http, form, files);
        Response = new CeenHttpResponse(http);
    }

    public static async Task<CeenHttpContext> CreateAsync(HttpContext http, ILogger log)
    {
        var form = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var files = new List<IMultipartItem>();
        if (http.Request.HasFormContentType)
        {
            var read = await http.Request.ReadFormAsync(http.RequestAborted);
            foreach (var (k, v) in read) form[k] = v.ToString();
            foreach (var f in read.Files) files.Add(new FormFileItem(f));
        }
        return new CeenHttpContext(http, form, files, log);
    }

    public IHttpRequest Request { get; }

    public CeenHttpResponse Response { get; }

    IHttpResponse IHttpContext.Response => Response;

    public IStorageCreator Storage => SharedStorage;

    public IDictionary<string, string> Session { get; set; } = new Dictionary<string, string>().AnswerNullWhenMissing();

    public IDictionary<string, string> LogData { get; } = new Dictionary<string, string>().AnswerNullWhenMissing();

    public ILoadedModuleInfo LoadedModules => NoModules;

    public Task LogMessageAsync(CeenLogLevel level, string message, Exception ex)
    {
        var mapped = level switch
        {
            CeenLogLevel.Error => Microsoft.Extensions.Logging.LogLevel.Error,
            CeenLogLevel.Warning => Microsoft.Extensions.Logging.LogLevel.Warning,
            CeenLogLevel.Information => Microsoft.Extensions.Logging.LogLevel.Information,
            _ => Microsoft.Extensions.Logging.LogLevel.Debug,
        };
#pragma warning disable CA2254 // the message comes from the module, not from a template of ours
        _log.Log(mapped, ex, message);
#pragma warning restore CA2254
        return Task.CompletedTask;
    }

    private sealed class FormFileItem(IFormFile file) : IMultipartItem
    {
        public IDictionary<string, string> Headers { get; } = file.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);

        public string Name => file.Name;

        public string Filename => file.FileName;

        public string ContentType => file.ContentType;

        public Stream Data => file.OpenReadStream();
    }
}

/// <summary>The request half of <see cref="CeenHttpContext"/>.</summary>
internal sealed class CeenHttpRequest : IHttpRequest
{
    private readonly HttpContext _http;
    private readonly List<IHttpModule> _handlers = [];

    public CeenHttpRequest(HttpContext http, IDictionary<string, string> form, IList<IMultipartItem> files)
    {
        _http = http;
        var r = http.Request;
        Path = OriginalPath = r.Path.HasValue ? r.Path.Value! : "/";
        RawQueryString = r.QueryString.HasValue ? r.QueryString.Value! : "";
        RawHttpRequestLine = $"{r.Method} {Path}{RawQueryString} {r.Protocol}";
        QueryString = r.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase).AnswerNullWhenMissing();
        Headers = r.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase).AnswerNullWhenMissing();
        Cookies = r.Cookies.ToDictionary(c => c.Key, c => c.Value, StringComparer.OrdinalIgnoreCase).AnswerNullWhenMissing();
        Form = form.AnswerNullWhenMissing();
        Files = files;
        RequestProcessingStarted = DateTime.Now;
    }

    public string RawHttpRequestLine { get; }

    public string Method => _http.Request.Method;

    public string Path { get; internal set; }

    public string OriginalPath { get; }

    public string RawQueryString { get; }

    public IDictionary<string, string> QueryString { get; }

    public IDictionary<string, string> Headers { get; }

    public IDictionary<string, string> Form { get; }

    public IDictionary<string, string> Cookies { get; }

    public IList<IMultipartItem> Files { get; }

    public string HttpVersion => _http.Request.Protocol;

    public string? UserID { get; set; }

    public string? SessionID { get; set; }

    public SslProtocols SslProtocol => _http.Features.Get<ITlsHandshakeFeature>()?.Protocol ?? SslProtocols.None;

    public EndPoint RemoteEndPoint => new IPEndPoint(_http.Connection.RemoteIpAddress ?? IPAddress.None, _http.Connection.RemotePort);

    public X509Certificate? ClientCertificate => _http.Connection.ClientCertificate;

    public string LogConnectionID => _http.Connection.Id;

    public string LogRequestID => _http.TraceIdentifier;

    public Stream Body => _http.Request.Body;

    public string? ContentType => _http.Request.ContentType;

    public int ContentLength => _http.Request.ContentLength is long n ? (int)Math.Min(n, int.MaxValue) : -1;

    public string Hostname => _http.Request.Host.Host;

    public IDictionary<string, object> RequestState { get; } = new Dictionary<string, object>();

    public IEnumerable<IHttpModule> HandlerStack => _handlers;

    public CancellationToken TimeoutCancellationToken => _http.RequestAborted;

    public bool IsConnected => !_http.RequestAborted.IsCancellationRequested;

    public DateTime RequestProcessingStarted { get; }

    public void PushHandlerOnStack(IHttpModule handler) => _handlers.Add(handler);

    internal void ClearHandlerStack() => _handlers.Clear();

    public void RequireHandler(IEnumerable<RequireHandlerAttribute> attributes)
    {
        foreach (var attr in attributes ?? [])
        {
            bool found = attr.AllowDerived
                ? _handlers.Any(h => attr.RequiredType.IsAssignableFrom(h.GetType()))
                : _handlers.Any(h => attr.RequiredType == h.GetType());
            if (!found)
                throw new RequirementFailedException($"Did not find any handlers of type {attr.RequiredType.FullName} while processing path {Path}");
        }
    }

    public void RequireHandler(Type handler, bool allowderived = true)
        => RequireHandler([new RequireHandlerAttribute(handler) { AllowDerived = allowderived }]);

    // Kestrel bounds a request by its own limits and the client's disconnect, not by a processing deadline to reset.
    public void ResetProcessingTimeout()
    {
    }

    public void ThrowIfTimeout() => _http.RequestAborted.ThrowIfCancellationRequested();
}

/// <summary>The response half of <see cref="CeenHttpContext"/>: headers collected, then written before the first body byte.</summary>
internal sealed class CeenHttpResponse(HttpContext http) : IHttpResponse
{
    private const int MaxInternalRedirects = 5;
    private readonly List<IResponseCookie> _cookies = [];
    private string? _redirectPath;
    private int _redirects;

    public string HttpVersion { get; set; } = http.Request.Protocol;

    public CeenStatus StatusCode { get; set; } = CeenStatus.OK;

    public string? StatusMessage { get; set; }

    public bool HasSentHeaders => http.Response.HasStarted;

    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase).AnswerNullWhenMissing();

    public IList<IResponseCookie> Cookies => _cookies;

    public bool IsRedirectingInternally => _redirectPath is not null;

    public string? ContentType { get; set; }

    public long ContentLength { get; set; } = -1;

    public bool KeepAlive { get; set; } = true;

    public IResponseCookie AddCookie(string name, string value, string? path = null, string? domain = null, DateTime? expires = null,
        long maxage = -1, bool secure = false, bool httponly = false, string? samesite = null)
    {
        var cookie = new ResponseCookie(name, value)
        {
            Path = path!,
            Domain = domain!,
            Expires = expires,
            MaxAge = maxage,
            Secure = secure,
            HttpOnly = httponly,
            SameSite = samesite!,
        };
        _cookies.Add(cookie);
        return cookie;
    }

    public void AddHeader(string key, string value) => Headers[key] = value;

    public void InternalRedirect(string path)
    {
        if (HasSentHeaders) throw new InvalidOperationException("Cannot redirect after headers have been sent");
        if (IsRedirectingInternally) throw new InvalidOperationException("An internal redirect is already in progress");
        if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/')) throw new ArgumentException("The path must start with a forward slash '/'", nameof(path));
        if (_redirects >= MaxInternalRedirects) throw new InvalidOperationException($"Cannot perform more than {MaxInternalRedirects} redirects");
        _redirects++;
        _redirectPath = path;
    }

    internal string? ClearInternalRedirect()
    {
        var path = _redirectPath;
        _redirectPath = null;
        return path;
    }

    public async Task FlushHeadersAsync()
    {
        if (http.Response.HasStarted) return;
        Apply();
        await http.Response.StartAsync(http.RequestAborted);
    }

    public async Task WriteAllAsync(Stream data, string? contenttype = null)
    {
        if (contenttype is not null) ContentType = contenttype;
        if (!HasSentHeaders && data.CanSeek) ContentLength = data.Length - data.Position;
        await FlushHeadersAsync();
        await data.CopyToAsync(http.Response.Body, http.RequestAborted);
    }

    public async Task WriteAllAsync(byte[] data, string? contenttype = null)
    {
        if (contenttype is not null) ContentType = contenttype;
        if (!HasSentHeaders) ContentLength = data.Length;
        await FlushHeadersAsync();
        await http.Response.Body.WriteAsync(data, http.RequestAborted);
    }

    public Task WriteAllAsync(string data, string? contenttype = null) => WriteAllAsync(Encoding.UTF8.GetBytes(data), contenttype);

    public Task WriteAllAsync(string data, Encoding encoding, string? contenttype = null) => WriteAllAsync(encoding.GetBytes(data), contenttype);

    public Task WriteAllJsonAsync(string data)
    {
        if (!HasSentHeaders) ContentType = "application/json; charset=utf-8";
        return WriteAllAsync(Encoding.UTF8.GetBytes(data));
    }

    public void Redirect(string newurl)
    {
        Headers["Location"] = newurl;
        StatusCode = CeenStatus.Found;
        StatusMessage = HttpStatusMessages.DefaultMessage(StatusCode);
    }

    public void SetNonCacheable()
    {
        Headers["Expires"] = Headers["Date"] = DateTime.Now.ToString("R", CultureInfo.InvariantCulture);
        Headers["Cache-Control"] = "no-cache, no-store, must-revalidate, max-age=0";
    }

    public void SetExpires(TimeSpan duration, bool isPublic = true)
    {
        Headers["Expires"] = (DateTime.Now + duration).ToString("R", CultureInfo.InvariantCulture);
        Headers["Cache-Control"] = string.Format(CultureInfo.InvariantCulture, "{0}, max-age={1}", isPublic ? "public" : "private",
            Math.Max(0.0, Math.Min(duration.TotalSeconds, int.MaxValue)));
    }

    public void SetExpires(DateTime until, bool isPublic = true) => SetExpires(until - DateTime.Now, isPublic);

    public Stream GetResponseStream()
    {
        if (!http.Response.HasStarted) Apply();
        return http.Response.Body;
    }

    /// <summary>Sends the headers of a response no module wrote a body for.</summary>
    internal Task CompleteAsync() => FlushHeadersAsync();

    private void Apply()
    {
        var r = http.Response;
        r.StatusCode = (int)StatusCode;
        if (!string.IsNullOrEmpty(StatusMessage)) http.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = StatusMessage;
        if (ContentType is not null) r.ContentType = ContentType;
        if (ContentLength >= 0) r.ContentLength = ContentLength;
        foreach (var (k, v) in Headers) r.Headers[k] = v;
        foreach (var c in _cookies)
        {
            r.Cookies.Append(c.Name, c.Value, new CookieOptions
            {
                Path = c.Path,
                Domain = c.Domain,
                Expires = c.Expires,
                MaxAge = c.MaxAge >= 0 ? TimeSpan.FromSeconds(c.MaxAge) : null,
                Secure = c.Secure,
                HttpOnly = c.HttpOnly,
            });
        }
    }
}

internal static class CeenDictionaries
{
    /// <summary>Ceen's request and response dictionaries answer null for a missing key, and its modules rely on that.</summary>
    public static IDictionary<string, string> AnswerNullWhenMissing(this IDictionary<string, string> dictionary)
        => dictionary.WithDefaultValue<string, string>(null!);
}
