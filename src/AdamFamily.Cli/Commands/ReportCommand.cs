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

    /// <summary>Renders a folder; prints where things went. Returns 0; a missing, corrupt or unwritable folder throws (exit 2 by ExitCodes).</summary>
    public static int Render(string dir, bool tensorboard)
    {
        if (File.Exists(dir)) throw new IOException($"'{dir}' is a file; give a comparison folder (the --out of afm compare).");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"'{dir}' does not exist (give the --out folder of afm compare).");
        AdamFamily.Lab.LabFiles.CheckWritableFolder(Path.Combine(dir, "plots"), "report plots folder");   // before any plot is drawn
        var html = TuneReport.IsTuneFolder(dir) ? TuneReport.Write(dir) : ComparisonReport.Write(dir);
        AnsiConsole.MarkupLine($"report: {Markup.Escape(Path.GetFullPath(html))} (and summary.md, plots/*.png|svg)");
        if (tensorboard) AnsiConsole.MarkupLine($"tensorboard: {Markup.Escape(Path.GetFullPath(TensorBoardExport.Write(dir)))}");
        return 0;
    }
}
