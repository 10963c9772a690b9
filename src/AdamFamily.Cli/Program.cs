using System.CommandLine;
using AdamFamily.Cli.Commands;

// afm: the AdamFamily command line. Each command lives in Commands/ and registers itself here.
var root = new RootCommand("AdamFamily: the Adam family of optimizers with decoupled weight decay, on TorchSharp.");
root.Subcommands.Add(ListCommand.Create());
root.Subcommands.Add(ParityCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return root.Parse(args).Invoke();
