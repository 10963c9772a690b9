namespace AdamFamily.Lab.Statistics;

/// <summary>
/// The Holm–Bonferroni step-down procedure over k hypotheses (here: k arms against one baseline). Sort the
/// p-values ascending, p_(1) ≤ … ≤ p_(k); the r-th is tested at level α/(k − r + 1) and testing stops at the first
/// that fails. Equivalently, the adjusted p-values max_{j ≤ r} min(1, (k − j + 1)·p_(j)) are compared with α.
/// Controls the family-wise error rate at α for any dependence between the tests.
/// </summary>
public static class Holm
{
    /// <summary>The name written into tables and summary.json.</summary>
    public const string Name = "Holm–Bonferroni";

    /// <summary>Holm-adjusted p-values, in the input order (ties keep input order).</summary>
    public static double[] Adjust(IReadOnlyList<double> p)
    {
        ArgumentNullException.ThrowIfNull(p);
        int k = p.Count;
        var order = Ranks(p);
        var adjusted = new double[k];
        double running = 0;
        for (int r = 0; r < k; r++)
        {
            int i = order[r];
            double v = double.IsNaN(p[i]) ? 1 : Math.Min(1, (k - r) * p[i]);
            running = Math.Max(running, v);
            adjusted[i] = running;
        }
        return adjusted;
    }

    /// <summary>
    /// The level α/(k − r + 1) at which each hypothesis is tested, r its 1-based rank by ascending p (in the input
    /// order). Intervals and bounds shown for a hypothesis use 1 − this level.
    /// </summary>
    public static double[] Levels(IReadOnlyList<double> p, double alpha)
    {
        int k = p.Count;
        var order = Ranks(p);
        var levels = new double[k];
        for (int r = 0; r < k; r++) levels[order[r]] = alpha / (k - r);
        return levels;
    }

    /// <summary>Indices of <paramref name="p"/> by ascending p (NaN last), stable.</summary>
    private static int[] Ranks(IReadOnlyList<double> p)
        => Enumerable.Range(0, p.Count).OrderBy(i => double.IsNaN(p[i]) ? double.PositiveInfinity : p[i]).ThenBy(i => i).ToArray();
}
