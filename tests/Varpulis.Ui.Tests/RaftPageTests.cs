using System.Globalization;
using Varpulis.Cluster.Tests.EndToEnd;
using Varpulis.Ui.Tests.Infrastructure;

namespace Varpulis.Ui.Tests;

/// <summary>
/// The High availability section of the Cluster page on three real coordinators started with <c>--raft*</c> (the
/// cluster tests' <see cref="HaRun"/>, runbook §1.3): the page, opened on a follower, shows the leader and the term
/// and every coordinator's id, address, role and reachability; after <c>kill -9</c> of the leader it shows, by itself,
/// the new leader under the next term and the killed coordinator unreachable.
/// </summary>
public sealed class RaftPageTests
{
    [Fact]
    public async Task TheRaftSectionShowsTheLeaderAndItsSuccessorAfterTheLeaderIsKilled()
    {
        await using var run = new HaRun();
        using var browser = Browser.Start();
        try
        {
            await ScenarioAsync(run, browser);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(ex + "\n" + run.Logs());
        }
    }

    private static async Task ScenarioAsync(HaRun run, Browser b)
    {
        foreach (int id in new[] { 1, 2, 3 }) run.LaunchCoordinator(id);
        foreach (int id in new[] { 1, 2, 3 }) await run.Coordinator(id).WaitReadyAsync(TimeSpan.FromSeconds(180));
        var (leader, term) = await run.AgreedLeaderAsync([1, 2, 3]);
        // The page is opened on a follower: it survives the leader's death.
        int viewer = new[] { 1, 2, 3 }.First(i => i != leader);

        b.SignIn(new Uri(run.Url(viewer), "/ui/"), HaRun.CoordinatorKey);
        b.Go("#/cluster");
        b.WaitFor("the Raft leader", () => b.Text("#raft-leader") == $"Leader: coordinator {leader} · term {Str(term)}");
        Assert.Equal(Expected(run, viewer, n => n == leader ? "leader" : "follower", _ => "yes"), RaftRows(b));
        Assert.Equal("follower", b.Text("#ha-role"));
        Assert.Equal("3", b.Text("#ha-coordinators"));
        b.Find("#cluster-auto-refresh").Click(); // the page holds still while it is looked at
        Assert.Empty(b.AccessibilityProblems("cluster with Raft at 1280px"));
        b.Js("window.scrollTo(0, document.getElementById('cluster-ha').offsetTop - 8)");
        b.Screenshot("14-cluster-raft");
        b.Find("#cluster-auto-refresh").Click();
        b.AssertNoConsoleErrors();

        // kill -9 of the leader: the others elect a successor under the next term; the page shows it on its own.
        run.KillCoordinator(leader);
        var left = new[] { 1, 2, 3 }.Where(i => i != leader).ToArray();
        var (next, nextTerm) = await run.AgreedLeaderAsync(left, (l, _) => l != leader);
        Assert.Equal(term + 1, nextTerm);
        b.WaitFor("the new Raft leader", () => b.Text("#raft-leader") == $"Leader: coordinator {next} · term {Str(term + 1)}", TimeSpan.FromSeconds(120));
        b.WaitFor("the killed leader unreachable", () =>
            RaftRows(b).SequenceEqual(Expected(run, viewer, n => n == next ? "leader" : "follower", n => n == leader ? "unreachable" : "yes")), TimeSpan.FromSeconds(120));
        b.WaitFor("this coordinator's role", () => b.Text("#ha-role") == (viewer == next ? "leader" : "follower"));
        // A refresh refused during the election (if one was) showed its error only until the next one succeeded.
        b.WaitFor("no error left in the banner", () => !b.Find("#banner").Displayed);
        b.Js("window.scrollTo(0, document.getElementById('cluster-ha').offsetTop - 8)");
        b.Screenshot("15-cluster-raft-failover");
        AssertOnlyFailoverErrors(b);
    }

    /// <summary>Each row of the Raft table: id (and "(this node)"), address, role, reachable.</summary>
    private static List<string> RaftRows(Browser b)
        => b.Strings("return [...document.querySelectorAll('#raft-table tbody tr')].map(r => [r.querySelector('th').innerText, " +
            "...['address', 'role', 'reachable'].map(c => r.querySelector(`td[data-col=${c}]`).innerText)].join('|'))");

    private static List<string> Expected(HaRun run, int viewer, Func<int, string> role, Func<int, string> reachable)
        => Enumerable.Range(1, 3).Select(n => $"{n}{(n == viewer ? " (this node)" : "")}|http://127.0.0.1:{Str(run.Ports[n - 1])}|{role(n)}|{reachable(n)}").ToList();

    /// <summary>
    /// While the leader is gone, the requests the page makes may be refused with 503 (no leader to answer them yet):
    /// the browser reports those failed requests, and nothing else.
    /// </summary>
    private static void AssertOnlyFailoverErrors(Browser b)
    {
        foreach (var e in b.ConsoleErrors())
            Assert.Contains("Failed to load resource: the server responded with a status of 503 (Service Unavailable)", e);
    }

    private static string Str(long n) => n.ToString(CultureInfo.InvariantCulture);
}
