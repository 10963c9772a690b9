using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Tuning;

/// <summary>A trial as tune.json lists it (its run's epochs stay in DIR/trials).</summary>
public sealed record TrialSummary(int Study, int Trial, int Seed, Dictionary<string, double> HyperParameters, double ValidationMetric, bool Diverged, string? Failure);

/// <summary>The best trial of one study.</summary>
public sealed record StudyBest(int Study, int Trial, double ValidationMetric);

/// <summary>The point an arm is rerun at with the final seeds.</summary>
public sealed record SelectedPoint(int Study, int Trial, Dictionary<string, double> HyperParameters, double ValidationMetric, string Optimizer);

/// <summary>One arm's tuning: its space, every trial, each study's best, the selected point and edge warnings.</summary>
public sealed record TuneArmResult(string Arm, string BaseOptimizer, SearchSpace Space, IReadOnlyList<TrialSummary> Trials,
    IReadOnlyList<StudyBest> StudyBests, SelectedPoint Selected, IReadOnlyList<string> EdgeWarnings);

/// <summary>DIR/tune.json: the whole tuning record.</summary>
public sealed record TuneResult(string Task, string Metric, bool HigherIsBetter, int Trials, int Studies, long SearchSeed, int[] FinalSeeds,
    string Selection, IReadOnlyList<TuneArmResult> Arms);

/// <summary>The two phases of a tuning study: the trials (DIR/trials), then the final runs of the selected points (DIR).</summary>
public enum TunePhase { Trials, Final }

/// <summary>How one phase's plan ended: its folder, the executor's outcome, and every unit with its result (null while it has none).</summary>
public sealed record TunePhaseOutcome(TunePhase Phase, string Dir, RunPlan Plan, ExecutionOutcome Execution, IReadOnlyList<(RunUnit Unit, RunResult? Result)> Results)
{
    /// <summary>The units still without a result.</summary>
    public IReadOnlyList<RunUnit> Missing { get; } = Results.Where(x => x.Result is null).Select(x => x.Unit).ToList();
}

/// <summary>
/// The end of a tune call. Complete: <see cref="Tune"/> and <see cref="Summary"/> are set. Otherwise
/// <see cref="Last"/> is the phase that stopped (units missing, or a Slurm job submitted without waiting); a rerun
/// of the same command continues from there. <see cref="Tune"/> is set once every trial is done.
/// </summary>
public sealed record TuneOutcome(string Dir, TunePhaseOutcome Last, TuneResult? Tune, ComparisonSummary? Summary);

/// <summary>
/// Wraps the execution of one phase (the CLI puts its progress display around it); <paramref name="run"/> executes
/// the phase's plan with the events it is given.
/// </summary>
public delegate TunePhaseOutcome TunePhaseHook(TunePhase phase, RunPlan plan, ExperimentSettings settings, Func<UnitEvents, TunePhaseOutcome> run);

/// <summary>
/// Runs a tuning study as two plans of units through <see cref="PlanRunner"/> with any executor: phase 1, every arm ×
/// study × trial in DIR/trials (<see cref="TuneUnits.TrialPlan"/>); then the selection on validation; then phase 2,
/// every arm at its selected point × the final seeds as a comparison in DIR, judged on test with the §1 rules
/// (summary.json / summary.csv in compare's format) and tune.json. Finished units are skipped by their hash, so a
/// killed study, or one whose Slurm job was submitted without waiting, continues where it stopped when rerun.
/// </summary>
public static class TuneRunner
{
    /// <summary>The study's settings (DIR/tune-settings.json) and its tuning record (DIR/tune.json).</summary>
    public const string SettingsFile = "tune-settings.json", ResultFile = "tune.json";

    /// <summary>How a point is selected, as written into tune.json and the report.</summary>
    public const string SelectionRule =
        "in each study the best trial by the validation metric after the last epoch (earliest on ties); the selected point is the median of the study bests " +
        "(with an even number of studies the better of the two middle ones)";

    /// <summary>In this process, every unit in turn; throws when a unit could not produce a result.</summary>
    public static (TuneResult Tune, ComparisonSummary Summary) Run(TuneSettings s, string dir,
        Action<RunProgress>? progress = null, Action<RunUnit, bool>? unitDone = null, CancellationToken cancel = default, int? threadsPerRun = null)
    {
        var options = new RunOptions
        {
            ThreadsPerRun = threadsPerRun ?? Environment.ProcessorCount,
            Events = new UnitEvents { Batch = progress, Finished = (u, _, reused) => unitDone?.Invoke(u, reused) },
        };
        var outcome = Execute(Validate(s, dir, options.Executor), dir, options, null, cancel);
        if (outcome.Summary is null)
            throw new InvalidOperationException($"{outcome.Last.Phase} units without a result: {string.Join(", ", outcome.Last.Missing.Select(u => u.Describe()))}.");
        return (outcome.Tune!, outcome.Summary);
    }

