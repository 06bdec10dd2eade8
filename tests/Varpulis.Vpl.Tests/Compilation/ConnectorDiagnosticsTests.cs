using Varpulis.Vpl.Compilation;
using Varpulis.Vpl.Compilation.Connectors;
using Varpulis.Vpl.Diagnostics;
using static Varpulis.Vpl.Tests.Compilation.DiagnosticAssert;

namespace Varpulis.Vpl.Tests.Compilation;

/// <summary>
/// Connector declarations and their <c>.from</c>/<c>.to</c> bindings (VPL0400–VPL0407, and VPL0108 for unknown
/// connectors): exact id, position, message and hint, and nothing else reported. Positions are 1-based.
/// </summary>
public class ConnectorDiagnosticsTests
{
    // ---- the issue's example compiles to typed bindings --------------------------------------------

    private const string IssueExample = """
        connector Sensors = mqtt (host: "localhost", port: 1883, client_id: "varpulis", qos: 1)
        connector Bus = kafka (brokers: ["localhost:9092"], group_id: "varpulis")
        connector Hook = http (url: "http://localhost:8080/alerts", failure_threshold: 3, reset_timeout: 5s)
        connector Archive = file (path: "/var/lib/varpulis/archive.jsonl")
        event TemperatureReading:
            sensor_id: str
            value: float
        stream Temps = TemperatureReading.from(Sensors, topic: "sensors/#")
        stream Hot = Temps .where(value > 40) .emit(sensor: sensor_id, value: value) .to(Hook) .to(Bus, topic: "alerts") .to(Archive)
        """;

    [Fact]
    public void TheIssueExampleCompilesToOneSourceAndThreeSinkBindings()
    {
        var c = AssertDiagnostics(IssueExample);
        var b = c.Program!.ConnectorBindings;
        Assert.Equal(
            [
                "Temps: .from(Sensors, topic: \"sensors/#\") [mqtt: batch_size: 1000, batch_timeout: 50ms, client_id: \"varpulis\", failure_threshold: 5, host: \"localhost\", keep_alive: 30s, max_in_flight: 2, port: 1883, qos: 1, queue_capacity: 10000, reset_timeout: 30s, retain: false, retries: 2, session_expiry: 1h, timeout: 10s, tls: false, topic: \"sensors/#\"]",
                "Hot: .to(Hook) [http: batch_size: 1, failure_threshold: 3, method: \"POST\", queue_capacity: 10000, reset_timeout: 5s, retries: 2, timeout: 10s, url: \"http://localhost:8080/alerts\"]",
                "Hot: .to(Bus, topic: \"alerts\") [kafka: auto_offset_reset: \"earliest\", batch_size: 100, batch_timeout: 50ms, brokers: [\"localhost:9092\"], compression: \"none\", failure_threshold: 5, group_id: \"varpulis\", max_in_flight: 2, queue_capacity: 10000, reset_timeout: 30s, retries: 2, security_protocol: \"plaintext\", session_timeout: 45s, timeout: 10s, topic: \"alerts\"]",
                "Hot: .to(Archive) [file: batch_size: 100, batch_timeout: 50ms, failure_threshold: 5, max_in_flight: 2, path: \"/var/lib/varpulis/archive.jsonl\", poll_interval: 200ms, queue_capacity: 10000, reset_timeout: 30s, retries: 2, timeout: 10s]",
            ],
            b.Select(x => x.ToString()));
        var source = b[0];
        Assert.Equal((ConnectorKind.Mqtt, BindingDirection.Source, "TemperatureReading", "sensors/#"), (source.Kind, source.Direction, source.EventType, source.Topic));
        Assert.Equal("localhost", source.Parameters.GetString("host"));
        Assert.Equal(1883, source.Parameters.GetInt("port"));
        Assert.Equal(TimeSpan.FromSeconds(5), b[1].Parameters.GetDuration("reset_timeout"));
        Assert.Equal(3, b[1].Parameters.GetInt("failure_threshold"));
        Assert.Equal(["localhost:9092"], b[2].Parameters.GetStringList("brokers"));
        Assert.Null(b[1].EventType);
        Assert.Null(b[1].Topic);
    }

