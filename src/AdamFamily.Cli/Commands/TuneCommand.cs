using System.CommandLine;
using System.Text.Json;
using AdamFamily.Lab;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Training;
using AdamFamily.Lab.Tuning;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm tune</c>: an equal tuning budget per arm (scrambled-Halton trials scored on validation), then the
/// selected point of every arm rerun with fresh seeds and judged on test like <c>afm compare</c>. Both phases are
/// plans of units run by the executor --executor chooses (as afm compare's).
/// </summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var settings = new SettingsOptions(tune: true);
        var trials = new Option<int>("--trials") { Description = "Trials per arm per study (the same for every arm).", DefaultValueFactory = _ => 8 };
        var studies = new Option<int>("--studies") { Description = "Independent studies (AlgoPerf uses 3 × 5 trials).", DefaultValueFactory = _ => 1 };
        var space = new Option<string[]>("--space") { Description = "Override an arm's space: ARM:key=low..high[:log|:lin],… e.g. adamw:lr=1e-4..1e-2,weight_decay=1e-3..1. Repeatable." };
        var spaceFile = new Option<string?>("--space-file") { Description = "JSON file {\"ARM\": [{\"key\": \"lr\", \"low\": 1e-4, \"high\": 1e-2, \"log\": true}, …], …} overriding spaces." };
        var searchSeed = new Option<long>("--search-seed") { Description = "Seed of the Halton scrambling.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string?>("--out") { Description = "Results folder (default runs/tune-<protocol or task>); the trials go to its trials/ subfolder." };
        outDir.Validators.Add(SettingsOptions.NotEmptyPath);
        var exec = new ExecutionOptions(tune: true);
        var cmd = new Command("tune", "Tune every arm with the same budget on validation data, then compare the selected points on fresh seeds.");
        foreach (var o in settings.All.Concat(new Option[] { trials, studies, space, spaceFile, searchSeed, outDir }).Concat(exec.All)) cmd.Options.Add(o);
        cmd.SetAction((r, cancel) => Task.Run(() =>
        {
            // A bad option or file throws; ExitCodes.Run reports it (exit 2).
            var s = settings.Build(r);
            var spaces = s.Arms.ToDictionary(x => x.Name, x => SearchSpace.Default(x.Optimizer));
            if (r.GetValue(spaceFile) is { } file)
            {
                foreach (var (arm, dims) in SpaceFile.Read(file))   // strict: unknown fields, nulls, repeats are errors
                {
                    if (!spaces.ContainsKey(arm)) throw new ArgumentException($"--space-file '{file}' names arm '{arm}', which is not one of the arms ({string.Join(", ", spaces.Keys)}).");
                    spaces[arm] = spaces[arm].With(dims);
                }
            }
            foreach (var o in r.GetValue(space) ?? Array.Empty<string>())
            {
                var (arm, dims) = SearchSpace.ParseOverride(o);
                if (!spaces.ContainsKey(arm)) throw new ArgumentException($"--space '{o}': '{arm}' is not one of the arms ({string.Join(", ", spaces.Keys)}).");
                spaces[arm] = spaces[arm].With(dims);
            }
            var ts = new TuneSettings { Experiment = s, Trials = r.GetValue(trials), Studies = r.GetValue(studies), SearchSeed = r.GetValue(searchSeed), Spaces = spaces };
            ts.Validate();
            var (executor, threads, executorName) = exec.Build(r, s.Arms.Length * Math.Max(ts.Studies * ts.Trials, s.Seeds.Length)); // the larger phase bounds the default workers

            var ex = ts.Experiment;
            var dir = r.GetValue(outDir) ?? Path.Combine("runs", "tune-" + (ex.Protocol is "tune" or "custom" ? ex.Task : ex.Protocol));
            AnsiConsole.MarkupLine($"[bold]tune[/]: task {Markup.Escape(ex.Task)}, model {Markup.Escape(ex.Model)}, {ex.Epochs} epochs; {ts.Studies} × {ts.Trials} trials per arm, " +
                                   $"then final seeds {string.Join(",", ex.Seeds)}; executor {Markup.Escape(executorName)}, {threads} thread(s) per run; results in {Markup.Escape(Path.GetFullPath(dir))}");
            foreach (var (arm, sp) in ts.Spaces) AnsiConsole.MarkupLine($"  {Markup.Escape(arm)}: {Markup.Escape(sp.ToString())}");
            try
            {
                var options = new RunOptions { Executor = executor, ThreadsPerRun = threads, Command = "afm " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)) };
                var validated = TuneRunner.Validate(ts, dir, executor); // everything checked before any write
                var outcome = TuneRunner.Execute(validated, dir, options, (phase, plan, es, run) => ShowPhase(validated.Settings, dir, phase, plan, es, run), cancel);
                var last = outcome.Last;
                if (last.Execution is { Waited: false, JobId: { } job })
                {
                    AnsiConsole.MarkupLine(last.Phase == TunePhase.Trials
                        ? $"Slurm job [bold]{job}[/] submitted: phase 1, {last.Missing.Count} trial(s). The final runs start from the trials' selection, so when the job is done (`afm status {Markup.Escape(outcome.Dir)}`), " +
                          "[bold]rerun this same command[/]: it reuses every trial, selects the points and submits phase 2."
                        : $"Slurm job [bold]{job}[/] submitted: phase 2, {last.Missing.Count} final run(s) of the selected points. When it is done (`afm status {Markup.Escape(outcome.Dir)}`), " +
                          "[bold]rerun this same command[/]: it summarises and writes tune.json and the report.");
                    Console.WriteLine(job);
                    return 0;
                }
                if (outcome.Summary is null)
                    return UnitProgressView.ReportFailures(last.Execution, last.Missing, outcome.Dir, $"or `afm status {outcome.Dir}` to see every unit of both phases");
                var tune = outcome.Tune!;
                var table = new Table().Border(TableBorder.Rounded).Title("[bold]selected on validation[/]");
                foreach (var c in new[] { "arm", "selected hyper-parameters", tune.Metric, "diverged trials" }) table.AddColumn(Markup.Escape(c));
                foreach (var a in tune.Arms)
                    table.AddRow(Markup.Escape(a.Arm), Markup.Escape(string.Join(", ", a.Selected.HyperParameters.Select(kv => $"{kv.Key}={HyperParameters.F(kv.Value)}"))),
                        VerdictTable.N(a.Selected.ValidationMetric), $"{a.Trials.Count(x => x.Diverged)}/{a.Trials.Count}");
                AnsiConsole.Write(table);
                foreach (var w in tune.Arms.SelectMany(a => a.EdgeWarnings)) AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
                ComparisonTable.Write(outcome.Summary, dir, $"[bold]tuned[/]: final {Markup.Escape(ex.MetricName)} over {ex.Seeds.Length} fresh seeds (baseline [bold]{Markup.Escape(ex.BaselineArm)}[/])");
                return ReportCommand.Render(dir, tensorboard: false);
            }
            catch (Exception e) when (UnitProgressView.IsRunError(e))
            {
                return UnitProgressView.ReportRunError(e);
            }
        }, CancellationToken.None));
        return cmd;
    }

    /// <summary>A phase under the progress display: its heading, a line per finished trial (validation score) or final run (test metric).</summary>
    private static TunePhaseOutcome ShowPhase(TuneSettings ts, string dir, TunePhase phase, RunPlan plan, ExperimentSettings es, Func<UnitEvents, TunePhaseOutcome> run)
    {
        if (phase == TunePhase.Trials)
        {
            AnsiConsole.MarkupLine($"[bold]phase 1[/]: {plan.Units.Length} trials ({ts.Studies} × {ts.Trials} per arm), results in {Markup.Escape(TuneUnits.TrialsDir(Path.GetFullPath(dir)))}");
            return UnitProgressView.Run(es, plan.Units, (u, r) =>
            {
                var (text, diverged) = UnitProgressView.TrialOutcome(ts, u, r);
                string score = diverged ? $"[red]{Markup.Escape(text)}[/]" : Markup.Escape(text);
                return $"{Markup.Escape(u.Arm.Name)} trial {Markup.Escape(u.Trial ?? "")} (seed {u.Seed}): {score}";
            }, run);
        }
        AnsiConsole.MarkupLine($"[bold]phase 2[/]: the selected points × final seeds {string.Join(",", es.Seeds)}, judged on test:");
        foreach (var a in es.Arms) AnsiConsole.MarkupLine($"  {Markup.Escape(a.Name)}: {Markup.Escape(a.Optimizer)}");
        return UnitProgressView.Run(es, plan.Units, (u, r) => $"{Markup.Escape(u.Arm.Name)} seed {u.Seed}: {UnitProgressView.RunText(es, r)}", run);
    }
}
