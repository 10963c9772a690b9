using System.Globalization;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Tuning;

/// <summary>A finished trial: its point, its seed, the validation score, and the run behind it.</summary>
public sealed record TrialResult(string Arm, int Study, int Trial, int Seed, string Optimizer, Dictionary<string, double> Point,
    double ValidationMetric, bool Diverged, string? Failure, IReadOnlyList<EpochMetrics> Epochs);

/// <summary>
/// The run units of a tuning study. Phase 1 is a plan of trial units in DIR/trials — its own results folder
/// (experiment.json with the arms' base specs, plan.json, ARM-sS-tT.jsonl per trial, logs/, slurm/): a trial is the
/// arm at its scrambled-Halton point (the spec carries the hyper-parameters), trained with its tuning seed, with the
/// trial id "sS-tT". Phase 2 is a plain comparison in DIR of every arm at its selected point × the final seeds
/// (<see cref="RunPlan.ForComparison"/> over <see cref="FinalSettings"/>). Both go through
/// <see cref="PlanRunner"/>, so every executor runs them and a unit whose result exists with its hash is skipped.
/// </summary>
public static class TuneUnits
{
    /// <summary>The subfolder of a tuning folder that holds phase 1 (the trials).</summary>
    public const string TrialsFolder = "trials";

    /// <summary>The plan kind of phase 1, as written in DIR/trials/plan.json.</summary>
    public const string TrialPlanKind = "tune-trials";

    /// <summary>The trials folder of the tuning folder <paramref name="dir"/>.</summary>
    public static string TrialsDir(string dir) => Path.Combine(dir, TrialsFolder);

    /// <summary>The trial id a unit carries: "s0-t3" is trial 3 of study 0.</summary>
    public static string TrialId(int study, int trial) => $"s{study}-t{trial}";

    /// <summary>(study, trial) of a trial id made by <see cref="TrialId"/>.</summary>
    public static (int Study, int Trial) ParseTrialId(string id)
    {
        var parts = id.Split('-');
        if (parts.Length == 2 && parts[0].StartsWith('s') && parts[1].StartsWith('t')
            && int.TryParse(parts[0][1..], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            && int.TryParse(parts[1][1..], NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            return (s, t);
        throw new InvalidDataException($"'{id}' is not a trial id (sS-tT).");
    }

    /// <summary>A trial's result file, relative to the trials folder.</summary>
    public static string TrialFile(string arm, int study, int trial) => $"{ResultFileNames.Escape(arm)}-{TrialId(study, trial)}.jsonl";

    /// <summary>
    /// Phase 1: the trial units in a fixed order (study, trial, arm), each the arm at its point with its tuning seed;
    /// settings file experiment.json of the trials folder (the experiment with the arms' base specs).
    /// </summary>
    public static RunPlan TrialPlan(TuneSettings s, int threadsPerRun)
    {
        var units = new List<RunUnit>();
        for (int study = 0; study < s.Studies; study++)
        {
            var halton = s.Experiment.Arms.ToDictionary(a => a.Name, a => new ScrambledHalton(s.Spaces[a.Name].Dimensions.Count, Data.DeterministicRng.DeriveSeed(s.SearchSeed, study)));
            for (int trial = 0; trial < s.Trials; trial++)
                foreach (var a in s.Experiment.Arms)
                {
                    var point = s.Spaces[a.Name].At(halton[a.Name].Point(trial + 1));
                    units.Add(new RunUnit(0, new ArmSpec(a.Name, SearchSpace.WithValues(a.Optimizer, point)), s.TuningSeed(study, trial),
                        TrialFile(a.Name, study, trial), TrialId(study, trial)));
                }
        }
        return RunPlan.Create(TrialPlanKind, "experiment.json", RunPlan.HashOf(s.Experiment), threadsPerRun, units);
    }

    /// <summary>The settings final runs train with: the experiment with every arm at its selected spec.</summary>
    public static ExperimentSettings FinalSettings(TuneSettings s, IReadOnlyDictionary<string, string> selectedSpecs) =>
        s.Experiment with { Arms = s.Experiment.Arms.Select(a => new ArmSpec(a.Name, selectedSpecs[a.Name])).ToArray() };

    /// <summary>
    /// A trial unit's run as a trial: scored by the validation metric after the last epoch, or the task's worst value
    /// when the run diverged or failed (e.g. the optimizer refused the point: preconditioned decay past its stability
    /// limit). Such a trial counts; it is never re-drawn or dropped.
    /// </summary>
    public static TrialResult ToTrial(TuneSettings s, RunUnit unit, RunResult run)
    {
        var (study, trial) = ParseTrialId(unit.Trial ?? throw new InvalidDataException($"{unit.Describe()} is not a trial."));
        bool diverged = run.Failed || run.Diverged || run.Epochs.Count == 0 || !double.IsFinite(run.Epochs[^1].ValidMetric);
        double worst = double.IsFinite(run.WorstMetric) ? run.WorstMetric : s.Experiment.HigherIsBetter ? 0 : double.MaxValue; // a result file without a recorded worst value
        double score = diverged ? worst : run.Epochs[^1].ValidMetric;
        var point = s.Spaces[unit.Arm.Name].Dimensions.ToDictionary(d => d.Key, d => ValueOf(unit.Arm.Optimizer, d.Key));
        return new TrialResult(unit.Arm.Name, study, trial, unit.Seed, unit.Arm.Optimizer, point, score, diverged, run.Failure?.Reason, run.Epochs);
    }

    private static double ValueOf(string spec, string key)
    {
        var (_, options) = Optimizers.ParseArm(spec);
        var v = options.Last(o => o.Key.Trim().ToLowerInvariant() == key).Value;
        return double.Parse(v, CultureInfo.InvariantCulture);
    }
}
