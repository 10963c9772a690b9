using System.CommandLine;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm status DIR</c>: every unit of a results folder as done / queued / running / failed / missing, from the result
/// files, the folder's lock (a local run in progress) and, when the folder has a Slurm job, squeue, the tasks' exit
/// records and sacct where accounting is on.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "A results folder (afm compare --out)." };
        var cmd = new Command("status", "Show which units of a results folder are done, queued, running or failed.") { dir };
        cmd.SetAction(r => Show(r.GetValue(dir)!));
        return cmd;
    }

    private static int Show(string dirArg)
    {
        try
        {
            var dir = Path.GetFullPath(dirArg);
            if (!Directory.Exists(dir) || !ResultsFolder.IsAfmFolder(dir)) throw new InvalidDataException($"'{dir}' is not an afm results folder (no experiment.json).");
            var (s, _, units) = ComparisonRunner.Inspect(dir);
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

            var table = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(dir)}: {Markup.Escape(s.Protocol)}, {units.Count} units");
            foreach (var c in new[] { "unit", "arm", "seed", "state", "detail" }) table.AddColumn(c);
            var counts = new Dictionary<string, int>();
            foreach (var (u, result) in units)
            {
                string state, detail = "";
                if (result is not null)
                {
                    state = "done";
                    detail = result.Failed ? $"run failed in epoch {result.Failure!.Epoch}: {result.Failure.Reason}"
                        : result.Diverged ? $"diverged at epoch {result.DivergedAtEpoch}"
                        : $"final {s.MetricName} {result.FinalTestMetric:F2}";
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
                else
                {
                    var log = Path.Combine(dir, "logs", $"unit-{u.Index}.log");
                    state = "missing";
                    if (File.Exists(log)) detail = $"no result; an earlier local attempt left {log}";
                }
                counts[state] = counts.GetValueOrDefault(state) + 1;
                table.AddRow(u.Index.ToString(), Markup.Escape(u.Arm.Name), u.Seed.ToString(), Colour(state), Markup.Escape(detail));
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(string.Join(", ", new[] { "done", "queued", "running", "pending", "failed", "missing" }.Where(counts.ContainsKey).Select(k => $"{counts[k]} {k}")));
            if (holder is not null) AnsiConsole.MarkupLine($"in use by {Markup.Escape(holder)}");
            if (job is not null) AnsiConsole.MarkupLine($"Slurm job {job.JobId} (submitted {Markup.Escape(job.Submitted)}){(acct is null ? "; sacct: accounting not available, states from squeue and the tasks' exit records" : "")}");
            try { if (File.Exists(Path.Combine(dir, RunPlan.FileName))) RunPlan.Load(Path.Combine(dir, RunPlan.FileName)); }
            catch (InvalidDataException e) { AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(e.Message)}[/]"); }
            if (slurmNote is not null) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(slurmNote)}[/]");
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            return ExitCodes.ReportAsBadInput(e);
        }
    }

    private static string Colour(string state) => state switch
    {
        "done" => "[green]done[/]",
        "failed" => "[red]failed[/]",
        "running" => "[blue]running[/]",
        _ => state,
    };
}
