using System.Globalization;

namespace Varpulis.Pbm.Tests;

/// <summary><c>pbm ... cluster ...</c> against a running <c>varpulis server</c> (a cluster of one): exact output.</summary>
public sealed class ClusterCommandTests(PbmNodeFixture f) : IClassFixture<PbmNodeFixture>
{
    private PbmNode Node => f.Node;

    [Fact]
    public async Task ShowListsTheNodeWithItsRoleAndStatus()
    {
        var a = Node.Address;
        var run = await Node.PbmAsync("cluster", "show");
        Assert.Equal(new PbmRun(0,
            $"{"ADDRESS".PadRight(a.Length)}  STATUS  ROLES               WORKER-ID  REACHABLE\n" +
            $"{a}  Up      coordinator,worker  -          yes\n" +
            $"Count: 1 member; leader {a}\n", ""), run);
    }

    [Fact]
    public async Task ShowAsJsonIsTheNodesAnswerIndented()
    {
        var a = Node.Address;
        var run = await Node.PbmAsync("cluster", "show", "--json");
        Assert.Equal(0, run.ExitCode);
        var uid = run.Stdout.Split("\"nodeUid\": \"")[1].Split('"')[0];
        Assert.True(long.TryParse(uid, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _), uid);
        Assert.Equal(
            "{\n" +
            $"  \"selfNode\": \"{a}\",\n" +
            "  \"members\": [\n" +
            "    {\n" +
            $"      \"node\": \"{a}\",\n" +
            $"      \"nodeUid\": \"{uid}\",\n" +
            "      \"status\": \"Up\",\n" +
            "      \"roles\": [\n" +
            "        \"coordinator\",\n" +
            "        \"worker\"\n" +
            "      ]\n" +
            "    }\n" +
            "  ],\n" +
            "  \"unreachable\": [],\n" +
            $"  \"leader\": \"{a}\",\n" +
            $"  \"oldest\": \"{a}\",\n" +
            "  \"oldestPerRole\": {\n" +
            $"    \"coordinator\": \"{a}\",\n" +
            $"    \"worker\": \"{a}\"\n" +
            "  }\n" +
            "}\n", run.Stdout);
    }

    [Fact]
    public async Task LeaderPrintsTheLeadersAddress()
    {
        Assert.Equal(new PbmRun(0, Node.Address + "\n", ""), await Node.PbmAsync("cluster", "leader"));
        Assert.Equal(new PbmRun(0, $"{{\n  \"leader\": \"{Node.Address}\"\n}}\n", ""), await Node.PbmAsync("--json", "cluster", "leader"));
    }

    [Fact]
    public async Task JoinAnswersWithTheNodesMessage()
    {
        // The node is a member already, so joining its own cluster changes nothing.
        Assert.Equal(new PbmRun(0, $"Joining {Node.Address}\n", ""), await Node.PbmAsync("cluster", "join", Node.Address));
        Assert.Equal(new PbmRun(1, "", "pbm: 'nowhere' is not an Akka address: expected protocol://system@host:port, e.g. akka.tcp://varpulis@10.0.0.1:4053 (400 invalid_request)\n"),
            await Node.PbmAsync("cluster", "join", "nowhere"));
    }

    [Fact]
    public async Task DownUnreachableWithNoneUnreachableSaysSo()
    {
        Assert.Equal(new PbmRun(0, "No unreachable members\n", ""), await Node.PbmAsync("cluster", "down-unreachable"));
        Assert.Equal(new PbmRun(0, "{\n  \"downed\": []\n}\n", ""), await Node.PbmAsync("cluster", "down-unreachable", "--json"));
    }

    [Theory]
    [InlineData("leave")]
    [InlineData("down")]
    public async Task LeaveOrDownOfAnUnknownMemberIsRefused(string command)
    {
        Assert.Equal(new PbmRun(1, "", "pbm: Member [10.9.9.9:4053] not found (404 member_not_found)\n"), await Node.PbmAsync("cluster", command, "10.9.9.9:4053"));
    }

    [Fact]
    public async Task TheKeyComesFromTheFlagOrVarpulisApiKey()
    {
        var env = new Dictionary<string, string> { ["VARPULIS_API_KEY"] = PbmNode.Key };
        Assert.Equal(new PbmRun(0, Node.Address + "\n", ""), await PbmNode.RunAsync([Node.Target, "cluster", "leader"], env));
        // The flag wins over the environment.
        Assert.Equal(4, (await PbmNode.RunAsync([Node.Target, "--api-key", "other", "cluster", "leader"], env)).ExitCode);
    }

    [Fact]
    public async Task AWrongOrMissingKeyIsOneClearLineAndExit4()
    {
        Assert.Equal(new PbmRun(4, "", $"pbm: {Node.Target} refused the request: invalid API key (give the node's admin key with --api-key or VARPULIS_API_KEY)\n"),
            await PbmNode.RunAsync([Node.Target, "--api-key", "wrong", "cluster", "show"]));
        Assert.Equal(new PbmRun(4, "", $"pbm: {Node.Target} refused the request: missing API key: send it in the x-api-key header (give the node's admin key with --api-key or VARPULIS_API_KEY)\n"),
            await PbmNode.RunAsync([Node.Target, "cluster", "show"]));
    }
}
