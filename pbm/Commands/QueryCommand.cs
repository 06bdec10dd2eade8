using System.CommandLine;
using System.Text.Json.Serialization.Metadata;

namespace Varpulis.Pbm.Commands;

/// <summary>A command that reads one route of the node and prints its answer: for people through a writer, or as JSON.</summary>
internal static class QueryCommand
{
    public static Command Create<T>(PbmGlobals g, string name, string description, string path, JsonTypeInfo<T> type, Action<TextWriter, T> human)
    {
        var cmd = new Command(name, description);
        cmd.SetAction((parse, ct) => g.RunAsync(parse, async (client, printer, ct) =>
        {
            var value = await client.GetAsync(path, type, ct);
            printer.Write(value, type, output => human(output, value));
        }, ct));
        return cmd;
    }
}
