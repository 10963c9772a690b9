using System.CommandLine;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;
using AdamFamily.Lab.Tuning;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// The executor options every command that runs units shares (compare, and tune): where units run, how many at once,
/// with how many threads each, retries, and Slurm's pass-through.
/// </summary>
internal sealed class ExecutionOptions
{
    public readonly Option<string> Executor;
    public readonly Option<int?> Workers = new("--workers") { Description = "local: units at once (default: cores / threads per run)." };
    public readonly Option<int?> ThreadsPerRun = new("--threads-per-run") { Description = "LibTorch threads each unit pins, whatever runs it (default: local cores / workers, slurm 1, inprocess all cores)." };
    public readonly Option<int> Retries = new("--retries") { Description = "Reruns of a unit whose worker or array task ended without a result (default 1).", DefaultValueFactory = _ => 1 };
    public readonly Option<string?> SlurmArgs = new("--slurm-args") { Description = "slurm: sbatch options passed through, given with = as they start with --: --slurm-args=\"--partition=gpu --time=2:00:00 --gres=gpu:1\"." };
    public readonly Option<int?> SlurmConcurrency = new("--slurm-concurrency") { Description = "slurm: at most K array tasks at once (%K)." };
    public readonly Option<bool> NoWait;
    public readonly Option<string?> Afm = new("--afm") { Description = "slurm/local: the afm the workers run (an apphost path, an afm.dll, or a command on the nodes' PATH; default: this afm)." };

    /// <param name="tune">Word the options for afm tune: its units are trials, then final runs, one Slurm job each.</param>
    public ExecutionOptions(bool tune)
    {
        Executor = new("--executor")
        {
            Description = $"Where units ({(tune ? "arm × trial, then arm × final seed" : "arm × seed")}) run: local (worker processes on this machine, default), slurm (a job array{(tune ? " per phase" : "")}), inprocess (one after another in this process).",
            DefaultValueFactory = _ => "local",
        };
        NoWait = new("--no-wait")
        {
            Description = tune ? "slurm: return after submitting a phase, printing the job id; when the job is done rerun the same command (phase 1 done: it submits phase 2; phase 2 done: it summarises)."
                : "slurm: return after submission, printing the job id (then afm status / afm summarize DIR).",
        };
    }

    public IEnumerable<Option> All => new Option[] { Executor, Workers, ThreadsPerRun, Retries, SlurmArgs, SlurmConcurrency, NoWait, Afm };

    /// <summary>The executor and the threads per run; <see cref="ArgumentException"/> names a bad option.</summary>
    public (IUnitExecutor Executor, int ThreadsPerRun, string Name) Build(ParseResult r, int units)
    {
        int cores = Environment.ProcessorCount;
        var name = r.GetValue(Executor)!.ToLowerInvariant();
        int? workers = r.GetValue(Workers), threads = r.GetValue(ThreadsPerRun);
        if (workers is < 1) throw new ArgumentException($"--workers {workers}: must be ≥ 1.");
        if (threads is { } tpr) UnitRunner.CheckThreads(tpr);
        int retries = r.GetValue(Retries);
        if (retries < 0) throw new ArgumentException($"--retries {retries}: must be ≥ 0.");
        if (name != "slurm")
            foreach (var o in new Option[] { SlurmArgs, SlurmConcurrency, NoWait })
                if (r.GetResult(o) is { Implicit: false }) throw new ArgumentException($"{o.Name} applies to --executor slurm, not '{name}'.");
        if (name != "local" && r.GetResult(Workers) is { Implicit: false }) throw new ArgumentException($"--workers applies to --executor local, not '{name}'.");
        if (name == "inprocess")   // nothing is started or retried in-process: these would be silently ignored
            foreach (var o in new Option[] { Retries, Afm })
                if (r.GetResult(o) is { Implicit: false }) throw new ArgumentException($"{o.Name} applies to worker processes (--executor local or slurm), not 'inprocess'.");
        var afm = r.GetValue(Afm) is { } a ? AfmCommand.Parse(a) : AfmCommand.Current(typeof(ExecutionOptions).Assembly.Location);
        switch (name)
        {
            case "inprocess":
                return (new InProcessExecutor(), threads ?? cores, name);
            case "local":
            {
                int t = threads ?? (workers is { } w ? Math.Max(1, cores / w) : 1);
                int n = workers ?? Math.Max(1, Math.Min(Math.Max(units, 1), cores / t));
                return (new LocalExecutor(afm, n, retries), t, $"local, {n} worker{(n == 1 ? "" : "s")}");
            }
            case "slurm":
                var extra = r.GetValue(SlurmArgs) is { } sa ? SlurmExecutor.SplitArgs(sa) : Array.Empty<string>();
                return (new SlurmExecutor(afm, new SlurmOptions { Concurrency = r.GetValue(SlurmConcurrency), ExtraArgs = extra, Wait = !r.GetValue(NoWait), Retries = retries, PollInterval = PollInterval() }),
                    threads ?? 1, "slurm");
            default:
                throw new ArgumentException($"--executor '{name}': expected local, slurm or inprocess.");
        }
    }

