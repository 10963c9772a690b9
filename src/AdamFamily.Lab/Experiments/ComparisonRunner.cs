using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Experiments;

/// <summary>How a comparison's units are executed.</summary>
public sealed record RunOptions
{
    public IUnitExecutor Executor { get; init; } = new InProcessExecutor();
    /// <summary>LibTorch (and kernel) threads every unit pins, whatever executes it.</summary>
    public int ThreadsPerRun { get; init; } = Environment.ProcessorCount;
    public UnitEvents Events { get; init; } = new();
    /// <summary>The command line recorded in the folder lock (for the message another process gets).</summary>
    public string? Command { get; init; }
}

/// <summary>The end of a comparison call: the summary when every unit is complete, else what is missing and why.</summary>
public sealed record ComparisonOutcome(string Dir, ComparisonSummary? Summary, ExecutionOutcome Execution, IReadOnlyList<RunUnit> Missing);

/// <summary>
/// Runs a comparison: validates everything, then claims the results folder (lock, experiment.json, plan.json), runs the
/// units not yet done with the chosen executor, and summarises when every unit has a result. Finished units found in the
/// folder are reused, so a killed comparison restarts where it stopped.
/// </summary>
public static class ComparisonRunner
{
    /// <summary>In this process, every unit in turn; throws when a unit could not produce a result.</summary>
    public static ComparisonSummary Run(ExperimentSettings settings, string outDir,
        Action<RunProgress>? progress = null, Action<RunResult, bool>? runDone = null, CancellationToken cancel = default)
    {
        var outcome = Execute(settings, outDir, new RunOptions
        {
            Events = new UnitEvents { Batch = progress, Finished = (_, r, reused) => runDone?.Invoke(r, reused) },
        }, cancel);
        return outcome.Summary ?? throw new InvalidOperationException($"units without a result: {string.Join(", ", outcome.Missing.Select(u => u.Describe()))}.");
    }

    /// <summary>
    /// Validates the settings, the arm labels and the task's data (by loading it), the results folder and the executor,
    /// all before anything is written. Returns the settings with the data path made absolute, and the loaded task.
    /// </summary>
    public static (ExperimentSettings Settings, TrainingTask Task) Validate(ExperimentSettings settings, string outDir, IUnitExecutor executor, TrainingTask? given = null) =>
        Prepare(settings, outDir, executor, _ =>
        {
            if (Tuning.TuneRunner.StudyRoot(outDir) is { } study)
                throw new InvalidOperationException($"--out '{Path.GetFullPath(outDir)}' belongs to the tuning study '{study}' (afm tune); a comparison needs a folder of its own.");
            ResultsFolder.CheckUsable(outDir);
        }, given);

    /// <summary>
    /// What every command that runs units checks before writing anything (compare, and tune for its experiment), in this
    /// order: the settings (each arm's options too, by building its optimizer: <see cref="ArmGrammar.Check"/>), the arm labels,
    /// the folder path for the executor, the executor itself (<see cref="IUnitExecutor.Preflight"/>), the task's data (by
    /// loading it), whose declared metric is recorded in the settings, and the folder (<paramref name="checkFolder"/>,
    /// handed the settings as they will be stored). Returns those settings, with the data path absolute, and the loaded task.
    /// </summary>
    /// <remarks><paramref name="given"/>: a task already built (the library API's, wrapped in a <see cref="BorrowedTask"/>), used instead of loading the one the settings name.</remarks>
    public static (ExperimentSettings Settings, TrainingTask Task) Prepare(ExperimentSettings settings, string outDir, IUnitExecutor executor, Action<ExperimentSettings> checkFolder,
        TrainingTask? given = null)
    {
        settings = Normalise(settings);
        settings.Validate();
        ResultFileNames.CheckDistinct(settings.Arms.Select(a => a.Name));
        if (executor is SlurmExecutor) SlurmExecutor.CheckDir(Path.GetFullPath(outDir));
        executor.Preflight();
        var task = given ?? TaskLoader.Load(settings);
        try
        {
            if (TaskLoader.NeedsProbe(settings)) TaskProbe.Check(task, TaskLoader.Owner(settings));
            settings = Declare(settings, task);
            checkFolder(settings);
            return (settings, task);
        }
        catch { task.Dispose(); throw; }
    }

    /// <summary>The settings with the task's declaration recorded (its metric, its validation split, the files it read), checked again against it (e.g. the margin's limit).</summary>
    public static ExperimentSettings Declare(ExperimentSettings settings, TrainingTask task)
    {
        var files = task.InputFiles.Select(FileFingerprint.Of).ToArray();
        var declared = settings with
        {
            Metric = task.Metric,
            ValidationSplit = task.HasValidation ? task.ValidationDescription : null,
            Files = files.Length == 0 ? null : files,
        };
        declared.Validate();
        return declared;
    }

