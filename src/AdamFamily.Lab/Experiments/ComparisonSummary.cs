using System.Globalization;
using System.Text;
using System.Text.Json;
using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Statistics;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Experiments;

/// <summary>
/// One arm's results over its seeds, in the task's metric (accuracy in percent, or perplexity). A diverged or
/// failed run counts with the task's worst value (<see cref="StatisticsInfo.WorstValue"/>) in every mean and pair.
/// "Selected" is the test metric at the epoch with the best validation metric (null/NaN without a validation split).
/// </summary>
public sealed record ArmSummary(string Arm, string Optimizer, IReadOnlyList<HyperParameter> HyperParameters, int Runs, int Divergences,
    double FinalMean, double FinalStd, double SelectedMean, double SelectedStd, double SecondsPerEpoch, double OptimizerShare,
    double[] FinalBySeed, double[] SelectedBySeed, bool[] DivergedBySeed);

/// <summary>
/// One arm against the baseline on the final test metric over the paired seeds (see <see cref="ArmVerdicts"/>):
/// differences arm − baseline; the sign-flip p and its Holm adjustment; the paired-t interval at
/// <see cref="CiConfidence"/>; the non-inferiority bound at <see cref="NonInferiorityConfidence"/>; the seeds the
/// margin needs; the verdict and non-inferiority ("yes", "no", "inconclusive") with their explanations.
/// </summary>
public sealed record ArmVersusBaseline(string Arm, string Baseline, int Pairs, double MeanDifference, double StdDifference,
    double PValue, double AdjustedPValue, double CiLow, double CiHigh, double CiConfidence, string Verdict,
    double NonInferiorityBound, double NonInferiorityConfidence, double NonInferiorityPValue, double NonInferiorityAdjustedPValue,
    int? SeedsNeeded, string NonInferior, string NonInferiorText, int Divergences, int BaselineDivergences, double Margin);

/// <summary>How the verdicts were reached, written into summary.json and the table's footnote.</summary>
public sealed record StatisticsInfo(double Alpha, string Correction, int Arms, string Test, string Interval, string NonInferiority,
    string SeedsNeeded, double WorstValue, string Divergence, string Selection)
{
    /// <summary>The rules in force for a comparison with <paramref name="arms"/> arms against the baseline.</summary>
    public static StatisticsInfo For(ExperimentSettings s, int arms, double worst) => new(
        ArmVerdicts.DefaultAlpha, $"{Holm.Name} over the {arms} arm{(arms == 1 ? "" : "s")} compared with the baseline", arms,
        "exact paired sign-flip permutation test, two-sided, all 2^n sign patterns of the per-seed differences; better/worse when the Holm-adjusted p ≤ α",
        "paired-t interval at 1 − the arm's Holm level α/(k − r + 1) (effect size; the verdict is the sign-flip test's)",
        $"one-sided paired t and sign-flip tests of 'worse by {s.Margin.ToString(CultureInfo.InvariantCulture)} {s.MarginUnit} or more' (the larger p), Holm-adjusted; yes only with at least the seeds needed",
        "one-sided paired t at the Bonferroni level α/k, power 80 %, true difference 0: normal approximation stepped up with t quantiles; at least the sign-flip test's minimum ⌈log2(k/α)⌉",
        worst,
        $"a diverged or failed run enters its pair with {s.DeclaredMetric.WorstMeaning}; an arm that diverged more often than the baseline is never better or non-inferior",
        s.ValidationSplit is { } v ? $"best epoch chosen on {v}, never on test" : "no validation split: no epoch selection");
}

/// <summary>The answer of a comparison: per-arm results and the paired verdicts against the baseline.</summary>
public sealed record ComparisonSummary(ExperimentSettings Settings, IReadOnlyList<ArmSummary> Arms, IReadOnlyList<ArmVersusBaseline> Versus, StatisticsInfo? Statistics = null)
{
    /// <summary>Summarises finished runs (every arm × seed of the settings must be present).</summary>
    /// <exception cref="InvalidDataException">A run is missing, or a diverged run's worst value is unknown.</exception>
    public static ComparisonSummary From(ExperimentSettings s, IReadOnlyList<RunResult> runs)
    {
        double worst = WorstValue(s, runs);
        var arms = s.Arms.Select(a =>
        {
            var rs = s.Seeds.Select(seed => runs.SingleOrDefault(r => r.Arm == a.Name && r.Seed == seed)
                ?? throw new InvalidDataException($"no result for arm '{a.Name}' seed {seed}.")).ToList();
            double[] final = rs.Select(r => Usable(r) ? r.FinalTestMetric : worst).ToArray();
            double[] selected = rs.Select(r => Usable(r) ? r.SelectedTestMetric(s.HigherIsBetter) : worst).ToArray();
            var f = Summary.Of(final);
            var sel = selected.All(double.IsFinite) ? Summary.Of(selected) : new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN);
            return new ArmSummary(a.Name, a.Optimizer, HyperParameters.Resolve(a.Optimizer), rs.Count, rs.Count(r => !Usable(r)),
                f.Mean, f.StdDev, sel.Mean, sel.StdDev,
                rs.Average(r => r.MeanEpochSeconds), rs.Average(r => r.OptimizerShare),
                final, selected, rs.Select(r => !Usable(r)).ToArray());
        }).ToList();

