using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Varpulis.Actors.Configuration;

namespace Varpulis.Actors.Persistence;

/// <summary>
/// Akka.Persistence.Sql for the node: the default journal and snapshot store (pipelines and the directory) and a
/// separate journal/snapshot pair for Akka.Cluster.Sharding's own state (remember-entities). SQLite keeps each in
/// its own database file under the state directory, each with a single writer; PostgreSQL keeps them in separate
/// tables of one database.
/// </summary>
public static class VarpulisPersistence
{
    /// <summary>Plugin id of sharding's own journal and snapshot store.</summary>
    public const string ShardingPluginId = "sharding";

    /// <summary>
    /// The node's plugins. <paramref name="ownsFiles"/>: this process checkpoints the SQLite write-ahead logs (a single
    /// server, a coordinator); workers of an embedded cluster write into their coordinator's files and leave that to it.
    /// </summary>
    /// <paramref name="defaultPlugins"/>: false when another journal is the node's default (a raft coordinator's
    /// replicated coordinator state): the SQL plugins are then only there for the workers' files this node keeps.
    public static AkkaConfigurationBuilder WithVarpulisPersistence(this AkkaConfigurationBuilder builder, PersistenceSettings settings, string stateDir, bool ownsFiles = true, bool defaultPlugins = true)
    {
        var plan = Plan(settings, stateDir, defaultPlugins);
        builder.WithSqlPersistence(plan.Journal, plan.Snapshots);
        builder.WithSqlPersistence(plan.ShardingJournal, plan.ShardingSnapshots);
        if (!settings.IsPostgres)
        {
            // SQLite takes one writer per file: write transactions go one at a time, batched by the journal.
            builder.AddHocon(
                """
                akka.persistence.journal.sql.parallelism = 1
                akka.persistence.journal.sharding.parallelism = 1
                """,
                HoconAddMode.Prepend);
            var files = plan.SqliteFiles;
            if (ownsFiles) builder.AddStartup((system, _) => SqliteCheckpointer.Start(system, files));
        }
        return builder;
    }

    /// <summary>The SQLite files of a state directory (with their write-ahead logs), which the node must be able to write.</summary>
    public static readonly IReadOnlyList<string> SqliteFileNames =
    [
        "journal.db", "journal.db-wal", "journal.db-shm",
        "snapshots.db", "snapshots.db-wal", "snapshots.db-shm",
        "sharding-journal.db", "sharding-journal.db-wal", "sharding-journal.db-shm",
        "sharding-snapshots.db", "sharding-snapshots.db-wal", "sharding-snapshots.db-shm",
    ];

    /// <summary>The four plugin configurations for the settings (SQLite files are prepared on disk).</summary>
    public static PersistencePlan Plan(PersistenceSettings settings, string stateDir, bool defaultPlugins = true)
    {
        if (settings.IsPostgres)
        {
            var cs = settings.ConnectionString;
            if (string.IsNullOrWhiteSpace(cs))
                throw new InvalidOperationException("persistence.provider is postgresql but no connection string is set: set persistence.connection_string in the config file or VARPULIS_PERSISTENCE_CONNECTION");
            return new PersistencePlan(
                Array.Empty<string>(),
                Journal(cs, ProviderName.PostgreSQL15, "sql", isDefault: defaultPlugins, "journal", "journal_metadata", "tags"),
                Snapshot(cs, ProviderName.PostgreSQL15, "sql", isDefault: defaultPlugins, "snapshot"),
                Journal(cs, ProviderName.PostgreSQL15, ShardingPluginId, isDefault: false, "sharding_journal", "sharding_journal_metadata", "sharding_tags"),
                Snapshot(cs, ProviderName.PostgreSQL15, ShardingPluginId, isDefault: false, "sharding_snapshot"));
        }
        if (!string.Equals(settings.Provider, "sqlite", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"unknown persistence.provider '{settings.Provider}': use sqlite or postgresql");

        var synchronous = settings.SqliteSynchronous.ToUpperInvariant() switch
        {
            "FULL" => "FULL",
            "NORMAL" => "NORMAL",
            _ => throw new InvalidOperationException($"unknown persistence.sqlite_synchronous '{settings.SqliteSynchronous}': use normal or full"),
        };
        var dir = Path.GetFullPath(stateDir);
        System.IO.Directory.CreateDirectory(dir);
        string Db(string file)
        {
            var path = Path.Combine(dir, file);
            PrepareSqlite(path);
            return new SqliteConnectionStringBuilder { DataSource = path, Cache = SqliteCacheMode.Private, Pooling = true, DefaultTimeout = 30 }.ToString();
        }
        DataOptions Sqlite(string cs) => new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, cs)
            .UseAfterConnectionOpened(
                conn => SetSynchronous(conn, synchronous),
                (conn, ct) =>
                {
                    SetSynchronous(conn, synchronous);
                    return Task.CompletedTask;
                });
        var journal = Db("journal.db");
        var snapshots = Db("snapshots.db");
        var shardingJournal = Db("sharding-journal.db");
        var shardingSnapshots = Db("sharding-snapshots.db");
        return new PersistencePlan(
            [journal, snapshots, shardingJournal, shardingSnapshots],
            Journal(journal, ProviderName.SQLiteMS, "sql", isDefault: defaultPlugins, "journal", "journal_metadata", "tags", Sqlite(journal)),
            Snapshot(snapshots, ProviderName.SQLiteMS, "sql", isDefault: defaultPlugins, "snapshot", Sqlite(snapshots)),
            Journal(shardingJournal, ProviderName.SQLiteMS, ShardingPluginId, isDefault: false, "journal", "journal_metadata", "tags", Sqlite(shardingJournal)),
            Snapshot(shardingSnapshots, ProviderName.SQLiteMS, ShardingPluginId, isDefault: false, "snapshot", Sqlite(shardingSnapshots)));
    }

