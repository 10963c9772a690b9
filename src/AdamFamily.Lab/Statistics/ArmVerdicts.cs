namespace AdamFamily.Lab.Statistics;

/// <summary>Whether an arm beats the baseline.</summary>
public enum Verdict
{
    /// <summary>The exact sign-flip test, Holm-adjusted, says the arm is better.</summary>
    Better,
    /// <summary>The test says the arm is worse.</summary>
    Worse,
    /// <summary>The test could have reached significance with this many seeds but did not.</summary>
    NoDetectableDifference,
    /// <summary>With this many seeds (and arms) the test cannot reach p &lt; α at all.</summary>
    Inconclusive,
    /// <summary>The test favours the arm, but it diverged more often than the baseline: never "better".</summary>
    DivergedMoreOften,
}

/// <summary>Whether an arm is non-inferior to the baseline at the margin.</summary>
public enum NonInferiority
{
    /// <summary>Shown: both tests reject "worse by the margin or more" at the arm's Holm level, with enough seeds.</summary>
    Yes,
    /// <summary>Shown inferior by more than the margin, or diverged more often than the baseline.</summary>
    No,
    /// <summary>Neither could be shown (too few seeds for the spread, or the bound straddles the margin).</summary>
    Inconclusive,
}

/// <summary>An arm's per-seed values and how many of them are a diverged or failed run's worst value.</summary>
public sealed record ArmSample(string Arm, double[] Values, int Divergences);

/// <summary>
/// One arm judged against the baseline. Differences are arm − baseline in the metric's units; levels are the
/// Holm step's α/(k − r + 1) and the shown interval / bound are at 1 − that level.
/// </summary>
public sealed record ArmJudgement(
    string Arm, int Pairs, double MeanDifference, double StdDifference,
    double PValue, double AdjustedPValue, double TestLevel, double CiLow, double CiHigh,
    Verdict Verdict, string VerdictText,
    double NonInferiorityBound, double NonInferiorityLevel, double NonInferiorityPValue, double NonInferiorityAdjustedPValue,
    int? SeedsNeeded, NonInferiority NonInferior, string NonInferiorText,
    int Divergences, int BaselineDivergences);

/// <summary>
/// The verdict rules of a comparison, on per-seed numbers (a diverged or failed run already replaced by the
/// task's worst value, so it stays in its pair).
/// <list type="bullet">
/// <item>Better / worse: the exact two-sided paired sign-flip test (<see cref="SignFlipTest"/>) per arm, Holm–Bonferroni
/// across the k arms; significant when the adjusted p ≤ α. When even the smallest attainable adjusted p, k·2/2^n,
/// exceeds α, the verdict is "inconclusive: n seeds cannot reach p &lt; α". An arm that diverged more often than
/// the baseline is never "better".</item>
/// <item>The paired-t interval is shown at 1 − the arm's Holm level (effect size, not the verdict).</item>
/// <item>Non-inferiority at margin m: an intersection-union test of H0 "worse by m or more": the one-sided paired t
/// test and the one-sided sign-flip test of d + m (its p is the larger of the two), Holm across arms; "yes" only
/// when that rejects and n reaches <see cref="SeedsNeeded"/> for the observed spread and the arm did not diverge
/// more often than the baseline; "no" when the same tests show it worse by more than m, or it diverged more often;
/// otherwise inconclusive.</item>
/// </list>
/// </summary>
public static class ArmVerdicts
{
    /// <summary>The family-wise error rate the verdicts control.</summary>
    public const double DefaultAlpha = 0.05;

    /// <summary>Judges every arm against the baseline (all with the same seeds, in the same order).</summary>
    public static IReadOnlyList<ArmJudgement> Judge(ArmSample baseline, IReadOnlyList<ArmSample> arms, bool higherIsBetter, double margin, double alpha = DefaultAlpha)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(arms);
        if (!(margin >= 0) || double.IsInfinity(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "Margin must be finite and ≥ 0.");
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1).");
        int k = arms.Count;
        if (k == 0) return Array.Empty<ArmJudgement>();
        double sign = higherIsBetter ? 1 : -1;
        // g: differences oriented so that positive is good for the arm.
        var d = arms.Select(a => PairedT.Differences(baseline.Values, a.Values)).ToArray();
        var g = d.Select(x => x.Select(v => sign * v).ToArray()).ToArray();
        int n = baseline.Values.Length;

