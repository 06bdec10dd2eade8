namespace Varpulis.Deploy.Tests.Support;

/// <summary>The Debian programs the deployment tests run in place of the containers' images.</summary>
public static class DebianTools
{
    public const string Prometheus = "/usr/bin/prometheus";
    public const string Promtool = "/usr/bin/promtool";
    public const string Mosquitto = "/usr/sbin/mosquitto";
    public const string MosquittoPub = "/usr/bin/mosquitto_pub";
    public const string MosquittoSub = "/usr/bin/mosquitto_sub";

    public const string Curl = "/usr/bin/curl";
    public const string Jq = "/usr/bin/jq";

    /// <summary>What the compose cluster needs: PostgreSQL, mosquitto (and its clients), Prometheus; curl and jq for the runbook's commands.</summary>
    public static readonly string[] Compose = [Prometheus, Mosquitto, MosquittoPub, MosquittoSub, Curl, Jq];

    /// <summary>Why a test cannot run here (which package to install), or null.</summary>
    public static string? SkipReason(bool postgres, params string[] tools)
    {
        var missing = tools.Where(t => !File.Exists(t)).ToList();
        if (missing.Count > 0)
            return $"{string.Join(", ", missing)} not found: apt-get install prometheus mosquitto mosquitto-clients curl jq (as .ci/run does)";
        return postgres ? PostgresServer.SkipReason : null;
    }
}

/// <summary>A fact that runs Debian's programs; skipped, saying which package to install, only where they are missing.</summary>
public sealed class DebianFactAttribute : FactAttribute
{
    public DebianFactAttribute(bool postgres, params string[] tools)
    {
        if (DebianTools.SkipReason(postgres, tools) is { } reason) Skip = reason;
    }
}

/// <summary>A theory that runs Debian's programs (see <see cref="DebianFactAttribute"/>).</summary>
public sealed class DebianTheoryAttribute : TheoryAttribute
{
    public DebianTheoryAttribute(bool postgres, params string[] tools)
    {
        if (DebianTools.SkipReason(postgres, tools) is { } reason) Skip = reason;
    }
}

/// <summary>A fact on the compose cluster: PostgreSQL, mosquitto and its clients, Prometheus.</summary>
public sealed class ComposeFactAttribute : FactAttribute
{
    public ComposeFactAttribute()
    {
        if (DebianTools.SkipReason(postgres: true, DebianTools.Compose) is { } reason) Skip = reason;
    }
}
