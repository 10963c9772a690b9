namespace AdamFamily.Lab.Statistics;

/// <summary>Outcome of a paired comparison of an arm against the baseline.</summary>
public enum Verdict
{
    /// <summary>The confidence interval of (arm − baseline) excludes zero on the good side.</summary>
    Better,

    /// <summary>The confidence interval excludes zero on the bad side.</summary>
    Worse,

    /// <summary>The confidence interval contains zero.</summary>
    NoDetectableDifference,

    /// <summary>Only one pair: no interval can be formed.</summary>
    InsufficientSeeds,
}

/// <summary>Result of <see cref="PairedComparison.Compute"/>; differences are arm − baseline.</summary>
/// <param name="N">Number of pairs (seeds).</param>
/// <param name="MeanDifference">Mean of arm − baseline.</param>
/// <param name="StdDifference">Sample std (n − 1) of the differences; NaN when N is 1.</param>
/// <param name="CiLow">Lower bound of the paired-t confidence interval of the mean difference; NaN when N is 1.</param>
/// <param name="CiHigh">Upper bound; NaN when N is 1.</param>
/// <param name="Confidence">Confidence level of the interval, e.g. 0.95.</param>
/// <param name="Margin">Non-inferiority margin (in the metric's units, ≥ 0).</param>
/// <param name="HigherIsBetter">Whether a larger metric is better (accuracy) or worse (loss).</param>
/// <param name="Verdict">Better / Worse / NoDetectableDifference / InsufficientSeeds.</param>
/// <param name="NonInferior">Whether the arm is non-inferior at <paramref name="Margin"/>; null when N is 1.</param>
public sealed record PairedComparisonResult(
    int N,
    double MeanDifference,
    double StdDifference,
    double CiLow,
    double CiHigh,
    double Confidence,
    double Margin,
    bool HigherIsBetter,
    Verdict Verdict,
    bool? NonInferior)
{
    /// <summary>The verdict in words: "better", "worse", "no detectable difference", "insufficient seeds".</summary>
    public string VerdictText => Verdict switch
    {
        Verdict.Better => "better",
        Verdict.Worse => "worse",
        Verdict.NoDetectableDifference => "no detectable difference",
        _ => "insufficient seeds",
    };
}

/// <summary>Paired comparison of per-seed metrics of an arm against a baseline run with the same seeds.</summary>
public static class PairedComparison
{
    /// <summary>
    /// Paired t analysis of d_i = arm_i − baseline_i: mean, std, and the <paramref name="confidence"/> interval
    /// mean ± t_{(1+confidence)/2, n−1} · sd / √n. The verdict says whether the interval excludes zero, and on which side
    /// given <paramref name="higherIsBetter"/>. Non-inferior at <paramref name="margin"/> means the interval's
    /// bad-side bound is within the margin: CI low &gt; −margin (higher is better) or CI high &lt; +margin (lower is better).
    /// With one pair the interval is undefined (NaN bounds, <see cref="Verdict.InsufficientSeeds"/>). Identical differences
    /// give a zero-width interval [d, d].
    /// </summary>
    /// <exception cref="ArgumentException">Empty or unequal-length inputs, non-finite values, negative margin or confidence outside (0, 1).</exception>
    public static PairedComparisonResult Compute(double[] baseline, double[] arm, bool higherIsBetter, double margin, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(arm);
        if (baseline.Length != arm.Length)
            throw new ArgumentException($"Paired samples must have equal length: baseline {baseline.Length}, arm {arm.Length}.", nameof(arm));
        if (baseline.Length == 0)
            throw new ArgumentException("Need at least one pair.", nameof(baseline));
        if (baseline.Concat(arm).Any(v => !double.IsFinite(v)))
            throw new ArgumentException("Metrics must be finite (a diverged run must be handled before comparing).", nameof(arm));
        if (!(margin >= 0) || double.IsInfinity(margin))
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "Margin must be finite and ≥ 0.");
        if (!(confidence > 0 && confidence < 1))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "Confidence must be in (0, 1).");

        var diffs = new double[arm.Length];
        for (int i = 0; i < diffs.Length; i++) diffs[i] = arm[i] - baseline[i];
        var s = Summary.Of(diffs);

        if (s.N == 1)
            return new PairedComparisonResult(1, s.Mean, double.NaN, double.NaN, double.NaN, confidence, margin,
                higherIsBetter, Verdict.InsufficientSeeds, NonInferior: null);

        double half = StudentT.TwoSidedCritical(confidence, s.N - 1) * s.StdDev / Math.Sqrt(s.N);
        double low = s.Mean - half, high = s.Mean + half;

        Verdict verdict = low > 0 ? (higherIsBetter ? Verdict.Better : Verdict.Worse)
                        : high < 0 ? (higherIsBetter ? Verdict.Worse : Verdict.Better)
                        : Verdict.NoDetectableDifference;
        bool nonInferior = higherIsBetter ? low > -margin : high < margin;
        return new PairedComparisonResult(s.N, s.Mean, s.StdDev, low, high, confidence, margin, higherIsBetter, verdict, nonInferior);
    }
}
