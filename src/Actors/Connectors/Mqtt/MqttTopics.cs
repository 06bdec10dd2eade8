namespace Varpulis.Actors.Connectors.Mqtt;

/// <summary>MQTT topic filter matching (MQTT 5.0 §4.7): <c>+</c> one level, <c>#</c> the rest; wildcards at the first level do not match <c>$</c> topics.</summary>
public static class MqttTopics
{
    public static bool Matches(string filter, string topic)
    {
        if (topic.StartsWith('$') && (filter.StartsWith('+') || filter.StartsWith('#'))) return false;
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] == "#") return true;
            if (i >= t.Length) return false;
            if (f[i] != "+" && f[i] != t[i]) return false;
        }
        return f.Length == t.Length;
    }
}
