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
    TimeSpan SessionExpiry)
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
        p.GetDuration("session_expiry"));

    /// <summary><c>mqtt://host:port (client id c)</c>: what logs may show.</summary>
    public string Describe() => $"{(Tls ? "mqtts" : "mqtt")}://{Host}:{Port} (client id {ClientId})";

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
        if (Tls) b = b.WithTlsOptions(o => o.UseTls());
        return b.Build();
    }
}
