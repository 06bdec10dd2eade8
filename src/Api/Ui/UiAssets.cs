using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace Varpulis.Api.Ui;

/// <summary>
/// The web UI's files, embedded in this assembly at build time (<c>Ui/wwwroot/**</c>, no JavaScript toolchain), loaded
/// once with their content type and a strong ETag.
/// </summary>
public sealed class UiAssets
{
    /// <summary>The prefix of the UI's manifest resource names (set by the <c>EmbeddedResource</c> item of the project).</summary>
    public const string ResourcePrefix = "varpulis-ui/";

    private readonly FrozenDictionary<string, UiAsset> _files;

    private UiAssets(FrozenDictionary<string, UiAsset> files) => _files = files;

    /// <summary>The UI files of this assembly.</summary>
    public static UiAssets Embedded { get; } = Load(typeof(UiAssets).Assembly);

    /// <summary>The relative paths of every file (<c>index.html</c>, <c>js/app.js</c>, ...).</summary>
    public IEnumerable<string> Paths => _files.Keys;

    public bool TryGet(string path, out UiAsset asset) => _files.TryGetValue(path, out asset!);

    private static UiAssets Load(Assembly assembly)
    {
        var files = new Dictionary<string, UiAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..20] + "\"";
            files[path] = new UiAsset(bytes, ContentTypeOf(path), etag);
        }
        return new UiAssets(files.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json; charset=utf-8",
        _ => "application/octet-stream",
    };
}

/// <summary>One embedded UI file.</summary>
public sealed record UiAsset(byte[] Content, string ContentType, string ETag);
