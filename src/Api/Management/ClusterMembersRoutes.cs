using Akka.Actor;
using Akka.Cluster;
using Ceen;
using Varpulis.Contracts.Management;

namespace Varpulis.Api.Management;

/// <summary>
/// <c>/cluster/members</c> as in the JVM's Akka Management Cluster HTTP: <c>GET</c> the cluster, <c>POST address=…</c> to
/// make this node join the cluster at that address. Mutations only when the provider is not read-only.
/// </summary>
internal sealed class ClusterMembersRoute(bool readOnly) : ManagementRoute
{
    public const string Pattern = "[^/cluster/members/?$]";

    protected override async Task<bool> HandleAsync(ActorSystem system, IHttpContext http)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        switch (http.Request.Method)
        {
            case "GET":
                return await WriteAsync(http, 200, ClusterMembership.Snapshot(cluster), ClusterHttpJsonContext.Default.ClusterMembers);
            case "POST" when !readOnly:
                var text = Field(http, "address");
                if (text is null)
                    return await ErrorAsync(http, 400, "invalid_request", "missing form field 'address': the address of a member of the cluster to join, e.g. akka.tcp://varpulis@10.0.0.1:4053");
                if (!ActorPath.TryParseAddress(text, out var address))
                    return await ErrorAsync(http, 400, "invalid_request", $"'{text}' is not an Akka address: expected protocol://system@host:port, e.g. akka.tcp://varpulis@10.0.0.1:4053");
                cluster.Join(address);
                return await WriteAsync(http, 200, new ManagementMessage($"Joining {address}"), ClusterHttpJsonContext.Default.ManagementMessage);
            default:
                return await MethodNotAllowedAsync(http);
        }
    }
}

/// <summary>
/// <c>/cluster/members/{address}</c>: <c>GET</c> the member, <c>DELETE</c> to make it leave, <c>PUT operation=Leave|Down</c>
/// (the JVM's verbs). The address may be URL-encoded.
/// </summary>
internal sealed class ClusterMemberRoute(bool readOnly) : ManagementRoute
{
    public const string Pattern = "[^/cluster/members/.+$]";
    private const string Prefix = "/cluster/members/";

    protected override async Task<bool> HandleAsync(ActorSystem system, IHttpContext http)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var text = Uri.UnescapeDataString(http.Request.Path[Prefix.Length..]);
        var method = http.Request.Method;
        if (readOnly && method != "GET") return await MethodNotAllowedAsync(http);
        var member = ClusterMembership.Find(cluster, text);
        if (member is null) return await ErrorAsync(http, 404, "member_not_found", $"Member [{text}] not found");
        var address = member.UniqueAddress.Address;
        switch (method)
        {
            case "GET":
                return await WriteAsync(http, 200, ClusterMembership.ToContract(member), ClusterHttpJsonContext.Default.ClusterMember);
            case "DELETE":
                cluster.Leave(address);
                return await MessageAsync(http, $"Leaving {address}");
            case "PUT":
                var operation = Field(http, "operation");
                if (string.Equals(operation, "Leave", StringComparison.OrdinalIgnoreCase))
                {
                    cluster.Leave(address);
                    return await MessageAsync(http, $"Leaving {address}");
                }
                if (string.Equals(operation, "Down", StringComparison.OrdinalIgnoreCase))
                {
                    cluster.Down(address);
                    return await MessageAsync(http, $"Downing {address}");
                }
                return await ErrorAsync(http, 400, "invalid_request", operation is null
                    ? "missing form field 'operation': Leave or Down"
                    : $"operation '{operation}' is not supported: use Leave or Down");
            default:
                return await MethodNotAllowedAsync(http);
        }
    }

    private static Task<bool> MessageAsync(IHttpContext http, string message)
        => WriteAsync(http, 200, new ManagementMessage(message), ClusterHttpJsonContext.Default.ManagementMessage);
}
