using System.Text;
using Akka.Actor;
using Akka.Persistence;
using Microsoft.Extensions.Logging.Abstractions;
using Varpulis.Actors.Cluster.Raft;

namespace Varpulis.Actors.Tests.Cluster;

/// <summary>
/// A coordinator's durable copy of the coordinator state (<see cref="CoordinatorStateFiles"/>): a record is replaced
/// only by a newer version, survives reopening, and a damaged file is skipped with the reason.
/// </summary>
public sealed class CoordinatorStateFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "varpulis-state-files-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ARecordIsReplacedOnlyByANewerVersionAndSurvivesReopening()
    {
        var files = CoordinatorStateFiles.Open(_dir, out var problems);
        Assert.Empty(problems);
        Assert.Equal((true, new StateVersion(2, 5)), files.Put("journal/varpulis-directory", new StateVersion(2, 5), [1, 2, 3]));
        Assert.Equal((false, new StateVersion(2, 5)), files.Put("journal/varpulis-directory", new StateVersion(2, 5), [9]));
        Assert.Equal((false, new StateVersion(2, 5)), files.Put("journal/varpulis-directory", new StateVersion(1, 90), [9]));
        Assert.Equal((true, new StateVersion(3, 1)), files.Put("journal/varpulis-directory", new StateVersion(3, 1), [4, 5]));
        Assert.Equal((true, new StateVersion(2, 7)), files.Put("snapshot/varpulis-directory", new StateVersion(2, 7), []));
        Assert.Equal(new StateVersion(3, 1), files.Latest);

        var path = Path.Combine(_dir, "coordinator-state", "journal%2Fvarpulis-directory.state");
        Assert.Equal("varpulis-coordinator-state 1 3 1 2 journal/varpulis-directory\n"u8.ToArray().Concat(new byte[] { 4, 5 }), File.ReadAllBytes(path));
        Assert.Equal(["journal%2Fvarpulis-directory.state", "snapshot%2Fvarpulis-directory.state"],
            System.IO.Directory.EnumerateFiles(Path.Combine(_dir, "coordinator-state")).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var again = CoordinatorStateFiles.Open(_dir, out problems);
        Assert.Empty(problems);
        Assert.Equal(2, again.Count);
        Assert.Equal(new StateVersion(3, 1), again.Latest);
        var (version, data) = again.Get("journal/varpulis-directory");
        Assert.Equal(new StateVersion(3, 1), version);
        Assert.Equal([4, 5], data);
        Assert.Equal(StateVersion.Zero, again.Get("journal/none").Version);
        Assert.Empty(again.Get("journal/none").Data);
    }

    [Fact]
    public void ADamagedFileIsSkippedWithItsReasonAndALeftOverTemporaryFileIsRemoved()
    {
        var files = CoordinatorStateFiles.Open(_dir, out _);
        files.Put("journal/a", new StateVersion(1, 1), [1, 2, 3, 4]);
        var dir = Path.Combine(_dir, "coordinator-state");
        File.WriteAllBytes(Path.Combine(dir, "journal%2Fb.state"), Encoding.UTF8.GetBytes("varpulis-coordinator-state 1 1 2 10 journal/b\nabc"));
        File.WriteAllText(Path.Combine(dir, "journal%2Fc.state"), "something else\n");
        File.WriteAllText(Path.Combine(dir, "journal%2Fa.state.tmp"), "half written");

        var again = CoordinatorStateFiles.Open(_dir, out var problems);
        Assert.Equal(
            [Path.Combine(dir, "journal%2Fb.state") + ": 3 bytes of data, the header says 10", Path.Combine(dir, "journal%2Fc.state") + ": not a coordinator state file"],
            problems);
        Assert.Equal(1, again.Count);
        Assert.Equal(new StateVersion(1, 1), again.Latest);
        Assert.False(File.Exists(Path.Combine(dir, "journal%2Fa.state.tmp")));
    }
}

