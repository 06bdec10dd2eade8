using System.CommandLine;
using Varpulis.Host.Cli;

// The `varpulis` executable: every command is declared in its own file under Cli/ and composed here.
var root = new RootCommand("Varpulis — a complex-event-processing server and toolkit for VPL programs");
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(CoordinatorCommand.Create());
root.Subcommands.Add(ConfigGenCommand.Create());
root.Subcommands.Add(HealthcheckCommand.Create());
foreach (var client in ClientCommands.Create()) root.Subcommands.Add(client);
return await CliFailure.RunAsync(root, args);
