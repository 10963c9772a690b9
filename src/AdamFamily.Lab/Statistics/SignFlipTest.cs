namespace AdamFamily.Lab.Statistics;

/// <summary>
/// The paired sign-flip permutation test. Under the null hypothesis that arm and baseline are exchangeable
/// within each seed, every difference d_i = arm_i − baseline_i is as likely to have the opposite sign, so the
/// 2^n sign patterns of the observed |d_i| are equally likely. The p-value is the share of patterns whose
/// statistic is at least as extreme as the observed one. Exact (every pattern enumerated) for n ≤
/// <see cref="MaxExactPairs"/>; it needs no variance estimate, so equal differences cannot make it overconfident:
/// with n pairs the smallest two-sided p is 2/2^n (0.25 for 3 seeds).
/// </summary>
public static class SignFlipTest
{
    /// <summary>Largest n enumerated exactly (2^22 patterns); larger samples use <see cref="MonteCarloPatterns"/> seeded random patterns.</summary>
    public const int MaxExactPairs = 22;

    /// <summary>Random sign patterns drawn when n exceeds <see cref="MaxExactPairs"/> (p = (1 + hits)/(1 + draws), seed 0).</summary>
    public const int MonteCarloPatterns = 1 << 20;

    /// <summary>Two-sided p: the share of sign patterns with |Σ s_i d_i| ≥ |Σ d_i|.</summary>
    public static double TwoSided(IReadOnlyList<double> differences) => Count(differences, twoSided: true);

    /// <summary>One-sided p for "the mean difference is greater than zero": the share of patterns with Σ s_i d_i ≥ Σ d_i.</summary>
    public static double Greater(IReadOnlyList<double> differences) => Count(differences, twoSided: false);

    /// <summary>The smallest two-sided p that n pairs can give: 2/2^n (1 for n = 1).</summary>
    public static double SmallestTwoSided(int n) => n < 1 ? 1 : Math.Min(1, 2 * Math.Pow(2, -n));

    /// <summary>The smallest one-sided p that n pairs can give: 1/2^n.</summary>
    public static double SmallestOneSided(int n) => n < 1 ? 1 : Math.Pow(2, -n);

    private static double Count(IReadOnlyList<double> d, bool twoSided)
    {
        ArgumentNullException.ThrowIfNull(d);
        int n = d.Count;
        if (n == 0) throw new ArgumentException("Need at least one pair.", nameof(d));
        if (d.Any(v => !double.IsFinite(v))) throw new ArgumentException("Differences must be finite.", nameof(d));
        double observed = d.Sum();
        double scale = d.Sum(Math.Abs);
        // Sums of the same numbers in another order differ by rounding only: count those as ties (as extreme).
        double tol = 1e-9 * Math.Max(scale, double.Epsilon);
        double threshold = twoSided ? Math.Abs(observed) - tol : observed - tol;
        bool Extreme(double sum) => (twoSided ? Math.Abs(sum) : sum) >= threshold;

        if (n <= MaxExactPairs)
        {
            long patterns = 1L << n, hits = 0;
            for (long mask = 0; mask < patterns; mask++)
            {
                double sum = 0;
                for (int i = 0; i < n; i++) sum += (mask >> i & 1) == 0 ? d[i] : -d[i];
                if (Extreme(sum)) hits++;
            }
            return (double)hits / patterns;
        }
        var rng = new Random(0);
        long mcHits = 0;
        for (int k = 0; k < MonteCarloPatterns; k++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += rng.Next(2) == 0 ? d[i] : -d[i];
            if (Extreme(sum)) mcHits++;
        }
        return (1.0 + mcHits) / (1.0 + MonteCarloPatterns);
    }
}
