using System.Text.Json;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Tuning;

/// <summary>
/// One independent, deterministic unit of a tuning study: a trial (arm × study × trial, one tuning seed, scored on
/// validation) or a final run (arm × final seed at the arm's selected point, judged on test). A unit is fully
/// described by the saved settings plus these fields, so any process — this one, a local worker, a Slurm job —
/// can run it with <see cref="TuneUnits.Execute(TuneSettings, TuneUnit, string, ILabTask, Action{RunProgress}?, CancellationToken)"/> and get the same result file.
/// </summary>
public sealed record TuneUnit(string Kind, string Arm, int Study, int Trial, int Seed, string Optimizer)
{
    public const string TrialKind = "trial", FinalKind = "final";
    public override string ToString() => Kind == TrialKind ? $"{Arm} study {Study} trial {Trial}" : $"{Arm} final seed {Seed}";
}

/// <summary>A finished trial: its point, its seed, the validation score, and the run behind it.</summary>
public sealed record TrialResult(string Arm, int Study, int Trial, int Seed, string Optimizer, Dictionary<string, double> Point,
    double ValidationMetric, bool Diverged, string? Failure, IReadOnlyList<EpochMetrics> Epochs);

/// <summary>
/// Planning and executing the units of a tuning study, and where their result files live: DIR/trials/ARM-sS-tT.json
/// for trials, DIR/runs/ARM-seedN.jsonl (the comparison's own format, through <see cref="ResultStore"/>) for final runs.
/// Every file is written atomically, so a present file is a finished unit and a killed study resumes by running the rest.
/// </summary>
public static class TuneUnits
{
    public static string TrialPath(string dir, string arm, int study, int trial) =>
        Path.Combine(dir, "trials", $"{Execution.ResultFileNames.Escape(arm)}-s{study}-t{trial}.json");

    /// <summary>The trial units, in a fixed order (study, trial, arm), with their points.</summary>
    public static IReadOnlyList<TuneUnit> PlanTrials(TuneSettings s)
    {
        var units = new List<TuneUnit>();
        for (int study = 0; study < s.Studies; study++)
        {
            var halton = s.Experiment.Arms.ToDictionary(a => a.Name, a => new ScrambledHalton(s.Spaces[a.Name].Dimensions.Count, Data.DeterministicRng.DeriveSeed(s.SearchSeed, study)));
            for (int trial = 0; trial < s.Trials; trial++)
                foreach (var a in s.Experiment.Arms)
                {
                    var space = s.Spaces[a.Name];
                    var point = space.At(halton[a.Name].Point(trial + 1));
                    units.Add(new TuneUnit(TuneUnit.TrialKind, a.Name, study, trial, s.TuningSeed(study, trial), SearchSpace.WithValues(a.Optimizer, point)));
                }
        }
        return units;
    }

    /// <summary>The final units: every arm at its selected spec × every final seed, seed-major like a comparison.</summary>
    public static IReadOnlyList<TuneUnit> PlanFinal(TuneSettings s, IReadOnlyDictionary<string, string> selectedSpecs) =>
        s.Experiment.Seeds.SelectMany(seed => s.Experiment.Arms.Select(a => new TuneUnit(TuneUnit.FinalKind, a.Name, -1, -1, seed, selectedSpecs[a.Name]))).ToList();

    /// <summary>The settings final runs train with: the experiment with every arm at its selected spec.</summary>
    public static ExperimentSettings FinalSettings(TuneSettings s, IReadOnlyDictionary<string, string> selectedSpecs) =>
        s.Experiment with { Arms = s.Experiment.Arms.Select(a => new ArmSpec(a.Name, selectedSpecs[a.Name])).ToArray() };

    /// <summary>Whether the unit's result file exists (the unit is done).</summary>
    public static bool IsDone(string dir, TuneUnit u) => u.Kind == TuneUnit.TrialKind
        ? TryLoadTrial(dir, u.Arm, u.Study, u.Trial) is not null
        : new ResultStore(dir).TryLoadRun(u.Arm, u.Seed) is not null;

    public static TrialResult? TryLoadTrial(string dir, string arm, int study, int trial)
    {
        var path = TrialPath(dir, arm, study, trial);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<TrialResult>(File.ReadAllText(path), LabFiles.Json); }
        catch (JsonException) { return null; } // not a finished unit: it is rerun
    }

    /// <summary>
    /// THE unit executor: runs one unit from the saved settings on an already loaded task and writes its result
    /// file atomically. Trials train on train-minus-validation with their tuning seed and are scored by the
    /// validation metric after the last epoch (the task's worst value if the run diverged or the optimizer refused
    /// the point, e.g. preconditioned decay past its stability limit: such a trial counts, it is never re-drawn).
    /// Final units train at the selected spec with a final seed, exactly as a comparison run.
    /// </summary>
    public static void Execute(TuneSettings s, TuneUnit unit, string dir, ILabTask task, Action<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        var arm = new ArmSpec(unit.Arm, unit.Optimizer);
        if (unit.Kind == TuneUnit.FinalKind)
        {
            RunResult run;
            try { run = task.Train(s.Experiment with { Arms = new[] { arm } }, arm, unit.Seed, progress, cancel); }
            catch (UnstableDecayException)
            {
                // The optimizer refused the selected point before any step: a failed run, kept at the worst value.
                run = new RunResult(unit.Arm, unit.Seed, new[] { new EpochMetrics(1, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0, Diverged: true) }, task.WorstMetric);
            }
            new ResultStore(dir).SaveRun(run);
            return;
        }
        RunResult? result = null;
        string? failure = null;
        try { result = task.Train(s.Experiment, arm, unit.Seed, progress, cancel); }
        catch (UnstableDecayException e) { failure = e.Message; }
        bool diverged = result is null || result.Diverged || result.Epochs.Count == 0 || !double.IsFinite(result.Epochs[^1].ValidMetric);
        double worst = result?.WorstMetric ?? task.WorstMetric;
        double score = diverged ? worst : result!.Epochs[^1].ValidMetric;
        var point = s.Spaces[unit.Arm].Dimensions.ToDictionary(d => d.Key, d => ValueOf(unit.Optimizer, d.Key));
        var trial = new TrialResult(unit.Arm, unit.Study, unit.Trial, unit.Seed, unit.Optimizer, point, score, diverged, failure, result?.Epochs ?? Array.Empty<EpochMetrics>());
        LabFiles.WriteJson(trial, TrialPath(dir, unit.Arm, unit.Study, unit.Trial));
    }

    /// <summary>Runs one unit in a fresh process context: loads DIR/tune-settings.json and the task, then <see cref="Execute(TuneSettings, TuneUnit, string, ILabTask, Action{RunProgress}?, CancellationToken)"/>.</summary>
    public static void Execute(string dir, TuneUnit unit, CancellationToken cancel = default)
    {
        var s = TuneSettings.FromJson(File.ReadAllText(Path.Combine(dir, TuneRunner.SettingsFile)), Path.Combine(dir, TuneRunner.SettingsFile));
        using var task = TaskLoader.Load(s.Experiment);
        Execute(s, unit, dir, task, null, cancel);
    }

    private static double ValueOf(string spec, string key)
    {
        var (_, options) = Optimizers.ParseArm(spec);
        var v = options.Last(o => o.Key.Trim().ToLowerInvariant() == key).Value;
        return double.Parse(v, System.Globalization.CultureInfo.InvariantCulture);
    }
}
