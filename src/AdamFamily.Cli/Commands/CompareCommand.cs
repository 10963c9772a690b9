using System.CommandLine;
using System.Globalization;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Training;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm compare</c>: a fair, seed-paired A/B(/n) comparison of optimizers on a real task, ending in a
/// verdict table. Results live in --out and a killed comparison resumes where it stopped.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var settings = new SettingsOptions(tune: false);
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard event files under the results folder." };
        var outDir = new Option<string?>("--out") { Description = "Results folder (default runs/<protocol or compare>)." };
        outDir.Validators.Add(SettingsOptions.NotEmptyPath);
        var exec = new ExecutionOptions(tune: false);

        var cmd = new Command("compare", "Compare optimizers fairly: several seeds, paired arms, test accuracy with confidence intervals.");
        foreach (var o in settings.All.Append(tensorboard).Append(outDir).Concat(exec.All)) cmd.Options.Add(o);
        cmd.SetAction((r, cancel) => Task.Run(() =>
        {
            // A bad option or file throws; ExitCodes.Run reports it (exit 2).
            var s = settings.Build(r);
            var (executor, threads, executorName) = exec.Build(r, s.Arms.Length * s.Seeds.Length);

            var dir = r.GetValue(outDir) ?? Path.Combine("runs", s.Protocol == "custom" ? "compare" : s.Protocol);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(s.Protocol)}[/]: task {Markup.Escape(s.Task)}, model {Markup.Escape(s.IsLanguageModel ? $"{s.Model} ({s.Lm})" : s.Model)}, {s.Epochs} epochs, batch {s.BatchSize}, " +
                                   $"seeds {string.Join(",", s.Seeds)}, lr schedule {Markup.Escape(s.Schedule.ToString())}; executor {Markup.Escape(executorName)}, {threads} thread(s) per run; results in {Markup.Escape(Path.GetFullPath(dir))}");
            try
            {
                var options = new RunOptions { Executor = executor, ThreadsPerRun = threads, Command = "afm " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)) };
                var validated = ComparisonRunner.Validate(s, dir, executor); // everything checked before the progress display and before any write
                var outcome = UnitProgressView.Run(validated.Settings, events => ComparisonRunner.Execute(validated, dir, options with { Events = events }, cancel));
                if (outcome.Execution is { Waited: false, JobId: { } job })
                {
                    AnsiConsole.MarkupLine($"Slurm job [bold]{job}[/] submitted ({outcome.Missing.Count} units). Follow it with `afm status {Markup.Escape(outcome.Dir)}`; `afm summarize {Markup.Escape(outcome.Dir)}` when it is done (or rerun this command: it waits and summarises).");
                    Console.WriteLine(job);
                    return 0;
                }
                if (outcome.Summary is null) return UnitProgressView.ReportFailures(outcome);
                ComparisonTable.Write(outcome.Summary, dir);
                return ReportCommand.Render(dir, r.GetValue(tensorboard));
            }
            catch (Exception e) when (UnitProgressView.IsRunError(e))
            {
                return UnitProgressView.ReportRunError(e);
            }
        }, CancellationToken.None));
        return cmd;
    }

}

/// <summary>The verdict table on screen (the cells of <see cref="VerdictTable"/>, coloured).</summary>
internal static class ComparisonTable
{
    public static void Write(ComparisonSummary summary, string dir, string? title = null)
    {
        var s = summary.Settings;
        var table = new Table().Border(TableBorder.Rounded)
            .Title(title ?? $"[bold]{Markup.Escape(s.Protocol)}[/]: final {Markup.Escape(s.MetricName)} over {s.Seeds.Length} seeds (baseline [bold]{Markup.Escape(s.BaselineArm)}[/])");
        foreach (var c in VerdictTable.Header(summary)) table.AddColumn(Markup.Escape(c));
        foreach (var row in VerdictTable.Rows(summary))
        {
            table.AddRow(row.Select((cell, i) => VerdictTable.ToneOf(i, cell) switch
            {
                CellTone.Good => $"[green]{Markup.Escape(cell)}[/]",
                CellTone.Bad => $"[red]{Markup.Escape(cell)}[/]",
                CellTone.Muted => $"[grey]{Markup.Escape(cell)}[/]",
                _ => Markup.Escape(cell),
            }).ToArray());
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape(VerdictTable.Footnote(summary)));
        AnsiConsole.MarkupLine($"Files: {Markup.Escape(Path.Combine(dir, "summary.json"))}, summary.csv, runs/*.jsonl");
    }
}
