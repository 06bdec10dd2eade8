using Varpulis.Actors.Configuration;
using Varpulis.Host.Configuration;

namespace Varpulis.Host.Tests.Server;

/// <summary>
/// The coordinator's HA, scaling, placement and role-key settings outside the command line: each has a config-file
/// key (<c>coordinator.*</c>, <c>cluster.placement</c>) and a <c>VARPULIS_*</c> variable; the variable beats the file,
/// a bad value names the key, and <c>config-gen</c> writes every one of them.
/// </summary>
public sealed class CoordinatorSettingsTests
{
    public static IEnumerable<object[]> Keys() =>
    [
        ["coordinator", "raft", "VARPULIS_RAFT", "true", "false", "maybe", "true or false"],
        ["coordinator", "raft_node_id", "VARPULIS_RAFT_NODE_ID", "2", "3", "0", "a positive integer"],
        ["coordinator", "raft_peers", "VARPULIS_RAFT_PEERS", "http://c1:9100,http://c2:9100/", "http://c3:9100", null!, null!],
        ["coordinator", "raft_data_dir", "VARPULIS_RAFT_DATA_DIR", "/var/lib/varpulis/raft", "/data/raft", null!, null!],
        ["coordinator", "scaling_min_workers", "VARPULIS_SCALING_MIN_WORKERS", "2", "4", "-1", "a non-negative integer"],
        ["coordinator", "scaling_max_workers", "VARPULIS_SCALING_MAX_WORKERS", "8", "12", "0", "a positive integer"],
        ["coordinator", "scaling_up_threshold", "VARPULIS_SCALING_UP_THRESHOLD", "4.5", "6", "lots", "a non-negative number"],
        ["coordinator", "scaling_down_threshold", "VARPULIS_SCALING_DOWN_THRESHOLD", "0.5", "2", "-1", "a non-negative number"],
        ["coordinator", "scaling_webhook_url", "VARPULIS_SCALING_WEBHOOK_URL", "http://hooks:8080/scale", "https://other/scale", null!, null!],
        ["coordinator", "api_keys_file", "VARPULIS_API_KEYS_FILE", "/etc/varpulis/keys.json", "/run/keys.json", null!, null!],
        ["cluster", "placement", "VARPULIS_PLACEMENT", "round-robin", "least-loaded", "random", "least-loaded or round-robin"],
    ];

    [Theory]
    [MemberData(nameof(Keys))]
    public void TheFileSetsItTheEnvironmentBeatsTheFileAndABadValueNamesTheKey(string section, string key, string env, string fileValue, string envValue, string? bad, string? expected)
    {
        var dir = ServerProcess.TempDir();
        var yaml = Path.Combine(dir, "c.yaml");
        bool quoted = key is "raft_peers" or "raft_data_dir" or "scaling_webhook_url" or "api_keys_file" or "placement";
        File.WriteAllText(yaml, $"{section}:\n  {key}: {(quoted ? "\"" + fileValue + "\"" : fileValue)}\n");
        var setting = SettingKey.Find(section, key)!;
        Assert.Equal(env, setting.EnvVar);

        var fromFile = SettingsLoader.Load(yaml, _ => null);
        var fromEnv = SettingsLoader.Load(yaml, k => k == env ? envValue : null);
        Assert.Equal(Expected(key, fileValue), Format(setting.Get(fromFile)));
        Assert.Equal(Expected(key, envValue), Format(setting.Get(fromEnv)));

        if (bad is not null)
        {
            var ex = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(null, k => k == env ? bad : null));
            Assert.Equal($"{env}: invalid value '{bad}' for {section}.{key}: expected {expected}", ex.Message);
        }
        Assert.Contains($"\n  {(setting.Optional ? "# " : "")}{key}: ", ConfigTemplate.Render("yaml"));
        Assert.Contains($" Environment: {env}.", ConfigTemplate.Render("yaml"));
    }

    [Fact]
    public void TheRaftSettingsFromTheFileAreCheckedAsTheFlagsAre()
    {
        var s = new VarpulisSettings();
        s.Coordinator.Raft.Enabled = true;
        s.Coordinator.Raft.Peers = ["http://c1:9100", "http://c2:9100", "http://c3:9100"];
        s.Coordinator.Raft.NodeId = 4;
        var ex = Assert.Throws<ConfigurationException>(() => Varpulis.Host.Cli.HaScalingOptions.Validate(s, stateDirGiven: false));
        Assert.Equal("--raft-node-id must be this coordinator's position in --raft-peers, from 1 to 3", ex.Message);
        s.Coordinator.Raft.NodeId = 2;
        s.Coordinator.Raft.DataDir = "/data/raft-2";
        Varpulis.Host.Cli.HaScalingOptions.Validate(s, stateDirGiven: false);
        Assert.Equal("/data/raft-2", s.Server.StateDir);
    }

    /// <summary>The peers are trimmed of a trailing slash; numbers print invariantly.</summary>
    private static string Expected(string key, string value) => key == "raft_peers" ? value.Replace("/,", ",").TrimEnd('/') : value;

    private static string Format(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        double d => d.ToString(System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "",
    };
}
