using System.CommandLine;
using Varpulis.Host.Cli;

var root = new RootCommand("varpulis: complex-event processing with VPL on Akka.NET");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(ConfigGenCommand.Create());
foreach (var client in ClientCommands.Create()) root.Subcommands.Add(client);
return await root.Parse(args).InvokeAsync();
