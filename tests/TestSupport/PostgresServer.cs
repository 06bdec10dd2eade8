using System.Diagnostics;
using Npgsql;

namespace Varpulis.TestSupport;

/// <summary>
/// A throwaway PostgreSQL for the persistence suite: <c>VARPULIS_TEST_PG</c> (a connection string) when set, else a
/// server of its own (initdb + pg_ctl in a temporary directory, on a free loopback port, as the <c>postgres</c> user
/// when running as root). Tests are skipped, saying why, only when no PostgreSQL binaries exist. Shared by the test
/// projects (linked from tests/TestSupport).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string? _dataDir;
    private string? _binDir;
    private string _adminConnection = "";

    public static string? BinDir { get; } = FindBinDir();

    public static string? SkipReason => Environment.GetEnvironmentVariable("VARPULIS_TEST_PG") is { Length: > 0 } || BinDir is not null
        ? null
        : "PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's postgresql package or set VARPULIS_TEST_PG";

    /// <summary>
    /// Runs <paramref name="body"/> with the environment that points a coordinator's journal at a new database of a
    /// throwaway server (<c>VARPULIS_PERSISTENCE_PROVIDER</c>, <c>VARPULIS_PERSISTENCE_CONNECTION</c>), then stops it.
    /// </summary>
    public static async Task WithJournalAsync(Func<IDictionary<string, string>, Task> body)
    {
        var pg = new PostgresServer();
        await pg.InitializeAsync();
        try
        {
            var connection = await pg.CreateDatabaseAsync();
            await body(new Dictionary<string, string>
            {
                ["VARPULIS_PERSISTENCE_PROVIDER"] = "postgresql",
                ["VARPULIS_PERSISTENCE_CONNECTION"] = connection,
            });
        }
        finally
        {
            await pg.DisposeAsync();
        }
    }

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable("VARPULIS_TEST_PG");
        if (!string.IsNullOrEmpty(external))
        {
            _adminConnection = external;
            return;
        }
        if (BinDir is null) return;
        _binDir = BinDir;
        _dataDir = Path.Combine(Path.GetTempPath(), "varpulis-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(_dataDir);
        bool root = Environment.UserName == "root";
        if (root) await Run("chown", "-R", "postgres:postgres", _dataDir);
        int port = FreePort();
        await AsPostgres(root, $"{_binDir}/initdb -D {_dataDir}/data -A trust -U postgres --no-sync -E UTF8");
        await AsPostgres(root,
            $"{_binDir}/pg_ctl -D {_dataDir}/data -l {_dataDir}/log.txt -w -t 60 -o \"-p {port} -k {_dataDir} -c listen_addresses=127.0.0.1 -c fsync=off\" start");
        _adminConnection = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    /// <summary>A new empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "varpulis_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(_adminConnection))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(_adminConnection) { Database = name }.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_dataDir is null) return;
        await AsPostgres(Environment.UserName == "root", $"{_binDir}/pg_ctl -D {_dataDir}/data -m immediate -w stop");
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string? FindBinDir()
    {
        var root = "/usr/lib/postgresql";
        if (Directory.Exists(root))
        {
            foreach (var dir in Directory.GetDirectories(root).OrderByDescending(d => d, StringComparer.Ordinal))
            {
                if (File.Exists(Path.Combine(dir, "bin", "initdb")) && File.Exists(Path.Combine(dir, "bin", "pg_ctl"))) return Path.Combine(dir, "bin");
            }
        }
        foreach (var p in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            if (File.Exists(Path.Combine(p, "initdb")) && File.Exists(Path.Combine(p, "pg_ctl"))) return p;
        }
        return null;
    }

    private static Task AsPostgres(bool root, string command)
        => root ? Run("su", "postgres", "-s", "/bin/sh", "-c", command) : Run("/bin/sh", "-c", command);

    private static async Task Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stdout} {await stderr}");
    }
}

/// <summary>A fact that needs PostgreSQL; skipped with the reason when no PostgreSQL can be had.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.SkipReason is { } reason) Skip = reason;
    }
}