    private static TimeSpan PollInterval() =>
        double.TryParse(Environment.GetEnvironmentVariable("AFM_SLURM_POLL_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : TimeSpan.FromSeconds(2);
}

/// <summary>Progress of a plan's units on screen: a bar per arm (epochs over its units), a line per finished unit, and the unit counts.</summary>
internal static class UnitProgressView
{
    /// <summary>The errors a running compare or tune ends with on purpose: an interrupt, bad input, an unwritable folder.</summary>
    public static bool IsRunError(Exception e) =>
        e is OperationCanceledException or InvalidOperationException or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException;

    /// <summary>Reports a <see cref="IsRunError"/> error and returns its exit code (130 for an interrupt: finished units are kept).</summary>
    public static int ReportRunError(Exception e)
    {
        if (e is OperationCanceledException)
        {
            AnsiConsole.MarkupLine($"[yellow]interrupted:[/] {Markup.Escape(e.Message)} Finished units are kept; rerun the same command to resume.");
            return ExitCodes.Interrupted;
        }
        return e is InvalidOperationException ? ExitCodes.ReportAsBadInput(e) : ExitCodes.Report(e);
    }

    /// <summary>A comparison's units: "ARM seed N: final test metric X" (or how the run failed or diverged).</summary>
    public static ComparisonOutcome Run(ExperimentSettings s, Func<UnitEvents, ComparisonOutcome> execute) =>
        Run(s, RunPlan.ForComparison(s, 1).Units, (u, run) => $"{Markup.Escape(u.Arm.Name)} seed {u.Seed}: {RunText(s, run)}", execute);

    /// <summary>How a finished run ended, as markup: <see cref="RunOutcome"/>, red when it failed or diverged.</summary>
    public static string RunText(ExperimentSettings s, RunResult run) =>
        run.Failed || run.Diverged ? $"[red]{Markup.Escape(RunOutcome(s, run))}[/]" : Markup.Escape(RunOutcome(s, run));

    /// <summary>How a finished run ended (plain text): its final test metric, or where it failed or diverged.</summary>
    public static string RunOutcome(ExperimentSettings s, RunResult run) =>
        run.Failed ? $"run failed in epoch {run.Failure!.Epoch}: {run.Failure.Reason}"
        : run.Diverged ? $"diverged at epoch {run.DivergedAtEpoch}"
        : $"final {s.MetricName} {run.FinalTestMetric:F2}";

    /// <summary>How a finished trial scored (plain text): its validation metric, or how it ended and the worst value it counts at.</summary>
    public static (string Text, bool Diverged) TrialOutcome(TuneSettings ts, RunUnit unit, RunResult run)
    {
        var t = TuneUnits.ToTrial(ts, unit, run);
        if (!t.Diverged) return ($"validation {t.ValidationMetric:F2}", false);
        string how = run.Failed || run.Diverged ? RunOutcome(ts.Experiment, run) : "no finite validation metric";
        return ($"{how}; counts at the worst value {t.ValidationMetric:F2}", true);
    }

    /// <summary>Runs <paramref name="execute"/> under the progress display of <paramref name="units"/>; <paramref name="line"/> is the markup printed when a unit finishes.</summary>
    public static T Run<T>(ExperimentSettings s, IReadOnlyList<RunUnit> units, Func<RunUnit, RunResult, string> line, Func<UnitEvents, T> execute)
    {
        T? outcome = default;
        var plain = Console.IsOutputRedirected;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var gate = new object();
                var arms = units.GroupBy(u => u.Arm.Name).ToDictionary(g => g.Key, g => ctx.AddTask(Markup.Escape(g.Key), maxValue: g.Count() * s.Epochs));
                int total = units.Count;
                var bar = ctx.AddTask("units", maxValue: total);
                var epochs = new Dictionary<int, int>();
                int done = 0, failed = 0, queued = -1;
                var running = new HashSet<int>();
                void Counts() => bar.Description = $"units: {done}/{total} done, {running.Count} running{(queued >= 0 ? $", {queued} queued" : "")}, {failed} failed";
                void SetEpochs(RunUnit u, int epoch)
                {
                    int before = epochs.GetValueOrDefault(u.Index);
                    if (epoch > before) { epochs[u.Index] = epoch; arms[u.Arm.Name].Increment(epoch - before); }
                }
                Counts();
                var events = new UnitEvents
                {
                    Started = (u, attempt) => { lock (gate) { running.Add(u.Index); Counts(); } },
                    EpochDone = (u, e, n) => { lock (gate) SetEpochs(u, e); },
                    Finished = (u, run, reused) =>
                    {
                        lock (gate)
                        {
                            running.Remove(u.Index);
                            done++;
                            bar.Increment(1);
                            SetEpochs(u, s.Epochs);
                            Counts();
                            AnsiConsole.MarkupLine($"{line(u, run)}{(reused ? " [grey](reused from an earlier call)[/]" : "")}");
                        }
                    },
                    AttemptFailed = (u, attempt, retry, reason) =>
                    {
                        lock (gate)
                        {
                            running.Remove(u.Index);
                            if (!retry) failed++;
                            Counts();
                            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(u.Describe())}: attempt {attempt}: {Markup.Escape(reason)}{(retry ? "; retrying" : "")}[/]");
                        }
                    },
                    Queue = (q, r) => { lock (gate) { queued = q; Counts(); } },
                    Note = text => AnsiConsole.MarkupLine(Markup.Escape(text)),
                };
                outcome = execute(events);
                if (plain) AnsiConsole.WriteLine(bar.Description);
            });
        return outcome!;
    }

    /// <summary>Prints the units that failed for good, each with the tail of its log; returns the exit code (2 when every failure was bad input, else <see cref="ExitCodes.UnitsFailed"/>).</summary>
    public static int ReportFailures(ComparisonOutcome o) => ReportFailures(o.Execution, o.Missing, o.Dir);

    /// <inheritdoc cref="ReportFailures(ComparisonOutcome)"/>
    public static int ReportFailures(ExecutionOutcome execution, IReadOnlyList<RunUnit> missing, string dir, string? orElse = null)
    {
        foreach (var f in execution.Failed)
        {
            AnsiConsole.MarkupLine($"[red]failed:[/] {Markup.Escape(f.Unit.Describe())}: {Markup.Escape(f.Reason)}");
            if (f.LogTail is { } tail) AnsiConsole.WriteLine("  | " + tail.Replace("\n", "\n  | "));
        }
        AnsiConsole.MarkupLine($"[red]{missing.Count} unit(s) have no result[/] ({Markup.Escape(string.Join(", ", missing.Take(8).Select(u => u.Describe())))}{(missing.Count > 8 ? ", ..." : "")}). " +
                               $"The {Markup.Escape("completed")} units are kept: rerun the same command to retry the rest, {Markup.Escape(orElse ?? $"or `afm summarize {dir}` for a summary of what is complete")}.");
        return execution.Failed.Count > 0 && execution.Failed.All(f => f.BadInput) ? ExitCodes.BadInput : ExitCodes.UnitsFailed;
    }
}
