using Akka.Actor;
using Akka.Configuration;

namespace Varpulis.Actors.Tests.Infrastructure;

/// <summary>Actor systems for connector tests: the Varpulis serializer bound, and SQLite persistence in a given directory.</summary>
public static class ConnectorTestSystem
{
    /// <summary>An actor system whose journal and snapshot store are SQLite files under <paramref name="stateDir"/> (as a single node keeps them).</summary>
    public static ActorSystem Create(string name, string stateDir)
    {
        System.IO.Directory.CreateDirectory(stateDir);
        string Cs(string file) => $"Data Source={Path.Combine(stateDir, file)}";
        var config = ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.actor {
              serializers.varpulis = "Varpulis.Actors.Serialization.VarpulisSerializer, Varpulis.Actors"
              serialization-bindings {
                "Varpulis.Actors.Pipelines.IPipelineProtocol, Varpulis.Actors" = varpulis
                "Varpulis.Actors.Connectors.IConnectorsProtocol, Varpulis.Actors" = varpulis
              }
            }
            akka.persistence {
              journal.plugin = "akka.persistence.journal.sql"
              journal.sql {
                class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
                connection-string = "{{Cs("journal.db")}}"
                provider-name = "SQLite.MS"
                auto-initialize = on
              }
              snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
              snapshot-store.sql {
                class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                connection-string = "{{Cs("snapshots.db")}}"
                provider-name = "SQLite.MS"
                auto-initialize = on
              }
            }
            """);
        return ActorSystem.Create(name, config);
    }
}
