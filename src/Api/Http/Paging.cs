using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Varpulis.Api.Errors;

namespace Varpulis.Api.Http;

/// <summary>List pagination: <c>?limit=</c> (default 50, at most 1000) and <c>?offset=</c>.</summary>
public readonly record struct Paging(int Limit, int Offset)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    public static Paging From(HttpRequest request)
    {
        int limit = DefaultLimit;
        if (request.Query.TryGetValue("limit", out var l))
        {
            if (!int.TryParse(l.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1)
                throw new ApiException(400, "invalid_limit", $"limit must be an integer from 1 to {MaxLimit}");
            if (limit > MaxLimit) throw new ApiException(400, "invalid_limit", $"limit {limit} is larger than the maximum {MaxLimit}");
        }
        int offset = 0;
        if (request.Query.TryGetValue("offset", out var o)
            && !int.TryParse(o.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            throw ApiException.BadRequest("offset must be a non-negative integer");
        }
        return new Paging(limit, offset);
    }

    /// <summary>Writes <c>"total"</c> and <c>"pagination"</c>.</summary>
    public void Write(Utf8JsonWriter w, int total, int returned)
    {
        w.WriteNumber("total", total);
        w.WritePropertyName("pagination");
        w.WriteStartObject();
        w.WriteNumber("total", total);
        w.WriteNumber("limit", Limit);
        w.WriteNumber("offset", Offset);
        w.WriteBoolean("has_more", Offset + returned < total);
        w.WriteEndObject();
    }
}
