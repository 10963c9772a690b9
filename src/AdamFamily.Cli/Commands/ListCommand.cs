using System.CommandLine;
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
                // Both lines come from the option declarations (values, then the rule's structural choices).
                var d = p.Defaults();
                table.AddRow(p.Name, p.Type.Name, Markup.Escape(p.Description), Markup.Escape(d.Describe() + "\n" + d.Describe(structural: true)));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }
}
