using System.Globalization;
using System.Text;
using System.Text.Json;
using AdamFamily.Lab.Statistics;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Experiments;

/// <summary>One arm's results over its seeds, in the task's metric (accuracy in percent, or perplexity).</summary>
public sealed record ArmSummary(string Arm, string Optimizer, int Runs, int Divergences,
    double FinalMean, double FinalStd, double BestMean, double BestStd, double SecondsPerEpoch, double OptimizerShare,
    double[] FinalBySeed);

/// <summary>One arm against the baseline: the paired difference of the final test metric over seeds.</summary>
public sealed record ArmVersusBaseline(string Arm, string Baseline, int Pairs, double MeanDifference, double CiLow, double CiHigh,
    string Verdict, bool? NonInferior, double Margin);

/// <summary>The answer of a comparison: per-arm results and the paired verdicts against the baseline.</summary>
public sealed record ComparisonSummary(ExperimentSettings Settings, IReadOnlyList<ArmSummary> Arms, IReadOnlyList<ArmVersusBaseline> Versus)
{
    public static ComparisonSummary From(ExperimentSettings s, IReadOnlyList<RunResult> runs)
    {
        var arms = s.Arms.Select(a =>
        {
            var rs = s.Seeds.Select(seed => runs.Single(r => r.Arm == a.Name && r.Seed == seed)).ToList();
            var ok = rs.Where(r => !r.Diverged && !r.Failed).ToList();
            var none = new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN); // every run diverged
            var final = ok.Count > 0 ? Summary.Of(ok.Select(r => r.FinalTestMetric).ToList()) : none;
            var best = ok.Count > 0 ? Summary.Of(ok.Select(r => r.BestTestMetric(s.HigherIsBetter)).ToList()) : none;
            return new ArmSummary(a.Name, a.Optimizer, rs.Count, rs.Count(r => r.Diverged || r.Failed),
                final.Mean, final.StdDev, best.Mean, best.StdDev,
                rs.Average(r => r.MeanEpochSeconds), rs.Average(r => r.OptimizerShare),
                rs.Select(r => r.FinalTestMetric).ToArray());
        }).ToList();

        var baseline = arms.Single(a => a.Arm == s.BaselineArm);
        var versus = arms.Where(a => a.Arm != baseline.Arm).Select(a =>
        {
            // Pairs are seeds where neither run diverged.
            var pairs = Enumerable.Range(0, s.Seeds.Length)
                .Where(i => double.IsFinite(a.FinalBySeed[i]) && double.IsFinite(baseline.FinalBySeed[i])).ToArray();
            if (pairs.Length == 0)
                return new ArmVersusBaseline(a.Arm, baseline.Arm, 0, double.NaN, double.NaN, double.NaN, "no comparable seeds", null, s.Margin);
            var r = PairedComparison.Compute(pairs.Select(i => baseline.FinalBySeed[i]).ToArray(), pairs.Select(i => a.FinalBySeed[i]).ToArray(),
                higherIsBetter: s.HigherIsBetter, margin: s.Margin);
            return new ArmVersusBaseline(a.Arm, baseline.Arm, r.N, r.MeanDifference, r.CiLow, r.CiHigh, r.VerdictText, r.NonInferior, s.Margin);
        }).ToList();
        return new ComparisonSummary(s, arms, versus);
    }

    public string ToJson() => JsonSerializer.Serialize(this, LabFiles.Json);

    public static ComparisonSummary FromJson(string json) => JsonSerializer.Deserialize<ComparisonSummary>(json, LabFiles.Json)!;

    /// <summary>One row per arm: results and, for non-baseline arms, the comparison with the baseline.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("arm,optimizer,runs,divergences,final_mean,final_std,best_mean,best_std,seconds_per_epoch,optimizer_share,diff_vs_baseline,ci_low,ci_high,verdict,non_inferior,margin\n");
        foreach (var a in Arms)
        {
            var v = Versus.FirstOrDefault(x => x.Arm == a.Arm);
            sb.AppendLine(string.Join(",", Csv(a.Arm), Csv(a.Optimizer), a.Runs, a.Divergences, F(a.FinalMean), F(a.FinalStd), F(a.BestMean), F(a.BestStd),
                F(a.SecondsPerEpoch), F(a.OptimizerShare), F(v?.MeanDifference), F(v?.CiLow), F(v?.CiHigh), Csv(v?.Verdict ?? "baseline"),
                v?.NonInferior is { } ni ? (ni ? "yes" : "no") : "", F(Settings.Margin)));
        }
        return sb.ToString();
    }

    private static string F(double? x) => x is { } d && double.IsFinite(d) ? d.ToString("G6", CultureInfo.InvariantCulture) : "";
    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