        var baseline = arms.Single(a => a.Arm == s.BaselineArm);
        var others = arms.Where(a => a.Arm != baseline.Arm).ToList();
        var judged = ArmVerdicts.Judge(new ArmSample(baseline.Arm, baseline.FinalBySeed, baseline.Divergences),
            others.Select(a => new ArmSample(a.Arm, a.FinalBySeed, a.Divergences)).ToList(), s.HigherIsBetter, s.Margin);
        var versus = judged.Select(j => new ArmVersusBaseline(j.Arm, baseline.Arm, j.Pairs, j.MeanDifference, j.StdDifference,
            j.PValue, j.AdjustedPValue, j.CiLow, j.CiHigh, 1 - j.TestLevel, j.VerdictText,
            j.NonInferiorityBound, 1 - j.NonInferiorityLevel, j.NonInferiorityPValue, j.NonInferiorityAdjustedPValue,
            j.SeedsNeeded, j.NonInferior.ToString().ToLowerInvariant(), j.NonInferiorText, j.Divergences, j.BaselineDivergences, s.Margin)).ToList();
        return new ComparisonSummary(s, arms, versus, StatisticsInfo.For(s, others.Count, worst));
    }

    /// <summary>A run that finished with a finite final metric; anything else (diverged, failed) takes the worst value.</summary>
    private static bool Usable(RunResult r) => !r.Diverged && double.IsFinite(r.FinalTestMetric);

    /// <summary>
    /// The task's worst value: what the runs recorded (chance accuracy, or the vocabulary size), else what the task declared.
    /// </summary>
    public static double WorstValue(ExperimentSettings s, IReadOnlyList<RunResult> runs)
    {
        var recorded = runs.Select(r => r.WorstMetric).FirstOrDefault(double.IsFinite, double.NaN);
        if (double.IsFinite(recorded)) return recorded;
        if (s.Metric is { } declared) return declared.Worst;
        return runs.Any(r => !Usable(r))
            ? throw new InvalidDataException($"task '{s.Task}': the runs do not record the worst value a diverged run counts as (written by afm since the validation/statistics update); rerun them.")
            : double.NaN;
    }

    public string ToJson() => JsonSerializer.Serialize(this, LabFiles.Json);

    public static ComparisonSummary FromJson(string json) => JsonSerializer.Deserialize<ComparisonSummary>(json, LabFiles.Json)!;

    /// <summary>One row per arm: results and, for non-baseline arms, the comparison with the baseline.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("arm,optimizer,hyper_parameters,runs,divergences,final_mean,final_std,selected_mean,selected_std,seconds_per_epoch,optimizer_share," +
                                   "pairs,diff_vs_baseline,ci_low,ci_high,ci_confidence,p_value,p_adjusted,verdict,non_inferiority_bound,non_inferior,seeds_needed,margin,correction\n");
        foreach (var a in Arms)
        {
            var v = Versus.FirstOrDefault(x => x.Arm == a.Arm);
            sb.AppendLine(string.Join(",", Csv(a.Arm), Csv(a.Optimizer), Csv(HyperParameters.Format(a.HyperParameters)), a.Runs, a.Divergences, F(a.FinalMean), F(a.FinalStd),
                F(a.SelectedMean), F(a.SelectedStd), F(a.SecondsPerEpoch), F(a.OptimizerShare), v?.Pairs.ToString(CultureInfo.InvariantCulture) ?? "",
                F(v?.MeanDifference), F(v?.CiLow), F(v?.CiHigh), F(v?.CiConfidence), F(v?.PValue), F(v?.AdjustedPValue), Csv(v?.Verdict ?? "baseline"),
                F(v?.NonInferiorityBound), Csv(v?.NonInferiorText ?? ""), v?.SeedsNeeded?.ToString(CultureInfo.InvariantCulture) ?? "", F(Settings.Margin), Csv(Holm.Name)));
        }
        return sb.ToString();
    }

    private static string F(double? x) => x is { } d && double.IsFinite(d) ? d.ToString("G6", CultureInfo.InvariantCulture) : "";
    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
