using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using Varpulis.Actors.Connectors;
using Varpulis.Actors.Directory;
using Varpulis.Actors.Pipelines;
using Varpulis.Vpl.Json;

namespace Varpulis.Actors.Serialization;

/// <summary>
/// The one serializer of every Varpulis message, journal event and snapshot: a short stable manifest per type,
/// a compact binary layout for the two messages that carry event payloads (<see cref="IngestEvents"/>,
/// <see cref="EventsAccepted"/>), and the project's JSON options for everything else. Types are bound through the
/// marker interfaces <see cref="IPipelineProtocol"/>, <see cref="IDirectoryProtocol"/> and <see cref="IConnectorsProtocol"/>.
/// </summary>
public sealed class VarpulisSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer id (Akka reserves 0–100).</summary>
    public const int SerializerId = 4701;

    private const byte BinaryVersion = 1;

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
        [typeof(PipelineCheckpointRestored)] = "JC",
        [typeof(PipelineRemoved)] = "JX",
        [typeof(PipelineSnapshot)] = "JS",
        [typeof(TenantInfo)] = "DT",
        [typeof(PipelineEntry)] = "DE",
        [typeof(CreateTenant)] = "DCT",
        [typeof(GetTenants)] = "DGT",
        [typeof(TenantList)] = "DTL",
        [typeof(DeleteTenant)] = "DDT",
        [typeof(TenantDeleted)] = "DTD",
        [typeof(RegisterPipeline)] = "DRP",
        [typeof(PipelineRegistered)] = "DPR",
        [typeof(UnregisterPipeline)] = "DUP",
        [typeof(PipelineUnregistered)] = "DPU",
        [typeof(ListPipelines)] = "DLP",
        [typeof(PipelinePage)] = "DPP",
        [typeof(DirectoryError)] = "DER",
        [typeof(DirectoryPing)] = "DPI",
        [typeof(DirectoryPong)] = "DPO",
        [typeof(TenantAdded)] = "JTA",
        [typeof(TenantRemoved)] = "JTR",
        [typeof(PipelineAdded)] = "JPA",
        [typeof(PipelineDropped)] = "JPD",
        [typeof(DirectorySnapshot)] = "JDS",
        [typeof(DeliverToSinks)] = "CD",
        [typeof(SinkRecord)] = "CR",
        [typeof(GetConnectorStatus)] = "CGS",
        [typeof(ConnectorStatus)] = "CS",
        [typeof(ConnectorStatusList)] = "CSL",
        [typeof(GetSinkProgress)] = "CGP",
        [typeof(SinkProgress)] = "CP",
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
        EventsAccepted e => WriteEventsAccepted(e),
        IngestEvents i => WriteIngest(i),
        _ => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), VplJson.SerializerOptions),
    };

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypesByManifest.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown Varpulis manifest '{manifest}'");
        if (type == typeof(EventsAccepted)) return ReadEventsAccepted(bytes);
        if (type == typeof(IngestEvents)) return ReadIngest(bytes);
        if (type == typeof(GetTenants)) return GetTenants.Instance;
        if (type == typeof(DirectoryPing)) return DirectoryPing.Instance;
        return JsonSerializer.Deserialize(bytes, type, VplJson.SerializerOptions)
            ?? throw new SerializationException($"empty payload for manifest '{manifest}'");
    }

    // [version][is_batch][ingest time, 8 bytes LE][body]
    private static byte[] WriteEventsAccepted(EventsAccepted e)
    {
        var bytes = new byte[10 + e.Body.Length];
        bytes[0] = BinaryVersion;
        bytes[1] = e.IsBatch ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), e.IngestTimeNanos);
        e.Body.CopyTo(bytes.AsSpan(10));
        return bytes;
    }

    private static EventsAccepted ReadEventsAccepted(byte[] bytes)
    {
        if (bytes.Length < 10 || bytes[0] != BinaryVersion) throw new SerializationException("invalid EventsAccepted payload");
        return new EventsAccepted(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2)), bytes[1] == 1, bytes.AsSpan(10).ToArray());
    }

    // [version][is_batch][id length, 4 bytes][id][tenant length, 4 bytes][tenant][body]
    private static byte[] WriteIngest(IngestEvents i)
    {
        int idLen = Encoding.UTF8.GetByteCount(i.PipelineId);
        int tenantLen = Encoding.UTF8.GetByteCount(i.TenantId);
        var bytes = new byte[2 + 4 + idLen + 4 + tenantLen + i.Body.Length];
        var span = bytes.AsSpan();
        span[0] = BinaryVersion;
        span[1] = i.IsBatch ? (byte)1 : (byte)0;
        int pos = 2;
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], idLen);
        pos += 4 + Encoding.UTF8.GetBytes(i.PipelineId, span[(pos + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], tenantLen);
        pos += 4 + Encoding.UTF8.GetBytes(i.TenantId, span[(pos + 4)..]);
        i.Body.CopyTo(span[pos..]);
        return bytes;
    }

    private static IngestEvents ReadIngest(byte[] bytes)
    {
        try
        {
            var span = bytes.AsSpan();
            if (span[0] != BinaryVersion) throw new SerializationException("invalid IngestEvents payload");
            bool batch = span[1] == 1;
            int pos = 2;
            int idLen = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            string id = Encoding.UTF8.GetString(span.Slice(pos + 4, idLen));
            pos += 4 + idLen;
            int tenantLen = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
            string tenant = Encoding.UTF8.GetString(span.Slice(pos + 4, tenantLen));
            pos += 4 + tenantLen;
            return new IngestEvents(id, tenant, span[pos..].ToArray(), batch);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new SerializationException("truncated IngestEvents payload: " + ex.Message);
        }
    }
}
