using System.CommandLine;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;
using AdamFamily.Lab.Tuning;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm status DIR</c>: every unit of a results folder as done / queued / running / failed / stale / missing, from the result
/// files, the folder's lock (a local run in progress) and, when the folder has a Slurm job, squeue, the tasks' exit
/// records and sacct where accounting is on. A tuning folder shows both phases: its trials (DIR/trials) and, once they
/// are selected, the final runs (DIR).
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "A results folder (the --out of afm compare or afm tune)." };
        var cmd = new Command("status", "Show which units of a results folder are done, queued, running or failed.") { dir };
        cmd.SetAction(r => Show(r.GetValue(dir)!));
        return cmd;
    }

    // A missing or unreadable folder throws; ExitCodes.Run reports it (exit 2).
    private static int Show(string dirArg)
    {
        var dir = Path.GetFullPath(dirArg);
        if (TuneRunner.StudyRoot(dir) is { } root) return ShowTune(root);
        if (!Directory.Exists(dir) || !ResultsFolder.IsAfmFolder(dir)) throw new InvalidDataException($"'{dir}' is not an afm results folder (no experiment.json).");
        var (s, units) = ComparisonRunner.Inspect(dir);
        ShowUnits(dir, $"{Markup.Escape(dir)}: {Markup.Escape(s.Protocol)}, {units.Count} units", units, (_, r) => UnitProgressView.RunOutcome(s, r));
        return 0;
    }

    /// <summary>Both phases of a tuning study: the trials, then the final runs (or why they have not started).</summary>
    private static int ShowTune(string dir)
    {
        var ts = TuneRunner.LoadSettings(dir);
        var trials = TuneRunner.InspectTrials(dir, ts);
        var trialsDir = TuneUnits.TrialsDir(dir);
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(dir)}[/]: a tuning study ({ts.Studies} × {ts.Trials} trials per arm, final seeds {string.Join(",", ts.Experiment.Seeds)})");
        ShowUnits(trialsDir, $"phase 1, trials: {Markup.Escape(trialsDir)}, {trials.Count} units", trials, (u, r) => UnitProgressView.TrialOutcome(ts, u, r).Text);
        if (!File.Exists(Path.Combine(dir, "experiment.json")))
        {
            int done = trials.Count(x => x.Result is not null);
            AnsiConsole.MarkupLine($"phase 2, final runs: not started. They run the points selected from every trial ({done} of {trials.Count} done); rerun the afm tune command to continue.");
            return 0;
        }
        var (s, units) = ComparisonRunner.Inspect(dir);
        ShowUnits(dir, $"phase 2, final runs of the selected points: {Markup.Escape(dir)}, {units.Count} units", units, (_, r) => UnitProgressView.RunOutcome(s, r));
        if (File.Exists(Path.Combine(dir, TuneRunner.ResultFile))) AnsiConsole.MarkupLine($"complete: {Markup.Escape(Path.Combine(dir, TuneRunner.ResultFile))}, summary.json, report.html");
        return 0;
    }

    /// <summary>The table of a plan folder's units (trial units get a trial column) with the counts, the lock holder and the Slurm job.</summary>
    private static void ShowUnits(string dir, string title, IReadOnlyList<(RunUnit Unit, RunResult? Result)> units, Func<RunUnit, RunResult, string> doneDetail)
    {
        var jobs = SlurmExecutor.LoadJobs(dir);
        var job = jobs.Count > 0 ? jobs[^1] : null;
        Dictionary<int, string>? queued = null;
        Dictionary<int, (string State, string Exit)>? acct = null;
        string? slurmNote = null;
        if (job is not null)
        {
            try { queued = SlurmCli.QueuedTasks(job.JobId); }
            catch (SlurmUnavailableException e) { slurmNote = e.Message; }
            acct = SlurmCli.AccountedTasks(job.JobId);
        }
        var holder = ResultsFolder.Holder(dir);
        bool trials = units.Any(u => u.Unit.Trial is not null);

        var table = new Table().Border(TableBorder.Rounded).Title(title);
        foreach (var c in trials ? new[] { "unit", "arm", "trial", "seed", "state", "detail" } : new[] { "unit", "arm", "seed", "state", "detail" }) table.AddColumn(c);
        var counts = new Dictionary<string, int>();
        foreach (var (u, result) in units)
        {
            string state, detail = "";
            if (result is not null)
            {
                state = "done";
                detail = doneDetail(u, result);
            }
            else if (queued is not null && queued.TryGetValue(u.Index, out var qs))
            {
                state = qs is "PENDING" ? "queued" : "running";
                detail = $"job {job!.JobId}_{u.Index} {qs}";
            }
            else if (job is not null && job.Units.Contains(u.Index) && File.Exists(SlurmExecutor.ExitPath(dir, u.Index, job.JobId)))
            {
                state = "failed";
                detail = $"job {job.JobId}_{u.Index} exited {File.ReadAllText(SlurmExecutor.ExitPath(dir, u.Index, job.JobId)).Trim()}; log {SlurmExecutor.LogPath(dir, u.Index, "err")}";
            }
            else if (job is not null && acct is not null && acct.TryGetValue(u.Index, out var a) && a.State is not ("PENDING" or "RUNNING"))
            {
                state = "failed";
                detail = $"job {job.JobId}_{u.Index} {a.State} (exit {a.Exit})";
            }
            else if (job is not null && queued is not null && job.Units.Contains(u.Index))
            {
                state = "failed";
                detail = $"job {job.JobId}_{u.Index} left the queue without a result";
            }
            else if (holder is not null) { state = "pending"; detail = "a local run is in progress"; }
            else if (File.Exists(Path.Combine(dir, u.Result)))
            {
                state = "stale";   // a result file that is not this unit's result: made under other settings, or unfinished
                detail = $"{u.Result} was made under other settings (experiment.json changed since) or is incomplete; rerunning the command replaces it";
            }
            else
            {
                var log = Path.Combine(dir, "logs", $"unit-{u.Index}.log");
                state = "missing";
                if (File.Exists(log)) detail = $"no result; an earlier local attempt left {log}";
            }
            counts[state] = counts.GetValueOrDefault(state) + 1;
            var cells = new List<string> { u.Index.ToString(), Markup.Escape(u.Arm.Name) };
            if (trials) cells.Add(Markup.Escape(u.Trial ?? ""));
            cells.AddRange(new[] { u.Seed.ToString(), Colour(state), Markup.Escape(detail) });
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(string.Join(", ", new[] { "done", "queued", "running", "pending", "failed", "stale", "missing" }.Where(counts.ContainsKey).Select(k => $"{counts[k]} {k}")));
        if (holder is not null) AnsiConsole.MarkupLine($"in use by {Markup.Escape(holder)}");
        if (job is not null) AnsiConsole.MarkupLine($"Slurm job {job.JobId} (submitted {Markup.Escape(job.Submitted)}){(acct is null ? "; sacct: accounting not available, states from squeue and the tasks' exit records" : "")}");
        try { if (File.Exists(Path.Combine(dir, RunPlan.FileName))) RunPlan.Load(Path.Combine(dir, RunPlan.FileName)); }
        catch (InvalidDataException e) { AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(e.Message)}[/]"); }
        if (slurmNote is not null) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(slurmNote)}[/]");
    }

    private static string Colour(string state) => state switch
    {
        "done" => "[green]done[/]",
        "failed" => "[red]failed[/]",
        "running" => "[blue]running[/]",
        _ => state,
    };
}
