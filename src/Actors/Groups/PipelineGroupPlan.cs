using System.Text.Json;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Pipelines.Routes;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Groups;

/// <summary>
/// The decisions about a pipeline group, without actor machinery: validation of a definition (every source compiled
/// before anything is deployed), the pipelines it deploys (one per replica), the routes each sending pipeline keeps,
/// the worker affinities, where an injected event goes, and how a group reads (<see cref="Describe"/>).
/// </summary>
public static class PipelineGroupPlan
{
    public const int MaxReplicas = 64;
    public const int MaxNameLength = 256;

    /// <summary>A definition the manager must not deploy: <paramref name="Code"/> is <c>invalid_request</c> or <c>parse_error</c> (with the pipeline's diagnostics).</summary>
    public sealed record Invalid(string Code, string Message, IReadOnlyList<DiagnosticInfo>? Diagnostics = null);

    /// <summary>The first thing wrong with a group definition, or null. Compiles every source.</summary>
    public static Invalid? Validate(string name, IReadOnlyList<GroupPipelineSpec> pipelines, IReadOnlyList<GroupRouteSpec> routes)
    {
        if (name.Trim().Length == 0) return new Invalid("invalid_request", "field 'name' must not be empty");
        if (pipelines.Count == 0) return new Invalid("invalid_request", "field 'pipelines' must list at least one pipeline");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in pipelines)
        {
            if (p.Name.Trim().Length == 0) return new Invalid("invalid_request", "a pipeline's 'name' must not be empty");
            if (p.Name == PipelineGroup.External) return new Invalid("invalid_request", $"'{PipelineGroup.External}' is reserved for routes of injected events; it cannot name a pipeline");
            if (!names.Add(p.Name)) return new Invalid("invalid_request", $"pipeline name '{p.Name}' is used twice in the group");
            if (p.Replicas is < 1 or > MaxReplicas) return new Invalid("invalid_request", $"pipeline '{p.Name}': replicas must be from 1 to {MaxReplicas}");
            if (p.Replicas > 1 && p.PartitionKey is null)
                return new Invalid("invalid_request", $"pipeline '{p.Name}': replicas > 1 needs a partition_key (the field whose value picks the replica)");
            if (p.PartitionKey is not null && p.PartitionKey.Trim().Length == 0) return new Invalid("invalid_request", $"pipeline '{p.Name}': partition_key must not be empty");
            if (p.WorkerAffinity is not null && p.WorkerAffinity.Trim().Length == 0) return new Invalid("invalid_request", $"pipeline '{p.Name}': worker_affinity must not be empty");
        }
        foreach (var r in routes)
        {
            if (r.FromPipeline != PipelineGroup.External && !names.Contains(r.FromPipeline))
                return new Invalid("invalid_request", $"route from '{r.FromPipeline}': no pipeline of the group has that name (or use '{PipelineGroup.External}')");
            if (!names.Contains(r.ToPipeline)) return new Invalid("invalid_request", $"route to '{r.ToPipeline}': no pipeline of the group has that name");
            if (r.FromPipeline == r.ToPipeline) return new Invalid("invalid_request", $"route from '{r.FromPipeline}' to itself: a pipeline cannot feed its own input");
            if (r.EventTypes.Count == 0) return new Invalid("invalid_request", $"route from '{r.FromPipeline}' to '{r.ToPipeline}': event_types must list at least one pattern");
            foreach (var t in r.EventTypes)
            {
                int star = t.IndexOf('*');
                if (t.Length == 0 || (star >= 0 && star != t.Length - 1))
                    return new Invalid("invalid_request", $"route from '{r.FromPipeline}' to '{r.ToPipeline}': event type pattern '{t}' must be an event type, 'Prefix*' or '*'");
            }
        }
        foreach (var p in pipelines)
        {
            if (PipelineCompiler.CompileDeployable(p.Source, out var diagnostics) is null)
                return new Invalid("parse_error", $"pipeline '{p.Name}': {PipelineCompiler.Summary(diagnostics)}", diagnostics);
        }
        return null;
    }

    /// <summary>The pipelines to deploy: one per replica, with new ids.</summary>
    public static IReadOnlyList<GroupDeployment> Deployments(IReadOnlyList<GroupPipelineSpec> pipelines)
        => pipelines.SelectMany(p => Enumerable.Range(0, p.Replicas).Select(i => new GroupDeployment(p.Name, i, Guid.NewGuid().ToString()))).ToList();

    /// <summary>The directory name of a deployed pipeline: the group's pipeline name, with <c>#replica</c> when replicated.</summary>
    public static string DirectoryName(PipelineGroup g, GroupDeployment d)
        => g.Pipelines.First(p => p.Name == d.PipelineName).Replicas > 1 ? $"{d.PipelineName}#{d.Replica}" : d.PipelineName;

    /// <summary>
    /// The routes the pipeline <paramref name="from"/> keeps (each of its replicas the same): one per target pipeline,
    /// with the union of the patterns of every route between them, so that an event goes once to each target.
    /// </summary>
    public static IReadOnlyList<PipelineRoute> RoutesOf(PipelineGroup g, string from)
        => g.Routes.Where(r => r.FromPipeline == from)
            .GroupBy(r => r.ToPipeline, StringComparer.Ordinal)
            .Select(grp =>
            {
                var spec = g.Pipelines.First(p => p.Name == grp.Key);
                return new PipelineRoute(grp.Key, IdsOf(g, grp.Key), spec.Replicas > 1 ? spec.PartitionKey : null,
                    grp.SelectMany(r => r.EventTypes).Distinct(StringComparer.Ordinal).ToList());
            })
            .ToList();

    /// <summary>The ids of a group pipeline's replicas, in replica order.</summary>
    public static IReadOnlyList<string> IdsOf(PipelineGroup g, string pipelineName)
        => g.Deployments.Where(d => d.PipelineName == pipelineName).OrderBy(d => d.Replica).Select(d => d.PipelineId).ToList();

    /// <summary>pipeline id → worker id for every deployed pipeline with a worker affinity.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Affinities(PipelineGroup g)
    {
        foreach (var d in g.Deployments)
        {
            var spec = g.Pipelines.First(p => p.Name == d.PipelineName);
            if (spec.WorkerAffinity is not null) yield return new(d.PipelineId, spec.WorkerAffinity);
        }
    }

    /// <summary>
    /// Where an injected event goes: the first <c>_external</c> route whose pattern matches its type, and with replicas,
    /// the replica its partition key's value hashes to. Null when no route takes the type.
    /// </summary>
    public static GroupDeployment? Dispatch(PipelineGroup g, string eventType, JsonElement fields)
    {
        foreach (var r in g.Routes)
        {
            if (r.FromPipeline != PipelineGroup.External || !r.EventTypes.Any(p => RouteLedger.Matches(p, eventType))) continue;
            var spec = g.Pipelines.First(p => p.Name == r.ToPipeline);
            int replica = 0;
            if (spec.Replicas > 1 && spec.PartitionKey is not null)
            {
                string? key = fields.ValueKind == JsonValueKind.Object && fields.TryGetProperty(spec.PartitionKey, out var v) ? RouteLedger.KeyText(v) : null;
                replica = RouteLedger.ReplicaOf(key, spec.Replicas);
            }
            return g.Deployments.First(d => d.PipelineName == spec.Name && d.Replica == replica);
        }
        return null;
    }

    /// <summary>
    /// The group as the API shows it (GroupInfo), given where its pipelines run: each deployment <c>running</c> on the
    /// worker that hosts it, or <c>starting</c> (no worker: moving, recovering). The group is <c>deploying</c> (or
    /// <c>deleting</c>) until its deploy is answered; then <c>running</c> when every deployment runs,
    /// <c>partially_running</c> when some do, <c>failed</c> when none does. <paramref name="placed"/> must be a complete
    /// view (the cluster manager answers placements only once it has heard from every worker), so a deployment without
    /// a worker here is one that really runs nowhere now.
    /// </summary>
    public static GroupInfo Describe(PipelineGroup g, IReadOnlyDictionary<string, PipelinePlacementInfo> placed)
    {
        var deployments = g.Deployments.Select(d =>
        {
            var worker = placed.TryGetValue(d.PipelineId, out var p) ? p.WorkerId : null;
            return new GroupDeploymentInfo(d.PipelineName, worker, d.PipelineId, worker is null ? "starting" : "running", d.Replica);
        }).ToList();
        int running = deployments.Count(d => d.WorkerId is not null);
        string status = g.Phase != GroupPhase.Deployed ? g.Phase
            : running == deployments.Count ? GroupStatus.Running
            : running > 0 ? GroupStatus.PartiallyRunning
            : GroupStatus.Failed;
        return new GroupInfo(
            g.Id,
            g.Name,
            status,
            g.Pipelines.Count,
            deployments,
            g.Routes.Select(r => new GroupRouteInfo(r.FromPipeline, r.ToPipeline, r.EventTypes)).ToList(),
            g.Pipelines.ToDictionary(p => p.Name, p => p.Source, StringComparer.Ordinal),
            g.Pipelines.Select(p => new GroupPipelineInfo(p.Name, p.WorkerAffinity, p.Replicas, p.PartitionKey)).ToList(),
            g.CreatedAt);
    }
}
