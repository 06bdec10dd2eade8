using System.Text.Json;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Tests.Contracts;

/// <summary>The coordinator's HTTP contract records serialize to the exact snake_case shapes of rest-api.md.</summary>
public sealed class ClusterContractJsonTests
{
    private static readonly DateTimeOffset At = new(2025, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);

    [Fact]
    public void WorkerInfoHasTheContractFieldsAndRfc3339Timestamps()
    {
        var w = new WorkerInfo("worker-0", "http://127.0.0.1:9000", "akka.tcp://varpulis@127.0.0.1:4001", WorkerStatus.Ready, ["worker"], 1, 1000, 2, ["orders"], 42, At);
        Assert.Equal(
            """{"id":"worker-0","address":"http://127.0.0.1:9000","akka_address":"akka.tcp://varpulis@127.0.0.1:4001","status":"ready","roles":["worker"],"pipelines_running":1,"max_pipelines":1000,"cpu_cores":2,"assigned_pipelines":["orders"],"events_processed":42,"last_heartbeat":"2025-03-04T05:06:07.890Z"}""",
            JsonSerializer.Serialize(w, ClusterJsonContext.Default.WorkerInfo));
    }

    [Fact]
    public void AWorkerNeverHeardFromHasANullHeartbeat()
    {
        var w = new WorkerInfo("w", "", "a", WorkerStatus.Unhealthy, [], 0, 0, 0, [], 0, null);
        Assert.Contains("\"last_heartbeat\":null", JsonSerializer.Serialize(w, ClusterJsonContext.Default.WorkerInfo));
    }

    [Fact]
    public void DrainResultMatchesTheRunbookShape()
    {
        Assert.Equal("""{"worker_id":"worker-3","pipelines_migrated":2,"status":"drained"}""",
            JsonSerializer.Serialize(new DrainResult("worker-3", 2, "drained"), ClusterJsonContext.Default.DrainResult));
    }

    [Fact]
    public void TimestampsReadBack()
    {
        var m = new MigrationInfo("m", "p", "n", "a", "b", MigrationReason.Drain, MigrationStatus.Completed, At, At.AddSeconds(1), 1000, null);
        var json = JsonSerializer.Serialize(m, ClusterJsonContext.Default.MigrationInfo);
        Assert.Contains("\"started_at\":\"2025-03-04T05:06:07.890Z\"", json);
        Assert.Equal(m, JsonSerializer.Deserialize(json, ClusterJsonContext.Default.MigrationInfo));
    }
}
