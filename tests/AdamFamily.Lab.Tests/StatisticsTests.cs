using AdamFamily.Lab.Statistics;

namespace AdamFamily.Lab.Tests;

public class StatisticsTests
{
    [Theory]
    [InlineData(0.975, 1, 12.7062047)]
    [InlineData(0.975, 2, 4.30265273)]
    [InlineData(0.975, 3, 3.18244631)]
    [InlineData(0.975, 4, 2.77644511)]
    [InlineData(0.975, 9, 2.26215716)]
    [InlineData(0.975, 30, 2.04227246)]
    [InlineData(0.995, 5, 4.03214298)]
    [InlineData(0.95, 10, 1.81246112)]
    public void StudentTQuantilesMatchTables(double p, double df, double expected)
    {
        Assert.Equal(expected, StudentT.Quantile(p, df), 1e-6);
        Assert.Equal(-expected, StudentT.Quantile(1 - p, df), 1e-6);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(200)]
    public void QuantileInvertsCdf(double df)
    {
        foreach (double p in new[] { 1e-6, 0.01, 0.3, 0.5, 0.51, 0.9, 0.999999 })
            Assert.Equal(p, StudentT.Cdf(StudentT.Quantile(p, df), df), 1e-12);
        // df = 1 is the Cauchy distribution: quantile tan(π(p − 1/2)).
        if (df == 1) Assert.Equal(Math.Tan(Math.PI * 0.4), StudentT.Quantile(0.9, 1), 1e-9);
    }

    [Fact]
    public void SummaryOfSample()
    {
        var s = Summary.Of([1.0, 2.0, 3.0, 4.0]);
        Assert.Equal(4, s.N);
        Assert.Equal(2.5, s.Mean, 1e-15);
        Assert.Equal(Math.Sqrt(5.0 / 3.0), s.StdDev, 1e-15);
        Assert.Equal(1.0, s.Min);
        Assert.Equal(4.0, s.Max);
        Assert.True(double.IsNaN(Summary.Of([3.0]).StdDev));
        Assert.Throws<ArgumentException>(() => Summary.Of([]));
    }

    [Fact]
    public void PairedTIntervals_MatchHandComputedValues()
    {
        // diffs [0.03, 0.02, 0.01]: mean 0.02, sd 0.01, CI = 0.02 ± 4.30265273 · 0.01 / √3.
        var t = PairedT.Of(PairedT.Differences([0.80, 0.82, 0.81], [0.83, 0.84, 0.82]));
        Assert.Equal(3, t.N);
        Assert.Equal(0.02, t.Mean, 1e-12);
        Assert.Equal(0.01, t.StdDev, 1e-12);
        var (lo, hi) = t.Interval(0.95);
        Assert.Equal(-0.004841, lo, 1e-6);
        Assert.Equal(0.044841, hi, 1e-6);
        // One-sided 95 % bound: 0.02 − 2.91998558 · 0.01 / √3.
        Assert.Equal(0.02 - 2.91998558 * 0.01 / Math.Sqrt(3), t.LowerBound(0.95), 1e-7);
        Assert.Equal(0.02 + 2.91998558 * 0.01 / Math.Sqrt(3), t.UpperBound(0.95), 1e-7);
        // 97.5 % two-sided (Holm's level with two arms): t_{0.9875, 2} = 6.20534682.
        Assert.Equal(0.02 - 6.20534682 * 0.01 / Math.Sqrt(3), t.Interval(0.975).Low, 1e-6);
        // p of H0 mean ≤ −0.01: t = 0.03/(0.01/√3) = 5.196152, df 2: 1 − F = 0.5·(1 − t/√(t² + 2)) for df 2.
        double tt = 0.03 / (0.01 / Math.Sqrt(3));
        Assert.Equal(0.5 * (1 - tt / Math.Sqrt(tt * tt + 2)), t.PGreaterThan(-0.01), 1e-10);
    }

    [Fact]
    public void PairedT_OneSeed_AndZeroSpread()
    {
        var one = PairedT.Of([0.1]);
        Assert.True(double.IsNaN(one.StdDev) && double.IsNaN(one.Interval(0.95).Low));
        Assert.Equal(1, one.PGreaterThan(0));
        var flat = PairedT.Of([0.125, 0.125, 0.125]);
        Assert.Equal(0, flat.StdDev);
        Assert.Equal((0.125, 0.125), flat.Interval(0.95));
        Assert.Equal(0, flat.PGreaterThan(0));
        Assert.Equal(1, flat.PGreaterThan(0.2));
    }

    [Fact]
    public void RejectsBadInput()
    {
        Assert.Throws<ArgumentException>(() => PairedT.Differences([1, 2], [1]));
        Assert.Throws<ArgumentException>(() => PairedT.Of([]));
        Assert.Throws<ArgumentException>(() => PairedT.Of([1, double.NaN]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedT.Of([1, 2]).Interval(1));
        var arm = new ArmSample("a", [1, 2], 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => ArmVerdicts.Judge(arm, [arm], true, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ArmVerdicts.Judge(arm, [arm], true, double.NaN));
    }
}
