using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary><c>afm list</c>: every preset with a one-line description and its defaults.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var cmd = new Command("list", "List every optimizer preset with its description and defaults.");
        cmd.SetAction(_ =>
        {
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]AdamFamily presets[/]");
            table.AddColumn("name"); table.AddColumn("class"); table.AddColumn("description"); table.AddColumn("defaults");
            foreach (var p in Presets.All)
            {
                var d = p.Defaults();
                var rule = d.ToRule();
                string F(double? x) => x?.ToString("G4", CultureInfo.InvariantCulture) ?? "-";
                var defaults = rule.Direction == Rules.Direction.Sgd
                    ? $"lr={F(d.LearningRate)} momentum={F(d.Momentum)} dampening={F(d.Dampening)} weight_decay={F(d.WeightDecay)}"
                    : $"lr={F(d.LearningRate)} betas=({F(d.Beta1)},{F(d.Beta2)}) eps={F(d.Eps)} weight_decay={F(d.WeightDecay)}";
                table.AddRow(p.Name, p.Type.Name, Markup.Escape(p.Description), Markup.Escape(defaults + "\n" + rule.Describe()));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }
}
