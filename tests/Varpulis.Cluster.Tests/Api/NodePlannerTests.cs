using Varpulis.Actors.Configuration;
using Varpulis.Contracts.Cluster;
using Varpulis.Host.Cluster;
using Varpulis.Host.Configuration;

namespace Varpulis.Cluster.Tests.Api;

/// <summary>Which journal a worker takes: its coordinator's SQLite files only on the same host, else a startup error that says what to configure.</summary>
public sealed class NodePlannerTests
{
    private const string Expected =
        "the coordinator at http://coord:9100 keeps the cluster's journal in embedded SQLite under {0} on its own host, and {1}. " +
        "Workers on other hosts need PostgreSQL: set persistence.provider = postgresql and persistence.connection_string " +
        "(or VARPULIS_PERSISTENCE_PROVIDER and VARPULIS_PERSISTENCE_CONNECTION) on the coordinator, which hands them to its workers, or on this worker.";

    private static VarpulisSettings Worker()
    {
        var s = new VarpulisSettings();
        s.Cluster.Coordinator = "http://coord:9100";
        return s;
    }

    [Fact]
    public void AWorkerOnAnotherHostIsToldToConfigurePostgreSql()
    {
        var dir = ServerProcess.TempDir();
        var ex = Assert.Throws<ConfigurationException>(() => NodePlanner.SharedStateDir(Worker(), new JournalInfo("embedded", dir, "another-boot-id", "x")));
        Assert.Equal(string.Format(Expected, dir, "this worker runs on another host"), ex.Message);
    }

    [Fact]
    public void AWorkerThatCannotReadTheCoordinatorsDirectoryIsToldToo()
    {
        var dir = Path.Combine(ServerProcess.TempDir(), "elsewhere");
        var ex = Assert.Throws<ConfigurationException>(() => NodePlanner.SharedStateDir(Worker(), new JournalInfo("embedded", dir, null, "x")));
        Assert.StartsWith(string.Format(Expected, dir, $"this worker cannot read {Path.Combine(dir, "cluster.id")} (").Split(" (")[0], ex.Message);
    }

    [Fact]
    public void AnotherClustersDirectoryIsRefused()
    {
        var dir = ServerProcess.TempDir();
        File.WriteAllText(Path.Combine(dir, "cluster.id"), "other\n");
        var ex = Assert.Throws<ConfigurationException>(() => NodePlanner.SharedStateDir(Worker(), new JournalInfo("embedded", dir, null, "mine")));
        Assert.Equal(string.Format(Expected, dir, $"{Path.Combine(dir, "cluster.id")} here belongs to another cluster"), ex.Message);
    }

    [Fact]
    public void OnTheSameHostTheWorkerWritesIntoTheCoordinatorsFiles()
    {
        var dir = ServerProcess.TempDir();
        File.WriteAllText(Path.Combine(dir, "cluster.id"), "mine\n");
        var bootId = File.Exists("/proc/sys/kernel/random/boot_id") ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() : null;
        Assert.Equal(dir, NodePlanner.SharedStateDir(Worker(), new JournalInfo("embedded", dir, bootId, "mine")));
    }
}