    /// <summary>
    /// Checks the settings, the search spaces, the folder (a new or empty one, or this study's own), the task's data (by
    /// loading it) and the executor, all before anything is written. Returns the settings with the data path made
    /// absolute, and the loaded task.
    /// </summary>
    public static (TuneSettings Settings, TrainingTask Task) Validate(TuneSettings s, string dir, IUnitExecutor executor, TrainingTask? given = null)
    {
        s = s with { Experiment = ComparisonRunner.Normalise(s.Experiment) };
        s.Validate();
        var (experiment, task) = ComparisonRunner.Prepare(s.Experiment, dir, executor, declared => CheckFolder(s with { Experiment = declared }, Path.GetFullPath(dir)), given);
        s = s with { Experiment = experiment };
        if (!task.HasValidation)
        {
            task.Dispose();
            throw new ArgumentException($"tuning selects on validation data, and task '{experiment.Task}' has no validation split" +
                                        (experiment.IsLanguageModel ? "." : " (--validation must be > 0 for image tasks)."), "validation");
        }
        return (s, task);
    }

    /// <summary>The tuning study a folder belongs to: the folder itself, or its parent when it is a study's trials folder (null when neither).</summary>
    public static string? StudyRoot(string dir)
    {
        dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        if (File.Exists(Path.Combine(dir, SettingsFile))) return dir;
        var parent = Path.GetDirectoryName(dir);
        return parent is not null && Path.GetFileName(dir) == TuneUnits.TrialsFolder && File.Exists(Path.Combine(parent, SettingsFile)) ? parent : null;
    }

