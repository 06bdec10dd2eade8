namespace Varpulis.Deploy.Tests.Support;

/// <summary>Paths of the repository under test: its root (where the solution is) and the deployment directory.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary><c>deploy/docker</c>: the runbook's path, the real directory.</summary>
    public static string DeployDocker => Path.Combine(Root, "deploy", "docker");

    /// <summary><c>docker</c>: the architecture's path, the same directory.</summary>
    public static string Docker => Path.Combine(Root, "docker");

    public static string File(params string[] parts) => Path.Combine([DeployDocker, .. parts]);

    /// <summary>The directory of the built <c>varpulis</c> executable (the test's output, which has the Host's apphost).</summary>
    public static string BinDirectory => AppContext.BaseDirectory;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Varpulis.Akka.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("the repository root (Varpulis.Akka.sln) is not above " + AppContext.BaseDirectory);
    }
}
