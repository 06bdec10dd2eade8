using Akka.Actor;
using Akka.Event;
using Microsoft.Data.Sqlite;

namespace Varpulis.Actors.Persistence;

/// <summary>
/// Copies the SQLite write-ahead logs of the node's databases into the databases every second, off the write
/// path, with PASSIVE checkpoints (they never block the writer). SQLite's automatic checkpoint runs inside the
/// commit that crosses its threshold: at the default 1,000 pages it stalled that commit and every write queued
/// behind it by 5–10 ms several times a second under 1,000 single-event requests/s. With the copying done
/// here, the writer's own checkpoint (raised to 10,000 pages, see <see cref="VarpulisPersistence"/>) finds
/// little left to copy and only starts the log over, so the log file stays bounded (about 40 MB) without a
/// second connection ever taking the write lock: a writer that meets a lock waits 150 ms in the SQLite
/// provider, which is what RESTART or TRUNCATE checkpoints from here cost.
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

    private const int PassiveRounds = 4;

    private static void Checkpoint(string connectionString)
    {
        using var conn = new SqliteConnection(connectionString);
        conn.Open();
        for (int round = 0; round < PassiveRounds; round++)
        {
            var (log, copied) = Run(conn, "PRAGMA wal_checkpoint(PASSIVE);");
            if (log <= 0 || copied >= log) break;
        }
    }

    /// <summary>Runs a checkpoint pragma; returns the frames in the log and the frames copied into the database.</summary>
    private static (long Log, long Copied) Run(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        long log = 0, copied = 0;
        do
        {
            while (reader.Read())
            {
                if (reader.FieldCount >= 3)
                {
                    log = reader.GetInt64(1);
                    copied = reader.GetInt64(2);
                }
            }
        }
        while (reader.NextResult());
        return (log, copied);
    }
}
