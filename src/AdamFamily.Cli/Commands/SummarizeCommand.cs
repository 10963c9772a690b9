using System.CommandLine;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Tuning;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm summarize DIR</c>: summary (summary.json/csv, the verdict table) and report from whatever units are complete,
/// over the seeds every arm has finished, and the list of missing units. Exit 0 with a summary, 1 when no seed is complete.
/// A tuning folder is summarised by its final runs (phase 2); once they are all there, tune.json is written too. Before
/// phase 2 has started there is nothing to summarise (exit 1, saying so).
/// </summary>
internal static class SummarizeCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "A results folder (the --out of afm compare or afm tune)." };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard event files." };
        var cmd = new Command("summarize", "Summarise and report a results folder from its complete units; list the missing ones.") { dir, tensorboard };
        cmd.SetAction(r =>
        {
            var d = r.GetValue(dir)!;
            try
            {
                var study = TuneRunner.StudyRoot(d);
                if (study is not null)
                {
                    var ts = TuneRunner.LoadSettings(study);
                    if (!File.Exists(Path.Combine(study, "experiment.json")))
                    {
                        var trials = TuneRunner.InspectTrials(study, ts);
                        AnsiConsole.MarkupLine($"[yellow]'{Markup.Escape(study)}' is a tuning study still in phase 1[/] ({trials.Count(x => x.Result is not null)} of {trials.Count} trials done): " +
                                               "there is nothing to summarise until every trial is done and the final runs of the selected points have started. " +
                                               $"Rerun the afm tune command to continue; `afm status {Markup.Escape(study)}` shows the trials.");
                        return 1;
                    }
                    AnsiConsole.MarkupLine($"tuning study: summarising phase 2, the final runs of the selected points ({Markup.Escape(study)}).");
                    d = study;
                }
                var (summary, missing, seeds) = ComparisonRunner.Summarize(d);
                if (missing.Count > 0)
                    AnsiConsole.MarkupLine($"[yellow]{missing.Count} unit(s) missing:[/] {Markup.Escape(string.Join(", ", missing.Select(u => u.Describe())))}");
                if (summary is null)
                {
                    AnsiConsole.MarkupLine("[red]no seed has a result for every arm yet[/]; nothing to summarise (`afm status " + Markup.Escape(d) + "`).");
                    return 1;
                }
                if (missing.Count > 0) AnsiConsole.MarkupLine($"[yellow]partial summary over seeds {string.Join(",", seeds)} (those every arm has finished)[/]");
                else if (study is not null) TuneRunner.WriteResult(study);
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