    [Fact]
    public void EnvironmentReferencesAreResolvedWhereTheConnectorRunsAndNeverShown()
    {
        var c = AssertDiagnostics("""
            connector Bus = kafka(brokers: env("KAFKA_BROKERS"), group_id: "g", security_protocol: "sasl_ssl",
                sasl_mechanism: "PLAIN", sasl_username: "svc", sasl_password: env("KAFKA_PASSWORD"))
            connector Hook = http(url: "https://h.example/x", headers: {"X-Tenant": "acme", "X-Key": env("HOOK_KEY")})
            stream S = E.emit(x: 1).to(Bus, topic: "t").to(Hook)
            """);
        var kafka = c.Program!.ConnectorBindings[0].Parameters;
        var vars = new Dictionary<string, string> { ["KAFKA_BROKERS"] = "k1:9092, k2:9093", ["KAFKA_PASSWORD"] = "s3cret", ["HOOK_KEY"] = "abc" };
        Assert.Equal(["k1:9092", "k2:9093"], kafka.GetStringList("brokers", vars.GetValueOrDefault));
        Assert.Equal("s3cret", kafka.GetString("sasl_password", vars.GetValueOrDefault));
        Assert.True(kafka.IsFromEnvironment("sasl_password"));
        Assert.DoesNotContain("s3cret", kafka.Describe());
        Assert.Contains("sasl_password: env(\"KAFKA_PASSWORD\")", kafka.Describe());
        var hook = c.Program.ConnectorBindings[1].Parameters;
        Assert.Equal([new("X-Tenant", "acme"), new("X-Key", "abc")], hook.GetStringMap("headers", vars.GetValueOrDefault));
        var ex = Assert.Throws<ConnectorConfigurationException>(() => kafka.GetString("sasl_password", _ => null));
        Assert.Equal("environment variable 'KAFKA_PASSWORD' (parameter 'sasl_password' of connector 'Bus') is not set", ex.Message);
    }

    [Fact]
    public void BindingArgumentsOverrideTheDeclaration()
    {
        var c = AssertDiagnostics("""
            connector M = mqtt(host: "h", topic: "default/in", qos: 0)
            stream In = E.from(M, qos: 1)
            stream Out = E.emit(x: 1).to(M, topic: "out/x", retain: true)
            """);
        var (src, sink) = (c.Program!.ConnectorBindings[0], c.Program.ConnectorBindings[1]);
        Assert.Equal(("default/in", 1L, 1000L), (src.Topic, src.Parameters.GetInt("qos"), src.Parameters.GetInt("batch_size")));
        Assert.Equal(("out/x", 0L, true, 100L), (sink.Topic, sink.Parameters.GetInt("qos"), sink.Parameters.GetBool("retain"), sink.Parameters.GetInt("batch_size")));
    }

    // ---- VPL0400 unknown kind ------------------------------------------------------------------------

    [Fact]
    public void UnknownKindSuggestsTheClosestKind()
        => AssertDiagnostics("connector M = mqqt(host: \"h\")\nstream S = E.from(M, topic: \"t\")",
            D(1, 15, Error, "VPL0400", "unknown connector kind 'mqqt'", "did you mean 'mqtt'?"));

    [Fact]
    public void UnknownKindWithoutCandidatesListsTheKinds()
        => AssertDiagnostics("connector M = rabbitmq(host: \"h\")",
            D(1, 15, Error, "VPL0400", "unknown connector kind 'rabbitmq'", "the kinds are mqtt, kafka, http, file, console"));

    // ---- VPL0401 missing parameters --------------------------------------------------------------------

    [Fact]
    public void HttpWithoutUrl()
        => AssertDiagnostics("connector Hook = http()",
            D(1, 18, Error, "VPL0401", "http connector 'Hook' needs 'url'", "connector Hook = http(url: \"http://localhost:8080/events\", ...)"));

