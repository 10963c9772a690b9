namespace AdamFamily.Lab.Statistics;

/// <summary>
/// The paired-t view of differences d_i = arm_i − baseline_i: mean, sample std, and intervals / one-sided
/// bounds mean ± t_{q, n−1} · sd / √n. It is the effect-size display and one half of the non-inferiority test;
/// verdicts come from <see cref="ArmVerdicts"/>, which does not trust a zero-variance interval on its own.
/// </summary>
/// <param name="N">Number of pairs.</param>
/// <param name="Mean">Mean difference.</param>
/// <param name="StdDev">Sample std (n − 1) of the differences; NaN when N is 1.</param>
public sealed record PairedT(int N, double Mean, double StdDev)
{
    /// <summary>The paired-t summary of the differences (at least one, all finite).</summary>
    public static PairedT Of(IReadOnlyList<double> differences)
    {
        ArgumentNullException.ThrowIfNull(differences);
        if (differences.Count == 0) throw new ArgumentException("Need at least one pair.", nameof(differences));
        if (differences.Any(v => !double.IsFinite(v))) throw new ArgumentException("Differences must be finite (a diverged run enters with the task's worst value).", nameof(differences));
        var s = Summary.Of(differences);
        return new PairedT(s.N, s.Mean, s.StdDev);
    }

    /// <summary>Differences arm − baseline of two paired samples.</summary>
    public static double[] Differences(IReadOnlyList<double> baseline, IReadOnlyList<double> arm)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(arm);
        if (baseline.Count != arm.Count)
            throw new ArgumentException($"Paired samples must have equal length: baseline {baseline.Count}, arm {arm.Count}.", nameof(arm));
        return arm.Select((a, i) => a - baseline[i]).ToArray();
    }

    private double HalfWidth(double tailProbability) =>
        N < 2 ? double.NaN : StudentT.Quantile(1 - tailProbability, N - 1) * StdDev / Math.Sqrt(N);

    /// <summary>The two-sided interval at <paramref name="confidence"/> (NaN bounds with one pair; [d, d] when every difference is d).</summary>
    public (double Low, double High) Interval(double confidence)
    {
        CheckLevel(confidence);
        double h = HalfWidth((1 - confidence) / 2);
        return (Mean - h, Mean + h);
    }

    /// <summary>The one-sided lower bound at <paramref name="confidence"/>: mean − t_{confidence, n−1}·sd/√n.</summary>
    public double LowerBound(double confidence) { CheckLevel(confidence); return Mean - HalfWidth(1 - confidence); }

    /// <summary>The one-sided upper bound at <paramref name="confidence"/>.</summary>
    public double UpperBound(double confidence) { CheckLevel(confidence); return Mean + HalfWidth(1 - confidence); }

    /// <summary>
    /// One-sided p of the paired t test of H0: mean ≤ <paramref name="threshold"/> against H1: mean &gt; threshold.
    /// With one pair: 1 (nothing can be shown). With zero spread: 0 if the mean is above the threshold, else 1.
    /// </summary>
    public double PGreaterThan(double threshold)
    {
        if (N < 2) return 1;
        if (StdDev == 0) return Mean > threshold ? 0 : 1;
        double t = (Mean - threshold) / (StdDev / Math.Sqrt(N));
        return 1 - StudentT.Cdf(t, N - 1);
    }

    private static void CheckLevel(double confidence)
    {
        if (!(confidence > 0 && confidence < 1)) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "Confidence must be in (0, 1).");
    }
}
