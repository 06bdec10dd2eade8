using System.Text.Json.Nodes;
using System.Xml.Linq;
using Varpulis.Deploy.Tests.Compose;
using Varpulis.Deploy.Tests.Support;

namespace Varpulis.Deploy.Tests;

/// <summary>
/// What can be checked of the deployment files without running them: both paths lead to the same files, promtool
/// accepts the Prometheus files, the dashboards are Grafana dashboards wired to the provisioned data source, the
/// Dockerfile builds from paths that exist and runs what it publishes, and the committed alert rules keep their
/// production timings.
/// </summary>
public sealed class StaticFilesTests
{
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    [Fact]
    public void TheRunbooksPathAndTheArchitecturesPathAreTheSameDirectory()
    {
        // deploy/docker is the directory (the runbook's `docker compose -f deploy/docker/...`); docker/ links to it.
        Assert.False(new DirectoryInfo(Repo.DeployDocker).Attributes.HasFlag(FileAttributes.ReparsePoint), "deploy/docker must be the real directory");
        var link = new DirectoryInfo(Repo.Docker);
        Assert.Equal("deploy/docker", link.LinkTarget);
        var files = Directory.GetFiles(Repo.DeployDocker, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Repo.DeployDocker, f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, Directory.GetFiles(Repo.Docker, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Repo.Docker, f)).Order(StringComparer.Ordinal));
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(Path.Combine(Repo.DeployDocker, f)), File.ReadAllBytes(Path.Combine(Repo.Docker, f)));
        Assert.Contains("docker-compose.cluster.yml", files);
    }

    [DebianTheory(false, DebianTools.Promtool)]
    [InlineData("prometheus.yml")]
    [InlineData("prometheus.swarm.yml")]
    public async Task PromtoolAcceptsThePrometheusConfigurationAndItsRules(string file)
    {
        var (code, output) = await LocalProcess.RunAsync(DebianTools.Promtool, ["check", "config", Repo.File("prometheus", file)]);
        Assert.True(code == 0, output);
        Assert.Contains($"SUCCESS: {Repo.File("prometheus", file)} is valid prometheus config file syntax", output);
        Assert.Contains("SUCCESS: 10 rules found", output);
    }

    [DebianFact(false, DebianTools.Promtool)]
    public async Task PromtoolAcceptsTheAlertRules()
    {
        var (code, output) = await LocalProcess.RunAsync(DebianTools.Promtool, ["check", "rules", Repo.File("prometheus", "alerts.yml")]);
        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS: 10 rules found", output);
    }

    [Fact]
    public void TheAlertsCoverTheRunbookAndKeepProductionTimings()
    {
        var alerts = ComposeClusterTests.AlertExpressions().ToDictionary(a => a.Alert, a => a.Expr);
        Assert.Equal(
            ["VarpulisCircuitOpen", "VarpulisCoordinatorDown", "VarpulisDlqGrowing", "VarpulisEventBacklogGrowing", "VarpulisHighLatency",
             "VarpulisNoOutputEvents", "VarpulisNoWorkerUp", "VarpulisPipelineRestarts", "VarpulisWorkerDown", "VarpulisWorkerUnhealthy"],
            alerts.Keys.Order(StringComparer.Ordinal));
        // The runbook's §6.3 queries, as written there where they can be.
        Assert.Contains("histogram_quantile(0.99", alerts["VarpulisHighLatency"]);
        Assert.EndsWith("> 0.1", alerts["VarpulisHighLatency"]);
        Assert.Equal("""up{job=~"varpulis-worker.*"} == 0""", alerts["VarpulisWorkerDown"]);
        Assert.Equal("""absent(up{job=~"varpulis-worker.*"} == 1)""", alerts["VarpulisNoWorkerUp"]);
        Assert.Contains("rate(varpulis_output_events_total[10m])) == 0", alerts["VarpulisNoOutputEvents"]);
        var text = File.ReadAllText(Repo.File("prometheus", "alerts.yml"));
        Assert.DoesNotContain("for: 5s", text);
        Assert.Contains("for: 5m", text);
        Assert.Contains("for: 1m", text);
        foreach (var file in new[] { "prometheus.yml", "prometheus.swarm.yml" })
        {
            var config = File.ReadAllText(Repo.File("prometheus", file));
            Assert.Contains("scrape_interval: 5s", config);
            Assert.Contains("evaluation_interval: 5s", config);
        }
    }

    [Theory]
    [InlineData("varpulis.json", "varpulis-overview", "Varpulis Overview")]
    [InlineData("varpulis-cluster.json", "varpulis-cluster", "Varpulis Cluster")]
    public void TheDashboardsAreGrafanaDashboardsOnTheProvisionedDataSource(string file, string uid, string title)
    {
        var d = Dashboards.Load(file);
        Assert.Equal(uid, (string?)d["uid"]);
        Assert.Equal(title, (string?)d["title"]);
        Assert.True((int)d["schemaVersion"]! >= 36, "schemaVersion");
        Assert.Null(d["id"]);
        var ids = new HashSet<int>();
        var panels = Dashboards.Panels(d).ToList();
        Assert.True(panels.Count >= 10, $"{panels.Count} panels");
        foreach (var p in panels)
        {
            var name = (string?)p["title"];
            Assert.False(string.IsNullOrWhiteSpace(name));
            Assert.True(ids.Add((int)p["id"]!), $"duplicate panel id in {name}");
            var pos = p["gridPos"]!;
            Assert.True((int)pos["w"]! is > 0 and <= 24 && (int)pos["x"]! + (int)pos["w"]! <= 24, $"{name}: gridPos {pos.ToJsonString()}");
            if ((string?)p["type"] == "row") continue;
            Assert.Contains((string)p["type"]!, new[] { "timeseries", "stat", "table", "state-timeline" });
            Assert.Equal("varpulis-prometheus", (string?)p["datasource"]!["uid"]);
            Assert.Equal("prometheus", (string?)p["datasource"]!["type"]);
            var targets = p["targets"]!.AsArray();
            Assert.NotEmpty(targets);
            Assert.All(targets, t =>
            {
                Assert.Equal("varpulis-prometheus", (string?)t!["datasource"]!["uid"]);
                Assert.False(string.IsNullOrWhiteSpace((string?)t["expr"]), name);
                Assert.Matches("^[A-Z]$", (string?)t["refId"]);
            });
            Assert.False(string.IsNullOrWhiteSpace((string?)p["description"]), $"{name} has no description");
        }
        // Template variables query the same data source.
        foreach (var v in d["templating"]!["list"]!.AsArray()) Assert.Equal("varpulis-prometheus", (string?)v!["datasource"]!["uid"]);
    }

    [Fact]
    public void GrafanaProvisioningPointsAtThePrometheusServiceAndTheMountedDashboards()
    {
        var compose = ComposeFile.Load(Repo.File("docker-compose.cluster.yml"), NoEnvironment);
        var grafana = compose.Services["grafana"];
        Assert.Equal("admin", grafana.Environment["GF_SECURITY_ADMIN_USER"]);
        Assert.Equal("varpulis", grafana.Environment["GF_SECURITY_ADMIN_PASSWORD"]);
        Assert.Contains(("./grafana/dashboards", "/var/lib/grafana/dashboards"), grafana.Volumes);
        Assert.Contains(("./grafana/provisioning", "/etc/grafana/provisioning"), grafana.Volumes);
        var datasource = File.ReadAllText(Repo.File("grafana", "provisioning", "datasources", "prometheus.yml"));
        Assert.Contains("uid: varpulis-prometheus", datasource);
        Assert.Contains("url: http://prometheus:9090", datasource);
        Assert.Contains(9090, compose.Services["prometheus"].Expose);
        var provider = File.ReadAllText(Repo.File("grafana", "provisioning", "dashboards", "varpulis.yml"));
        Assert.Contains("path: /var/lib/grafana/dashboards", provider);
        foreach (var f in Dashboards.Files) Assert.True(File.Exists(Repo.File("grafana", "dashboards", f)), f);
        Assert.EndsWith("/var/lib/grafana/dashboards/varpulis-cluster.json", grafana.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]);
    }

    [Fact]
    public void TheDockerfileBuildsFromPathsThatExistAndRunsWhatItPublishes()
    {
        var image = Dockerfile.Load(Repo.File("Dockerfile"));
        Assert.Equal(2, image.Stages.Count);
        var build = image.Stages[0];
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}", build.Image);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}", image.Runtime.Image);
        // Every file or directory a build stage copies from the context exists in the repository.
        foreach (var copy in image.Stages.SelectMany(s => s.Copies).Where(c => c.From is null))
        {
            foreach (var source in copy.Sources.Where(s => s != "."))
                Assert.True(File.Exists(Path.Combine(Repo.Root, source)) || Directory.Exists(Path.Combine(Repo.Root, source)), $"COPY {source}: not in the repository");
        }
        // Every project the Host needs is restored from the copied project files (so the restore layer is complete).
        var copiedProjects = build.Copies.SelectMany(c => c.Sources).Where(s => s.EndsWith(".csproj", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        foreach (var project in ProjectClosure("src/Host/Varpulis.Host.csproj")) Assert.Contains(project, copiedProjects);

        // The published project is the Host, into /app; its assembly is `varpulis`, and /app is on the PATH.
        var publish = build.All("RUN").Select(r => r.Arguments).Single(a => a.StartsWith("dotnet publish src/", StringComparison.Ordinal));
        Assert.Contains("src/Host/Varpulis.Host.csproj", publish);
        Assert.Contains("-o /app", publish);
        Assert.Equal("varpulis", XDocument.Load(Path.Combine(Repo.Root, "src/Host/Varpulis.Host.csproj")).Descendants("AssemblyName").Single().Value);
        var env = image.Runtime.Environment(LocalCompose.BaseImageEnvironment);
        Assert.StartsWith("/app:", env["PATH"]);
        Assert.Equal("/var/lib/varpulis/state", env["VARPULIS_STATE_DIR"]);
        Assert.Equal("", env["ASPNETCORE_HTTP_PORTS"]);
        Assert.Contains(image.Runtime.Copies, c => c.From == "build" && c.Sources.SequenceEqual(["/app"]) && c.Destination == "/app");

        // The entrypoint is the repository's script, executable, on the PATH; it runs `varpulis ARGS`.
        Assert.Equal(["varpulis-entrypoint"], image.Runtime.Exec("ENTRYPOINT"));
        var entry = image.Runtime.Copies.Single(c => c.Destination == "/usr/local/bin/varpulis-entrypoint");
        Assert.Equal(["deploy/docker/entrypoint.sh"], entry.Sources);
        Assert.Contains("--chmod=0755", entry.Flags);
        Assert.Contains("exec varpulis \"$@\"", File.ReadAllText(Path.Combine(Repo.Root, entry.Sources[0])));
        // Its default command is the runbook's production single node (§1.1), without a key.
        Assert.Equal(["server", "--bind", "0.0.0.0", "--port", "9000", "--metrics", "--metrics-port", "9090"], image.Runtime.Exec("CMD"));

        // A non-root user, the state directory as a volume, the ports, the healthcheck on varpulis itself.
        Assert.Equal("$APP_UID", image.Runtime.All("USER").Last().Arguments);
        Assert.Equal("[\"/var/lib/varpulis/state\"]", image.Runtime.All("VOLUME").Single().Arguments);
        Assert.Equal("9000 9090 9100", image.Runtime.All("EXPOSE").Single().Arguments);
        Assert.Equal(["varpulis", "healthcheck"], image.Runtime.Exec("HEALTHCHECK"));
        Assert.Equal("60s", image.Runtime.HealthcheckOptions["start-period"]);
        // No secret baked in.
        Assert.DoesNotContain(env.Keys, k => k.Contains("KEY", StringComparison.Ordinal) || k.Contains("PASSWORD", StringComparison.Ordinal) || k.Contains("CONNECTION", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheBuildContextHasEverythingTheBuildCopiesAndNoBuildOutputs()
    {
        // The context Docker sends: the repository's files (a clean clone: git's files, plus build outputs a developer
        // may have) minus what Dockerfile.dockerignore excludes, as Docker matches it (last matching line wins, a
        // directory's pattern covers what is under it, `!` takes a path back).
        var (code, listing) = await LocalProcess.RunAsync("git", ["-C", Repo.Root, "ls-files"]);
        Assert.True(code == 0, listing);
        var files = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Append("src/Host/bin/Release/net10.0/varpulis.dll").Append("src/Vpl/obj/project.assets.json").ToList();
        var ignore = File.ReadAllLines(Repo.File("Dockerfile.dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var context = files.Where(f => !Ignored(f, ignore)).ToHashSet(StringComparer.Ordinal);

        var image = Dockerfile.Load(Repo.File("Dockerfile"));
        foreach (var copy in image.Stages.SelectMany(s => s.Copies).Where(c => c.From is null))
        {
            foreach (var source in copy.Sources.Where(s => s != "."))
                Assert.True(context.Contains(source) || context.Any(f => f.StartsWith(source.TrimEnd('/') + "/", StringComparison.Ordinal)), $"COPY {source}: not in the build context");
        }
        // `COPY . .` then brings every source file of the projects the Host needs, and nothing built or tested.
        foreach (var project in ProjectClosure("src/Host/Varpulis.Host.csproj"))
        {
            var dir = Path.GetDirectoryName(project)!.Replace('\\', '/') + "/";
            Assert.Contains(context, f => f.StartsWith(dir, StringComparison.Ordinal) && f.EndsWith(".cs", StringComparison.Ordinal));
            Assert.Equal(files.Where(f => f.StartsWith(dir, StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
                context.Where(f => f.StartsWith(dir, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        }
        Assert.DoesNotContain(context, f => f.Contains("/bin/", StringComparison.Ordinal) || f.Contains("/obj/", StringComparison.Ordinal) || f.StartsWith("tests/", StringComparison.Ordinal));
        Assert.Contains("deploy/docker/entrypoint.sh", context);
        Assert.DoesNotContain("deploy/docker/stack.yml", context);
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" }) Assert.Contains(file, context);
    }

    /// <summary>Whether Docker leaves <paramref name="path"/> out of the context: the last pattern that matches it or one of its parent directories decides.</summary>
    private static bool Ignored(string path, IReadOnlyList<string> patterns)
    {
        bool ignored = false;
        var parts = path.Split('/');
        foreach (var line in patterns)
        {
            bool negate = line.StartsWith('!');
            var regex = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(negate ? line[1..] : line)
                .Replace(@"\*\*/", "(.*/)?", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace(@"\?", "[^/]", StringComparison.Ordinal) + "$");
            for (int n = 1; n <= parts.Length; n++)
            {
                if (!regex.IsMatch(string.Join('/', parts.Take(n)))) continue;
                ignored = !negate;
                break;
            }
        }
        return ignored;
    }

    [Fact]
    public void TheImageGetsPbmWhenTheSourceTreeHasIt()
    {
        var build = Dockerfile.Load(Repo.File("Dockerfile")).Stages[0];
        var pbm = build.All("RUN").Select(r => r.Arguments).Single(a => a.Contains("pbm/Varpulis.Pbm.csproj", StringComparison.Ordinal));
        Assert.Contains("if [ -f pbm/Varpulis.Pbm.csproj ]; then", pbm);
        Assert.Contains("dotnet publish pbm/Varpulis.Pbm.csproj -c Release -a \"$TARGETARCH\" --no-self-contained -o /app", pbm);
        if (File.Exists(Path.Combine(Repo.Root, "pbm", "Varpulis.Pbm.csproj")))
            Assert.Equal("pbm", XDocument.Load(Path.Combine(Repo.Root, "pbm", "Varpulis.Pbm.csproj")).Descendants("AssemblyName").Single().Value);
        // The build context keeps pbm/ (the ignore file excludes tests, docs and build outputs only).
        var ignore = File.ReadAllLines(Repo.File("Dockerfile.dockerignore"));
        Assert.DoesNotContain(ignore, l => l.Trim() is "pbm" or "pbm/" or "src" or "src/");
        Assert.Contains("!deploy/docker/entrypoint.sh", ignore);
    }

    [Fact]
    public void TheComposeFileHasTheRunbooksServicesPortsAndKeys()
    {
        var compose = ComposeFile.Load(Repo.File("docker-compose.cluster.yml"), NoEnvironment);
        Assert.Equal(["coordinator", "grafana", "mosquitto", "postgres", "prometheus", "worker-0", "worker-1", "worker-2", "worker-3"],
            compose.DefaultServices.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["tracing"], compose.Services["jaeger"].Profiles);
        Assert.Contains((9100, 9100), compose.Services["coordinator"].Ports);
        for (int i = 0; i < 4; i++)
        {
            var w = compose.Services[$"worker-{i}"];
            // The API on its own port, /metrics published as 9090+N: worker-0 answers the runbook's localhost:9000 and localhost:9090.
            Assert.Equal([(9000 + i, 9000 + i), (9090 + i, 9090)], w.Ports);
            Assert.Equal(
                ["server", "--bind", "0.0.0.0", "--port", (9000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), "--metrics", "--metrics-port", "9090",
                 "--coordinator", "http://coordinator:9100", "--worker-id", $"worker-{i}", "--advertise-address", $"http://worker-{i}:{9000 + i}",
                 "--management-port", "8558"],
                w.Command);
            // The advertise host is the service name: the worker's Akka.NET remoting address other containers resolve.
            Assert.Equal($"worker-{i}", w.Hostname);
            // The runbook's §1.4 stops a worker by its container name: `docker stop varpulis-worker-3`.
            Assert.Equal($"varpulis-worker-{i}", (string?)w.Node["container_name"]);
            Assert.Equal("worker-secret", w.Environment["VARPULIS_API_KEY"]);
            Assert.Equal("info", w.Environment["RUST_LOG"]);
            Assert.Equal($"varpulis-worker-{i}", w.Environment["OTEL_SERVICE_NAME"]);
            Assert.Equal("service_healthy", w.DependsOn["coordinator"]);
            Assert.Equal(["varpulis", "healthcheck", "--server", $"http://127.0.0.1:{9000 + i}"], w.HealthcheckTest);
        }
        var coordinator = compose.Services["coordinator"];
        Assert.Equal("coordinator-secret", coordinator.Environment["VARPULIS_API_KEY"]);
        Assert.Equal("info", coordinator.Environment["RUST_LOG"]);
        // Prometheus's UI is on 9099: 9090 on the host is worker-0's /metrics.
        Assert.Equal([(9099, 9090)], compose.Services["prometheus"].Ports);
        Assert.Equal([(3000, 3000)], compose.Services["grafana"].Ports);
        // No two services publish the same host port.
        var published = compose.DefaultServices.SelectMany(s => s.Ports.Select(p => p.Published)).ToList();
        Assert.Equal(published.Count, published.Distinct().Count());
        Assert.Equal("postgresql", coordinator.Environment["VARPULIS_PERSISTENCE_PROVIDER"]);
        Assert.Equal("Host=postgres;Port=5432;Database=varpulis;Username=varpulis;Password=varpulis", coordinator.Environment["VARPULIS_PERSISTENCE_CONNECTION"]);
        Assert.Equal("", coordinator.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("service_healthy", coordinator.DependsOn["postgres"]);
        // Keys from the environment when set.
        var keyed = ComposeFile.Load(Repo.File("docker-compose.cluster.yml"), new Dictionary<string, string> { ["VARPULIS_API_KEY"] = "c-key", ["VARPULIS_WORKER_KEY"] = "w-key", ["VARPULIS_DB_PASSWORD"] = "pw" });
        Assert.Equal("c-key", keyed.Services["coordinator"].Environment["VARPULIS_API_KEY"]);
        Assert.Equal("w-key", keyed.Services["worker-2"].Environment["VARPULIS_API_KEY"]);
        Assert.EndsWith("Password=pw", keyed.Services["coordinator"].Environment["VARPULIS_PERSISTENCE_CONNECTION"]);
        Assert.Equal("pw", keyed.Services["postgres"].Environment["POSTGRES_PASSWORD"]);
        // One exported VARPULIS_API_KEY is every node's key (the runbook's commands use it on 9000 and 9100 alike).
        var oneKey = ComposeFile.Load(Repo.File("docker-compose.cluster.yml"), new Dictionary<string, string> { ["VARPULIS_API_KEY"] = "k", ["RUST_LOG"] = "debug" });
        Assert.All(oneKey.DefaultServices.Where(LocalCompose.UsesImage), s => Assert.Equal(("k", "debug"), (s.Environment["VARPULIS_API_KEY"], s.Environment["RUST_LOG"])));
    }

    [Fact]
    public void TheComposeBuildContextIsTheRepositoryFromTheRunbooksPath()
    {
        // Compose resolves relative paths from the directory of the -f path as written (no symlink resolution), so
        // the context is written for deploy/docker: ../.. is the repository root.
        var compose = ComposeFile.Load(Repo.File("docker-compose.cluster.yml"), NoEnvironment);
        foreach (var s in compose.Services.Values.Where(LocalCompose.UsesImage))
        {
            var build = ComposeFile.Map(s.Node, "build");
            Assert.Equal(Repo.Root, Path.GetFullPath(Path.Combine(Repo.DeployDocker, (string)build["context"]!)));
            Assert.Equal("deploy/docker/Dockerfile", (string?)build["dockerfile"]);
        }
    }

    /// <summary>The project and every project it references, transitively (repository-relative paths).</summary>
    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([project]);
        while (queue.Count > 0)
        {
            var p = queue.Dequeue();
            if (!seen.Add(p)) continue;
            var dir = Path.GetDirectoryName(p)!;
            foreach (var r in XDocument.Load(Path.Combine(Repo.Root, p)).Descendants("ProjectReference"))
                queue.Enqueue(Path.GetRelativePath(Repo.Root, Path.GetFullPath(Path.Combine(Repo.Root, dir, r.Attribute("Include")!.Value))).Replace('\\', '/'));
        }
        return seen;
    }
}