    /// <summary>The stored settings of a tuning folder.</summary>
    public static TuneSettings LoadSettings(string dir)
    {
        var path = Path.Combine(dir, SettingsFile);
        if (!File.Exists(path)) throw new InvalidDataException($"'{dir}' is not a tuning folder (no {SettingsFile}).");
        return TuneSettings.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Refuses a folder that holds other settings or is not a tuning study; writes nothing.</summary>
    private static void CheckFolder(TuneSettings s, string dir)
    {
        var path = Path.Combine(dir, SettingsFile);
        if (File.Exists(path))
        {
            if (File.ReadAllText(path) == s.ToJson()) return;
            throw new InvalidOperationException($"'{dir}' holds a tuning study with other settings ({path}). Use another --out folder, or delete it to start over.");
        }
        if (StudyRoot(dir) is { } root)
            throw new InvalidOperationException($"'{dir}' holds the trials of the tuning study '{root}'; give that folder, or another --out folder.");
        if (File.Exists(dir)) throw new InvalidOperationException($"--out '{dir}' is a file, not a folder.");
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            throw new InvalidOperationException($"'{dir}' is not empty and holds no tuning study ({SettingsFile}); refusing to write into it. Use another --out folder.");
    }

    /// <summary>
    /// Runs a study <see cref="Validate"/> has checked (takes ownership of its loaded task): claims DIR and DIR/trials,
    /// runs the trials, selects, runs the final units and writes summary.json/csv and tune.json. Stops early, with what
    /// is missing, when a phase ends without every result or its Slurm job was submitted without waiting.
    /// <paramref name="hook"/> (optional) wraps each phase's execution; without it <see cref="RunOptions.Events"/> is used.
    /// </summary>
    public static TuneOutcome Execute((TuneSettings Settings, TrainingTask Task) validated, string dir, RunOptions options, TunePhaseHook? hook, CancellationToken cancel = default)
    {
        UnitRunner.CheckThreads(options.ThreadsPerRun);
        var s = validated.Settings;
        TrainingTask? task = validated.Task;
        hook ??= (_, _, _, run) => run(options.Events);
        try
        {
            if (options.Executor is not InProcessExecutor) { task.Dispose(); task = null; } // workers load their own copy
            using var folder = ResultsFolder.Claim(dir, options.Command);
            dir = folder.Dir;
            if (!File.Exists(Path.Combine(dir, SettingsFile))) LabFiles.WriteAtomically(Path.Combine(dir, SettingsFile), s.ToJson());

            // Phase 1: the trials, a results folder of their own.
            TunePhaseOutcome trials;
            using (var trialsFolder = ResultsFolder.Claim(TuneUnits.TrialsDir(dir), options.Command))
            {
                new ResultStore(trialsFolder.Dir).BindSettings(s.Experiment);
                var plan = TuneUnits.TrialPlan(s, options.ThreadsPerRun);
                trials = RunPhase(TunePhase.Trials, trialsFolder.Dir, plan, s.Experiment, options, hook, task, cancel);
            }
            if (trials.Missing.Count > 0 || !trials.Execution.Waited) return new TuneOutcome(dir, trials, null, null);
            var tune = Select(s, trials.Results.Select(x => TuneUnits.ToTrial(s, x.Unit, x.Result!)).ToList());

            // Phase 2: the selected points × the final seeds, a comparison in DIR.
            var final = TuneUnits.FinalSettings(s, tune.Arms.ToDictionary(a => a.Arm, a => a.Selected.Optimizer));
            new ResultStore(dir).BindSettings(final);
            var finalPlan = RunPlan.ForComparison(final, options.ThreadsPerRun);
            var last = RunPhase(TunePhase.Final, dir, finalPlan, final, options, hook, task, cancel);
            if (last.Missing.Count > 0 || !last.Execution.Waited) return new TuneOutcome(dir, last, tune, null);
            var summary = ComparisonRunner.WriteSummary(dir, final, last.Results.Select(x => x.Result!).ToList());
            LabFiles.WriteJson(tune, Path.Combine(dir, ResultFile));
            return new TuneOutcome(dir, last, tune, summary);
        }
        finally { task?.Dispose(); }
    }

    private static TunePhaseOutcome RunPhase(TunePhase phase, string dir, RunPlan plan, ExperimentSettings settings, RunOptions options, TunePhaseHook hook, TrainingTask? task, CancellationToken cancel) =>
        hook(phase, plan, settings, events =>
        {
            var (execution, results) = PlanRunner.Run(dir, plan, settings, options.Executor, events, task, cancel);
            return new TunePhaseOutcome(phase, dir, plan, execution, results);
        });

    /// <summary>Every trial of a tuning folder with its result (null while it has none), in plan order.</summary>
    public static IReadOnlyList<(RunUnit Unit, RunResult? Result)> InspectTrials(string dir, TuneSettings s)
    {
        // The units (and so their results) do not depend on the thread count, which only plan.json records: no need to read it.
        var plan = TuneUnits.TrialPlan(s, threadsPerRun: 1);
        var store = new ResultStore(TuneUnits.TrialsDir(dir));
        return plan.Units.Select(u => (u, store.TryLoadUnit(u, plan.SettingsHash))).ToList();
    }

    /// <summary>Every trial of a tuning folder as a <see cref="TrialResult"/>; an <see cref="InvalidDataException"/> names the first without a result.</summary>
    public static IReadOnlyList<TrialResult> LoadTrials(string dir, TuneSettings s) =>
        InspectTrials(dir, s).Select(x => TuneUnits.ToTrial(s, x.Unit, x.Result
            ?? throw new InvalidDataException($"'{dir}': {x.Unit.Describe()} of the trials has no result."))).ToList();

    /// <summary>
    /// Writes DIR/tune.json of a study whose trials are all done (the selection is a function of them), e.g. after
    /// <c>afm summarize</c> collected final runs a Slurm job finished without afm waiting. Returns it.
    /// </summary>
    public static TuneResult WriteResult(string dir)
    {
        var s = LoadSettings(dir);
        var tune = Select(s, LoadTrials(dir, s));
        LabFiles.WriteJson(tune, Path.Combine(dir, ResultFile));
        return tune;
    }

    /// <summary>Selects each arm's point from every trial of the study (all must be there).</summary>
    public static TuneResult Select(TuneSettings s, IReadOnlyList<TrialResult> all)
    {
        bool higher = s.Experiment.HigherIsBetter;
        var arms = new List<TuneArmResult>();
        foreach (var a in s.Experiment.Arms)
        {
            var space = s.Spaces[a.Name];
            var trials = new List<TrialResult>();
            for (int study = 0; study < s.Studies; study++)
                for (int t = 0; t < s.Trials; t++)
                    trials.Add(all.FirstOrDefault(x => x.Arm == a.Name && x.Study == study && x.Trial == t)
                               ?? throw new InvalidDataException($"trial {t} of study {study} of arm '{a.Name}' has no result."));
            bool Better(TrialResult x, TrialResult y) => higher ? x.ValidationMetric > y.ValidationMetric : x.ValidationMetric < y.ValidationMetric;
            var bests = Enumerable.Range(0, s.Studies).Select(study =>
            {
                TrialResult? best = null;
                foreach (var t in trials.Where(t => t.Study == study))
                    if (best is null || Better(t, best)) best = t;
                return best!;
            }).ToList();
            var ordered = bests.OrderBy(b => higher ? -b.ValidationMetric : b.ValidationMetric).ThenBy(b => b.Study).ToList();
            var chosen = ordered[(ordered.Count - 1) / 2];
            var warnings = new List<string>();
            foreach (var d in space.Dimensions)
            {
                double pos = d.Position(chosen.Point[d.Key]);
                if (pos < 0.05 || pos > 0.95)
                    warnings.Add($"{a.Name}: selected {d.Key} = {HyperParameters.F(chosen.Point[d.Key])} lies at the {(pos < 0.5 ? "lower" : "upper")} edge of its range " +
                                 $"[{HyperParameters.F(d.Low)}, {HyperParameters.F(d.High)}]; the best value may lie outside: widen the space (--space) before trusting the verdict.");
            }
            arms.Add(new TuneArmResult(a.Name, a.Optimizer, space,
                trials.Select(t => new TrialSummary(t.Study, t.Trial, t.Seed, t.Point, t.ValidationMetric, t.Diverged, t.Failure)).ToList(),
                bests.Select(b => new StudyBest(b.Study, b.Trial, b.ValidationMetric)).ToList(),
                new SelectedPoint(chosen.Study, chosen.Trial, chosen.Point, chosen.ValidationMetric, chosen.Optimizer), warnings));
        }
        var e = s.Experiment;
        return new TuneResult(e.Task, e.DeclaredMetric.On("validation"), higher, s.Trials, s.Studies, s.SearchSeed, e.Seeds, SelectionRule, arms);
    }
}
