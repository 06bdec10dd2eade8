using System.Text.Json.Serialization;

namespace Varpulis.Contracts.Management;

// The bodies of the cluster routes on the management port, in the JSON shape of the JVM's Akka Management Cluster HTTP
// (akka-management's ClusterHttpManagementProtocol): camelCase names, so tools written for it read ours as they are.

/// <summary><c>GET /cluster/members</c>: the cluster as this node sees it.</summary>
public sealed record ClusterMembers(
    string SelfNode,
    IReadOnlyList<ClusterMember> Members,
    IReadOnlyList<ClusterUnreachableMember> Unreachable,
    string? Leader,
    string? Oldest,
    IReadOnlyDictionary<string, string> OldestPerRole);

/// <summary>One member: its address, its incarnation's uid (a string, as on the JVM), its status and roles.</summary>
public sealed record ClusterMember(string Node, string NodeUid, string Status, IReadOnlyList<string> Roles);

/// <summary>A member some others cannot reach, and which members observed it unreachable.</summary>
public sealed record ClusterUnreachableMember(string Node, IReadOnlyList<string> ObservedBy);

/// <summary>The reply of a membership operation (<c>Joining ...</c>, <c>Leaving ...</c>, <c>Downing ...</c>).</summary>
public sealed record ManagementMessage(string Message);

/// <summary><c>GET /cluster/shards</c>: the shard regions (entity types) started on this node.</summary>
public sealed record ShardEntityTypeKeys(IReadOnlyList<string> EntityTypeKeys);

/// <summary>One shard hosted by a region and how many entities it holds.</summary>
public sealed record ShardRegionInfo(string ShardId, int NumEntities);

/// <summary><c>GET /cluster/shards/{region}</c>: the shards this node's region hosts; <c>failed</c> lists shards that did not answer.</summary>
public sealed record ShardDetails(IReadOnlyList<ShardRegionInfo> Regions, IReadOnlyList<string> Failed);

/// <summary>The shards one node hosts, within <see cref="ClusterShardingStatsResponse"/>.</summary>
public sealed record ClusterShardingNodeStats(IReadOnlyList<ShardRegionInfo> Shards, IReadOnlyList<string> Failed);

/// <summary><c>GET /cluster/shards/{region}/stats</c>: the region across the cluster, per node address.</summary>
public sealed record ClusterShardingStatsResponse(
    IReadOnlyDictionary<string, ClusterShardingNodeStats> Regions,
    int TotalEntities,
    int TotalShards);

/// <summary>
/// The source-generated serializer context of the cluster routes: camelCase (the JVM's wire names), nulls left out
/// (the JVM leaves out an absent <c>leader</c> or <c>oldest</c>). Errors on these routes are <see cref="ErrorBody"/>.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClusterMembers))]
[JsonSerializable(typeof(ClusterMember))]
[JsonSerializable(typeof(ManagementMessage))]
[JsonSerializable(typeof(ShardEntityTypeKeys))]
[JsonSerializable(typeof(ShardDetails))]
[JsonSerializable(typeof(ClusterShardingStatsResponse))]
public sealed partial class ClusterHttpJsonContext : JsonSerializerContext
{
}