    /// <summary>The settings with their data path absolute and normalised (a resume from another working directory reads the same data).</summary>
    public static ExperimentSettings Normalise(ExperimentSettings s) =>
        s.DataPath is { Length: > 0 } p ? s with { DataPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(p)) } : s;

    public static ComparisonOutcome Execute(ExperimentSettings settings, string outDir, RunOptions options, CancellationToken cancel = default)
    {
        UnitRunner.CheckThreads(options.ThreadsPerRun);
        return Execute(Validate(settings, outDir, options.Executor), outDir, options, cancel);
    }

    /// <summary>Runs a comparison <see cref="Validate"/> has checked; takes ownership of its loaded task.</summary>
    public static ComparisonOutcome Execute((ExperimentSettings Settings, TrainingTask Task) validated, string outDir, RunOptions options, CancellationToken cancel = default)
    {
        var s = validated.Settings;
        TrainingTask? task = validated.Task;
        try
        {
            using var folder = ResultsFolder.Claim(outDir, options.Command);
            var store = new ResultStore(folder.Dir);
            store.BindSettings(s);
            var plan = RunPlan.ForComparison(s, options.ThreadsPerRun);
            if (options.Executor is not InProcessExecutor) { task.Dispose(); task = null; } // workers load their own copy
            var (execution, results) = PlanRunner.Run(folder.Dir, plan, s, options.Executor, options.Events, task, cancel);
            var missing = results.Where(x => x.Result is null).Select(x => x.Unit).ToList();
            if (missing.Count > 0) return new ComparisonOutcome(folder.Dir, null, execution, missing);
            var summary = WriteSummary(folder.Dir, s, results.Select(x => x.Result!).ToList());
            return new ComparisonOutcome(folder.Dir, summary, execution, missing);
        }
        finally { task?.Dispose(); }
    }

    /// <summary>Summarises the runs and writes DIR/summary.json and summary.csv (compare, summarize, and tune's final phase).</summary>
    internal static ComparisonSummary WriteSummary(string dir, ExperimentSettings s, IReadOnlyList<RunResult> runs)
    {
        var summary = ComparisonSummary.From(s, runs);
        LabFiles.WriteAtomically(Path.Combine(dir, "summary.json"), summary.ToJson());
        LabFiles.WriteAtomically(Path.Combine(dir, "summary.csv"), summary.ToCsv());
        return summary;
    }

    /// <summary>The units of a folder and their results (null = missing), from its experiment.json.</summary>
    public static (ExperimentSettings Settings, IReadOnlyList<(RunUnit Unit, RunResult? Result)> Units) Inspect(string dir)
    {
        var store = new ResultStore(dir);
        var s = store.LoadSettings();
        // The units (and so their results) do not depend on the thread count, which only plan.json records: no need to read it.
        var plan = RunPlan.ForComparison(s, threadsPerRun: 1);
        return (s, plan.Units.Select(u => (u, store.TryLoadFor(u, plan.SettingsHash))).ToList());
    }

    /// <summary>
    /// Summary of whatever is complete: the seeds for which every arm has a result (pairing stays intact; a seed with a
    /// missing arm is left out for all arms). Writes summary.json/csv and returns them with the missing units; null
    /// summary when no seed is complete. Takes the folder's lock.
    /// </summary>
    public static (ComparisonSummary? Summary, IReadOnlyList<RunUnit> Missing, int[] Seeds) Summarize(string dir)
    {
        if (!Directory.Exists(dir) || !ResultsFolder.IsAfmFolder(dir)) throw new InvalidDataException($"'{Path.GetFullPath(dir)}' is not an afm results folder (no experiment.json).");
        using var folder = ResultsFolder.Claim(dir);
        var (s, units) = Inspect(folder.Dir);
        var missing = units.Where(x => x.Result is null).Select(x => x.Unit).ToList();
        var seeds = s.Seeds.Where(seed => units.Where(x => x.Unit.Seed == seed).All(x => x.Result is not null)).ToArray();
        if (seeds.Length == 0) return (null, missing, seeds);
        var partial = s with { Seeds = seeds };
        var summary = WriteSummary(folder.Dir, partial, units.Where(x => x.Result is not null && seeds.Contains(x.Unit.Seed)).Select(x => x.Result!).ToList());
        return (summary, missing, seeds);
    }
}
