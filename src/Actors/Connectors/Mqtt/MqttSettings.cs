using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors.Mqtt;

/// <summary>The connection settings of an MQTT connector, with secrets resolved (never logged: see <see cref="Describe"/>).</summary>
public sealed record MqttSettings(
    string Connector,
    string Host,
    int Port,
    string ClientId,
    string? Username,
    string? Password,
    bool Tls,
    TimeSpan KeepAlive,
    TimeSpan SessionExpiry,
    X509Certificate2Collection? Authorities = null)
{
    /// <summary>Reads the parameters; <paramref name="defaultClientId"/> when <c>client_id</c> is not given.</summary>
    public static MqttSettings From(ConnectorParameters p, string defaultClientId, Func<string, string?>? environment = null) => new(
        p.Connector,
        p.GetString("host", environment)!,
        (int)p.GetInt("port"),
        p.GetString("client_id", environment) ?? defaultClientId,
        p.GetString("username", environment),
        p.GetString("password", environment),
        p.GetBool("tls"),
        p.GetDuration("keep_alive"),
        p.GetDuration("session_expiry"),
        p.GetString("ca_file", environment) is { } caFile ? LoadAuthorities(p.Connector, caFile) : null);

    /// <summary>Whether the connection uses TLS (<c>tls: true</c>, or a <c>ca_file</c>).</summary>
    public bool UsesTls => Tls || Authorities is not null;

    /// <summary><c>mqtt://host:port (client id c)</c>: what logs may show.</summary>
    public string Describe() => $"{(UsesTls ? "mqtts" : "mqtt")}://{Host}:{Port} (client id {ClientId})";

    /// <summary>The certificates of a <c>ca_file</c> (PEM, one or more); a file that cannot be read is a configuration error.</summary>
    public static X509Certificate2Collection LoadAuthorities(string connector, string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ConnectorConfigurationException($"connector {connector}: ca_file {path} cannot be read: {ex.Message}");
        }
        return certificates.Count > 0 ? certificates : throw new ConnectorConfigurationException($"connector {connector}: ca_file {path} holds no PEM certificate");
    }

    /// <summary>
    /// Accepts the broker's certificate when it names the host and chains to one of <paramref name="authorities"/> (only
    /// those: the system's trusted certificates are not consulted), as a client configured with a CA file does.
    /// </summary>
    public static bool ChainsTo(X509Certificate2Collection authorities, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    /// <summary>MQTT 5.0 client options. A persistent session (clean start off) keeps unacknowledged QoS 1 messages across reconnections.</summary>
    public MqttClientOptions ClientOptions(string clientId, bool persistentSession, ushort receiveMaximum, TimeSpan timeout)
    {
        var b = new MqttClientOptionsBuilder()
            .WithTcpServer(Host, Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(KeepAlive)
            .WithTimeout(timeout)
            .WithCleanStart(!persistentSession)
            .WithReceiveMaximum(receiveMaximum);
        if (persistentSession) b = b.WithSessionExpiryInterval((uint)Math.Min(uint.MaxValue, SessionExpiry.TotalSeconds));
        if (Username is not null) b = b.WithCredentials(Username, Password ?? "");
        if (Authorities is { } authorities)
            b = b.WithTlsOptions(o => o.UseTls().WithCertificateValidationHandler(e => ChainsTo(authorities, e.Certificate, e.Chain, e.SslPolicyErrors)));
        else if (Tls) b = b.WithTlsOptions(o => o.UseTls());
        return b.Build();
    }
}
