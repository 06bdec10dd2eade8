using System.Globalization;
using System.Text;

namespace Varpulis.Actors.Cluster.Raft;

/// <summary>
/// A coordinator's durable copy of the replicated coordinator state: one file per record under
/// <c>RAFT_DATA_DIR/coordinator-state/</c>, named after its key (<c>journal%2Fvarpulis-directory.state</c>). A file is a
/// text header line <c>varpulis-coordinator-state 1 GENERATION SEQUENCE LENGTH KEY</c> followed by LENGTH bytes of
/// data. A record is replaced only by a newer version, written to a temporary file, flushed to disk (fsync) and renamed
/// over the old one (atomic), so a crash leaves either the old or the new record. Not thread-safe: its keeper calls it.
/// </summary>
public sealed class CoordinatorStateFiles
{
    public const string DirectoryName = "coordinator-state";
    private const string Magic = "varpulis-coordinator-state";
    private const string Extension = ".state";

    private readonly Dictionary<string, (StateVersion Version, byte[] Data)> _records = new(StringComparer.Ordinal);

    private CoordinatorStateFiles(string dir) => Directory = dir;

    /// <summary>The directory of the record files.</summary>
    public string Directory { get; }

    /// <summary>The newest version of any record here (zero when there is none): the data directory's version.</summary>
    public StateVersion Latest { get; private set; } = StateVersion.Zero;

    public int Count => _records.Count;

    /// <summary>Opens (creating it if needed) <c>DATA_DIR/coordinator-state</c> and reads every record; <paramref name="problems"/> lists the files it skipped.</summary>
    public static CoordinatorStateFiles Open(string dataDir, out IReadOnlyList<string> problems)
    {
        var dir = Path.Combine(Path.GetFullPath(dataDir), DirectoryName);
        System.IO.Directory.CreateDirectory(dir);
        var files = new CoordinatorStateFiles(dir);
        var skipped = new List<string>();
        foreach (var tmp in System.IO.Directory.EnumerateFiles(dir, "*.tmp")) File.Delete(tmp);
        foreach (var path in System.IO.Directory.EnumerateFiles(dir, "*" + Extension).Order(StringComparer.Ordinal))
        {
            if (TryRead(path, out var key, out var version, out var data, out var problem))
            {
                files._records[key] = (version, data);
                files.Latest = StateVersion.Max(files.Latest, version);
            }
            else
            {
                skipped.Add($"{path}: {problem}");
            }
        }
        problems = skipped;
        return files;
    }

    /// <summary>The record's version and data; zero and empty when there is none.</summary>
    public (StateVersion Version, byte[] Data) Get(string key)
        => _records.TryGetValue(key, out var r) ? r : (StateVersion.Zero, []);

    public IReadOnlyDictionary<string, StateVersion> Versions() => _records.ToDictionary(kv => kv.Key, kv => kv.Value.Version, StringComparer.Ordinal);

    /// <summary>Stores the record if <paramref name="version"/> is newer than the stored one (then it is on disk when this returns); returns whether it did and the version now stored.</summary>
    public (bool Accepted, StateVersion Stored) Put(string key, StateVersion version, byte[] data)
    {
        var current = Get(key).Version;
        if (version <= current) return (false, current);
        var path = PathOf(key);
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            var header = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{Magic} 1 {version.Generation} {version.Sequence} {data.Length} {key}\n"));
            fs.Write(header);
            fs.Write(data);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        _records[key] = (version, data);
        Latest = StateVersion.Max(Latest, version);
        return (true, version);
    }

    /// <summary>The file of a record: its key, escaped for a file name.</summary>
    public string PathOf(string key) => Path.Combine(Directory, Uri.EscapeDataString(key) + Extension);

    /// <summary>Reads one record file: its key, version and data, or why it cannot.</summary>
    public static bool TryRead(string path, out string key, out StateVersion version, out byte[] data, out string problem)
    {
        key = "";
        version = StateVersion.Zero;
        data = [];
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            problem = ex.Message;
            return false;
        }
        int eol = Array.IndexOf(bytes, (byte)'\n');
        if (eol < 0)
        {
            problem = "no header line";
            return false;
        }
        var parts = Encoding.UTF8.GetString(bytes, 0, eol).Split(' ', 6);
        if (parts.Length != 6 || parts[0] != Magic || parts[1] != "1"
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long generation)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long sequence)
            || !int.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out int length))
        {
            problem = "not a coordinator state file";
            return false;
        }
        if (bytes.Length - eol - 1 != length)
        {
            problem = $"{bytes.Length - eol - 1} bytes of data, the header says {length}";
            return false;
        }
        key = parts[5];
        version = new StateVersion(generation, sequence);
        data = bytes.AsSpan(eol + 1).ToArray();
        problem = "";
        return true;
    }
}
