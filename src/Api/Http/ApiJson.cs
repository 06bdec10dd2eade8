using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Varpulis.Api.Errors;
using Varpulis.Vpl.Json;

namespace Varpulis.Api.Http;

/// <summary>Reading request bodies (type, size and JSON checks) and writing JSON responses.</summary>
public static class ApiJson
{
    public const string ContentType = "application/json; charset=utf-8";

    /// <summary>The default body limit: 1 MiB.</summary>
    public const int DefaultBodyLimit = 1 << 20;

    /// <summary>The limit of <c>events-batch</c>, <c>restore</c> and <c>pipeline-groups</c>: 16 MiB.</summary>
    public const int LargeBodyLimit = 16 << 20;

    /// <summary>Writes a JSON response built by <paramref name="write"/>.</summary>
    public static async Task WriteAsync(HttpContext ctx, int status, Action<Utf8JsonWriter> write)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = ContentType;
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, VplJson.WriterOptions)) write(writer);
        ctx.Response.ContentLength = buffer.WrittenCount;
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted);
    }

    /// <summary>Writes an object through the project's serializer options (snake_case).</summary>
    public static Task WriteObjectAsync(HttpContext ctx, int status, object value)
        => WriteAsync(ctx, status, w => JsonSerializer.Serialize(w, value, value.GetType(), VplJson.SerializerOptions));

    /// <summary>
    /// Reads a JSON request body: 415 unless the Content-Type is JSON, 413 past <paramref name="limit"/> bytes,
    /// 400 when empty. The bytes are returned unparsed.
    /// </summary>
    public static async Task<byte[]> ReadBodyAsync(HttpContext ctx, int limit)
    {
        var contentType = ctx.Request.ContentType;
        if (!IsJson(contentType))
        {
            throw new ApiException(415, "unsupported_media_type",
                contentType is null ? "missing Content-Type: send application/json" : $"Content-Type '{contentType}' is not supported: send application/json");
        }
        if (ctx.Request.ContentLength is long declared && declared > limit) throw TooLarge(limit);
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(ctx.Request.ContentLength ?? 4096, limit) + 1);
        var body = ctx.Request.Body;
        while (true)
        {
            var mem = buffer.GetMemory(8192);
            int n = await body.ReadAsync(mem, ctx.RequestAborted);
            if (n == 0) break;
            buffer.Advance(n);
            if (buffer.WrittenCount > limit) throw TooLarge(limit);
        }
        if (buffer.WrittenCount == 0) throw ApiException.BadRequest("request body is empty: send a JSON object");
        // Bytes that are not text never go further (to an endpoint, an actor or the engine): 400 naming the offset.
        if (JsonText.FindEncodingProblem(buffer.WrittenSpan, "request body") is { } problem) throw ApiException.BadRequest(problem);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a body into a document; bad JSON is a 400 that says where (1-based line and column) and what.</summary>
    public static JsonDocument Parse(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body, VplJson.DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw ApiException.BadRequest("invalid JSON: " + JsonText.Describe(ex, body));
        }
    }

    /// <summary>A body that must be an object with known fields only.</summary>
    public static JsonElement RequireObject(JsonDocument doc, params string[] allowed)
    {
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest("the request body must be a JSON object");
        foreach (var p in root.EnumerateObject())
        {
            if (Array.IndexOf(allowed, p.Name) < 0)
                throw ApiException.BadRequest($"unknown field '{Truncate(p.Name)}'; expected {string.Join(", ", allowed.Select(a => "'" + a + "'"))}");
        }
        return root;
    }

    public static string RequireString(JsonElement obj, string field, int maxLength)
    {
        if (!obj.TryGetProperty(field, out var el) || el.ValueKind == JsonValueKind.Null) throw ApiException.BadRequest($"missing required field '{field}'");
        if (el.ValueKind != JsonValueKind.String) throw ApiException.BadRequest($"field '{field}' must be a string");
        var s = el.GetString()!;
        if (s.Length > maxLength) throw ApiException.BadRequest($"field '{field}' is longer than {maxLength} characters");
        return s;
    }

    public static string? OptionalString(JsonElement obj, string field, int maxLength)
    {
        if (!obj.TryGetProperty(field, out var el) || el.ValueKind == JsonValueKind.Null) return null;
        if (el.ValueKind != JsonValueKind.String) throw ApiException.BadRequest($"field '{field}' must be a string");
        var s = el.GetString()!;
        if (s.Length > maxLength) throw ApiException.BadRequest($"field '{field}' is longer than {maxLength} characters");
        return s;
    }

    private static bool IsJson(string? contentType)
    {
        if (contentType is null) return false;
        var media = contentType.Split(';', 2)[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (media.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private static ApiException TooLarge(int limit)
        => new(413, "payload_too_large", $"request body is larger than {limit / (1 << 20)} MiB");

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "...";
}