    [Fact]
    public void MqttWithoutHost()
        => AssertDiagnostics("connector M = mqtt(port: 1883)",
            D(1, 15, Error, "VPL0401", "mqtt connector 'M' needs 'host'", "connector M = mqtt(host: \"localhost\", ...)"));

    [Fact]
    public void KafkaWithoutBrokers()
        => AssertDiagnostics("connector K = kafka(group_id: \"g\")",
            D(1, 15, Error, "VPL0401", "kafka connector 'K' needs 'brokers'", "connector K = kafka(brokers: [\"localhost:9092\"], ...)"));

    [Fact]
    public void FileWithoutPath()
        => AssertDiagnostics("connector F = file()",
            D(1, 15, Error, "VPL0401", "file connector 'F' needs 'path'", "connector F = file(path: \"/var/lib/varpulis/events.jsonl\", ...)"));

    [Fact]
    public void KafkaSourceWithoutGroupId()
        => AssertDiagnostics("connector K = kafka(brokers: \"k:9092\")\nstream S = E.from(K, topic: \"t\")",
            D(2, 19, Error, "VPL0401", "reading from kafka connector 'K' needs 'group_id'", "connector K = kafka(..., group_id: \"varpulis\")"));

    [Fact]
    public void KafkaSinkNeedsNoGroupIdButATopic()
        => AssertDiagnostics("connector K = kafka(brokers: \"k:9092\")\nstream S = E.emit(x: 1).to(K)",
            D(2, 28, Error, "VPL0401", "writing to kafka connector 'K' needs 'topic'", ".to(K, topic: \"events\")"));

