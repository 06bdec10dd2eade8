using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Varpulis.Actors.Configuration;
using Varpulis.Api.Errors;

namespace Varpulis.Api.Security;

/// <summary>
/// The coordinator's role keys (<c>--api-keys FILE</c>, beside <c>--api-key</c>, which is an admin key). Keys are held
/// as SHA-256 hashes and every presented key is compared with each of them in constant time (no early exit), so the
/// time taken says nothing of which key, or how much of one, matched. Keys are never logged: a match is known by the
/// key's name.
/// </summary>
public sealed class ApiKeyRoles
{
    private readonly (byte[] Hash, ApiRole Role, string Name)[] _keys;

    public ApiKeyRoles(IEnumerable<RoleKey> keys)
    {
        _keys = keys.Select(k => (TenantRegistry.Hash(k.Key), k.Role, k.Name)).ToArray();
    }

    public bool Any => _keys.Length > 0;

    /// <summary>The role and name of <paramref name="key"/>, or null when it is none of the role keys.</summary>
    public (ApiRole Role, string Name)? Find(string? key)
    {
        if (string.IsNullOrEmpty(key) || _keys.Length == 0) return null;
        var hash = TenantRegistry.Hash(key);
        (ApiRole, string)? found = null;
        foreach (var k in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, k.Hash)) found = (k.Role, k.Name);
        }
        return found;
    }
}

/// <summary>
/// Which role a coordinator request needs, decided by its HTTP method and path alone, so it holds for every route,
/// including routes added later (rest-api.md Authentication): reads (GET, HEAD) need <c>viewer</c>, and so does
/// <c>POST /api/v1/cluster/validate</c> and <c>POST /api/v1/validate</c> (they change nothing); <c>DELETE</c> of a
/// worker or a pipeline group, and tenant administration, need <c>admin</c>; every other mutation needs
/// <c>operator</c>. A caller whose role is too weak gets 403 <c>forbidden</c>.
/// </summary>
public static class RolePolicy
{
    private const string RoleKey = "varpulis.role";

    public static ApiRole Required(string method, PathString path)
    {
        var p = path.Value ?? "";
        if (p.StartsWith("/api/v1/tenants", StringComparison.Ordinal)) return ApiRole.Admin;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return ApiRole.Viewer;
        if (HttpMethods.IsPost(method) && (p is "/api/v1/cluster/validate" or "/api/v1/validate")) return ApiRole.Viewer;
        if (HttpMethods.IsDelete(method)
            && (p.StartsWith("/api/v1/cluster/workers/", StringComparison.Ordinal) || p.StartsWith("/api/v1/cluster/pipeline-groups/", StringComparison.Ordinal)))
            return ApiRole.Admin;
        return ApiRole.Operator;
    }

    /// <summary>The caller's coordinator role (null: a tenant's key, which reaches only the tenant's own pipeline routes).</summary>
    public static ApiRole? RoleOf(HttpContext ctx) => ctx.Items.TryGetValue(RoleKey, out var r) ? (ApiRole?)r : null;

    internal static void SetRole(HttpContext ctx, ApiRole role) => ctx.Items[RoleKey] = role;

    /// <summary>403 <c>forbidden</c> when a role key is too weak for the request.</summary>
    internal static void Enforce(HttpContext ctx)
    {
        if (RoleOf(ctx) is not { } role) return;
        var needed = Required(ctx.Request.Method, ctx.Request.Path);
        if (role < needed)
        {
            throw new ApiException(403, "forbidden",
                $"{ctx.Request.Method} {ctx.Request.Path} needs the {Name(needed)} role; this key has the {Name(role)} role");
        }
    }

    public static string Name(ApiRole role) => role switch
    {
        ApiRole.Viewer => "viewer",
        ApiRole.Operator => "operator",
        _ => "admin",
    };
}