        var p = g.Select(x => SignFlipTest.TwoSided(x)).ToArray();
        var pAdj = Holm.Adjust(p);
        var levels = Holm.Levels(p, alpha);
        bool reachable = k * SignFlipTest.SmallestTwoSided(n) <= alpha;

        var tg = g.Select(PairedT.Of).ToArray();
        var pNi = g.Select((x, i) => Math.Max(tg[i].PGreaterThan(-margin), SignFlipTest.Greater(x.Select(v => v + margin).ToArray()))).ToArray();
        var pNiAdj = Holm.Adjust(pNi);
        var niLevels = Holm.Levels(pNi, alpha);
        // Inferiority (worse by more than the margin), the mirror test, at the same levels.
        var pInf = g.Select((x, i) => Math.Max((tg[i] with { Mean = -tg[i].Mean }).PGreaterThan(margin), SignFlipTest.Greater(x.Select(v => -(v + margin)).ToArray()))).ToArray();
        var pInfAdj = Holm.Adjust(pInf);

        var result = new List<ArmJudgement>();
        for (int i = 0; i < k; i++)
        {
            var a = arms[i];
            var t = PairedT.Of(d[i]);
            var (lo, hi) = t.Interval(1 - levels[i]);
            bool divergedMore = a.Divergences > baseline.Divergences;

            Verdict verdict;
            if (pAdj[i] <= alpha && tg[i].Mean != 0)
                verdict = tg[i].Mean > 0 ? (divergedMore ? Verdict.DivergedMoreOften : Verdict.Better) : Verdict.Worse;
            else verdict = reachable ? Verdict.NoDetectableDifference : Verdict.Inconclusive;
            string verdictText = verdict switch
            {
                Verdict.Better => "better",
                Verdict.Worse => "worse",
                Verdict.NoDetectableDifference => "no detectable difference",
                Verdict.DivergedMoreOften => $"not better: diverged more often ({a.Divergences} vs {baseline.Divergences})",
                _ => $"inconclusive: {n} seed{(n == 1 ? "" : "s")} cannot reach p < {alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}" + (k > 1 ? $" with {k} arms ({Holm.Name})" : ""),
            };

            // The bound on the arm's bad side, in metric units.
            double niConfidence = 1 - niLevels[i];
            double bound = higherIsBetter ? t.LowerBound(niConfidence) : t.UpperBound(niConfidence);
            int? needed = SeedsNeeded.ForNonInferiority(t.StdDev, margin, alpha / k);
            NonInferiority ni;
            string niText;
            if (divergedMore) { ni = NonInferiority.No; niText = $"no: diverged more often ({a.Divergences} vs {baseline.Divergences})"; }
            else if (pInfAdj[i] <= alpha) { ni = NonInferiority.No; niText = "no"; }
            else if (pNiAdj[i] <= alpha && needed is { } nn && n >= nn) { ni = NonInferiority.Yes; niText = "yes"; }
            else
            {
                ni = NonInferiority.Inconclusive;
                niText = needed is null
                    ? (margin > 0 ? "inconclusive: spread unknown with 1 seed" : "inconclusive: margin 0")
                    : n < needed ? $"inconclusive: needs {(needed >= SeedsNeeded.Cap ? "> " + SeedsNeeded.Cap : needed.ToString())} seeds"
                    : "inconclusive: bound beyond the margin";
            }
            result.Add(new ArmJudgement(a.Arm, n, t.Mean, t.StdDev, p[i], pAdj[i], levels[i], lo, hi, verdict, verdictText,
                bound, niLevels[i], pNi[i], pNiAdj[i], needed, ni, niText, a.Divergences, baseline.Divergences));
        }
        return result;
    }
}