    [Fact]
    public void MqttSourceWithoutTopic()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.from(M)",
            D(2, 19, Error, "VPL0401", "reading from mqtt connector 'M' needs 'topic'", ".from(M, topic: \"events\")"));

    // ---- VPL0402 unknown parameters ---------------------------------------------------------------------

    [Fact]
    public void UnknownParameterSuggestsTheClosest()
        => AssertDiagnostics("connector M = mqtt(hots: \"h\", host: \"h\")",
            D(1, 20, Error, "VPL0402", "mqtt connectors have no parameter 'hots'", "did you mean 'host'?"));

    [Fact]
    public void AMisspeltRequiredParameterIsReportedOnceAsTheMisspelling()
        => AssertDiagnostics("connector Hook = http(urll: \"http://x/y\")",
            D(1, 23, Error, "VPL0402", "http connectors have no parameter 'urll'", "did you mean 'url'?"));

    [Fact]
    public void UnknownBindingParameterSuggestsFromTheBindingParameters()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.from(M, topik: \"t\")",
            D(2, 22, Error, "VPL0402", "mqtt connectors have no parameter 'topik' on '.from'", "did you mean 'topic'?"));

    [Fact]
    public void DeclarationParameterOnABinding()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.from(M, topic: \"t\", port: 1884)",
            D(2, 34, Error, "VPL0402", "'port' cannot be given on '.from'", "give it on the connector declaration"));

    [Fact]
    public void SinkParameterOnASource()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.from(M, topic: \"t\", retain: true)",
            D(2, 34, Error, "VPL0402", "'retain' cannot be given on '.from'", "give it on the connector declaration"));

    [Fact]
    public void ParameterGivenTwice()
        => AssertDiagnostics("connector M = mqtt(host: \"h\", host: \"i\")",
            D(1, 31, Error, "VPL0402", "parameter 'host' is given twice"));

    [Fact]
    public void ConsoleTakesNoParameters()
        => AssertDiagnostics("connector C = console(path: \"x\")",
            D(1, 23, Error, "VPL0402", "console connectors have no parameter 'path'", "console connectors take no parameters here"));

    // ---- VPL0403 wrong types -------------------------------------------------------------------------------

    [Fact]
    public void PortAsAString()
        => AssertDiagnostics("connector M = mqtt(host: \"h\", port: \"1883\")",
            D(1, 37, Error, "VPL0403", "'port' must be an int, not str"));

    [Fact]
    public void CaFileAsAnIntegerAndEmpty()
    {
        AssertDiagnostics("connector M = mqtt(host: \"h\", ca_file: 5)",
            D(1, 40, Error, "VPL0403", "'ca_file' must be a str, not int"));
        AssertDiagnostics("connector M = mqtt(host: \"h\", ca_file: \"\")",
            D(1, 40, Error, "VPL0404", "'ca_file' must not be empty"));
    }

    [Fact]
    public void ResetTimeoutAsAnInteger()
        => AssertDiagnostics("connector H = http(url: \"http://h/x\", reset_timeout: 30)",
            D(1, 54, Error, "VPL0403", "'reset_timeout' must be a duration, not int"));

    [Fact]
    public void BrokersAsAListOfIntegers()
        => AssertDiagnostics("connector K = kafka(brokers: [9092])",
            D(1, 30, Error, "VPL0403", "'brokers' must be a [str], not array"));

    [Fact]
    public void HeadersNotAMap()
        => AssertDiagnostics("connector H = http(url: \"http://h/x\", headers: \"X-A: 1\")",
            D(1, 48, Error, "VPL0403", "'headers' must be a {str: str}, not str"));

    // ---- VPL0404 invalid values -------------------------------------------------------------------------

    [Fact]
    public void PortOutOfRange()
        => AssertDiagnostics("connector M = mqtt(host: \"h\", port: 70000)",
            D(1, 37, Error, "VPL0404", "'port' must be between 1 and 65,535, not 70000"));

    [Fact]
    public void QosTwoIsNotSupported()
        => AssertDiagnostics("connector M = mqtt(host: \"h\", qos: 2)",
            D(1, 36, Error, "VPL0404", "'qos' must be 0 or 1 (QoS 2 is not supported)"));

    [Fact]
    public void UrlMustBeHttp()
        => AssertDiagnostics("connector H = http(url: \"ftp://h/x\")",
            D(1, 25, Error, "VPL0404", "'ftp://h/x' is not an absolute http:// or https:// URL"));

    [Fact]
    public void BrokerWithoutPort()
        => AssertDiagnostics("connector K = kafka(brokers: [\"k1:9092\", \"k2\"])",
            D(1, 30, Error, "VPL0404", "'k2' is not host:port"));

    [Fact]
    public void FailureThresholdOfZero()
        => AssertDiagnostics("connector H = http(url: \"http://h/x\", failure_threshold: 0)",
            D(1, 58, Error, "VPL0404", "'failure_threshold' must be between 1 and 1,000, not 0"));

    [Fact]
    public void HashWildcardMustBeTheLastLevel()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.from(M, topic: \"a/#/b\")",
            D(2, 29, Error, "VPL0404", "invalid MQTT topic filter 'a/#/b': '#' must be a whole level and the last one"));

    [Fact]
    public void PlusWildcardMustBeAWholeLevel()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.from(M, topic: \"a/b+\")",
            D(2, 29, Error, "VPL0404", "invalid MQTT topic filter 'a/b+': '+' must be a whole level"));

    [Fact]
    public void PublishingToAWildcardTopic()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.emit(x: 1).to(M, topic: \"out/+\")",
            D(2, 38, Error, "VPL0404", "'out/+' has a wildcard; .to publishes to one topic"));

    [Fact]
    public void DeclaredFilterTopicUsedForPublishingIsReportedAtTheBinding()
        => AssertDiagnostics("connector M = mqtt(host: \"h\", topic: \"in/#\")\nstream A = E.from(M)\nstream B = E.emit(x: 1).to(M)",
            D(3, 28, Error, "VPL0404", "'.to(M)': 'in/#' has a wildcard; .to publishes to one topic"));

    [Fact]
    public void InvalidKafkaTopicName()
        => AssertDiagnostics("connector K = kafka(brokers: \"k:9092\")\nstream S = E.emit(x: 1).to(K, topic: \"a b\")",
            D(2, 38, Error, "VPL0404", "'a b' is not a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -)"));

    [Fact]
    public void UnknownSecurityProtocol()
        => AssertDiagnostics("connector K = kafka(brokers: \"k:9092\", security_protocol: \"tls\")",
            D(1, 59, Error, "VPL0404", "'security_protocol' must be one of plaintext, ssl, sasl_plaintext, sasl_ssl, not 'tls'"));

    // ---- VPL0405 direction -------------------------------------------------------------------------------

    [Fact]
    public void ReadingFromAnHttpSink()
        => AssertDiagnostics("connector H = http(url: \"http://h/x\")\nstream S = E.from(H)",
            D(2, 19, Error, "VPL0405", "http connectors are sinks only; 'H' cannot be used with '.from'", ".from takes a connector of kind mqtt, kafka, file"));

    [Fact]
    public void ReadingFromTheConsole()
        => AssertDiagnostics("connector C = console()\nstream S = E.from(C)",
            D(2, 19, Error, "VPL0405", "console connectors are sinks only; 'C' cannot be used with '.from'", ".from takes a connector of kind mqtt, kafka, file"));

    // ---- VPL0406 secrets ---------------------------------------------------------------------------------

    [Fact]
    public void LiteralPasswordIsWarnedAbout()
        => AssertDiagnostics("connector M = mqtt(host: \"h\", username: \"u\", password: \"hunter2\")",
            D(1, 56, Warning, "VPL0406", "'password' is written in the program, where the API and logs of the source show it",
                "read it from the environment: password: env(\"M_PASSWORD\")"));

    // ---- VPL0407 env(...) ----------------------------------------------------------------------------------

    [Fact]
    public void EnvForAnIntegerParameter()
        => AssertDiagnostics("connector M = mqtt(host: \"h\", port: env(\"PORT\"))",
            D(1, 37, Error, "VPL0407", "'port' is an int; env(...) gives a string"));

    [Fact]
    public void EnvWithAComputedName()
        => AssertDiagnostics("const N = \"X\"\nconnector M = mqtt(host: env(N))",
            D(2, 26, Error, "VPL0407", "env(...) takes one environment variable name as a string literal", "env(\"MQTT_PASSWORD\")"));

    [Fact]
    public void EnvOnABinding()
        => AssertDiagnostics("connector M = mqtt(host: \"h\")\nstream S = E.from(M, topic: env(\"T\"))",
            D(2, 29, Error, "VPL0407", "env(...) is only available in connector declarations", "declare the value on the connector"));

    // ---- no cascades -------------------------------------------------------------------------------------

    [Fact]
    public void BindingsOfAnUnknownKindReportNothingMore()
        => AssertDiagnostics("connector M = nats(servers: \"x\")\nstream S = E.from(M, topic: \"t\")\nstream T = E.emit(x: 1).to(M)",
            D(1, 15, Error, "VPL0400", "unknown connector kind 'nats'", "the kinds are mqtt, kafka, http, file, console"));

    [Fact]
    public void EverySchemaParameterIsDocumented()
    {
        var docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "connectors.md"));
        foreach (var kind in ConnectorSchema.Kinds)
        {
            int section = docs.IndexOf($"## `{kind.Name}`", StringComparison.Ordinal);
            Assert.True(section >= 0, $"docs/connectors.md has no section '## `{kind.Name}`'");
            int end = docs.IndexOf("\n## ", section + 4, StringComparison.Ordinal);
            var text = end < 0 ? docs[section..] : docs[section..end];
            foreach (var p in kind.Parameters)
                Assert.True(text.Contains($"| `{p.Name}` |", StringComparison.Ordinal), $"docs/connectors.md section {kind.Name} does not document '{p.Name}'");
        }
    }

    private static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Varpulis.Akka.sln"))) dir = Path.GetDirectoryName(dir)!;
        return dir;
    }
}
