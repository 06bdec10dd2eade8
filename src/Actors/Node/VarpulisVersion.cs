using System.Reflection;

namespace Varpulis.Actors.Node;

/// <summary>The product version shown by <c>/health</c> and <c>--version</c>.</summary>
public static class VarpulisVersion
{
    public static string Current { get; } =
        typeof(VarpulisVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";
}
