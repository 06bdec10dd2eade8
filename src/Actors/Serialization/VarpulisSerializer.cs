using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using Varpulis.Actors.Cluster;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Groups;
using Varpulis.Actors.Pipelines;
using Varpulis.Actors.Pipelines.Routes;
using Varpulis.Vpl.Json;

namespace Varpulis.Actors.Serialization;

/// <summary>
/// The one serializer of every Varpulis message, journal event and snapshot: a short stable manifest per type,
/// a compact binary layout for the messages that carry event payloads (<see cref="IngestEvents"/>,
/// <see cref="EventBatchAccepted"/>, <see cref="EventsAccepted"/>, <see cref="IngestResult"/>), and the project's JSON options for everything else. Types are bound through the
/// marker interfaces <see cref="IPipelineProtocol"/>, <see cref="IDirectoryProtocol"/>, <see cref="IClusterManagerProtocol"/>,
/// <see cref="IClusterBootstrapProtocol"/>, <see cref="IConnectorsProtocol"/> and <see cref="IPipelineGroupProtocol"/>.
/// </summary>
public sealed class VarpulisSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer id (Akka reserves 0–100).</summary>
    public const int SerializerId = 4701;

    private static readonly FrozenDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(DeployPipeline)] = "PD",
        [typeof(EnsurePipeline)] = "PE",
        [typeof(ReloadPipeline)] = "PR",
        [typeof(DeletePipeline)] = "PX",
        [typeof(IngestEvents)] = "PI",
        [typeof(GetPipelineInfo)] = "PG",
        [typeof(GetPipelineMetrics)] = "PM",
        [typeof(CheckpointPipeline)] = "PC",
        [typeof(RestorePipeline)] = "PS",
        [typeof(ListPipelineRuns)] = "PL",
        [typeof(SubscribePipelineOutput)] = "PO",
        [typeof(HandOffPipeline)] = "PH",
        [typeof(SetPipelineRoutes)] = "PT",
        [typeof(DeliverRoutedEvents)] = "PV",
        [typeof(RouteAck)] = "RA",
        [typeof(PipelineRoutesSet)] = "RT",
        [typeof(PipelineRoutesChanged)] = "JT",
        [typeof(PipelineOutputSubscribed)] = "RO",
        [typeof(PipelineOutputBatch)] = "RB",
        [typeof(PipelineOutputEnded)] = "RN",
        [typeof(PipelineError)] = "RE",
        [typeof(PipelineInfo)] = "RI",
        [typeof(PipelineReloaded)] = "RR",
        [typeof(PipelineDeleted)] = "RX",
        [typeof(IngestResult)] = "RG",
        [typeof(PipelineMetrics)] = "RM",
        [typeof(CheckpointTaken)] = "RC",
        [typeof(PipelineRestored)] = "RS",
        [typeof(PipelineRuns)] = "RL",
        [typeof(PipelineDefined)] = "JD",
        [typeof(PipelineSourceReloaded)] = "JR",
        [typeof(EventsAccepted)] = "JE",
        [typeof(EventBatchAccepted)] = "JB",
        [typeof(PipelineCheckpointRestored)] = "JC",
        [typeof(PipelineRemoved)] = "JX",
        [typeof(PipelineSnapshot)] = "JS",
        [typeof(SourceEventsAccepted)] = "JSE",
        [typeof(TenantInfo)] = "DT",
        [typeof(PipelineEntry)] = "DE",
        [typeof(CreateTenant)] = "DCT",
        [typeof(GetTenants)] = "DGT",
        [typeof(TenantList)] = "DTL",
        [typeof(DeleteTenant)] = "DDT",
        [typeof(TenantDeleted)] = "DTD",
        [typeof(DirectoryError)] = "DER",
        [typeof(DirectoryPing)] = "DPI",
        [typeof(DirectoryPong)] = "DPO",
        [typeof(TenantAdded)] = "JTA",
        [typeof(TenantRemoved)] = "JTR",
        [typeof(PipelineAdded)] = "JPA",
        [typeof(PipelineDropped)] = "JPD",
        [typeof(DirectorySnapshot)] = "JDS",
        [typeof(PipelineSourceUpdated)] = "JPS",
        [typeof(DeployPipelineRequest)] = "DDR",
        [typeof(ReloadPipelineRequest)] = "DRR",
        [typeof(RemovePipelineRequest)] = "DXR",
        [typeof(QueryPipelines)] = "DQP",
        [typeof(PipelineListItem)] = "DLI",
        [typeof(PipelineListing)] = "DLG",
        [typeof(GetTenantUsage)] = "DGU",
        [typeof(TenantUsage)] = "DTU",
        [typeof(GetWorkers)] = "MGW",
        [typeof(WorkerList)] = "MWL",
        [typeof(GetWorker)] = "MGO",
        [typeof(WorkerFound)] = "MWF",
        [typeof(DrainWorker)] = "MDW",
        [typeof(WorkerDrained)] = "MWD",
        [typeof(RemoveWorker)] = "MRW",
        [typeof(WorkerRemoved)] = "MWR",
        [typeof(GetTopology)] = "MGT",
        [typeof(TopologyReport)] = "MTR",
        [typeof(GetClusterSummary)] = "MGS",
        [typeof(SummaryReport)] = "MSR",
        [typeof(GetMigrations)] = "MGM",
        [typeof(MigrationList)] = "MML",
        [typeof(RebalanceCluster)] = "MRB",
        [typeof(RebalanceStarted)] = "MRS",
        [typeof(GetClusterHealth)] = "MGH",
        [typeof(ClusterHealth)] = "MCH",
        [typeof(GetPlacements)] = "MGP",
        [typeof(PlacementList)] = "MPL",
        [typeof(GetClusterMetrics)] = "MGX",
        [typeof(ClusterMetricsReport)] = "MMR",
        [typeof(CheckPlacementCapacity)] = "MCC",
        [typeof(PlacementCapacity)] = "MPC",
        [typeof(ClusterError)] = "MER",
        [typeof(WorkerHeartbeat)] = "MHB",
        [typeof(PipelineHosted)] = "MPH",
        [typeof(PipelineReleased)] = "MPX",
        [typeof(ReportNow)] = "MRN",
        [typeof(DrainBegun)] = "JCD",
        [typeof(DrainEnded)] = "JCE",
        [typeof(MigrationRecorded)] = "JCM",
        [typeof(ClusterManagerSnapshot)] = "JCS",
        [typeof(PlacementDirectives)] = "MPD",
        [typeof(RequestJoinGrant)] = "BRQ",
        [typeof(JoinGrant)] = "BGR",
        [typeof(DeliverToSinks)] = "CD",
        [typeof(SinkRecord)] = "CR",
        [typeof(GetConnectorStatus)] = "CGS",
        [typeof(ConnectorStatus)] = "CS",
        [typeof(ConnectorStatusList)] = "CSL",
        [typeof(GetSinkProgress)] = "CGP",
        [typeof(SinkProgress)] = "CP",
        [typeof(DeadLetterCount)] = "CDC",
        [typeof(StopConnectors)] = "CX",
        [typeof(ConnectorsStopped)] = "CXD",
        [typeof(IngestSourceBatch)] = "CI",
        [typeof(DeadLetter)] = "CL",
        [typeof(GetDeadLetters)] = "CGL",
        [typeof(DeadLetterPage)] = "CLP",
        [typeof(ClearDeadLetters)] = "CLC",
        [typeof(DeadLettersCleared)] = "CLD",
        [typeof(ReplayDeadLetters)] = "CLR",
        [typeof(DeadLettersReplayed)] = "CLS",
        [typeof(ConnectorsError)] = "CE",
        [typeof(DeadLettersAdded)] = "JLA",
        [typeof(DeadLettersRemoved)] = "JLR",
        [typeof(DeadLettersPurged)] = "JLP",
        [typeof(SinkOutputsSettled)] = "JLS",
        [typeof(DeadLetterSnapshot)] = "JLN",
        [typeof(PipelineGroup)] = "GG",
        [typeof(CreatePipelineGroup)] = "GC",
        [typeof(PipelineGroupDeployed)] = "GCD",
        [typeof(GetPipelineGroups)] = "GL",
        [typeof(PipelineGroupList)] = "GLR",
        [typeof(GetPipelineGroup)] = "GO",
        [typeof(PipelineGroupFound)] = "GOR",
        [typeof(DeletePipelineGroup)] = "GX",
        [typeof(PipelineGroupDeleted)] = "GXD",
        [typeof(GroupError)] = "GE",
        [typeof(PipelineGroupRecorded)] = "JGR",
        [typeof(PipelineGroupRemoved)] = "JGX",
        [typeof(PipelineGroupSnapshot)] = "JGS",
        [typeof(Cluster.Raft.LeaderRecord)] = "HLR",
        [typeof(Cluster.Raft.GetLeadership)] = "HGL",
        [typeof(Cluster.Raft.PutCoordinatorState)] = "HCP",
        [typeof(Cluster.Raft.CoordinatorStateStored)] = "HCS",
        [typeof(Cluster.Raft.GetCoordinatorState)] = "HCG",
        [typeof(Cluster.Raft.CoordinatorStateValue)] = "HCV",
        [typeof(Cluster.Raft.CoordinatorStateDigest)] = "HCD",
        [typeof(Cluster.Raft.PullCoordinatorState)] = "HCL",
        [typeof(Cluster.Raft.GetCoordinatorStateSummary)] = "HCQ",
        [typeof(Cluster.Raft.CoordinatorStateSummary)] = "HCY",
        [typeof(Cluster.Scaling.GetScalingRecommendation)] = "HGS",
        [typeof(Cluster.Scaling.ScalingReport)] = "HSR",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, Type> TypesByManifest = Manifests.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    public VarpulisSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public override int Identifier => SerializerId;

    /// <summary>Every type this serializer writes (the round-trip tests cover each).</summary>
    public static IReadOnlyCollection<Type> SupportedTypes => Manifests.Keys;

    public override string Manifest(object o)
        => Manifests.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"{o.GetType()} has no Varpulis manifest", nameof(o));

    public override byte[] ToBinary(object obj) => obj switch
    {
        EventBatchAccepted b => WriteEventBatchAccepted(b),
        EventsAccepted e => WriteEventsAccepted(e),
        SourceEventsAccepted s => SourceEventsAccepted.Write(s),
        IngestEvents i => WriteIngest(i),
        DeliverRoutedEvents d => WriteRouted(d),
        IngestResult r => WriteIngestResult(r),
        SubscribePipelineOutput o => JsonSerializer.SerializeToUtf8Bytes(
            new SubscriptionWire(o.PipelineId, o.TenantId, Akka.Serialization.Serialization.SerializedActorPath(o.Subscriber)), VplJson.SerializerOptions),
        _ => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), VplJson.SerializerOptions),
    };

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypesByManifest.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown Varpulis manifest '{manifest}'");
        if (type == typeof(EventBatchAccepted)) return ReadEventBatchAccepted(bytes);
        if (type == typeof(EventsAccepted)) return ReadEventsAccepted(bytes);
        if (type == typeof(SourceEventsAccepted)) return SourceEventsAccepted.Read(bytes);
        if (type == typeof(IngestEvents)) return ReadIngest(bytes);
        if (type == typeof(DeliverRoutedEvents)) return ReadRouted(bytes);
        if (type == typeof(IngestResult)) return ReadIngestResult(bytes);
        if (type == typeof(SubscribePipelineOutput))
        {
            var wire = JsonSerializer.Deserialize<SubscriptionWire>(bytes, VplJson.SerializerOptions)
                ?? throw new SerializationException("empty SubscribePipelineOutput payload");
            return new SubscribePipelineOutput(wire.PipelineId, wire.TenantId, system.Provider.ResolveActorRef(wire.Subscriber));
        }
        if (type == typeof(GetTenants)) return GetTenants.Instance;
        if (type == typeof(DirectoryPing)) return DirectoryPing.Instance;
        if (type == typeof(Cluster.Raft.GetLeadership)) return Cluster.Raft.GetLeadership.Instance;
        if (type == typeof(Cluster.Raft.GetCoordinatorStateSummary)) return Cluster.Raft.GetCoordinatorStateSummary.Instance;
        if (type == typeof(Cluster.Scaling.GetScalingRecommendation)) return Cluster.Scaling.GetScalingRecommendation.Instance;
        return JsonSerializer.Deserialize(bytes, type, VplJson.SerializerOptions)
            ?? throw new SerializationException($"empty payload for manifest '{manifest}'");
    }

    /// <summary>An actor reference travels as its serialized path (with the address of its node).</summary>
    private sealed record SubscriptionWire(string PipelineId, string TenantId, string Subscriber);

    // v1 (journals written before idempotency keys): [1][is_batch][ingest time, 8 bytes LE][body]
    // v2: [2][is_batch][ingest time, 8 bytes LE][key length, 4 bytes LE, -1 = none][key][body]
    // v3 (a routed batch): [3][is_batch][ingest time, 8][key length, 4, -1 = none][key][source length, 4][source][sequence, 8][body]
    private static byte[] WriteEventsAccepted(EventsAccepted e)
    {
        if (e.Route is { } route) return WriteRoutedEventsAccepted(e, route);
        int keyLen = e.IdempotencyKey is null ? 0 : Encoding.UTF8.GetByteCount(e.IdempotencyKey);
        var bytes = new byte[14 + keyLen + e.Body.Length];
        bytes[0] = 2;
        bytes[1] = e.IsBatch ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), e.IngestTimeNanos);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), e.IdempotencyKey is null ? -1 : keyLen);
        if (e.IdempotencyKey is not null) Encoding.UTF8.GetBytes(e.IdempotencyKey, bytes.AsSpan(14));
        e.Body.CopyTo(bytes.AsSpan(14 + keyLen));
        return bytes;
    }

    private static byte[] WriteRoutedEventsAccepted(EventsAccepted e, RouteOrigin route)
    {
        int keyLen = e.IdempotencyKey is null ? 0 : Encoding.UTF8.GetByteCount(e.IdempotencyKey);
        int sourceLen = Encoding.UTF8.GetByteCount(route.Source);
        var bytes = new byte[14 + keyLen + 4 + sourceLen + 8 + e.Body.Length];
        var span = bytes.AsSpan();
        span[0] = 3;
        span[1] = e.IsBatch ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], e.IngestTimeNanos);
        BinaryPrimitives.WriteInt32LittleEndian(span[10..], e.IdempotencyKey is null ? -1 : keyLen);
        int pos = 14;
        if (e.IdempotencyKey is not null) pos += Encoding.UTF8.GetBytes(e.IdempotencyKey, span[pos..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], sourceLen);
        pos += 4 + Encoding.UTF8.GetBytes(route.Source, span[(pos + 4)..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[pos..], route.Sequence);
        pos += 8;
        e.Body.CopyTo(span[pos..]);
        return bytes;
    }

    private static EventsAccepted ReadRoutedEventsAccepted(byte[] bytes)
    {
        try
        {
            var span = bytes.AsSpan();
            int keyLen = BinaryPrimitives.ReadInt32LittleEndian(span[10..]);
            int pos = 14;
            string? key = null;
            if (keyLen >= 0)
            {
                key = Encoding.UTF8.GetString(span.Slice(pos, keyLen));
                pos += keyLen;
            }
            int sourceLen = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            string source = Encoding.UTF8.GetString(span.Slice(pos + 4, sourceLen));
            pos += 4 + sourceLen;
            long sequence = BinaryPrimitives.ReadInt64LittleEndian(span[pos..]);
            pos += 8;
            return new EventsAccepted(BinaryPrimitives.ReadInt64LittleEndian(span[2..]), span[1] == 1, span[pos..].ToArray(), key, new RouteOrigin(source, sequence));
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new SerializationException("truncated EventsAccepted payload: " + ex.Message);
        }
    }

    private static EventsAccepted ReadEventsAccepted(byte[] bytes)
    {
        if (bytes.Length >= 14 && bytes[0] == 3) return ReadRoutedEventsAccepted(bytes);
        if (bytes.Length >= 10 && bytes[0] == 1)
            return new EventsAccepted(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2)), bytes[1] == 1, bytes.AsSpan(10).ToArray());
        if (bytes.Length < 14 || bytes[0] != 2) throw new SerializationException("invalid EventsAccepted payload");
        int keyLen = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(10));
        if (keyLen > bytes.Length - 14) throw new SerializationException("truncated EventsAccepted payload");
        string? key = keyLen < 0 ? null : Encoding.UTF8.GetString(bytes, 14, keyLen);
        int bodyAt = 14 + Math.Max(0, keyLen);
        return new EventsAccepted(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2)), bytes[1] == 1, bytes.AsSpan(bodyAt).ToArray(), key);
    }

    // v1: [1][is_batch][ingest time, 8 bytes LE][key length, 4 bytes LE, -1 = none][key][body hash length, 1 byte][hash]
    //     [error count, 4 bytes LE]([index, 4][length, 4][utf-8])*[event batch (EventBatchCodec)]
    // v2: v1's fields up to the errors, then the route origin [source length, 4 bytes LE, -1 = none][source][sequence, 8]
    //     and the source origin [connector length, 4 bytes LE, -1 = none][connector][offset count, 4]
    //     ([topic length, 4][topic][partition, 4][offset, 8])*, then the event batch. Written: v2; read: both.
    private static byte[] WriteEventBatchAccepted(EventBatchAccepted b)
    {
        int keyLen = b.IdempotencyKey is null ? 0 : Encoding.UTF8.GetByteCount(b.IdempotencyKey);
        int hashLen = b.BodyHash?.Length ?? 0;
        if (hashLen > byte.MaxValue) throw new ArgumentException("a body hash is at most 255 bytes", nameof(b));
        var errors = b.Errors ?? Array.Empty<IngestError>();
        int size = 2 + 8 + 4 + keyLen + 1 + hashLen + 4 + ErrorsSize(errors) + 4 + 4 + b.Batch.Length;
        if (b.Route is { } route) size += Encoding.UTF8.GetByteCount(route.Source) + 8;
        if (b.Source is { } source)
        {
            size += Encoding.UTF8.GetByteCount(source.Connector) + 4;
            foreach (var o in source.Offsets) size += 4 + Encoding.UTF8.GetByteCount(o.Topic) + 12;
        }
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        span[0] = 2;
        span[1] = b.IsBatch ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], b.IngestTimeNanos);
        int pos = WriteOptionalText(span, 10, b.IdempotencyKey);
        span[pos++] = (byte)hashLen;
        b.BodyHash?.CopyTo(span[pos..]);
        pos += hashLen;
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], errors.Count);
        pos = WriteErrors(span, pos + 4, errors);
        pos = WriteOptionalText(span, pos, b.Route?.Source);
        if (b.Route is not null)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[pos..], b.Route.Sequence);
            pos += 8;
        }
        pos = WriteOptionalText(span, pos, b.Source?.Connector);
        if (b.Source is not null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], b.Source.Offsets.Count);
            pos += 4;
            foreach (var o in b.Source.Offsets)
            {
                pos = WriteOptionalText(span, pos, o.Topic);
                BinaryPrimitives.WriteInt32LittleEndian(span[pos..], o.Partition);
                BinaryPrimitives.WriteInt64LittleEndian(span[(pos + 4)..], o.Offset);
                pos += 12;
            }
        }
        b.Batch.CopyTo(span[pos..]);
        return bytes;
    }

    private static EventBatchAccepted ReadEventBatchAccepted(byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (span.Length < 19 || span[0] is not (1 or 2)) throw new SerializationException("invalid EventBatchAccepted payload");
        const string What = "EventBatchAccepted";
        long ingestTime = BinaryPrimitives.ReadInt64LittleEndian(span[2..]);
        int pos = 10;
        string? key = ReadOptionalText(span, ref pos, What);
        if (pos >= span.Length) throw Truncated(What);
        int hashLen = span[pos++];
        if (hashLen > span.Length - pos - 4) throw Truncated(What);
        byte[]? hash = hashLen == 0 ? null : span.Slice(pos, hashLen).ToArray();
        pos += hashLen;
        int count = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
        var errors = ReadErrors(span, pos + 4, count, What, out pos);
        RouteOrigin? route = null;
        SourceOrigin? source = null;
        if (span[0] == 2)
        {
            if (ReadOptionalText(span, ref pos, What) is { } from) route = new RouteOrigin(from, ReadInt64(span, ref pos, What));
            if (ReadOptionalText(span, ref pos, What) is { } connector)
            {
                int offsets = ReadInt32(span, ref pos, What);
                if (offsets < 0 || offsets > (span.Length - pos) / 16) throw Truncated(What);
                var list = new List<KafkaPartitionOffset>(offsets);
                for (int i = 0; i < offsets; i++)
                {
                    var topic = ReadOptionalText(span, ref pos, What) ?? throw Truncated(What);
                    int partition = ReadInt32(span, ref pos, What);
                    list.Add(new KafkaPartitionOffset(topic, partition, ReadInt64(span, ref pos, What)));
                }
                source = new SourceOrigin(connector, list);
            }
        }
        return new EventBatchAccepted(ingestTime, span[1] == 1, span[pos..].ToArray(), key, hash, errors.Count == 0 ? null : errors, route, source);
    }

    // A text of a binary layout: [length, 4 bytes LE, -1 = none][utf-8]
    private static int WriteOptionalText(Span<byte> span, int pos, string? text)
    {
        if (text is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], -1);
            return pos + 4;
        }
        int n = Encoding.UTF8.GetBytes(text, span[(pos + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], n);
        return pos + 4 + n;
    }

    private static string? ReadOptionalText(ReadOnlySpan<byte> span, ref int pos, string what)
    {
        int n = ReadInt32(span, ref pos, what);
        if (n < 0) return null;
        if (n > span.Length - pos) throw Truncated(what);
        var text = Encoding.UTF8.GetString(span.Slice(pos, n));
        pos += n;
        return text;
    }

    private static int ReadInt32(ReadOnlySpan<byte> span, ref int pos, string what)
    {
        if (span.Length - pos < 4) throw Truncated(what);
        int value = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
        pos += 4;
        return value;
    }

    private static long ReadInt64(ReadOnlySpan<byte> span, ref int pos, string what)
    {
        if (span.Length - pos < 8) throw Truncated(what);
        long value = BinaryPrimitives.ReadInt64LittleEndian(span[pos..]);
        pos += 8;
        return value;
    }

    private static SerializationException Truncated(string what) => new($"truncated {what} payload");

    // An error list of ingest requests: ([index, 4 bytes LE][length, 4 bytes LE][utf-8])*
    private static int ErrorsSize(IReadOnlyList<IngestError> errors)
    {
        int size = 0;
        foreach (var e in errors) size += 8 + Encoding.UTF8.GetByteCount(e.Error);
        return size;
    }

    private static int WriteErrors(Span<byte> span, int pos, IReadOnlyList<IngestError> errors)
    {
        foreach (var e in errors)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], e.Index);
            int n = Encoding.UTF8.GetBytes(e.Error, span[(pos + 8)..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[(pos + 4)..], n);
            pos += 8 + n;
        }
        return pos;
    }

    private static List<IngestError> ReadErrors(ReadOnlySpan<byte> span, int pos, int count, string what, out int end)
    {
        if (count < 0 || count > (span.Length - pos) / 8) throw new SerializationException($"truncated {what} payload");
        var errors = new List<IngestError>(count);
        for (int i = 0; i < count; i++)
        {
            if (span.Length - pos < 8) throw new SerializationException($"truncated {what} payload");
            int index = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            int n = BinaryPrimitives.ReadInt32LittleEndian(span[(pos + 4)..]);
            if (n < 0 || n > span.Length - pos - 8) throw new SerializationException($"truncated {what} payload");
            errors.Add(new IngestError(index, Encoding.UTF8.GetString(span.Slice(pos + 8, n))));
            pos += 8 + n;
        }
        end = pos;
        return errors;
    }

    // A routed batch between pipelines (the body stays raw JSON, no base64):
    // [1][sequence, 8 bytes LE][id length, 4][id][tenant length, 4][tenant][source length, 4][source][body]
    private static byte[] WriteRouted(DeliverRoutedEvents d)
    {
        int idLen = Encoding.UTF8.GetByteCount(d.PipelineId);
        int tenantLen = Encoding.UTF8.GetByteCount(d.TenantId);
        int sourceLen = Encoding.UTF8.GetByteCount(d.Source);
        var bytes = new byte[1 + 8 + 4 + idLen + 4 + tenantLen + 4 + sourceLen + d.Body.Length];
        var span = bytes.AsSpan();
        span[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], d.Sequence);
        int pos = 9;
        foreach (var text in new[] { d.PipelineId, d.TenantId, d.Source })
        {
            int n = Encoding.UTF8.GetBytes(text, span[(pos + 4)..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], n);
            pos += 4 + n;
        }
        d.Body.CopyTo(span[pos..]);
        return bytes;
    }

    private static DeliverRoutedEvents ReadRouted(byte[] bytes)
    {
        try
        {
            var span = bytes.AsSpan();
            if (span[0] != 1) throw new SerializationException("invalid DeliverRoutedEvents payload");
            long sequence = BinaryPrimitives.ReadInt64LittleEndian(span[1..]);
            int pos = 9;
            var texts = new string[3];
            for (int i = 0; i < 3; i++)
            {
                int n = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
                texts[i] = Encoding.UTF8.GetString(span.Slice(pos + 4, n));
                pos += 4 + n;
            }
            return new DeliverRoutedEvents(texts[0], texts[1], texts[2], sequence, span[pos..].ToArray());
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new SerializationException("truncated DeliverRoutedEvents payload: " + ex.Message);
        }
    }

    // [version 2][is_batch][deadline, 8 bytes LE][id length, 4 bytes][id][tenant length, 4 bytes][tenant][key length, 4 bytes, -1 = none][key][body]
    private static byte[] WriteIngest(IngestEvents i)
    {
        int idLen = Encoding.UTF8.GetByteCount(i.PipelineId);
        int tenantLen = Encoding.UTF8.GetByteCount(i.TenantId);
        int keyLen = i.IdempotencyKey is null ? 0 : Encoding.UTF8.GetByteCount(i.IdempotencyKey);
        var bytes = new byte[2 + 8 + 4 + idLen + 4 + tenantLen + 4 + keyLen + i.Body.Length];
        var span = bytes.AsSpan();
        span[0] = 2;
        span[1] = i.IsBatch ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], i.DeadlineUnixMs);
        int pos = 10;
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], idLen);
        pos += 4 + Encoding.UTF8.GetBytes(i.PipelineId, span[(pos + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], tenantLen);
        pos += 4 + Encoding.UTF8.GetBytes(i.TenantId, span[(pos + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], i.IdempotencyKey is null ? -1 : keyLen);
        pos += 4;
        if (i.IdempotencyKey is not null) pos += Encoding.UTF8.GetBytes(i.IdempotencyKey, span[pos..]);
        i.Body.CopyTo(span[pos..]);
        return bytes;
    }

    // The reply of every ingest request, which crosses the network back when the pipeline runs on another node: the
    // output events stay the raw JSON the entity rendered (no base64).
    // [1][accepted, 4][rejected, 4][output count, 4][processing time us, 8][error count, 4]([index, 4][length, 4][utf-8])*[outputs JSON]
    private static byte[] WriteIngestResult(IngestResult r)
    {
        var bytes = new byte[25 + ErrorsSize(r.Errors) + r.OutputEventsJson.Length];
        var span = bytes.AsSpan();
        span[0] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], r.Accepted);
        BinaryPrimitives.WriteInt32LittleEndian(span[5..], r.Rejected);
        BinaryPrimitives.WriteInt32LittleEndian(span[9..], r.OutputCount);
        BinaryPrimitives.WriteInt64LittleEndian(span[13..], r.ProcessingTimeUs);
        BinaryPrimitives.WriteInt32LittleEndian(span[21..], r.Errors.Count);
        int pos = WriteErrors(span, 25, r.Errors);
        r.OutputEventsJson.CopyTo(span[pos..]);
        return bytes;
    }

    private static IngestResult ReadIngestResult(byte[] bytes)
    {
        try
        {
            var span = bytes.AsSpan();
            if (span[0] != 1) throw new SerializationException("invalid IngestResult payload");
            var errors = ReadErrors(span, 25, BinaryPrimitives.ReadInt32LittleEndian(span[21..]), "IngestResult", out int pos);
            return new IngestResult(
                BinaryPrimitives.ReadInt32LittleEndian(span[1..]),
                BinaryPrimitives.ReadInt32LittleEndian(span[5..]),
                errors,
                span[pos..].ToArray(),
                BinaryPrimitives.ReadInt32LittleEndian(span[9..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[13..]));
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new SerializationException("truncated IngestResult payload: " + ex.Message);
        }
    }

    private static IngestEvents ReadIngest(byte[] bytes)
    {
        try
        {
            var span = bytes.AsSpan();
            if (span[0] != 2) throw new SerializationException("invalid IngestEvents payload");
            bool batch = span[1] == 1;
            long deadline = BinaryPrimitives.ReadInt64LittleEndian(span[2..]);
            int pos = 10;
            int idLen = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            string id = Encoding.UTF8.GetString(span.Slice(pos + 4, idLen));
            pos += 4 + idLen;
            int tenantLen = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            string tenant = Encoding.UTF8.GetString(span.Slice(pos + 4, tenantLen));
            pos += 4 + tenantLen;
            int keyLen = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            pos += 4;
            string? key = null;
            if (keyLen >= 0)
            {
                key = Encoding.UTF8.GetString(span.Slice(pos, keyLen));
                pos += keyLen;
            }
            return new IngestEvents(id, tenant, span[pos..].ToArray(), batch, key, deadline);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new SerializationException("truncated IngestEvents payload: " + ex.Message);
        }
    }
}
