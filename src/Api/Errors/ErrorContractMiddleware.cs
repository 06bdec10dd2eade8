using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Varpulis.Api.Http;

namespace Varpulis.Api.Errors;

/// <summary>
/// The one place that maps failures to HTTP errors: <see cref="ApiException"/> as it says, Kestrel's own rejections
/// (body too large, malformed request) as 413/400, anything else as a 500 without internals. Every error body is
/// <c>{"error": message, "code": code}</c>.
/// </summary>
public sealed class ErrorContractMiddleware(RequestDelegate next, ILogger<ErrorContractMiddleware> log)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        try
        {
            await next(ctx);
        }
        catch (ApiException ex)
        {
            await WriteAsync(ctx, ex);
        }
        catch (BadHttpRequestException ex)
        {
            var error = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? new ApiException(413, "payload_too_large", "request body is too large")
                : new ApiException(ex.StatusCode, "invalid_request", ex.Message);
            await WriteAsync(ctx, error);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nothing to answer.
        }
        catch (Exception ex)
        {
            log.LogError(ex, "Unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            await WriteAsync(ctx, new ApiException(500, "internal_error", "internal server error"));
        }
    }

    public static async Task WriteAsync(HttpContext ctx, ApiException ex)
    {
        if (ctx.Response.HasStarted) return;
        ctx.Response.Clear();
        ctx.Response.StatusCode = ex.Status;
        if (ex.Headers is not null)
        {
            foreach (var (k, v) in ex.Headers) ctx.Response.Headers[k] = v;
        }
        await ApiJson.WriteAsync(ctx, ex.Status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", ex.Message);
            w.WriteString("code", ex.Code);
            ex.Extra?.Invoke(w);
            w.WriteEndObject();
        });
    }

    /// <summary>Gives bodiless error responses (405 from routing, for example) the JSON error shape.</summary>
    public static async Task StatusCodeBodyAsync(HttpContext ctx)
    {
        var (code, message) = ctx.Response.StatusCode switch
        {
            404 => ("not_found", "no such route"),
            405 => ("method_not_allowed", $"method {ctx.Request.Method} is not allowed on {ctx.Request.Path}"),
            413 => ("payload_too_large", "request body is too large"),
            415 => ("unsupported_media_type", "Content-Type must be application/json"),
            _ => ("http_" + ctx.Response.StatusCode, "request failed"),
        };
        await ApiJson.WriteAsync(ctx, ctx.Response.StatusCode, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteString("code", code);
            w.WriteEndObject();
        });
    }
}
