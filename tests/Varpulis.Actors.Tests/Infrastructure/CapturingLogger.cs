using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Varpulis.Actors.Tests.Infrastructure;

/// <summary>One captured log line.</summary>
public sealed record LogLine(LogLevel Level, string Category, string Message);

/// <summary>A logger factory that keeps every line (at every level), for tests that check log messages.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<LogLine> Lines { get; } = new();

    public IReadOnlyList<LogLine> Matching(string text) => Lines.Where(l => l.Message.Contains(text, StringComparison.Ordinal)).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Lines.Enqueue(new LogLine(logLevel, category, formatter(state, exception)));
    }
}

public static class Eventually
{
    /// <summary>Waits for <paramref name="condition"/> (generous timeout for a loaded machine); fails with <paramref name="what"/>.</summary>
    public static async Task True(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting for " + what);
            await Task.Delay(20);
        }
    }
}
