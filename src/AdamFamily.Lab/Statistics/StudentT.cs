namespace AdamFamily.Lab.Statistics;

/// <summary>
/// Student's t distribution: CDF through the regularised incomplete beta function (continued fraction),
/// quantiles by bisection on that CDF down to double precision.
/// </summary>
public static class StudentT
{
    /// <summary>P(T ≤ <paramref name="t"/>) for <paramref name="df"/> degrees of freedom (df &gt; 0).</summary>
    public static double Cdf(double t, double df)
    {
        CheckDf(df);
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsPositiveInfinity(t)) return 1;
        if (double.IsNegativeInfinity(t)) return 0;
        double t2 = t * t;
        // Tail mass P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2); use the complementary argument when t² is small
        // so the function is evaluated where it is accurate.
        double tail = t2 < df
            ? 1 - IncompleteBeta.Regularized(0.5, df / 2, t2 / (df + t2))
            : IncompleteBeta.Regularized(df / 2, 0.5, df / (df + t2));
        return t > 0 ? 1 - tail / 2 : tail / 2;
    }

    /// <summary>Inverse CDF: the t with P(T ≤ t) = <paramref name="p"/>, for 0 &lt; p &lt; 1 and df &gt; 0.</summary>
    public static double Quantile(double p, double df)
    {
        CheckDf(df);
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1).");
        if (p == 0.5) return 0;
        if (p < 0.5) return -Quantile(1 - p, df);

        // Find t > 0 with tail mass q = 2(1 − p) = P(|T| > t).
        double q = 2 * (1 - p);
        // Solve on the better-conditioned variable: x = df/(df+t²) when the tail is small (t² ≥ df),
        // otherwise y = t²/(df+t²) = 1 − x. Both are monotone, so bisection is safe. The switch is at t² = df (x = y = 1/2).
        double qAtBoundary = IncompleteBeta.Regularized(df / 2, 0.5, 0.5);
        if (q <= qAtBoundary)
        {
            // I_x(df/2, 1/2) increases with x; want I_x = q, x in (0, 1/2].
            double x = Bisect(v => IncompleteBeta.Regularized(df / 2, 0.5, v) - q, 0, 0.5);
            return Math.Sqrt(df * (1 - x) / x);
        }
        // 1 − I_y(1/2, df/2) = q  ⇔  I_y(1/2, df/2) = 1 − q, increasing in y, y in (0, 1/2].
        double target = 1 - q;
        double y = Bisect(v => IncompleteBeta.Regularized(0.5, df / 2, v) - target, 0, 0.5);
        return Math.Sqrt(df * y / (1 - y));
    }

    /// <summary>Two-sided critical value: the (1 + confidence)/2 quantile, e.g. 4.3027 for 95 % and df = 2.</summary>
    public static double TwoSidedCritical(double confidence, double df)
    {
        if (!(confidence > 0 && confidence < 1))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in (0, 1).");
        return Quantile(0.5 + confidence / 2, df);
    }

    private static void CheckDf(double df)
    {
        if (!(df > 0) || double.IsInfinity(df))
            throw new ArgumentOutOfRangeException(nameof(df), df, "Degrees of freedom must be positive and finite.");
    }

    /// <summary>Root of an increasing function on [lo, hi], refined until the bracket cannot shrink further.</summary>
    private static double Bisect(Func<double, double> f, double lo, double hi)
    {
        for (int i = 0; i < 2000; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (f(mid) < 0) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }
}

/// <summary>The regularised incomplete beta function I_x(a, b).</summary>
internal static class IncompleteBeta
{
    public static double Regularized(double a, double b, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        // Prefactor x^a (1−x)^b / B(a, b), in logs to avoid overflow.
        double lnFront = a * Math.Log(x) + b * Math.Log(1 - x) - LogBeta(a, b);
        // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) otherwise.
        if (x < (a + 1) / (a + b + 2))
            return Math.Exp(lnFront) * ContinuedFraction(a, b, x) / a;
        return 1 - Math.Exp(lnFront) * ContinuedFraction(b, a, 1 - x) / b;
    }

    /// <summary>
    /// Evaluates the continued fraction 1/(1+ d1/(1+ d2/(1+ ...))) of the incomplete beta function with the
    /// modified Lentz method, where d(2m+1) = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)) and d(2m) = m(b−m)x / ((a+2m−1)(a+2m)).
    /// </summary>
    private static double ContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300, eps = 1e-16;
        double f = tiny, c = f, d = 0;
        for (int n = 0; n <= 10000; n++)
        {
            double num;
            if (n == 0) num = 1;
            else
            {
                int m = n / 2;
                num = n % 2 == 0
                    ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                    : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            }
            d = 1 + num * d;
            if (Math.Abs(d) < tiny) d = tiny;
            d = 1 / d;
            c = 1 + num / c;
            if (Math.Abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < eps) return f;
        }
        throw new ArithmeticException($"Incomplete beta continued fraction did not converge (a={a}, b={b}, x={x}).");
    }

    private static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);

    /// <summary>ln Γ(z) for z &gt; 0 by the Lanczos approximation (g = 7, 9 terms; ~1e-15 relative).</summary>
    internal static double LogGamma(double z)
    {
        if (z < 0.5) // reflection: Γ(z)Γ(1−z) = π / sin(πz)
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * z))) - LogGamma(1 - z);
        ReadOnlySpan<double> coef =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        z -= 1;
        double sum = coef[0];
        for (int i = 1; i < coef.Length; i++) sum += coef[i] / (z + i);
        double t = z + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (z + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
