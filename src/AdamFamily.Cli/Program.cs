using System.CommandLine;
using AdamFamily.Cli;
using AdamFamily.Cli.Commands;

// afm: the AdamFamily command line. Each command lives in Commands/ and registers itself here;
// ExitCodes.Run is the one place that turns parse errors and exceptions into exit codes.
using Spectre.Console;

if (Console.IsOutputRedirected)
{
    // Logs and pipes: plain text, and wide enough that tables are not folded.
    AnsiConsole.Profile.Capabilities.Ansi = false;
    AnsiConsole.Profile.Width = 200;
}

var root = new RootCommand("AdamFamily: the Adam family of optimizers with decoupled weight decay, on TorchSharp.");
root.Subcommands.Add(ListCommand.Create());
root.Subcommands.Add(ParityCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(TuneCommand.Create());
root.Subcommands.Add(WorkerCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(SummarizeCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(TheoryCommand.Create());
root.Subcommands.Add(ToyCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return ExitCodes.Run(root, args);
