using System.Net;
using System.Text.Json.Nodes;
using Varpulis.Deploy.Tests.Support;

namespace Varpulis.Deploy.Tests.Stack;

/// <summary>
/// The swarm stack (stack.yml): its services run the compose file's commands, keep their keys in secrets, and update
/// workers one at a time with time to hand their pipelines off; and, run as local processes like the compose file (its
/// coordinator and two replicas of its worker service, secrets as files under /run/secrets), it forms a cluster whose
/// workers take their ids from their task slots and whose keys and journal come from the secrets.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class StackTests
{
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    [Fact]
    public void TheStacksServicesRunTheComposeFilesCommands()
    {
        var stack = ComposeFile.Load(Repo.File("stack.yml"), NoEnvironment);
        var compose = ComposeFile.Load(Repo.File("docker-compose.cluster.yml"), NoEnvironment);
        Assert.Equal(["coordinator", "grafana", "mosquitto", "postgres", "prometheus", "worker"], stack.Services.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(compose.Services["coordinator"].Command, stack.Services["coordinator"].Command);
        Assert.Equal(compose.Services["coordinator"].HealthcheckTest, stack.Services["coordinator"].HealthcheckTest);
        foreach (var s in new[] { "coordinator", "worker" }) Assert.Equal(compose.Services["coordinator"].Image, stack.Services[s].Image);
        foreach (var s in new[] { "mosquitto", "prometheus", "postgres", "grafana" })
        {
            Assert.Equal(compose.Services[s].Image, stack.Services[s].Image);
            Assert.Equal(compose.Services[s].Command, stack.Services[s].Command);
        }

        // The worker service is worker-0's command without what differs per replica: the id comes from the task slot,
        // the advertise address (and so the remoting host) is the container's host name, the port is the same for all.
        var worker = stack.Services["worker"];
        var perReplica = new[] { "--worker-id", "--advertise-address" };
        var expected = compose.Services["worker-0"].Command.ToList();
        foreach (var flag in perReplica) expected.RemoveRange(expected.IndexOf(flag), 2);
        Assert.Equal(expected, worker.Command);
        Assert.Equal("worker-{{.Task.Slot}}", worker.Environment["VARPULIS_WORKER_ID"]);
        Assert.Equal("varpulis-worker-{{.Task.Slot}}", worker.Environment["OTEL_SERVICE_NAME"]);
        Assert.Equal(["varpulis", "healthcheck", "--server", "http://127.0.0.1:9000"], worker.HealthcheckTest);
        Assert.Equal(4, worker.Replicas);
        // The same host ports as compose where they mean the same: the API on 9000, a worker's /metrics on 9090,
        // Prometheus on 9099, Grafana on 3000.
        Assert.Equal([(9000, 9000), (9090, 9090)], worker.Ports);
        Assert.Equal([(9100, 9100)], stack.Services["coordinator"].Ports);
        Assert.Equal(compose.Services["prometheus"].Ports, stack.Services["prometheus"].Ports);
        Assert.Equal(compose.Services["grafana"].Ports, stack.Services["grafana"].Ports);
        foreach (var s in new[] { "coordinator", "worker" }) Assert.Equal("info", stack.Services[s].Environment["RUST_LOG"]);

        // Rolling updates: one worker at a time, stopped (it leaves the cluster, handing its pipelines off) before its
        // replacement starts, with two minutes to do so.
        var update = ComposeFile.Map(worker.Deploy, "update_config");
        Assert.Equal("1", (string?)update["parallelism"]);
        Assert.Equal("stop-first", (string?)update["order"]);
        Assert.Equal("rollback", (string?)update["failure_action"]);
        Assert.Equal("2m", (string?)worker.Node["stop_grace_period"]);
    }

    [Fact]
    public void KeysAndTheJournalAreSecretsMountedAsFiles()
    {
        var stack = ComposeFile.Load(Repo.File("stack.yml"), NoEnvironment);
        var declared = ComposeFile.Map(stack.Root, "secrets");
        foreach (var s in stack.Services.Values)
        {
            foreach (var secret in s.Secrets)
            {
                Assert.True(declared.ContainsKey(secret), $"{s.Name} mounts undeclared secret {secret}");
                Assert.Equal("true", (string?)ComposeFile.Map(declared, secret)["external"]);
            }
            foreach (var (name, value) in s.Environment)
            {
                // Nothing secret in the stack file itself: keys, passwords and connection strings are *_FILE secrets.
                if (name.EndsWith("_FILE", StringComparison.Ordinal)) Assert.Contains(value["/run/secrets/".Length..], s.Secrets);
                Assert.False(name.Contains("KEY", StringComparison.Ordinal) && !name.EndsWith("_FILE", StringComparison.Ordinal), $"{s.Name}: {name} in clear");
                Assert.False(name.Contains("PASSWORD", StringComparison.Ordinal) && !name.EndsWith("FILE", StringComparison.Ordinal), $"{s.Name}: {name} in clear");
            }
        }
        Assert.Equal("/run/secrets/varpulis_api_key", stack.Services["coordinator"].Environment["VARPULIS_API_KEY_FILE"]);
        Assert.Equal("/run/secrets/varpulis_db_connection", stack.Services["coordinator"].Environment["VARPULIS_PERSISTENCE_CONNECTION_FILE"]);
        Assert.Equal("/run/secrets/varpulis_worker_key", stack.Services["worker"].Environment["VARPULIS_API_KEY_FILE"]);
        Assert.DoesNotContain("VARPULIS_PERSISTENCE_CONNECTION_FILE", stack.Services["worker"].Environment.Keys);
        // Config files the stack ships exist next to it.
        foreach (var (_, config) in ComposeFile.Map(stack.Root, "configs"))
            Assert.True(File.Exists(Path.Combine(Repo.DeployDocker, (string)((Dictionary<string, object?>)config!)["file"]!)), config!.ToString());
        Assert.Equal("overlay", (string?)ComposeFile.Map(ComposeFile.Map(stack.Root, "networks"), "varpulis")["driver"]);
    }

    [DebianFact(true)]
    public async Task TheStackRunsAsLocalProcessesWithItsSecretsAndTaskSlots()
    {
        var stack = ComposeFile.Load(Repo.File("stack.yml"), NoEnvironment);
        var local = new LocalCompose(stack, Dockerfile.Load(Repo.File("Dockerfile")));
        var pg = new PostgresServer();
        await pg.InitializeAsync();
        try
        {
            // docker secret create ..., as docs/deployment.md says.
            local.WriteSecret("varpulis_api_key", "stack-coordinator-key\n");
            local.WriteSecret("varpulis_worker_key", "stack-worker-key\n");
            local.WriteSecret("varpulis_db_password", "stack-db-password");
            await local.StartPostgresAsync(pg);
            local.WriteSecret("varpulis_db_connection", "Host=postgres;Port=5432;Database=varpulis;Username=varpulis;Password=stack-db-password");

            local.StartVarpulis("coordinator");
            await WaitHealthyAsync(local, "coordinator");
            local.StartVarpulis("worker.1");
            local.StartVarpulis("worker.2");
            await Task.WhenAll(WaitHealthyAsync(local, "worker.1"), WaitHealthyAsync(local, "worker.2"));

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var coordinator = local.Url("coordinator", 9100);
            JsonArray workers = [];
            await LocalProcess.WaitForAsync("two ready workers", async () =>
            {
                using var req = new HttpRequestMessage(HttpMethod.Get, new Uri(coordinator, "/api/v1/cluster/workers"));
                req.Headers.Add("x-api-key", "stack-coordinator-key");
                using var resp = await http.SendAsync(req);
                workers = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!.AsArray();
                return workers.Count(w => (string?)w!["status"] == "ready") == 2;
            }, TimeSpan.FromMinutes(3), local.Logs);
            Assert.Equal(["worker-1", "worker-2"], workers.Select(w => (string)w!["id"]!).Order(StringComparer.Ordinal));
            foreach (var w in new[] { "worker.1", "worker.2" })
                Assert.Contains("journal: PostgreSQL", local.Processes.Single(p => p.Name == w).Output);

            // The keys are the secrets' contents (without the file's newline): another key is refused.
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, new Uri(local.Url("worker.1", 9000), "/api/v1/pipelines"), "stack-worker-key"));
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, new Uri(local.Url("worker.1", 9000), "/api/v1/pipelines"), "stack-coordinator-key"));
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, new Uri(coordinator, "/api/v1/cluster/workers"), "stack-worker-key"));
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + local.Logs());
        }
        finally
        {
            await local.DisposeAsync();
            await pg.DisposeAsync();
        }
    }

    private static Task WaitHealthyAsync(LocalCompose local, string instance) => LocalProcess.WaitForAsync($"{instance} healthy", async () =>
    {
        if (local.Processes.Single(p => p.Name == instance).HasExited) throw new InvalidOperationException(instance + " exited");
        return (await local.HealthcheckAsync(instance)).ExitCode == 0;
    }, TimeSpan.FromMinutes(3), local.Logs);

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, Uri url, string key)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        req.Headers.Add("x-api-key", key);
        using var resp = await http.SendAsync(req);
        return resp.StatusCode;
    }
}
