using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Varpulis.Actors.Directory;

namespace Varpulis.Api.Security;

/// <summary>An authenticated caller: its tenant, the tenant's quota, and whether it holds the admin key.</summary>
public sealed record Caller(string TenantId, string TenantName, QuotaTier Quota, bool IsAdmin);

/// <summary>
/// The node's view of tenants for authentication: API keys are known only by their SHA-256, looked up by hash and
/// confirmed with a constant-time comparison. The tenant <c>default</c> (enterprise quota) is implicit and belongs
/// to the node's own key. Follows the cluster-wide tenant replica (Distributed Data), which the directory writes to
/// every node before it answers a tenant change.
/// </summary>
public sealed class TenantRegistry
{
    public const string DefaultTenantId = "default";

    private readonly byte[]? _adminKeyHash;
    private readonly ConcurrentDictionary<string, TenantInfo> _byHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TenantInfo> _byId = new(StringComparer.Ordinal);

    private readonly bool _keyRequired;

    /// <param name="adminKey">The node's admin key (null: none).</param>
    /// <param name="keyRequired">Authentication is on even without an admin key (a coordinator with role keys only).</param>
    public TenantRegistry(string? adminKey, bool keyRequired = false)
    {
        _adminKeyHash = string.IsNullOrEmpty(adminKey) ? null : Hash(adminKey);
        _keyRequired = keyRequired;
    }

    /// <summary>False when the server runs without any key (loopback only): every caller is the default tenant's admin.</summary>
    public bool AuthEnabled => _adminKeyHash is not null || _keyRequired;

    public static readonly Caller DefaultAdmin = new(DefaultTenantId, DefaultTenantId, QuotaTier.Enterprise, IsAdmin: true);

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string HashHex(string key) => Convert.ToHexString(Hash(key)).ToLowerInvariant();

    /// <summary>Resolves a presented key; null when it matches nothing.</summary>
    public Caller? Authenticate(string? key)
    {
        if (string.IsNullOrEmpty(key)) return AuthEnabled ? null : DefaultAdmin;
        var hash = Hash(key);
        if (_adminKeyHash is not null && CryptographicOperations.FixedTimeEquals(hash, _adminKeyHash)) return DefaultAdmin;
        var hex = Convert.ToHexString(hash).ToLowerInvariant();
        if (_byHash.TryGetValue(hex, out var t)
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hex), Encoding.ASCII.GetBytes(t.KeyHash)))
        {
            return new Caller(t.Id, t.Name, QuotaTier.Find(t.Tier) ?? QuotaTier.Default, IsAdmin: false);
        }
        return AuthEnabled ? null : DefaultAdmin;
    }

    /// <summary>True when the key is the server (admin) key, or no key is configured.</summary>
    public bool IsAdminKey(string? key)
    {
        if (!AuthEnabled) return true;
        return !string.IsNullOrEmpty(key) && _adminKeyHash is not null && CryptographicOperations.FixedTimeEquals(Hash(key), _adminKeyHash);
    }

    public void Load(IEnumerable<TenantInfo> tenants)
    {
        foreach (var t in tenants) Add(t);
    }

    /// <summary>Makes the registry exactly <paramref name="tenants"/> (a new state of the replica).</summary>
    public void Replace(IReadOnlyList<TenantInfo> tenants)
    {
        var ids = tenants.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in _byId.Keys.Where(id => !ids.Contains(id)).ToList()) Remove(id);
        foreach (var t in tenants) Add(t);
    }

    public void Add(TenantInfo t)
    {
        _byId[t.Id] = t;
        _byHash[t.KeyHash] = t;
    }

    public void Remove(string tenantId)
    {
        if (_byId.TryRemove(tenantId, out var t)) _byHash.TryRemove(t.KeyHash, out _);
    }

    public TenantInfo? Find(string tenantId) => _byId.TryGetValue(tenantId, out var t) ? t : null;

    public QuotaTier QuotaOf(string tenantId)
        => tenantId == DefaultTenantId ? QuotaTier.Enterprise : QuotaTier.Find(Find(tenantId)?.Tier ?? "") ?? QuotaTier.Default;
}
