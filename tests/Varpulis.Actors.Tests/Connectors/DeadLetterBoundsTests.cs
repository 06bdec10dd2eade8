using Varpulis.Actors.Connectors.DeadLetters;
using Varpulis.Actors.Pipelines;

namespace Varpulis.Actors.Tests.Connectors;

/// <summary>
/// The two bounds of a pipeline's DLQ (<see cref="DeadLetterBounds"/>): the letters on their way to its journal
/// (<c>server.dlq_backlog_limit</c>) and the letters it holds (<c>server.dlq_max_events</c>); at either the pipeline
/// refuses new events, with the reason, until the count is under the bound again.
/// </summary>
public sealed class DeadLetterBoundsTests
{
    [Fact]
    public void APipelineTakesEventsUntilItsDlqHoldsTheMaximumAndAgainOnceItHoldsLess()
    {
        var bounds = new DeadLetterBounds("p-held", backlogLimit: 100, maxHeld: 5);
        Assert.Null(bounds.Refusal());
        bounds.Hold(4);
        Assert.Null(bounds.Refusal());

        bounds.Hold(5);
        Assert.Equal(
            new PipelineError("dlq_full", "pipeline 'p-held' takes no events while its dead-letter queue holds 5 events (server.dlq_max_events = 5): replay or clear it (varpulis dlq replay / varpulis dlq clear, POST /api/v1/pipelines/p-held/dlq/replay / DELETE /api/v1/pipelines/p-held/dlq)"),
            bounds.Refusal());
        // Letters of events already accepted pushed it past the bound: the message says how many it holds.
        bounds.Hold(1_234_567);
        Assert.Equal(
            "pipeline 'p-held' takes no events while its dead-letter queue holds 1234567 events (server.dlq_max_events = 5): replay or clear it (varpulis dlq replay / varpulis dlq clear, POST /api/v1/pipelines/p-held/dlq/replay / DELETE /api/v1/pipelines/p-held/dlq)",
            bounds.Refusal()!.Message);
        Assert.Equal(1_234_567, bounds.Held);

        // A replay or a clear brought it under the bound.
        bounds.Hold(4);
        Assert.Null(bounds.Refusal());
        bounds.Unpublish();
    }

    [Fact]
    public void APipelineTakesEventsUntilItsDlqBacklogIsAtItsLimitAndAgainOnceTheJournalCaughtUp()
    {
        var bounds = new DeadLetterBounds("p-backlog", backlogLimit: 10, maxHeld: 1000);
        bounds.Handed(6);
        bounds.Handed(3);
        Assert.Equal(9, bounds.Backlog);
        Assert.Null(bounds.Refusal());

        bounds.Handed(4);
        Assert.Equal(
            new PipelineError("dlq_backlog_full", "pipeline 'p-backlog' takes no events while its dead-letter queue has 10 or more events waiting to be written (server.dlq_backlog_limit)"),
            bounds.Refusal());

        bounds.Written(6);
        Assert.Equal(7, bounds.Backlog);
        Assert.Null(bounds.Refusal());
        bounds.Unpublish();
    }

    [Fact]
    public void AFullDlqIsTheReasonGivenWhenBothBoundsAreReached()
    {
        // The backlog drains by itself; a full DLQ needs someone to replay or clear it: that is what the client is told.
        var bounds = new DeadLetterBounds("p-both", backlogLimit: 2, maxHeld: 3);
        bounds.Handed(2);
        bounds.Hold(3);
        Assert.Equal(PipelineError.DeadLetterQueueFullCode, bounds.Refusal()!.Code);
        bounds.Hold(0);
        Assert.Equal(PipelineError.DeadLetterBacklogCode, bounds.Refusal()!.Code);
        Assert.True(PipelineError.IsDeadLetterRefusal("dlq_full"));
        Assert.True(PipelineError.IsDeadLetterRefusal("dlq_backlog_full"));
        Assert.False(PipelineError.IsDeadLetterRefusal("unavailable"));
        bounds.Unpublish();
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, 0)]
    [InlineData(-1, 10)]
    public void NonPositiveBoundsAreRefused(long backlogLimit, long maxHeld)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new DeadLetterBounds("p-bad", backlogLimit, maxHeld));
}
