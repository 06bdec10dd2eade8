using System.Globalization;

namespace Varpulis.Pbm.Tests;

/// <summary>What pbm says when it cannot do anything: no node there, a bad command line; and the executable's exit codes.</summary>
public sealed class PbmUsageTests
{
    [Fact]
    public async Task ARefusedConnectionIsOneClearLineAndExit3()
    {
        var target = "127.0.0.1:" + ServerProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        Assert.Equal(new PbmRun(3, "", $"pbm: cannot reach {target}: connection refused (is a Varpulis node serving its management port there? see --management-port)\n"),
            await PbmNode.RunAsync([target, "cluster", "show"]));
    }

    [Fact]
    public async Task CommandLineMistakesExit2()
    {
        Assert.Equal(new PbmRun(2, "", "pbm: give the node first: pbm HOST:PORT COMMAND, e.g. pbm 127.0.0.1:8558 cluster show\n"),
            await PbmNode.RunAsync(["cluster", "show"]));
        Assert.Equal(new PbmRun(2, "", "pbm: 'http://h:1/x' is not a node address: give HOST:PORT, e.g. 127.0.0.1:8558\n"),
            await PbmNode.RunAsync(["http://h:1/x", "cluster", "show"]));
        Assert.Equal(new PbmRun(2, "", "pbm: --timeout must be a positive number of seconds\n"),
            await PbmNode.RunAsync(["127.0.0.1:1", "--timeout", "0", "cluster", "show"]));
        var missing = await PbmNode.RunAsync(["127.0.0.1:1", "cluster"]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("pbm: Required command was not provided.\nusage: pbm HOST:PORT [--api-key KEY] [--json] COMMAND   (pbm --help lists the commands)\n", missing.Stderr);
    }

    [Theory]
    [InlineData("10.0.0.5:9000", "http://10.0.0.5:9000/")]
    [InlineData("10.0.0.5", "http://10.0.0.5:8558/")]
    [InlineData("[::1]:9000", "http://[::1]:9000/")]
    [InlineData("http://node-1:8600", "http://node-1:8600/")]
    public void TargetsAreHostAndPort(string target, string address)
    {
        Assert.Equal(new Uri(address), PbmGlobals.BaseAddress(target));
    }

    [Fact]
    public async Task TheExecutableWritesResultsToStdoutErrorsToStderrAndExitsWithTheCode()
    {
        await using var node = await PbmNode.StartAsync();
        Assert.Equal(new PbmRun(0, node.Address + "\n", ""), await PbmNode.RunExecutableAsync(node.Target, "--api-key", PbmNode.Key, "cluster", "leader"));
        Assert.Equal(new PbmRun(4, "", $"pbm: {node.Target} refused the request: invalid API key (give the node's admin key with --api-key or VARPULIS_API_KEY)\n"),
            await PbmNode.RunExecutableAsync(node.Target, "--api-key", "nope", "cluster", "leader"));
    }
}

/// <summary><c>cluster leave</c> and <c>cluster down</c> of the node itself: it answers, then leaves the cluster and stops.</summary>
public sealed class PbmMembershipTests
{
    [Theory]
    [InlineData("leave", "Leaving")]
    [InlineData("down", "Downing")]
    public async Task TheNodeAnswersThenStops(string command, string verb)
    {
        await using var node = await PbmNode.StartAsync();
        Assert.Equal(new PbmRun(0, $"{verb} {node.Address}\n", ""), await node.PbmAsync("cluster", command, node.Address));
        await node.Process.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(node.Process.HasExited);
    }
}
