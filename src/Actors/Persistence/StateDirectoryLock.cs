using System.Globalization;
using System.Text;

namespace Varpulis.Actors.Persistence;

/// <summary>
/// One process per state directory: an operating-system lock on <c>STATE_DIR/varpulis.lock</c>, held from startup to
/// disposal (the process's life), with the holder's PID written in the file (<c>cat varpulis.lock</c>). A second
/// server or coordinator on the same directory fails to acquire it and is told the directory and the holder's PID.
/// The lock is a POSIX record lock (<see cref="FileStream.Lock"/>), which the kernel drops when the process dies,
/// <c>kill -9</c> included: a stale file never blocks a restart. Record locks do not exclude each other inside one
/// process, so the directories locked by this process are also remembered here.
/// </summary>
public sealed class StateDirectoryLock : IDisposable
{
    public const string FileName = "varpulis.lock";

    private static readonly HashSet<string> HeldHere = new(StringComparer.Ordinal);

    private FileStream? _file;

    private StateDirectoryLock(string directory, FileStream file)
    {
        Directory = directory;
        _file = file;
    }

    /// <summary>The full path of the locked directory.</summary>
    public string Directory { get; }

    /// <summary>
    /// Creates the directory if needed and takes its lock. Throws <see cref="StateDirectoryException"/> with a one-line
    /// message when the directory cannot be created or written, or when another process (or this one) holds it.
    /// </summary>
    public static StateDirectoryLock Acquire(string stateDir)
    {
        var dir = Path.GetFullPath(stateDir);
        var path = Path.Combine(dir, FileName);
        lock (HeldHere)
        {
            if (HeldHere.Contains(dir)) throw InUse(dir, Environment.ProcessId);
            FileStream file;
            try
            {
                System.IO.Directory.CreateDirectory(dir);
                file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw NotWritable(dir, ex);
            }
            try
            {
                // macOS (a development platform only) has no FileStream.Lock: there the lock guards this process only.
                if (!OperatingSystem.IsMacOS()) file.Lock(0, 1);
            }
            catch (IOException)
            {
                int? holder = ReadPid(file);
                file.Dispose();
                throw InUse(dir, holder);
            }
            try
            {
                file.SetLength(0);
                file.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
                file.Flush(flushToDisk: false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                file.Dispose();
                throw NotWritable(dir, ex);
            }
            HeldHere.Add(dir);
            return new StateDirectoryLock(dir, file);
        }
    }

    /// <summary>Checks that existing files of the directory can be written (a restore from a backup made by another user).</summary>
    public void RequireWritable(IEnumerable<string> fileNames)
    {
        foreach (var name in fileNames)
        {
            var path = Path.Combine(Directory, name);
            if (!File.Exists(path)) continue;
            try
            {
                using var _ = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new StateDirectoryException(
                    $"state file '{path}' is not writable by user '{Environment.UserName}': {OneLine(ex.Message)}");
            }
        }
    }

    public void Dispose()
    {
        lock (HeldHere)
        {
            if (_file is null) return;
            // Closing the file releases the record lock; the PID is cleared so the file does not name a dead process.
            try
            {
                _file.SetLength(0);
            }
            catch (IOException)
            {
            }
            _file.Dispose();
            _file = null;
            HeldHere.Remove(Directory);
        }
    }

    private static int? ReadPid(FileStream file)
    {
        try
        {
            file.Position = 0;
            var buffer = new byte[32];
            int n = file.Read(buffer);
            return int.TryParse(Encoding.ASCII.GetString(buffer, 0, n).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static StateDirectoryException InUse(string dir, int? pid)
        => new($"state directory '{dir}' is in use by another Varpulis process ({(pid is { } p ? "PID " + p.ToString(CultureInfo.InvariantCulture) : "PID unknown")}): " +
               "stop it, or give this one another --state-dir");

    private static StateDirectoryException NotWritable(string dir, Exception ex)
        => new($"state directory '{dir}' is not writable by user '{Environment.UserName}': {OneLine(ex.Message)}");

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}

/// <summary>The state directory cannot be used: locked by another process, or not writable. The message is one line.</summary>
public sealed class StateDirectoryException(string message) : Exception(message);
