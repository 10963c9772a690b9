using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdamFamily.Lab.Execution;

/// <summary>The options of <c>--executor slurm</c>.</summary>
public sealed record SlurmOptions
{
    /// <summary>At most this many array tasks at once (%K); null = no limit.</summary>
    public int? Concurrency { get; init; }
    /// <summary>sbatch options passed through (partition, time limit, --gres=gpu:1, ...), one #SBATCH line per option.</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = Array.Empty<string>();
    public bool Wait { get; init; } = true;
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    public int Retries { get; init; } = 1;
}

/// <summary>One submission into a results folder (DIR/slurm/jobs.json keeps them all).</summary>
public sealed record SlurmJob(string JobId, string Submitted, string PlanHash, int[] Units);

/// <summary>
/// Pending units as one Slurm job array: DIR/slurm/array.sbatch (task id = unit index, <c>%K</c> concurrency,
/// <c>--cpus-per-task</c> = threads per run, stdout/stderr per task in DIR/slurm/logs/), submitted with sbatch.
/// By default it waits, polling squeue, and retries failed units in a new array; each task records its exit code
/// in DIR/slurm/exit/ so failures are known without accounting (sacct is used when it works).
/// </summary>
public sealed partial class SlurmExecutor(AfmCommand afm, SlurmOptions options) : IUnitExecutor
{
    public SlurmOptions Options { get; } = options;

    public void Preflight()
    {
        if (Options.Concurrency is < 1) throw new ArgumentOutOfRangeException("concurrency", Options.Concurrency, $"--slurm-concurrency {Options.Concurrency}: must be ≥ 1.");
        foreach (var a in Options.ExtraArgs)
            if (!a.StartsWith('-') || a.Contains('\n')) throw new ArgumentException($"--slurm-args: '{a}' is not an sbatch option (each starts with -, e.g. --partition=gpu --time=2:00:00).");
        var (ok, message) = SlurmCli.Check();
        if (!ok) throw new SlurmUnavailableException($"--executor slurm: {message}");
    }

    /// <summary>Refuses folder paths Slurm's #SBATCH lines and %-patterns cannot carry.</summary>
    public static void CheckDir(string dir)
    {
        if (UnsafePath().IsMatch(dir)) throw new ArgumentException($"--out '{dir}': for --executor slurm the folder path must not contain spaces, quotes, '%' or '\\\\' (sbatch's file patterns cannot carry them).");
    }

    [GeneratedRegex(@"[\s'""%\\$`]")]
    private static partial Regex UnsafePath();

    public static string SlurmDir(string dir) => Path.Combine(dir, "slurm");
    public static string JobsPath(string dir) => Path.Combine(SlurmDir(dir), "jobs.json");
    public static string ScriptPath(string dir) => Path.Combine(SlurmDir(dir), "array.sbatch");
    public static string LogPath(string dir, int unit, string stream) => Path.Combine(SlurmDir(dir), "logs", $"unit-{unit}.{stream}");
    public static string ExitPath(string dir, int unit, string jobId) => Path.Combine(SlurmDir(dir), "exit", $"unit-{unit}.{jobId}");

    public ExecutionOutcome Execute(UnitContext ctx, IReadOnlyList<RunUnit> todo, UnitEvents events, CancellationToken cancel)
    {
        if (todo.Count == 0) return ExecutionOutcome.Empty;
        CheckDir(ctx.Dir);
        var pending = todo.ToList();
        var attempts = todo.ToDictionary(u => u.Index, _ => 0);
        var failed = new List<UnitFailure>();
        string? lastJob = null;
        while (pending.Count > 0)
        {
            foreach (var u in pending) attempts[u.Index]++;
            var jobId = Submit(ctx, pending);
            lastJob = jobId;
            events.Note?.Invoke($"submitted Slurm job {jobId}: {pending.Count} array task{(pending.Count == 1 ? "" : "s")} (script {ScriptPath(ctx.Dir)})");
            if (!Options.Wait) return new ExecutionOutcome(Array.Empty<UnitFailure>(), jobId, Waited: false);
            var ended = WaitFor(ctx, jobId, pending, events, cancel);
            var retry = new List<RunUnit>();
            foreach (var (unit, reason, badInput) in ended)
            {
                bool again = !badInput && attempts[unit.Index] <= Options.Retries;
                events.AttemptFailed?.Invoke(unit, attempts[unit.Index], again, reason);
                if (again) retry.Add(unit);
                else failed.Add(new UnitFailure(unit, $"{reason} (job {jobId}, after {attempts[unit.Index]} attempt{(attempts[unit.Index] == 1 ? "" : "s")}; log {LogPath(ctx.Dir, unit.Index, "err")})",
                    Tail(ctx.Dir, unit.Index), badInput));
            }
            pending = retry;
        }
        return new ExecutionOutcome(failed, lastJob);
    }

