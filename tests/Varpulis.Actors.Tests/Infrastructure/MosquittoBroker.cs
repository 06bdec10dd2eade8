using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Varpulis.Actors.Tests.Infrastructure;

/// <summary>
/// A throwaway Mosquitto (Debian's <c>mosquitto</c>) on a free loopback port with its own config, persistence
/// and log in a temporary directory; <see cref="RestartAsync"/> stops it gracefully (saving its sessions) and starts
/// it again on the same port. Tests are skipped, saying why, only when the binary is missing.
/// </summary>
public sealed class MosquittoBroker : IAsyncLifetime
{
    private const string Binary = "/usr/sbin/mosquitto";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "varpulis-mosquitto-" + Guid.NewGuid().ToString("N")[..10]);
    private Process? _process;

    public static string? SkipReason => File.Exists(Binary) ? null : "mosquitto not found: apt-get install mosquitto";

    public int Port { get; private set; }

    /// <summary>A TLS listener with this certificate and private key (PEM files) instead of plain TCP.</summary>
    public (string CertFile, string KeyFile)? Tls { get; init; }

    public string LogPath => Path.Combine(_dir, "mosquitto.log");

    public async Task InitializeAsync()
    {
        if (SkipReason is not null) return;
        System.IO.Directory.CreateDirectory(_dir);
        Port = FreePort();
        var tls = Tls is { } t ? $"certfile {t.CertFile}\nkeyfile {t.KeyFile}\n" : "";
        await File.WriteAllTextAsync(Path.Combine(_dir, "mosquitto.conf"), $"""
            listener {Port} 127.0.0.1
            {tls}
            allow_anonymous true
            persistence true
            persistence_location {_dir}/
            autosave_interval 1
            max_queued_messages 0
            max_inflight_messages 0
            log_dest file {LogPath}
            log_type error
            log_type warning
            log_type notice
            log_type information
            user root
            """);
        await StartAsync();
    }

    /// <summary>Stops the broker with SIGTERM (it saves its sessions and queued messages) and starts it again.</summary>
    public async Task RestartAsync(TimeSpan? downtime = null)
    {
        await StopAsync();
        if (downtime is { } d) await Task.Delay(d);
        await StartAsync();
    }

    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        _process.Dispose();
        _process = null;
    }

    private async Task StartAsync()
    {
        _process = Process.Start(new ProcessStartInfo(Binary, ["-c", Path.Combine(_dir, "mosquitto.conf")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>A fact that needs Mosquitto; skipped with the reason when the binary is missing.</summary>
public sealed class MosquittoFactAttribute : FactAttribute
{
    public MosquittoFactAttribute()
    {
        if (MosquittoBroker.SkipReason is { } reason) Skip = reason;
    }
}
