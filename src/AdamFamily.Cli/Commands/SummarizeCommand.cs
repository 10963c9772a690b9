using System.CommandLine;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm summarize DIR</c>: summary (summary.json/csv, the verdict table) and report from whatever units are complete,
/// over the seeds every arm has finished, and the list of missing units. Exit 0 with a summary, 1 when no seed is complete.
/// </summary>
internal static class SummarizeCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "A results folder (afm compare --out)." };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard event files." };
        var cmd = new Command("summarize", "Summarise and report a results folder from its complete units; list the missing ones.") { dir, tensorboard };
        cmd.SetAction(r =>
        {
            var d = r.GetValue(dir)!;
            try
            {
                var (summary, missing, seeds) = ComparisonRunner.Summarize(d);
                if (missing.Count > 0)
                    AnsiConsole.MarkupLine($"[yellow]{missing.Count} unit(s) missing:[/] {Markup.Escape(string.Join(", ", missing.Select(u => u.Describe())))}");
                if (summary is null)
                {
                    AnsiConsole.MarkupLine("[red]no seed has a result for every arm yet[/]; nothing to summarise (`afm status " + Markup.Escape(d) + "`).");
                    return 1;
                }
                if (missing.Count > 0) AnsiConsole.MarkupLine($"[yellow]partial summary over seeds {string.Join(",", seeds)} (those every arm has finished)[/]");
                ComparisonTable.Write(summary, d);
                return ReportCommand.Render(d, r.GetValue(tensorboard));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                return ExitCodes.ReportAsBadInput(e);
            }
        });
        return cmd;
    }
}
