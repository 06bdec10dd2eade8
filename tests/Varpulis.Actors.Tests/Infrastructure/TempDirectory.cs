namespace Varpulis.Actors.Tests.Infrastructure;

/// <summary>A fresh directory under the system's temporary folder, deleted (best effort) on dispose.</summary>
public sealed class TempDirectory(string prefix) : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N")[..10]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
