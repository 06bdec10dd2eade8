using System.CommandLine;
using System.Globalization;
using Varpulis.Actors.Configuration;
using Varpulis.Host.Configuration;

namespace Varpulis.Host.Cli;

/// <summary>
/// The coordinator's flags for high availability (runbook §1.3: <c>--raft --raft-node-id N --raft-peers URLS
/// --raft-data-dir DIR</c>), scaling recommendations (§1.4: <c>--scaling-*</c>) and role-based keys
/// (<c>--api-keys FILE</c>).
/// </summary>
internal sealed class HaScalingOptions
{
    private readonly Option<bool> _raft = new("--raft") { Description = "High availability: this coordinator is one of --raft-peers; the cluster manager runs on one of them (the leader) and moves when it fails." };
    private readonly Option<int> _raftNodeId = new("--raft-node-id") { Description = "This coordinator's position in --raft-peers, from 1." };
    private readonly Option<string> _raftPeers = new("--raft-peers") { Description = "Every coordinator's URL, comma-separated, in the same order on each (http://coord-1:9100,http://coord-2:9100,...)." };
    private readonly Option<string> _raftDataDir = new("--raft-data-dir") { Description = "This coordinator's durable state (its state directory unless --state-dir is given)." };
    private readonly Option<int> _minWorkers = new("--scaling-min-workers") { Description = "Emit scaling recommendations; fewer healthy workers than this recommends scale_up." };
    private readonly Option<int> _maxWorkers = new("--scaling-max-workers") { Description = "Never recommend more workers than this (default 10)." };
    private readonly Option<double> _upThreshold = new("--scaling-up-threshold") { Description = "Pipelines per worker above which to scale up (default 5.0)." };
    private readonly Option<double> _downThreshold = new("--scaling-down-threshold") { Description = "Pipelines per worker below which to scale down (default 1.0)." };
    private readonly Option<string> _webhook = new("--scaling-webhook-url") { Description = "POST every scale_up/scale_down recommendation here (at most once per 60 s)." };
    private readonly Option<double> _webhookInterval = new("--scaling-webhook-interval") { Description = "Seconds between webhook calls at most (default 60).", Hidden = true };
    private readonly Option<double> _evaluateInterval = new("--scaling-interval") { Description = "Seconds between evaluations of the scaling rules (default 5).", Hidden = true };
    private readonly Option<string> _apiKeys = new("--api-keys") { Description = "JSON file of role keys: {\"keys\": [{\"key\", \"role\": \"viewer|operator|admin\", \"name\"}]}." };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { _raft, _raftNodeId, _raftPeers, _raftDataDir, _minWorkers, _maxWorkers, _upThreshold, _downThreshold, _webhook, _webhookInterval, _evaluateInterval, _apiKeys })
            cmd.Options.Add(o);
    }

    /// <summary>Applies the flags given, then checks them as a whole.</summary>
    public void Apply(ParseResult parse, VarpulisSettings settings, bool stateDirGiven)
    {
        var c = settings.Coordinator;
        if (NodeOptions.Given(parse, _raft)) c.Raft.Enabled = parse.GetValue(_raft);
        if (NodeOptions.Given(parse, _raftNodeId)) c.Raft.NodeId = parse.GetValue(_raftNodeId);
        if (NodeOptions.Given(parse, _raftPeers)) c.Raft.Peers = ParsePeers(parse.GetValue(_raftPeers)!);
        if (NodeOptions.Given(parse, _raftDataDir)) c.Raft.DataDir = NodeOptions.NullIfEmpty(parse.GetValue(_raftDataDir));
        if (NodeOptions.Given(parse, _minWorkers)) c.Scaling.MinWorkers = parse.GetValue(_minWorkers);
        if (NodeOptions.Given(parse, _maxWorkers)) c.Scaling.MaxWorkers = parse.GetValue(_maxWorkers);
        if (NodeOptions.Given(parse, _upThreshold)) c.Scaling.UpThreshold = parse.GetValue(_upThreshold);
        if (NodeOptions.Given(parse, _downThreshold)) c.Scaling.DownThreshold = parse.GetValue(_downThreshold);
        if (NodeOptions.Given(parse, _webhook)) c.Scaling.WebhookUrl = NodeOptions.NullIfEmpty(parse.GetValue(_webhook));
        if (NodeOptions.Given(parse, _webhookInterval)) c.Scaling.WebhookIntervalSecs = NodeOptions.CheckSeconds(parse.GetValue(_webhookInterval), "--scaling-webhook-interval");
        if (NodeOptions.Given(parse, _evaluateInterval)) c.Scaling.EvaluateIntervalSecs = NodeOptions.CheckSeconds(parse.GetValue(_evaluateInterval), "--scaling-interval");
        if (NodeOptions.Given(parse, _apiKeys)) c.ApiKeysFile = NodeOptions.NullIfEmpty(parse.GetValue(_apiKeys));
        Validate(settings, stateDirGiven);
    }

    internal static IReadOnlyList<string> ParsePeers(string text)
        => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => p.TrimEnd('/')).ToList();

    /// <summary>The raft flags together (node id within the peers, URLs, data dir as the state directory) and the scaling bounds.</summary>
    internal static void Validate(VarpulisSettings settings, bool stateDirGiven)
    {
        var r = settings.Coordinator.Raft;
        if (r.Enabled)
        {
            if (r.Peers.Count == 0) throw new ConfigurationException("--raft needs --raft-peers: every coordinator's URL, comma-separated (http://coord-1:9100,http://coord-2:9100,http://coord-3:9100)");
            foreach (var p in r.Peers)
            {
                if (!Uri.TryCreate(p, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(u.Host))
                    throw new ConfigurationException($"invalid --raft-peers entry '{p}': expected http://host:port");
            }
            if (r.Peers.Distinct(StringComparer.OrdinalIgnoreCase).Count() != r.Peers.Count) throw new ConfigurationException("--raft-peers lists a coordinator twice");
            if (r.NodeId < 1 || r.NodeId > r.Peers.Count)
                throw new ConfigurationException($"--raft-node-id must be this coordinator's position in --raft-peers, from 1 to {r.Peers.Count.ToString(CultureInfo.InvariantCulture)}");
            if (r.DataDir is not null && !stateDirGiven) settings.Server.StateDir = r.DataDir;
        }
        else if (r.Peers.Count > 0 || r.NodeId != 0 || r.DataDir is not null)
        {
            throw new ConfigurationException("--raft-node-id, --raft-peers and --raft-data-dir need --raft");
        }
        var s = settings.Coordinator.Scaling;
        if (s.MinWorkers is < 0) throw new ConfigurationException("--scaling-min-workers must be 0 or more");
        if (s.MaxWorkers < 1) throw new ConfigurationException("--scaling-max-workers must be 1 or more");
        if (s.MinWorkers is { } min && min > s.MaxWorkers)
            throw new ConfigurationException($"--scaling-min-workers ({min.ToString(CultureInfo.InvariantCulture)}) is above --scaling-max-workers ({s.MaxWorkers.ToString(CultureInfo.InvariantCulture)})");
        if (!(s.UpThreshold > 0)) throw new ConfigurationException("--scaling-up-threshold must be above 0");
        if (s.DownThreshold < 0 || s.DownThreshold >= s.UpThreshold)
            throw new ConfigurationException("--scaling-down-threshold must be 0 or more and below --scaling-up-threshold");
        if (s.WebhookUrl is not null && !(Uri.TryCreate(s.WebhookUrl, UriKind.Absolute, out var w) && (w.Scheme == Uri.UriSchemeHttp || w.Scheme == Uri.UriSchemeHttps)))
            throw new ConfigurationException($"invalid --scaling-webhook-url '{s.WebhookUrl}': expected http://host/path or https://host/path");
        if (settings.Coordinator.ApiKeysFile is { } file)
        {
            if (!File.Exists(file)) throw new ConfigurationException($"--api-keys file '{file}' does not exist");
            settings.Coordinator.RoleKeys = RoleKeysFile.Read(file);
        }
    }
}
