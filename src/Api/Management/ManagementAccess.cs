using System.Net;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor.Setup;

namespace Varpulis.Api.Management;

/// <summary>
/// Who may call the management routes: the holder of the node's admin key (<c>x-api-key</c>, compared in constant time,
/// as on the REST API) or, on a node started without a key, any caller on loopback. Handed to the route provider as an
/// actor-system <see cref="Setup"/>, since Akka.Management instantiates providers itself.
/// </summary>
public sealed class ManagementAccess : Setup
{
    private readonly byte[]? _keyHash;

    public ManagementAccess(string? apiKey)
    {
        _keyHash = string.IsNullOrEmpty(apiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));
    }

    /// <summary>Null when the caller may proceed; otherwise the message of its 401.</summary>
    public string? Refusal(string? presentedKey, EndPoint? remote)
    {
        if (_keyHash is null)
        {
            return remote is IPEndPoint ip && IPAddress.IsLoopback(ip.Address)
                ? null
                : "this node runs without an API key, so its management routes answer only on loopback";
        }
        if (string.IsNullOrEmpty(presentedKey)) return "missing API key: send it in the x-api-key header";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        return CryptographicOperations.FixedTimeEquals(hash, _keyHash) ? null : "invalid API key";
    }
}
