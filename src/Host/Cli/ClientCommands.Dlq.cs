using System.CommandLine;
using System.Globalization;

namespace Varpulis.Host.Cli;

/// <summary>
/// <c>varpulis dlq list|replay|clear --server URL --api-key K --pipeline-id ID</c>: a pipeline's dead-letter queue
/// (docs/connectors.md). <c>replay</c> re-delivers the dead letters to their sinks through each sink's circuit breaker
/// and removes only those delivered.
/// </summary>
public static partial class ClientCommands
{
    private static Command Dlq()
    {
        var cmd = new Command("dlq", "Inspect, replay or clear a pipeline's dead-letter queue.");
        cmd.Subcommands.Add(DlqList());
        cmd.Subcommands.Add(DlqReplay());
        cmd.Subcommands.Add(DlqClear());
        return cmd;
    }

    private static Option<string> PipelineId(Command cmd)
    {
        var id = new Option<string>("--pipeline-id") { Description = "Pipeline id.", Required = true };
        cmd.Options.Add(id);
        return id;
    }

    private static string DlqPath(ParseResult parse, Option<string> id) => $"/api/v1/pipelines/{Uri.EscapeDataString(parse.GetValue(id)!)}/dlq";

    private static Command DlqList()
    {
        var cmd = new Command("list", "Print the pipeline's dead-lettered events, oldest first (JSON).");
        var (server, key) = Connection(cmd);
        var id = PipelineId(cmd);
        var limit = new Option<int>("--limit") { Description = "How many (1 to 1000).", DefaultValueFactory = _ => 100 };
        var offset = new Option<int>("--offset") { Description = "How many of the oldest to skip.", DefaultValueFactory = _ => 0 };
        cmd.Options.Add(limit);
        cmd.Options.Add(offset);
        cmd.SetAction((parse, ct) => Send(parse, server, key, HttpMethod.Get,
            DlqPath(parse, id) + string.Create(CultureInfo.InvariantCulture, $"?limit={parse.GetValue(limit)}&offset={parse.GetValue(offset)}"), null, ct));
        return cmd;
    }

    private static Command DlqReplay()
    {
        var cmd = new Command("replay", "Deliver the pipeline's dead-lettered events to their sinks again; those delivered leave the DLQ.");
        var (server, key) = Connection(cmd);
        var id = PipelineId(cmd);
        var connector = new Option<string>("--connector") { Description = "Replay only this sink's events." };
        var limit = new Option<int?>("--limit") { Description = "Replay at most this many of the oldest events." };
        cmd.Options.Add(connector);
        cmd.Options.Add(limit);
        cmd.SetAction((parse, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(connector) is { } c) query.Add("connector=" + Uri.EscapeDataString(c));
            if (parse.GetValue(limit) is { } l) query.Add(string.Create(CultureInfo.InvariantCulture, $"limit={l}"));
            return Send(parse, server, key, HttpMethod.Post, DlqPath(parse, id) + "/replay" + (query.Count > 0 ? "?" + string.Join("&", query) : ""), null, ct);
        });
        return cmd;
    }

    private static Command DlqClear()
    {
        var cmd = new Command("clear", "Remove every dead-lettered event of the pipeline.");
        var (server, key) = Connection(cmd);
        var id = PipelineId(cmd);
        cmd.SetAction((parse, ct) => Send(parse, server, key, HttpMethod.Delete, DlqPath(parse, id), null, ct));
        return cmd;
    }
}
