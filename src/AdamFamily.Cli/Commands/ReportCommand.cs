using System.CommandLine;
using AdamFamily.Lab.Reports;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary><c>afm report DIR</c>: (re-)renders report.html, summary.md and the plots of a comparison folder.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "A comparison or tuning folder (the --out of afm compare or afm tune)." };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard event files under DIR/tensorboard." };
        var cmd = new Command("report", "Render report.html, summary.md and plots of a comparison folder.") { dir, tensorboard };
        cmd.SetAction(r => Render(r.GetValue(dir)!, r.GetValue(tensorboard)));
        return cmd;
    }

    /// <summary>Renders a folder; prints where things went. Returns the exit code.</summary>
    public static int Render(string dir, bool tensorboard)
    {
        try
        {
            var html = TuneReport.IsTuneFolder(dir) ? TuneReport.Write(dir) : ComparisonReport.Write(dir);
            AnsiConsole.MarkupLine($"report: {Markup.Escape(Path.GetFullPath(html))} (and summary.md, plots/*.png|svg)");
            if (tensorboard) AnsiConsole.MarkupLine($"tensorboard: {Markup.Escape(Path.GetFullPath(TensorBoardExport.Write(dir)))}");
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
    }
}
