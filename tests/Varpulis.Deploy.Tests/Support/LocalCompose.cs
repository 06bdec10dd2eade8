using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Varpulis.Deploy.Tests.Support;

/// <summary>
/// Runs the services of a compose file as local processes, the way Docker would run them, with the differences a host
/// without containers forces and nothing else:
/// <list type="bullet">
/// <item>every container port a service exposes gets a free loopback port: <c>service:port</c> and <c>Host=service;Port=port</c>
/// become <c>127.0.0.1:free</c> wherever they appear (commands, environment, mounted config files), a service's own
/// <c>localhost:port</c> and its <c>--port</c>/<c>--metrics-port</c> values too, and <c>--bind 0.0.0.0</c> binds
/// 127.0.0.1;</item>
/// <item>container paths become directories of the run: named volumes are empty directories, bind-mounted files are
/// copies (rewritten as above), the image's <c>/app</c> is the built varpulis (this test's output directory) and
/// its entrypoint script is the repository's;</item>
/// <item>our services run through the image's ENTRYPOINT with the environment the image and the service give (the
/// aspnet base image's variables, the Dockerfile's ENV, the service's <c>environment</c>), plus DOTNET_ROOT of this
/// machine; PostgreSQL, mosquitto and Prometheus are Debian's, started with the service's settings.</item>
/// </list>
/// </summary>
public sealed partial class LocalCompose : IAsyncDisposable
{
    /// <summary>What mcr.microsoft.com/dotnet/aspnet sets before our Dockerfile's ENV (docker inspect of the 10.0 image).</summary>
    public static readonly IReadOnlyDictionary<string, string> BaseImageEnvironment = new Dictionary<string, string>
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["APP_UID"] = "1654",
        ["ASPNETCORE_HTTP_PORTS"] = "8080",
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
    };

    private readonly Dictionary<(string Service, int Port), int> _ports = new();
    private readonly Dictionary<string, Dictionary<string, string>> _paths = new(StringComparer.Ordinal);
    private readonly List<LocalProcess> _processes = new();
    private readonly object _gate = new();

    public LocalCompose(ComposeFile file, Dockerfile image)
    {
        File = file;
        Image = image;
        Directory = LocalProcess.TempDirectory("varpulis-compose");
        foreach (var s in file.DefaultServices) Allocate(s.Name);
    }

    public ComposeFile File { get; }

    public Dockerfile Image { get; }

    /// <summary>The run's directory: volumes, copies of mounted files, each service's working directory.</summary>
    public string Directory { get; }

    public IReadOnlyList<LocalProcess> Processes
    {
        get
        {
            lock (_gate) return _processes.ToList();
        }
    }

    /// <summary>The free port a container port of a service (or of one replica, <c>service.slot</c>) has in this run.</summary>
    public int HostPort(string instance, int containerPort)
    {
        lock (_gate) return _ports[(instance, containerPort)];
    }

    public Uri Url(string instance, int containerPort) => new($"http://127.0.0.1:{HostPort(instance, containerPort)}");

    /// <summary>
    /// A command an operator types on the Docker host, with each <c>localhost:PORT</c> of a published port (<c>ports:</c>)
    /// turned into the free port its service's container port has in this run.
    /// </summary>
    public string OnDockerHost(string command) => LocalhostPort().Replace(command, m =>
    {
        int published = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var (service, target) = File.DefaultServices
            .SelectMany(s => s.Ports.Where(p => p.Published == published).Select(p => (s.Name, p.Target)))
            .Single();
        return $"127.0.0.1:{HostPort(service, target)}";
    });

    [GeneratedRegex(@"\blocalhost:(\d+)")]
    private static partial Regex LocalhostPort();

    /// <summary>The service of an instance name (<c>worker.2</c> is a replica of <c>worker</c>).</summary>
    public static string ServiceOf(string instance) => instance.Split('.')[0];

    private static int? SlotOf(string instance) => instance.Contains('.', StringComparison.Ordinal) ? int.Parse(instance.Split('.')[1], CultureInfo.InvariantCulture) : null;

    /// <summary>Free ports for every port an instance listens on: <c>expose</c>, published targets, <c>--port</c>, <c>--metrics-port</c> and <c>--management-port</c>.</summary>
    private void Allocate(string instance)
    {
        var s = File.Services[ServiceOf(instance)];
        var ports = new HashSet<int>(s.Expose.Concat(s.Ports.Select(p => p.Target)));
        for (int i = 1; i < s.Command.Count; i++)
        {
            if (s.Command[i - 1] is "--port" or "--metrics-port" or "--management-port") ports.Add(int.Parse(s.Command[i], CultureInfo.InvariantCulture));
        }
        lock (_gate)
        {
            foreach (var p in ports) _ports.TryAdd((instance, p), LocalProcess.FreePort());
        }
    }

    /// <summary>A service whose server the test starts itself (PostgreSQL) listens on this port.</summary>
    public void Bind(string service, int containerPort, int hostPort)
    {
        lock (_gate) _ports[(service, containerPort)] = hostPort;
    }

    // ------------------------------------------------------------------ rewriting

    /// <summary>Host names, ports and container paths of <paramref name="text"/> as seen from <paramref name="service"/>.</summary>
    public string Rewrite(string service, string text)
    {
        if (SlotOf(service) is { } slot) text = text.Replace("{{.Task.Slot}}", slot.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return RewritePaths(service, RewriteHosts(service, text));
    }

    /// <summary>Host names and ports only (<paramref name="service"/> is who <c>localhost</c> is; null: nobody).</summary>
    private string RewriteHosts(string? service, string text)
    {
        text = ConnectionHost().Replace(text, m =>
        {
            var host = Resolve(service, m.Groups["host"].Value);
            if (host is null) return m.Value;
            int port = m.Groups["port"].Success ? int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture) : DefaultPort(host);
            return TryPort(host, port, out var hp) ? $"Host=127.0.0.1;Port={hp}" : m.Value;
        });
        text = HostPort().Replace(text, m =>
        {
            var host = Resolve(service, m.Groups["host"].Value);
            int port = int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture);
            return host is not null && TryPort(host, port, out var hp) ? $"127.0.0.1:{hp}" : m.Value;
        });
        return text;
    }

    /// <summary>A command: each argument rewritten; a service's own port values and a bind to all interfaces made local.</summary>
    public IReadOnlyList<string> RewriteCommand(string service, IReadOnlyList<string> command)
    {
        var result = new List<string>(command.Count);
        for (int i = 0; i < command.Count; i++)
        {
            var arg = command[i];
            var previous = i > 0 ? command[i - 1] : "";
            if (previous is "--port" or "--metrics-port" or "--management-port" && int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && TryPort(service, p, out int hp))
                result.Add(hp.ToString(CultureInfo.InvariantCulture));
            else if (previous == "--bind" && arg == "0.0.0.0")
                result.Add("127.0.0.1");
            else
                result.Add(Rewrite(service, arg));
        }
        return result;
    }

    private string? Resolve(string? service, string host)
        => host is "localhost" or "127.0.0.1" or "0.0.0.0" ? service : File.Services.ContainsKey(host) ? host : null;

    private bool TryPort(string instance, int port, out int hostPort)
    {
        lock (_gate) return _ports.TryGetValue((instance, port), out hostPort);
    }

    private static int DefaultPort(string host) => host == "postgres" ? 5432 : 0;

    private string RewritePaths(string service, string text)
    {
        foreach (var (container, host) in Paths(service).OrderByDescending(kv => kv.Key.Length))
        {
            text = Regex.Replace(text, $@"(?<=^|[=\s:""'])" + Regex.Escape(container) + @"(?=$|[/\s:""'])", host.Replace("$", "$$", StringComparison.Ordinal));
        }
        return text;
    }

    /// <summary>Container path → host path for a service: its volumes, the image's /app and entrypoint, its working directory.</summary>
    public IReadOnlyDictionary<string, string> Paths(string service)
    {
        lock (_gate)
        {
            if (_paths.TryGetValue(service, out var map)) return map;
            map = new Dictionary<string, string>(StringComparer.Ordinal);
            var s = File.Services[ServiceOf(service)];
            foreach (var (source, target) in s.Volumes)
            {
                if (source.StartsWith('.') || source.StartsWith('/'))
                {
                    var copy = Path.Combine(Directory, "binds", service, Path.GetFileName(target));
                    map[target] = copy;
                }
                else
                {
                    var volume = Path.Combine(Directory, "volumes", SlotOf(service) is { } slot ? $"{source}.{slot}" : source);
                    System.IO.Directory.CreateDirectory(volume);
                    map[target] = volume;
                }
            }
            // Secrets (docker secret create by the test: WriteSecret) are files under /run/secrets.
            foreach (var secret in s.Secrets) map["/run/secrets/" + secret] = Path.Combine(Directory, "secrets", secret);
            if (UsesImage(s))
            {
                map["/app"] = Repo.BinDirectory.TrimEnd('/');
                var workdir = Image.Runtime.All("WORKDIR").Last().Arguments;
                map.TryAdd(workdir, Path.Combine(Directory, "rootfs", service, workdir.TrimStart('/')));
                System.IO.Directory.CreateDirectory(map[workdir]);
            }
            _paths[service] = map;
            // Bind mounts: copies of the files, rewritten for this service (after the map exists: they may name its volumes).
            foreach (var (source, target) in s.Volumes.Where(v => v.Source.StartsWith('.') || v.Source.StartsWith('/')))
                CopyRewritten(service, Path.GetFullPath(Path.Combine(File.Directory, source)), map[target]);
            return map;
        }
    }

    private void CopyRewritten(string service, string from, string to)
    {
        if (System.IO.Directory.Exists(from))
        {
            System.IO.Directory.CreateDirectory(to);
            foreach (var f in System.IO.Directory.GetFiles(from)) CopyRewritten(service, f, Path.Combine(to, Path.GetFileName(f)));
            foreach (var d in System.IO.Directory.GetDirectories(from)) CopyRewritten(service, d, Path.Combine(to, Path.GetFileName(d)));
            return;
        }
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        System.IO.File.WriteAllText(to, Rewrite(service, System.IO.File.ReadAllText(from)));
    }

    /// <summary>Whether the service runs our image (the compose file's varpulis image expression).</summary>
    public static bool UsesImage(ComposeService s) => s.Image is { } i && (i.StartsWith("varpulis", StringComparison.Ordinal) || i.Contains("/varpulis", StringComparison.Ordinal));

    // ------------------------------------------------------------------ our services

    /// <summary>The environment a container of our image would have, rewritten for the local run.</summary>
    public Dictionary<string, string> Environment(string service, IReadOnlyDictionary<string, string>? extra = null)
    {
        var s = File.Services[ServiceOf(service)];
        var env = Image.Runtime.Environment(BaseImageEnvironment);
        foreach (var (k, v) in s.Environment) env[k] = v;
        if (extra is not null)
        {
            foreach (var (k, v) in extra) env[k] = v;
        }
        var result = env.ToDictionary(kv => kv.Key, kv => Rewrite(service, kv.Value), StringComparer.Ordinal);
        var home = Path.Combine(Directory, "rootfs", service, "home");
        System.IO.Directory.CreateDirectory(home);
        result["HOME"] = home;
        result["DOTNET_ROOT"] = LocalProcess.DotnetRoot;
        return result;
    }

    /// <summary>The image's ENTRYPOINT script in the repository (the file the Dockerfile copies to it).</summary>
    public string EntrypointScript()
    {
        var entry = Image.Runtime.Exec("ENTRYPOINT")[0];
        var copy = Image.Runtime.Copies.Single(c => c.From is null && (c.Destination == entry || c.Destination.EndsWith("/" + entry, StringComparison.Ordinal)));
        return Path.Combine(Repo.Root, copy.Sources.Single());
    }

    /// <summary>
    /// Starts one of our services (or one replica of it, <c>service.slot</c>, with its own ports, working directory and
    /// <c>{{.Task.Slot}}</c>) as <c>sh ENTRYPOINT COMMAND</c> in its working directory.
    /// </summary>
    public LocalProcess StartVarpulis(string service, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        Allocate(service);
        var s = File.Services[ServiceOf(service)];
        var command = RewriteCommand(service, s.Command);
        var env = Environment(service, extraEnvironment);
        var workdir = Paths(service)[Image.Runtime.All("WORKDIR").Last().Arguments];
        var p = LocalProcess.Start(service, "/bin/sh", [EntrypointScript(), .. command], env, workdir);
        Track(p);
        return p;
    }

    /// <summary>Runs the service's healthcheck command as Docker would inside its container: its exit code and output.</summary>
    public Task<(int ExitCode, string Output)> HealthcheckAsync(string service) => ExecAsync(service, File.Services[ServiceOf(service)].HealthcheckTest);

    /// <summary><c>docker exec CONTAINER COMMAND</c>: the command in the service's environment (no entrypoint), found on its PATH.</summary>
    public Task<(int ExitCode, string Output)> ExecAsync(string service, IReadOnlyList<string> command)
    {
        var rewritten = RewriteCommand(service, command);
        var env = Environment(service);
        return LocalProcess.RunAsync(Which(rewritten[0], env["PATH"]), rewritten.Skip(1), env, timeout: TimeSpan.FromSeconds(60));
    }

    // ------------------------------------------------------------------ third-party services, from Debian

    /// <summary>
    /// PostgreSQL: a Debian server of the test's (<paramref name="pg"/>) with the database, user and password the
    /// service's environment asks the postgres image for; the service's port then leads to it.
    /// </summary>
    public async Task StartPostgresAsync(PostgresServer pg, string service = "postgres")
    {
        var env = File.Services[service].Environment;
        var connection = new NpgsqlConnectionStringBuilder(await pg.CreateDatabaseAsync());
        var user = env.GetValueOrDefault("POSTGRES_USER", "postgres");
        var database = env.GetValueOrDefault("POSTGRES_DB", user);
        var password = env.TryGetValue("POSTGRES_PASSWORD", out var pw) ? pw : System.IO.File.ReadAllText(Rewrite(service, env["POSTGRES_PASSWORD_FILE"])).TrimEnd('\n');
        await using (var conn = new NpgsqlConnection(connection.ConnectionString))
        {
            await conn.OpenAsync();
            await Execute(conn, $"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password.Replace("'", "''", StringComparison.Ordinal)}'");
            await Execute(conn, $"CREATE DATABASE \"{database}\" OWNER \"{user}\"");
        }
        Bind(service, 5432, connection.Port);
    }

    private static async Task Execute(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Debian's mosquitto with the service's command and its (copied) config; the listener on the service's free port.</summary>
    public async Task<LocalProcess> StartMosquittoAsync(string service = "mosquitto")
    {
        var s = File.Services[service];
        var command = RewriteCommand(service, s.Command).ToList();
        int config = command.IndexOf("-c") + 1;
        var text = await System.IO.File.ReadAllTextAsync(command[config]);
        text = Listener().Replace(text, m => $"listener {HostPort(service, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))} 127.0.0.1");
        // Debian's mosquitto started as root switches to the mosquitto user unless told to stay.
        if (System.Environment.UserName == "root") text += "\nuser root\n";
        await System.IO.File.WriteAllTextAsync(command[config], text);
        var p = LocalProcess.Start(service, DebianTools.Mosquitto, command.Skip(1), new Dictionary<string, string> { ["PATH"] = "/usr/sbin:/usr/bin:/bin" }, Directory);
        Track(p);
        await LocalProcess.WaitForAsync("mosquitto listening", () => Task.FromResult(Listening(HostPort(service, s.Expose[0]))), TimeSpan.FromSeconds(30), () => p.Output);
        return p;
    }

    /// <summary>
    /// Debian's Prometheus with the service's command (its mounted files copied and rewritten; <paramref name="adjust"/>
    /// may change a copy, by file name) listening on the service's free port.
    /// </summary>
    public async Task<LocalProcess> StartPrometheusAsync(Func<string, string, string>? adjust = null, string service = "prometheus")
    {
        var s = File.Services[service];
        var command = RewriteCommand(service, s.Command).ToList();
        foreach (var (_, target) in s.Volumes)
        {
            var copy = Paths(service)[target];
            if (!System.IO.Directory.Exists(copy) || adjust is null) continue;
            foreach (var f in System.IO.Directory.GetFiles(copy))
                await System.IO.File.WriteAllTextAsync(f, adjust(Path.GetFileName(f), await System.IO.File.ReadAllTextAsync(f)));
        }
        command.Add($"--web.listen-address=127.0.0.1:{HostPort(service, 9090)}");
        var p = LocalProcess.Start(service, DebianTools.Prometheus, command, new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, Directory);
        Track(p);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await LocalProcess.WaitForAsync("Prometheus ready", async () =>
        {
            if (p.HasExited) throw new InvalidOperationException("prometheus exited: " + p.Output);
            using var r = await http.GetAsync(new Uri(Url(service, 9090), "/-/ready"));
            return r.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(60), () => p.Output);
        return p;
    }

    public static bool Listening(int port)
    {
        try
        {
            using var c = new System.Net.Sockets.TcpClient();
            c.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>The file a command name runs, looked up in <paramref name="path"/> as a shell would.</summary>
    public static string Which(string command, string path)
    {
        if (command.Contains('/', StringComparison.Ordinal)) return command;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (System.IO.File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{command} is not on the PATH {path}");
    }

    /// <summary>
    /// A secret as <c>docker secret create NAME</c> would hold it, for the services that mount it (its service host
    /// names and ports rewritten like any mounted file).
    /// </summary>
    public void WriteSecret(string name, string value)
    {
        var path = Path.Combine(Directory, "secrets", name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, RewriteHosts(null, value));
    }

    /// <summary>Every process's output, for a failing test's message.</summary>
    public string Logs()
    {
        var sb = new StringBuilder();
        foreach (var p in Processes) sb.Append("---- ").Append(p.Name).Append(" (pid ").Append(p.Pid).Append(")\n").Append(p.Output);
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in Processes) await p.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Track(LocalProcess p)
    {
        lock (_gate) _processes.Add(p);
    }

    [GeneratedRegex(@"\b(?<host>[A-Za-z][A-Za-z0-9_.-]*|127\.0\.0\.1|0\.0\.0\.0):(?<port>\d{2,5})\b")]
    private static partial Regex HostPort();

    [GeneratedRegex(@"Host=(?<host>[A-Za-z0-9_.-]+)(;Port=(?<port>\d+))?")]
    private static partial Regex ConnectionHost();

    [GeneratedRegex(@"^listener (\d+)\b.*$", RegexOptions.Multiline)]
    private static partial Regex Listener();
}
