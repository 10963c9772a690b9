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
    public void HandComputedExampleHasNoDetectableDifference()
    {
        // diffs [0.03, 0.02, 0.01]: mean 0.02, sd 0.01, CI = 0.02 ± 4.30265273 · 0.01 / √3.
        var r = PairedComparison.Compute([0.80, 0.82, 0.81], [0.83, 0.84, 0.82], higherIsBetter: true, margin: 0.01);
        Assert.Equal(3, r.N);
        Assert.Equal(0.02, r.MeanDifference, 1e-12);
        Assert.Equal(0.01, r.StdDifference, 1e-12);
        Assert.Equal(-0.004841, r.CiLow, 1e-6);
        Assert.Equal(0.044841, r.CiHigh, 1e-6);
        Assert.Equal(Verdict.NoDetectableDifference, r.Verdict);
        Assert.Equal("no detectable difference", r.VerdictText);
        Assert.True(r.NonInferior); // −0.004841 > −0.01
        Assert.False(PairedComparison.Compute([0.80, 0.82, 0.81], [0.83, 0.84, 0.82], true, margin: 0.004).NonInferior);
    }

    [Fact]
    public void ClearlyBetterAndWorse()
    {
        // diffs [0.05, 0.06, 0.04, 0.06]: mean 0.0525, sd 0.0095743, CI 0.0525 ± 3.18244631 · 0.0095743 / 2 = [0.037265, 0.067735].
        double[] baseline = [0.80, 0.81, 0.82, 0.80], arm = [0.85, 0.87, 0.86, 0.86];
        var acc = PairedComparison.Compute(baseline, arm, higherIsBetter: true, margin: 0);
        Assert.Equal(0.0525, acc.MeanDifference, 1e-12);
        Assert.Equal(0.037265, acc.CiLow, 1e-6);
        Assert.Equal(0.067735, acc.CiHigh, 1e-6);
        Assert.Equal(Verdict.Better, acc.Verdict);
        Assert.True(acc.NonInferior);

        // Same numbers read as a loss: the arm is worse.
        var loss = PairedComparison.Compute(baseline, arm, higherIsBetter: false, margin: 0.05);
        Assert.Equal(Verdict.Worse, loss.Verdict);
        Assert.False(loss.NonInferior); // CI high 0.0677 is not below +0.05

        // Accuracy drops: diffs [−0.05, −0.06, −0.04, −0.07], CI [−0.075543, −0.034457].
        var worse = PairedComparison.Compute([0.50, 0.52, 0.49, 0.51], [0.45, 0.46, 0.45, 0.44], higherIsBetter: true, margin: 0.08);
        Assert.Equal(-0.075543, worse.CiLow, 1e-6);
        Assert.Equal(-0.034457, worse.CiHigh, 1e-6);
        Assert.Equal(Verdict.Worse, worse.Verdict);
        Assert.True(worse.NonInferior); // worse, but within an 0.08 margin
        Assert.Equal(Verdict.Better, PairedComparison.Compute([0.50, 0.52, 0.49, 0.51], [0.45, 0.46, 0.45, 0.44], higherIsBetter: false, margin: 0).Verdict);
    }

    [Fact]
    public void MarginRuleForLowerIsBetter()
    {
        // Loss diffs [0.01, 0.02, 0.01]: mean 0.013333, sd 0.0057735, CI [−0.001009, 0.027676].
        double[] baseline = [0.30, 0.31, 0.29], arm = [0.31, 0.33, 0.30];
        var r = PairedComparison.Compute(baseline, arm, higherIsBetter: false, margin: 0.03);
        Assert.Equal(-0.001009, r.CiLow, 1e-6);
        Assert.Equal(0.027676, r.CiHigh, 1e-6);
        Assert.Equal(Verdict.NoDetectableDifference, r.Verdict);
        Assert.True(r.NonInferior);
        Assert.False(PairedComparison.Compute(baseline, arm, higherIsBetter: false, margin: 0.02).NonInferior);
    }

    [Fact]
    public void SingleSeedIsInsufficient()
    {
        var r = PairedComparison.Compute([0.8], [0.9], higherIsBetter: true, margin: 0.01);
        Assert.Equal(1, r.N);
        Assert.Equal(0.1, r.MeanDifference, 1e-12);
        Assert.True(double.IsNaN(r.CiLow) && double.IsNaN(r.CiHigh) && double.IsNaN(r.StdDifference));
        Assert.Equal(Verdict.InsufficientSeeds, r.Verdict);
        Assert.Equal("insufficient seeds", r.VerdictText);
        Assert.Null(r.NonInferior);
    }

    [Fact]
    public void ZeroVarianceDifferences()
    {
        // Exactly representable values, so every difference is exactly 0.125.
        var up = PairedComparison.Compute([0.5, 0.25, 0.75], [0.625, 0.375, 0.875], higherIsBetter: true, margin: 0);
        Assert.Equal(0, up.StdDifference);
        Assert.Equal((0.125, 0.125), (up.CiLow, up.CiHigh));
        Assert.Equal(Verdict.Better, up.Verdict);
        Assert.Equal(Verdict.Worse, PairedComparison.Compute([0.5, 0.25, 0.75], [0.625, 0.375, 0.875], false, 0).Verdict);

        var same = PairedComparison.Compute([0.5, 0.25], [0.5, 0.25], higherIsBetter: true, margin: 0.01);
        Assert.Equal((0.0, 0.0), (same.CiLow, same.CiHigh));
        Assert.Equal(Verdict.NoDetectableDifference, same.Verdict);
        Assert.True(same.NonInferior);
    }

    [Fact]
    public void RejectsBadInput()
    {
        Assert.Throws<ArgumentException>(() => PairedComparison.Compute([1, 2], [1], true, 0));
        Assert.Throws<ArgumentException>(() => PairedComparison.Compute([], [], true, 0));
        Assert.Throws<ArgumentException>(() => PairedComparison.Compute([1, double.NaN], [1, 2], true, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedComparison.Compute([1, 2], [1, 2], true, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedComparison.Compute([1, 2], [1, 2], true, 0, confidence: 1));
    }
}