    private static string? Tail(string dir, int unit)
    {
        var parts = new[] { "out", "err" }.Select(s => LocalExecutor.LogTail(LogPath(dir, unit, s), 10)).Where(t => !string.IsNullOrWhiteSpace(t));
        var text = string.Join('\n', parts!);
        return text.Length == 0 ? null : text;
    }

    /// <summary>Writes DIR/slurm/array.sbatch for <paramref name="units"/> and submits it; returns the job id.</summary>
    public string Submit(UnitContext ctx, IReadOnlyList<RunUnit> units)
    {
        var script = Script(ctx, units);
        var path = ScriptPath(ctx.Dir);
        Directory.CreateDirectory(Path.Combine(SlurmDir(ctx.Dir), "logs"));
        Directory.CreateDirectory(Path.Combine(SlurmDir(ctx.Dir), "exit"));
        LabFiles.WriteAtomically(path, script);
        var (code, output, err) = SlurmCli.Run("sbatch", new[] { "--parsable", path });
        if (code != 0) throw new SlurmUnavailableException($"sbatch refused {path} (exit {code}): {err.Trim()} Nothing was submitted; the results so far are kept.");
        var jobId = output.Trim().Split(';')[0];
        if (!Regex.IsMatch(jobId, "^[0-9]+$")) throw new SlurmUnavailableException($"sbatch printed '{output.Trim()}', not a job id.");
        var jobs = LoadJobs(ctx.Dir).ToList();
        jobs.Add(new SlurmJob(jobId, DateTime.UtcNow.ToString("O"), ctx.Plan.PlanHash, units.Select(u => u.Index).ToArray()));
        LabFiles.WriteJson(jobs, JobsPath(ctx.Dir));
        return jobId;
    }

    /// <summary>The job array script: one task per unit, the task id being the unit's index.</summary>
    public string Script(UnitContext ctx, IReadOnlyList<RunUnit> units)
    {
        int t = ctx.Plan.ThreadsPerRun;
        var sb = new StringBuilder("#!/bin/bash\n");
        sb.AppendLine($"# Written by afm: one array task per pending unit of {ctx.PlanPath} (array task id = unit index).");
        sb.AppendLine("# Resubmitting this file by hand is safe: a unit whose result exists is skipped by the worker.");
        sb.AppendLine($"#SBATCH --job-name=afm-{Regex.Replace(ctx.Settings.Protocol, "[^A-Za-z0-9_.-]", "_")}");
        sb.AppendLine($"#SBATCH --array={ArraySpec(units.Select(u => u.Index))}{(Options.Concurrency is { } k ? $"%{k}" : "")}");
        sb.AppendLine("#SBATCH --ntasks=1");
        sb.AppendLine($"#SBATCH --cpus-per-task={t}");
        sb.AppendLine($"#SBATCH --output={SlurmDir(ctx.Dir)}/logs/unit-%a.out");
        sb.AppendLine($"#SBATCH --error={SlurmDir(ctx.Dir)}/logs/unit-%a.err");
        sb.AppendLine("#SBATCH --open-mode=append");
        sb.AppendLine("#SBATCH --requeue");
        foreach (var line in GroupOptions(Options.ExtraArgs)) sb.AppendLine($"#SBATCH {line}");
        sb.AppendLine($"export OMP_NUM_THREADS={t}");
        sb.AppendLine("echo \"# unit $SLURM_ARRAY_TASK_ID, job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}, restart ${SLURM_RESTART_COUNT:-0}, host $(hostname), $(date -u +%FT%TZ)\"");
        var cmd = string.Join(' ', new[] { afm.FileName }.Concat(afm.WorkerArgs(ctx.PlanPath, "UNIT", ctx.Plan.PlanHash, t)).Select(Quote))
            .Replace("'UNIT'", "\"$SLURM_ARRAY_TASK_ID\"");
        sb.AppendLine(cmd);
        sb.AppendLine("rc=$?");
        sb.AppendLine($"echo \"$rc\" > {Quote(Path.Combine(SlurmDir(ctx.Dir), "exit"))}/unit-\"$SLURM_ARRAY_TASK_ID\".\"$SLURM_ARRAY_JOB_ID\"");
        sb.AppendLine("exit $rc");
        return sb.ToString();
    }