    /// <summary>
    /// WAL with <c>synchronous=NORMAL</c> keeps every committed transaction across a process crash (<c>kill -9</c>);
    /// several processes of one host (the workers of an embedded cluster) may write the same files: a writer that
    /// finds the write lock taken waits inside SQLite (<c>busy_timeout</c>, sleeps of a few milliseconds) rather than in
    /// the provider's 150 ms retry loop.
    /// <c>FULL</c> also across a power loss, at the price of an fsync per commit. The writer checkpoints the log
    /// itself only every 10,000 pages, because <see cref="SqliteCheckpointer"/> copies it every second beside the
    /// writer; <c>journal_size_limit</c> trims the file when the log starts over.
    /// </summary>
    private static void SetSynchronous(System.Data.Common.DbConnection conn, string mode)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA synchronous=" + mode + "; PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864; PRAGMA busy_timeout=30000;";
        cmd.ExecuteNonQuery();
    }

    /// <summary>Creates the database file in WAL mode: readers do not block the writer, and a commit is one append.</summary>
    private static void PrepareSqlite(string path)
    {
        using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL;";
        cmd.ExecuteNonQuery();
    }

    private static SqlJournalOptions Journal(string cs, string provider, string id, bool isDefault, string table, string metadataTable, string tagTable, DataOptions? data = null)
    {
        var template = JournalDatabaseOptions.Default;
        var db = new JournalDatabaseOptions(template.Mapping)
        {
            SchemaName = template.SchemaName,
            JournalTable = CopyJournalTable(template.JournalTable!, table),
            MetadataTable = CopyMetadataTable(template.MetadataTable!, metadataTable),
            TagTable = CopyTagTable(template.TagTable!, tagTable),
        };
        return new SqlJournalOptions(isDefault, id)
        {
            ConnectionString = cs,
            ProviderName = provider,
            AutoInitialize = true,
            DatabaseOptions = db,
            DataOptions = data,
        };
    }

    private static SqlSnapshotOptions Snapshot(string cs, string provider, string id, bool isDefault, string table, DataOptions? data = null)
    {
        var template = SnapshotDatabaseOptions.Default;
        var t = template.SnapshotTable!;
        var db = new SnapshotDatabaseOptions(template.Mapping)
        {
            SchemaName = template.SchemaName,
            SnapshotTable = new SnapshotTableOptions
            {
                TableName = table,
                PersistenceIdColumnName = t.PersistenceIdColumnName,
                SequenceNumberColumnName = t.SequenceNumberColumnName,
                CreatedColumnName = t.CreatedColumnName,
                SnapshotColumnName = t.SnapshotColumnName,
                ManifestColumnName = t.ManifestColumnName,
                SerializerIdColumnName = t.SerializerIdColumnName,
            },
        };
        return new SqlSnapshotOptions(isDefault, id)
        {
            ConnectionString = cs,
            ProviderName = provider,
            AutoInitialize = true,
            DatabaseOptions = db,
            DataOptions = data,
        };
    }

    private static JournalTableOptions CopyJournalTable(JournalTableOptions t, string table) => new()
    {
        TableName = table,
        UseWriterUuidColumn = t.UseWriterUuidColumn,
        OrderingColumnName = t.OrderingColumnName,
        DeletedColumnName = t.DeletedColumnName,
        PersistenceIdColumnName = t.PersistenceIdColumnName,
        SequenceNumberColumnName = t.SequenceNumberColumnName,
        CreatedColumnName = t.CreatedColumnName,
        TagsColumnName = t.TagsColumnName,
        MessageColumnName = t.MessageColumnName,
        IdentifierColumnName = t.IdentifierColumnName,
        ManifestColumnName = t.ManifestColumnName,
        WriterUuidColumnName = t.WriterUuidColumnName,
    };

    private static MetadataTableOptions CopyMetadataTable(MetadataTableOptions t, string table) => new()
    {
        TableName = table,
        PersistenceIdColumnName = t.PersistenceIdColumnName,
        SequenceNumberColumnName = t.SequenceNumberColumnName,
    };

    private static TagTableOptions CopyTagTable(TagTableOptions t, string table) => new()
    {
        TableName = table,
        TagColumnName = t.TagColumnName,
        OrderingColumnName = t.OrderingColumnName,
        PersistenceIdColumnName = t.PersistenceIdColumnName,
        SequenceNumberColumnName = t.SequenceNumberColumnName,
    };
}

/// <summary>The journal and snapshot plugins of a node.</summary>
/// <summary>The four plugin configurations, and the SQLite connection strings whose WAL the node checkpoints (none for PostgreSQL).</summary>
public sealed record PersistencePlan(
    IReadOnlyList<string> SqliteFiles,
    SqlJournalOptions Journal,
    SqlSnapshotOptions Snapshots,
    SqlJournalOptions ShardingJournal,
    SqlSnapshotOptions ShardingSnapshots);
