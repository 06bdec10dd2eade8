using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Varpulis.Pbm.Output;

/// <summary>Where a command's result goes: a table or lines for people, or with <c>--json</c> the node's JSON for scripts.</summary>
public sealed class Printer(TextWriter output, bool json)
{
    private static readonly JsonWriterOptions Indented = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a terminal shows `a > b`, not `a \u003E b`
    };

    public TextWriter Out => output;

    public bool Json => json;

    /// <summary>Writes <paramref name="value"/> as indented JSON with <c>--json</c>, else runs <paramref name="human"/>.</summary>
    public void Write<T>(T value, JsonTypeInfo<T> type, Action<TextWriter> human)
    {
        if (!json)
        {
            human(output);
            return;
        }
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Indented)) JsonSerializer.Serialize(writer, value, type);
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
