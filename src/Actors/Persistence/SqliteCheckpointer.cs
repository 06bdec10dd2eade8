using Akka.Actor;
using Akka.Event;
using Microsoft.Data.Sqlite;

namespace Varpulis.Actors.Persistence;

/// <summary>
/// Checkpoints the SQLite write-ahead logs of the node's databases every second, off the write path. SQLite's
/// automatic checkpoint runs inside the commit that crosses its threshold; measured under 1,000 single-event
/// requests/s it stalled that commit and the writes queued behind it by 5–10 ms every few hundred commits
/// (docs/performance.md, "Server"). Each round first copies the log into the database with a PASSIVE
/// checkpoint, which runs beside the writer; then a TRUNCATE checkpoint, which briefly holds the write lock,
/// copies the few frames written meanwhile and empties the log. Under steady writes a PASSIVE checkpoint alone
/// never catches up with the writer, so the log would grow without bound.
/// </summary>
internal static class SqliteCheckpointer
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static void Start(ActorSystem system, IReadOnlyList<string> connectionStrings)
    {
        int running = 0;
        var timer = system.Scheduler.Advanced.ScheduleRepeatedlyCancelable(Interval, Interval, () =>
        {
            // Never overlap, never block the scheduler thread.
            if (Interlocked.Exchange(ref running, 1) == 1) return;
            Task.Run(() =>
            {
                try
                {
                    foreach (var cs in connectionStrings) Checkpoint(cs);
                }
                catch (SqliteException ex)
                {
                    system.Log.Warning("WAL checkpoint failed: {0}", ex.Message);
                }
                finally
                {
                    Volatile.Write(ref running, 0);
                }
            });
        });
        system.RegisterOnTermination(() =>
        {
            timer.Cancel();
            foreach (var cs in connectionStrings)
            {
                try
                {
                    Checkpoint(cs);
                }
                catch (SqliteException)
                {
                    // Shutting down: the next start replays the WAL.
                }
            }
        });
    }

    private static void Checkpoint(string connectionString)
    {
        using var conn = new SqliteConnection(connectionString);
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=1000; PRAGMA wal_checkpoint(PASSIVE); PRAGMA wal_checkpoint(TRUNCATE);";
        cmd.ExecuteNonQuery();
    }
}
