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

/// <summary>
/// Runs a tuning study: every trial unit (skipping finished ones, so a killed study resumes), the selection on
/// validation, every final unit, then summary.json / summary.csv (compare's format, judged on test with the §1
/// rules) and tune.json. Units go through <see cref="TuneUnits.Execute(TuneSettings, TuneUnit, string, ILabTask, Action{RunProgress}?, CancellationToken)"/>.
/// </summary>
public static class TuneRunner
{
    public const string SettingsFile = "tune-settings.json", ResultFile = "tune.json";

    /// <summary>How a point is selected, as written into tune.json and the report.</summary>
    public const string SelectionRule =
        "in each study the best trial by the validation metric after the last epoch (earliest on ties); the selected point is the median of the study bests " +
        "(with an even number of studies the better of the two middle ones)";

    public static (TuneResult Tune, ComparisonSummary Summary) Run(TuneSettings s, string dir,
        Action<RunProgress>? progress = null, Action<TuneUnit, bool, string>? unitDone = null, CancellationToken cancel = default)
    {
        s.Validate();
        dir = Path.GetFullPath(dir);
        BindSettings(s, dir);
        ILabTask? task = null;
        try
        {
            foreach (var u in TuneUnits.PlanTrials(s))
            {
                bool reused = TuneUnits.IsDone(dir, u);
                if (!reused)
                {
                    task ??= TaskLoader.Load(s.Experiment);
                    TuneUnits.Execute(s, u, dir, task, progress, cancel);
                }
                var t = TuneUnits.TryLoadTrial(dir, u.Arm, u.Study, u.Trial)!;
                unitDone?.Invoke(u, reused, t.Diverged ? (t.Failure is null ? "diverged" : "refused: " + t.Failure) : $"validation {t.ValidationMetric:F2}");
            }
            var tune = Select(s, dir);
            var specs = tune.Arms.ToDictionary(a => a.Arm, a => a.Selected.Optimizer);
            var final = TuneUnits.FinalSettings(s, specs);
            var store = new ResultStore(dir);
            store.BindSettings(final);
            var runs = new List<RunResult>();
            foreach (var u in TuneUnits.PlanFinal(s, specs))
            {
                bool reused = TuneUnits.IsDone(dir, u);
                if (!reused)
                {
                    task ??= TaskLoader.Load(s.Experiment);
                    TuneUnits.Execute(s, u, dir, task, progress, cancel);
                }
                var run = store.TryLoadRun(u.Arm, u.Seed)!;
                runs.Add(run);
                unitDone?.Invoke(u, reused, run.Diverged ? $"diverged at epoch {run.DivergedAtEpoch}" : $"test {run.FinalTestMetric:F2}");
            }
            var summary = ComparisonSummary.From(final, runs);
            LabFiles.WriteAtomically(Path.Combine(dir, "summary.json"), summary.ToJson());
            LabFiles.WriteAtomically(Path.Combine(dir, "summary.csv"), summary.ToCsv());
            LabFiles.WriteJson(tune, Path.Combine(dir, ResultFile));
            return (tune, summary);
        }
        finally { task?.Dispose(); }
    }

    /// <summary>Stores the settings, or refuses a folder that holds something else (other settings, or not a tuning folder).</summary>
    private static void BindSettings(TuneSettings s, string dir)
    {
        var path = Path.Combine(dir, SettingsFile);
        var json = s.ToJson();
        if (File.Exists(path))
        {
            if (File.ReadAllText(path) == json) return;
            throw new InvalidOperationException($"'{dir}' holds a tuning study with other settings ({path}). Use another --out folder, or delete it to start over.");
        }
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            throw new InvalidOperationException($"'{dir}' is not empty and holds no tuning study ({SettingsFile}); refusing to write into it. Use another --out folder.");
        LabFiles.WriteAtomically(path, json);
    }

    /// <summary>Reads every finished trial and selects each arm's point (all trials must be done).</summary>
    public static TuneResult Select(TuneSettings s, string dir)
    {
        bool higher = s.Experiment.HigherIsBetter;
        var arms = new List<TuneArmResult>();
        foreach (var a in s.Experiment.Arms)
        {
            var space = s.Spaces[a.Name];
            var trials = new List<TrialResult>();
            for (int study = 0; study < s.Studies; study++)
                for (int t = 0; t < s.Trials; t++)
                    trials.Add(TuneUnits.TryLoadTrial(dir, a.Name, study, t) ?? throw new InvalidDataException($"'{dir}': trial {t} of study {study} of arm '{a.Name}' has no result."));
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
        return new TuneResult(e.Task, e.IsLanguageModel ? "validation perplexity" : "validation accuracy (%)", higher, s.Trials, s.Studies, s.SearchSeed, e.Seeds, SelectionRule, arms);
    }
}
