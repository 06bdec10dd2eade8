using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Connectors.Sources;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Pipelines.Routes;
using Varpulis.Actors.Serialization;
using Varpulis.Api.Tests.Infrastructure;

namespace Varpulis.Api.Tests;

/// <summary>
/// What the journal holds for accepted requests, across formats: journals written before event batches (the request
/// body as received, with and without an idempotency key, routed batches with their origin, source batches with their
/// Kafka offsets, event batches of the first layout) still replay, alongside the event batches written now; a batch
/// that cannot be read stops recovery loudly instead of losing its events.
/// </summary>
public sealed class JournalFormatTests
{
    [Fact]
    public async Task AJournalOfRequestBodiesStillReplaysAlongsideEventBatches()
    {
        var settings = TestServer.DefaultSettings();
        string id;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var http = first.Client();
            var deployed = await http.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "old-journal", ["source"] = Programs.AlertAndWindow }.ToJsonString());
            id = (string)deployed.Body["id"]!;
        }

        // The records an earlier build wrote for three requests a minute ago: layout 1 (no key), layout 2 with a key
        // (a batch whose first event has no timestamp, so it takes the request's ingestion time, and whose second is
        // rejected), layout 2 without a key (a single event). Keys are remembered for 24 hours from their request.
        var ingested = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60);
        long ingestNanos = ingested.ToUnixTimeMilliseconds() * 1_000_000;
        AppendToJournal(settings, id,
            Layout1(isBatch: true, ingestNanos, Programs.Batch([Programs.Reading("S1", 10, 1000), Programs.Reading("S1", 20, 2000)])),
            Layout2(isBatch: true, ingestNanos, "old-key", OldKeyedBody),
            Layout2(isBatch: false, ingestNanos, null, Programs.Reading("S2", 7, 6000)));
        var oldKeyedReply = OldKeyedReply.Replace("INGESTED", ingested.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        string newReply;
        settings.Server.Port = TestServer.FreePort();
        await using (var second = await TestServer.StartAsync(settings))
        {
            using var http = second.Client();
            Assert.Equal(4, await http.ProcessedAsync(id));
            var repeat = await http.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", OldKeyedBody, "old-key");
            Assert.Equal(HttpStatusCode.OK, repeat.Status);
            Assert.Equal(oldKeyedReply, WithoutTime(repeat.Body));
            Assert.Equal(4, await http.ProcessedAsync(id));

            // Written now as an event batch, after the old records.
            var fresh = await http.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", NewKeyedBody, "new-key");
            newReply = WithoutTime(fresh.Body);
            Assert.Equal(
                """{"accepted":4,"rejected":1,"errors":[{"index":0,"error":"unknown property 'event_typ'; an event has 'event_type', 'fields' (or 'data') and 'timestamp'"}],"output_events":[{"event_type":"Avg","timestamp":"1970-01-01T00:00:07Z","sensor":"S1","n":3,"total":135}]}""",
                newReply);
        }

        // (A graceful stop snapshots the pipeline; DurabilityTests.KillNineKeepsEachKeysReplyFromTheJournal replays keyed
        // event batches from the journal alone.)
        settings.Server.Port = TestServer.FreePort();
        await using var third = await TestServer.StartAsync(settings);
        using var http3 = third.Client();
        Assert.Equal(8, await http3.ProcessedAsync(id));
        Assert.Equal(oldKeyedReply, WithoutTime((await http3.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", OldKeyedBody, "old-key")).Body));
        Assert.Equal(newReply, WithoutTime((await http3.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", NewKeyedBody, "new-key")).Body));
        // The batch record kept the body's hash: the key with another body is still refused.
        (await http3.PostKeyedAsync($"/api/v1/pipelines/{id}/events-batch", OldKeyedBody, "new-key")).AssertError((HttpStatusCode)422, "idempotency_key_reused");
        Assert.Equal(8, await http3.ProcessedAsync(id));
        // The window of S2 holds 7 (a single-event body record) and 8 (an event batch): both replayed.
        var after = await http3.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S2", 9, 8000)]));
        Assert.Equal("""[{"event_type":"Avg","timestamp":"1970-01-01T00:00:08Z","sensor":"S2","n":3,"total":24}]""", after.Body["output_events"]!.ToJsonString());
    }

    [Fact]
    public async Task RoutedAndSourceBatchesOfOlderLayoutsReplayWithTheirOrigins()
    {
        var settings = TestServer.DefaultSettings();
        string id;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var http = first.Client();
            var deployed = await http.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "old-origins", ["source"] = Programs.AlertAndWindow }.ToJsonString());
            id = (string)deployed.Body["id"]!;
        }

        // What earlier builds wrote: two routed batches from pipeline "up" (EventsAccepted layout 3 with its route
        // origin), a Kafka source batch with its offsets (SourceEventsAccepted), and an event batch of the first
        // EventBatchAccepted layout (no origins).
        long ingestNanos = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
        AppendToJournal(settings, id,
            Layout3(ingestNanos, "up", 1, Programs.Batch([Programs.Reading("S3", 1, 1000), Programs.Reading("S3", 2, 2000)])),
            Layout3(ingestNanos, "up", 2, Programs.Batch([Programs.Reading("S3", 3, 3000)])),
            SourceLayout1(ingestNanos, "orders-in", [("orders", 0, 41), ("orders", 1, 7)], Programs.Batch([Programs.Reading("S4", 5, 4000)])),
            BatchLayout1(ingestNanos, Programs.Batch([Programs.Reading("S4", 6, 5000)])));

        settings.Server.Port = TestServer.FreePort();
        await using var second = await TestServer.StartAsync(settings);
        using var http2 = second.Client();
        Assert.Equal(5, await http2.ProcessedAsync(id));
        var region = ((Akka.Hosting.IRequiredActor<PipelineEntity>)second.Services.GetService(typeof(Akka.Hosting.IRequiredActor<PipelineEntity>))!).ActorRef;
        var timeout = TimeSpan.FromSeconds(30);

        // The routed batches' origins were replayed: "up"'s batch 2 again is a repeat, batch 3 is applied.
        Assert.Equal(new RouteAck("up", id, 2, 2), await region.Ask<object>(new DeliverRoutedEvents(id, "default", "up", 2, Encoding.UTF8.GetBytes(Programs.Batch([Programs.Reading("S3", 50, 5500)]))), timeout));
        Assert.Equal(new RouteAck("up", id, 3, 3), await region.Ask<object>(new DeliverRoutedEvents(id, "default", "up", 3, Encoding.UTF8.GetBytes(Programs.Batch([Programs.Reading("S3", 4, 6000)]))), timeout));
        Assert.Equal(6, await http2.ProcessedAsync(id));

        // The source batch's offsets were replayed: Kafka's record at offset 41 of partition 0 comes again and is dropped.
        var entity = await second.Services.GetRequiredService<Akka.Actor.ActorSystem>()
            .ActorSelection($"/system/sharding/{PipelineHostingExtensions.RegionName}/{id}/{id}").ResolveOne(timeout);
        var fromKafka = await entity.Ask<object>(new IngestSourceBatch(id, "orders-in", Encoding.UTF8.GetBytes(Programs.Batch([Programs.Reading("S4", 100, 6500), Programs.Reading("S4", 7, 7000)])),
            [new SourcePosition("orders", 0, 41), new SourcePosition("orders", 0, 42)]), timeout);
        // The window of S4 (three events each) held 5 and 6 from the replayed batches: 7 completes it, 100 never came in.
        var result = Assert.IsType<IngestResult>(fromKafka);
        Assert.Equal((1, """[{"event_type":"Avg","timestamp":"1970-01-01T00:00:07Z","sensor":"S4","n":3,"total":18}]"""), (result.Accepted, Encoding.UTF8.GetString(result.OutputEventsJson)));
        Assert.Equal(7, await http2.ProcessedAsync(id));

        // The window of S3 was completed by 1, 2 and 3 from the routed records: it holds 4 of batch 3 (not 50).
        var after = await http2.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S3", 10, 8000), Programs.Reading("S3", 20, 9000)]));
        Assert.Equal(
            """[{"event_type":"Avg","timestamp":"1970-01-01T00:00:09Z","sensor":"S3","n":3,"total":34}]""",
            after.Body["output_events"]!.ToJsonString());
    }

    [Fact]
    public async Task AnUnreadableEventBatchStopsRecoveryAndKeepsTheJournal()
    {
        var settings = TestServer.DefaultSettings();
        string id;
        await using (var first = await TestServer.StartAsync(settings))
        {
            using var http = first.Client();
            var deployed = await http.PostAsync("/api/v1/pipelines", new JsonObject { ["name"] = "damaged", ["source"] = Programs.AlertAndWindow }.ToJsonString());
            id = (string)deployed.Body["id"]!;
            Assert.Equal(2, (int)(await http.PostAsync($"/api/v1/pipelines/{id}/events-batch", Programs.Batch([Programs.Reading("S1", 1, 1000), Programs.Reading("S1", 2, 2000)]))).Body["accepted"]!);
        }
        // A record of the current layout (2: no key, hash, errors, route or source) whose event batch is damaged:
        // version 1, one type, then bytes cut short.
        byte[] damaged = [2, 0, .. new byte[8], 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            /* batch: */ 1, 1, 11, .. "TempReading"u8.ToArray(), 5];
        AppendToJournal(settings, id, ("JB", damaged));
        long rowsBefore = JournalRows(settings, id);

        settings.Server.Port = TestServer.FreePort();
        await using var second = await TestServer.StartAsync(settings);
        using var http2 = second.Client();
        var metrics = await http2.GetJsonAsync($"/api/v1/pipelines/{id}/metrics");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, metrics.Status);
        await WaitFor(() => second.Log.Contains($"Pipeline {id} cannot recover: its journal holds an unreadable event batch", StringComparison.Ordinal));
        Assert.Contains("a journaled event batch cannot be read: ", second.Log);
        Assert.Equal(rowsBefore, JournalRows(settings, id));
    }

    private const string OldKeyedBody =
        """{"events": [{"event_type": "TempReading", "fields": {"sensor": "S1", "value": 150}}, {"event_type": "TempReading", "fields": "hot"}]}""";

    private const string NewKeyedBody =
        """{"events": [{"event_typ": "TempReading"}, {"event_type": "TempReading", "fields": {"sensor": "S1", "value": 40}, "timestamp": 7000}, {"event_type": "TempReading", "fields": {"sensor": "S1", "value": 45}, "timestamp": 7000}, {"event_type": "TempReading", "fields": {"sensor": "S1", "value": 50}, "timestamp": 7000}, {"event_type": "TempReading", "fields": {"sensor": "S2", "value": 8}, "timestamp": 7000}]}""";

    /// <summary>The reply of <see cref="OldKeyedBody"/>, its first event stamped with the record's ingestion time (INGESTED).</summary>
    private const string OldKeyedReply =
        """{"accepted":1,"rejected":1,"errors":[{"index":1,"error":"'fields' must be an object"}],"output_events":[{"event_type":"Alert","timestamp":"INGESTED","alert":true,"value":150},{"event_type":"Avg","timestamp":"INGESTED","sensor":"S1","n":3,"total":180}]}""";

    // Layout 1 of EventsAccepted: [1][is_batch][ingest time, 8 bytes LE][body]
    private static (string, byte[]) Layout1(bool isBatch, long ingestTime, string body)
    {
        var b = Encoding.UTF8.GetBytes(body);
        var bytes = new byte[10 + b.Length];
        bytes[0] = 1;
        bytes[1] = isBatch ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), ingestTime);
        b.CopyTo(bytes.AsSpan(10));
        return ("JE", bytes);
    }

    // Layout 2 of EventsAccepted: [2][is_batch][ingest time, 8 bytes LE][key length, 4 bytes LE, -1 = none][key][body]
    private static (string, byte[]) Layout2(bool isBatch, long ingestTime, string? key, string body)
    {
        var k = key is null ? [] : Encoding.UTF8.GetBytes(key);
        var b = Encoding.UTF8.GetBytes(body);
        var bytes = new byte[14 + k.Length + b.Length];
        bytes[0] = 2;
        bytes[1] = isBatch ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), ingestTime);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), key is null ? -1 : k.Length);
        k.CopyTo(bytes.AsSpan(14));
        b.CopyTo(bytes.AsSpan(14 + k.Length));
        return ("JE", bytes);
    }

    // Layout 3 of EventsAccepted (a routed batch, no key): [3][is_batch][ingest time, 8][key length, 4, -1 = none]
    // [source length, 4][source][sequence, 8][body]
    private static (string, byte[]) Layout3(long ingestTime, string source, long sequence, string body)
    {
        byte[] bytes = [3, 1, .. BitConverter.GetBytes(ingestTime), .. BitConverter.GetBytes(-1), .. BitConverter.GetBytes(Encoding.UTF8.GetByteCount(source)),
            .. Encoding.UTF8.GetBytes(source), .. BitConverter.GetBytes(sequence), .. Encoding.UTF8.GetBytes(body)];
        return ("JE", bytes);
    }

    // SourceEventsAccepted: [1][ingest time, 8][connector length, 4][connector][offset count, 4]
    // ([topic length, 4][topic][partition, 4][offset, 8])*[body]
    private static (string, byte[]) SourceLayout1(long ingestTime, string connector, (string Topic, int Partition, long Offset)[] offsets, string body)
    {
        var bytes = new List<byte> { 1 };
        bytes.AddRange(BitConverter.GetBytes(ingestTime));
        bytes.AddRange(BitConverter.GetBytes(Encoding.UTF8.GetByteCount(connector)));
        bytes.AddRange(Encoding.UTF8.GetBytes(connector));
        bytes.AddRange(BitConverter.GetBytes(offsets.Length));
        foreach (var (topic, partition, offset) in offsets)
        {
            bytes.AddRange(BitConverter.GetBytes(Encoding.UTF8.GetByteCount(topic)));
            bytes.AddRange(Encoding.UTF8.GetBytes(topic));
            bytes.AddRange(BitConverter.GetBytes(partition));
            bytes.AddRange(BitConverter.GetBytes(offset));
        }
        bytes.AddRange(Encoding.UTF8.GetBytes(body));
        return ("JSE", bytes.ToArray());
    }

    // Layout 1 of EventBatchAccepted (no key, hash or errors): [1][is_batch][ingest time, 8][key length -1, 4][hash length 0, 1]
    // [error count 0, 4][event batch]: the events read from the body by the program's reader.
    private static (string, byte[]) BatchLayout1(long ingestTime, string body)
    {
        var program = Varpulis.Actors.Pipelines.PipelineCompiler.Compile(Programs.AlertAndWindow, out _)!;
        var events = new List<Varpulis.Vpl.Runtime.Event>();
        var errors = new List<Varpulis.Vpl.Json.JsonEventError>();
        Assert.Null(new Varpulis.Vpl.Json.JsonEventReader(program.Types).Read(Encoding.UTF8.GetBytes(body), true, ingestTime, events, errors));
        byte[] bytes = [1, 1, .. BitConverter.GetBytes(ingestTime), .. BitConverter.GetBytes(-1), 0, .. BitConverter.GetBytes(0), .. Varpulis.Vpl.Runtime.EventBatchCodec.Encode(events)];
        return ("JB", bytes);
    }

    /// <summary>
    /// Appends records to the pipeline's journal in the state directory's SQLite file, as the journal plugin writes
    /// them: each a copy of the pipeline's last row with the next sequence number, the manifest and the payload.
    /// </summary>
    private static void AppendToJournal(Varpulis.Actors.Configuration.VarpulisSettings settings, string pipelineId, params (string Manifest, byte[] Payload)[] records)
    {
        using var conn = Open(settings);
        var columns = new List<string>();
        using (var info = conn.CreateCommand())
        {
            info.CommandText = "PRAGMA table_info(journal)";
            using var r = info.ExecuteReader();
            while (r.Read()) columns.Add(r.GetString(1));
        }
        Assert.Contains("sequence_number", columns);
        Assert.Contains("message", columns);
        Assert.Contains("manifest", columns);
        Assert.Contains("identifier", columns);
        Assert.Contains("deleted", columns);
        long last;
        using (var max = conn.CreateCommand())
        {
            max.CommandText = "SELECT MAX(sequence_number) FROM journal WHERE persistence_id = $p";
            max.Parameters.AddWithValue("$p", "pipeline-" + pipelineId);
            last = (long)max.ExecuteScalar()!;
        }
        var copied = columns.Where(c => c != "ordering").ToList();
        string Select(string c) => c switch
        {
            "sequence_number" => "$seq",
            "message" => "$payload",
            "manifest" => "$manifest",
            "identifier" => "$identifier",
            "deleted" => "0", // the copied row may be marked deleted by the snapshot taken at shutdown
            _ => c,
        };
        foreach (var (manifest, payload) in records)
        {
            using var insert = conn.CreateCommand();
            insert.CommandText = $"INSERT INTO journal ({string.Join(", ", copied)}) SELECT {string.Join(", ", copied.Select(Select))} FROM journal WHERE persistence_id = $p AND sequence_number = $last";
            insert.Parameters.AddWithValue("$p", "pipeline-" + pipelineId);
            insert.Parameters.AddWithValue("$last", last);
            insert.Parameters.AddWithValue("$seq", last + 1);
            insert.Parameters.AddWithValue("$payload", payload);
            insert.Parameters.AddWithValue("$manifest", manifest);
            insert.Parameters.AddWithValue("$identifier", VarpulisSerializer.SerializerId);
            Assert.Equal(1, insert.ExecuteNonQuery());
            last++;
        }
    }

    private static long JournalRows(Varpulis.Actors.Configuration.VarpulisSettings settings, string pipelineId)
    {
        using var conn = Open(settings);
        using var count = conn.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $p";
        count.Parameters.AddWithValue("$p", "pipeline-" + pipelineId);
        return (long)count.ExecuteScalar()!;
    }

    private static SqliteConnection Open(Varpulis.Actors.Configuration.VarpulisSettings settings)
    {
        var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(settings.Server.StateDir, "journal.db"), Pooling = false }.ToString());
        conn.Open();
        return conn;
    }

    private static readonly System.Text.Json.JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string WithoutTime(JsonNode reply)
    {
        var copy = reply.DeepClone().AsObject();
        copy.Remove("processing_time_us");
        return copy.ToJsonString(Readable);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 60 s");
            await Task.Delay(100);
        }
    }
}
