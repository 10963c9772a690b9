namespace AdamFamily.Lab.Statistics;

/// <summary>
/// How many seeds a non-inferiority verdict needs, from the observed spread of the paired differences.
/// Power analysis of the one-sided paired t test at level α (the family's Bonferroni level α/k, the strictest
/// Holm step) with power 1 − β = 80 %, assuming the arms are truly equal: the smallest n with
/// n ≥ ((t_{1−α, n−1} + t_{1−β, n−1}) · s / margin)², found by starting at the normal approximation
/// ((z_{1−α} + z_{1−β}) · s / margin)² and stepping n up until the t version holds. The exact sign-flip test that
/// non-inferiority also has to pass needs at least ⌈log₂(1/α)⌉ seeds (its smallest one-sided p is 2^−n); the answer is the larger.
/// </summary>
public static class SeedsNeeded
{
    /// <summary>Power the seed count is planned for.</summary>
    public const double Power = 0.8;

    /// <summary>Counts above this are reported as this (practically: unresolvable).</summary>
    public const int Cap = 100_000;

    /// <summary>
    /// Seeds needed, or null when they cannot be computed (spread unknown with one seed, or margin 0).
    /// </summary>
    public static int? ForNonInferiority(double sd, double margin, double alpha)
    {
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1).");
        if (!double.IsFinite(sd) || sd < 0 || !(margin > 0) || !double.IsFinite(margin)) return null;
        int exact = ExactTestMinimum(alpha);
        if (sd == 0) return Math.Max(2, exact);
        double ratio = sd / margin;
        double z = NormalQuantile(1 - alpha) + NormalQuantile(Power);
        double approx = z * z * ratio * ratio;
        int n = (int)Math.Max(2, Math.Ceiling(Math.Min(approx, Cap)));
        while (n < Cap)
        {
            double t = StudentT.Quantile(1 - alpha, n - 1) + StudentT.Quantile(Power, n - 1);
            if (n >= t * t * ratio * ratio) break;
            n++;
        }
        return Math.Max(n, exact);
    }

    /// <summary>The fewest pairs with which the one-sided sign-flip test can reach p ≤ α: ⌈log₂(1/α)⌉.</summary>
    public static int ExactTestMinimum(double alpha)
    {
        int n = 1;
        while (SignFlipTest.SmallestOneSided(n) > alpha) n++;
        return n;
    }

    /// <summary>Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9: only the start of the t iteration).</summary>
    public static double NormalQuantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1).");
        double[] a = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
        double[] b = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
        double[] c = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
        double[] d = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00 };
        double x;
        if (p < 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p <= 1 - 0.02425)
        {
            double q = p - 0.5, r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        else
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        return x;
    }
}