    /// <summary>"0-3,5,7-8": the indices as Slurm array ranges.</summary>
    public static string ArraySpec(IEnumerable<int> indices)
    {
        var sorted = indices.Distinct().Order().ToArray();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    /// <summary>"--partition gpu --time=1:00:00" → "--partition gpu", "--time=1:00:00" (an option and its separate value on one line).</summary>
    private static IEnumerable<string> GroupOptions(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            var line = args[i];
            while (i + 1 < args.Count && !args[i + 1].StartsWith('-')) line += " " + args[++i];
            yield return line;
        }
    }

    /// <summary>Splits a --slurm-args value like a shell would (quotes group words).</summary>
    public static string[] SplitArgs(string text)
    {
        var list = new List<string>();
        var cur = new StringBuilder();
        char? quote = null;
        bool any = false;
        foreach (var c in text)
        {
            if (quote is { } q) { if (c == q) quote = null; else cur.Append(c); continue; }
            if (c is '"' or '\'') { quote = c; any = true; continue; }
            if (char.IsWhiteSpace(c)) { if (cur.Length > 0 || any) list.Add(cur.ToString()); cur.Clear(); any = false; continue; }
            cur.Append(c);
        }
        if (quote is not null) throw new ArgumentException($"--slurm-args: unbalanced quote in '{text}'.");
        if (cur.Length > 0 || any) list.Add(cur.ToString());
        return list.ToArray();
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>Polls until the job has left the queue; returns the units that ended without a result (reason, and whether the worker refused its input).</summary>
    private List<(RunUnit Unit, string Reason, bool BadInput)> WaitFor(UnitContext ctx, string jobId, IReadOnlyList<RunUnit> units, UnitEvents events, CancellationToken cancel)
    {
        var store = ctx.Store;
        var open = units.ToDictionary(u => u.Index);
        var started = new HashSet<int>();
        var lastEpoch = new Dictionary<int, int>();
        int errors = 0;
        while (true)
        {
            Dictionary<int, string> queued;
            try { queued = SlurmCli.QueuedTasks(jobId); errors = 0; }
            catch (SlurmUnavailableException e)
            {
                if (++errors >= 15) throw new SlurmUnavailableException($"lost contact with Slurm while waiting for job {jobId} ({e.Message}). The job may still be running: `afm status {ctx.Dir}` shows it, and rerunning the same afm command resumes.");
                Sleep(cancel);
                continue;
            }
            int running = queued.Values.Count(s => s is "RUNNING" or "COMPLETING" or "CONFIGURING");
            foreach (var (idx, state) in queued)
                if (state is "RUNNING" && open.TryGetValue(idx, out var u) && started.Add(idx)) events.Started?.Invoke(u, 1);
            foreach (var u in open.Values.ToList())
            {
                if (EpochFromLog(ctx.Dir, u.Index) is { } ep && lastEpoch.GetValueOrDefault(u.Index) != ep.Epoch)
                {
                    lastEpoch[u.Index] = ep.Epoch;
                    events.EpochDone?.Invoke(u, ep.Epoch, ep.Epochs);
                }
                if (queued.ContainsKey(u.Index)) continue;
                if (store.TryLoadUnit(u, ctx.Plan.SettingsHash) is { } r)
                {
                    open.Remove(u.Index);
                    events.Finished?.Invoke(u, r, false);
                }
            }
            events.Queue?.Invoke(queued.Count - running, running);
            if (queued.Count == 0) break;
            Sleep(cancel);
        }
        // The job has left the queue: every unit without a result failed (exit code record, sacct when available).
        var acct = open.Count > 0 ? SlurmCli.AccountedTasks(jobId) : null;
        var ended = new List<(RunUnit, string, bool)>();
        foreach (var u in open.Values)
        {
            var exitFile = ExitPath(ctx.Dir, u.Index, jobId);
            string? exit = File.Exists(exitFile) ? File.ReadAllText(exitFile).Trim() : null;
            string reason = exit is not null ? $"array task {jobId}_{u.Index} exited with code {exit} and wrote no result"
                : acct?.TryGetValue(u.Index, out var a) == true ? $"array task {jobId}_{u.Index} ended {a.State} (exit {a.Exit}) without a result"
                : $"array task {jobId}_{u.Index} left the queue without a result or exit record (cancelled, timed out or killed)";
            ended.Add((u, reason, exit == "2"));
        }
        return ended;

        void Sleep(CancellationToken c)
        {
            if (c.WaitHandle.WaitOne(Options.PollInterval))
                throw new OperationCanceledException($"stopped waiting; Slurm job {jobId} keeps running: `afm status {ctx.Dir}`, and rerun the command (or `afm summarize {ctx.Dir}`) later.", c);
        }
    }

    /// <summary>The last "afm-progress" line of a unit's Slurm log: (epoch, epochs).</summary>
    private static (int Epoch, int Epochs)? EpochFromLog(string dir, int unit)
    {
        var path = LogPath(dir, unit, "out");
        if (!File.Exists(path)) return null;
        try
        {
            (int Epoch, int Epochs)? last = null;
            foreach (var line in File.ReadLines(path)) if (LocalExecutor.ParseProgressLine(line) is { } ep) last = ep;
            return last;
        }
        catch (IOException) { return null; }
    }

    public static IReadOnlyList<SlurmJob> LoadJobs(string dir)
    {
        var path = JobsPath(dir);
        if (!File.Exists(path)) return Array.Empty<SlurmJob>();
        List<SlurmJob>? jobs;
        try { jobs = JsonSerializer.Deserialize<List<SlurmJob>>(File.ReadAllText(path), LabFiles.Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid job record ({e.Message}); afm writes it on submission. Move it away to continue.", e); }
        // What afm wrote: a list of jobs, each with a numeric job id (it is passed to squeue, sacct and scancel) and its units.
        InvalidDataException Bad(string what) => new($"{path}: not a valid job record ({what}); afm writes it on submission. Move it away to continue.");
        if (jobs is null) throw Bad("null");
        for (int i = 0; i < jobs.Count; i++)
            if (jobs[i] is not { JobId: { } id, Units: not null } || !Regex.IsMatch(id, "^[0-9]+$"))
                throw Bad($"entry {i}: a job needs a numeric job_id and its units");
        return jobs;
    }

    /// <summary>The folder's last job if Slurm still has tasks of it queued or running (null when none, or when Slurm is not reachable here).</summary>
    public static (SlurmJob Job, Dictionary<int, string> Tasks)? ActiveJob(string dir)
    {
        var jobs = LoadJobs(dir);
        if (jobs.Count == 0) return null;
        var last = jobs[^1];
        try
        {
            var tasks = SlurmCli.QueuedTasks(last.JobId);
            return tasks.Count > 0 ? (last, tasks) : null;
        }
        catch (SlurmUnavailableException) { return null; }
    }
}