/// <summary>
/// The replicated journal and snapshot store on a one-coordinator cluster (a majority of one): a persistent actor's
/// events and snapshot are in the keeper's files when the persist handler runs, a new incarnation recovers them under
/// a higher generation, and a keeper refuses a write older than the record it holds (a deposed leader's).
/// </summary>
public sealed class ReplicatedJournalSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly string Dir = Path.Combine(Path.GetTempPath(), "varpulis-replicated-" + Guid.NewGuid().ToString("N"));

    public ReplicatedJournalSpecs()
        : base($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = WARNING
            varpulis.coordinator-state.majority = 1
            akka.persistence.journal.plugin = "akka.persistence.journal.coordinator-state"
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.coordinator-state"
            akka.persistence.journal.coordinator-state.class = "{{typeof(ReplicatedJournal).AssemblyQualifiedName}}"
            akka.persistence.snapshot-store.coordinator-state.class = "{{typeof(ReplicatedSnapshotStore).AssemblyQualifiedName}}"
            """)
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == Akka.Cluster.MemberStatus.Up, TimeSpan.FromSeconds(20));
        Keeper = Sys.ActorOf(CoordinatorStateKeeper.Props(CoordinatorStateFiles.Open(Dir, out _), NullLogger.Instance), CoordinatorStateKeeper.Name);
    }

    private IActorRef Keeper { get; }

    protected override void AfterAll()
    {
        base.AfterAll();
        System.IO.Directory.Delete(Dir, recursive: true);
    }

    [Fact]
    public void EventsAndSnapshotsAreOnDiskWhenPersistedAndRecoverUnderANewerGeneration()
    {
        var first = Sys.ActorOf(Props.Create(() => new Notes("notes")));
        first.Tell("alpha", TestActor);
        ExpectMsg("persisted alpha");
        Assert.Contains("alpha", Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(Dir, "coordinator-state", "journal%2Fnotes.state"))));
        first.Tell("snapshot", TestActor);
        ExpectMsg("snapshot saved");
        first.Tell("beta", TestActor);
        ExpectMsg("persisted beta");
        Watch(first);
        first.Tell(PoisonPill.Instance);
        ExpectTerminated(first);

        Keeper.Tell(new GetCoordinatorState("journal/notes"), TestActor);
        var before = ExpectMsg<CoordinatorStateValue>().Version;

        var second = Sys.ActorOf(Props.Create(() => new Notes("notes")));
        second.Tell("list", TestActor);
        ExpectMsg("alpha,beta");

        // The recovery wrote the record back under this node's generation; an older write is refused from then on.
        Keeper.Tell(new GetCoordinatorState("journal/notes"), TestActor);
        var after = ExpectMsg<CoordinatorStateValue>();
        Assert.True(after.Version > before, $"{after.Version} after {before}");
        Keeper.Tell(new PutCoordinatorState("journal/notes", before, []), TestActor);
        Assert.Equal(new CoordinatorStateStored("journal/notes", before, false, after.Version), ExpectMsg<CoordinatorStateStored>());
    }

    /// <summary>Persists each string it is told; "snapshot" saves one, "list" answers the recovered state.</summary>
    private sealed class Notes : ReceivePersistentActor
    {
        private readonly List<string> _notes = [];
        private IActorRef? _snapshotAsker;

        public Notes(string id)
        {
            PersistenceId = id;
            Recover<string>(n => _notes.Add(n));
            Recover<SnapshotOffer>(o => _notes.AddRange(((string)o.Snapshot).Split(',', StringSplitOptions.RemoveEmptyEntries)));
            Command<string>(c => c == "list", _ => Sender.Tell(string.Join(",", _notes)));
            Command<string>(c => c == "snapshot", _ =>
            {
                _snapshotAsker = Sender;
                SaveSnapshot(string.Join(",", _notes));
            });
            Command<SaveSnapshotSuccess>(s =>
            {
                DeleteMessages(s.Metadata.SequenceNr);
                _snapshotAsker?.Tell("snapshot saved");
            });
            Command<DeleteMessagesSuccess>(_ => { });
            Command<string>(n => Persist(n, e =>
            {
                _notes.Add(e);
                Sender.Tell("persisted " + e);
            }));
        }

        public override string PersistenceId { get; }
    }
}
