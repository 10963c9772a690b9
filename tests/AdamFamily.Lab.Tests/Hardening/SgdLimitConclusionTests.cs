using AdamFamily.Lab.Theory;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>
/// afm theory sgd-limit: the closing sentences follow from the numbers (they flip when the numbers do), and the
/// estimator claim is checked where the estimators actually differ (small ε), not only at ε = 1 where H ≈ ε^(−1/2) for all.
/// </summary>
public class SgdLimitConclusionTests
{
    [Fact]
    public void WhereTheEstimatorsDiffer_EachStillTendsToSgd()
    {
        // ε = 1e-4 against v ~ g² ≫ ε: H depends on the estimator. η·σ·ε^(−1/2) = 0.9 < 1.
        var r = SgdLimit.Run(new SgdLimitSettings { Steps = 800, Eps = 1e-4, LearningRate = 0.045, Estimators = new[] { "adam", "adabelief" } });
        Assert.True(SgdLimit.EstimatorSpread(r) > 0.05, $"the estimators should differ here; spread {SgdLimit.EstimatorSpread(r):P1}");
        foreach (var run in r.Runs)
        {
            Assert.True(run.DistanceFinal < run.DistanceQuarter / 10, $"{run.Estimator}: {run.DistanceQuarter:E2} → {run.DistanceFinal:E2}");
            Assert.True(run.StepDeviationFinal < run.StepDeviationQuarter, $"{run.Estimator}: step deviation {run.StepDeviationQuarter:E2} → {run.StepDeviationFinal:E2}");
            Assert.True(run.ObjectiveGapFinal < 1e-7, $"{run.Estimator}: gap {run.ObjectiveGapFinal:E2}");
        }
        var text = string.Join(" ", SgdLimit.Conclusion(r));
        Assert.Contains("give different AdamD iterates", text);
        Assert.Contains("each still tends to the SGD iteration", text);

        // At the default ε = 1 the same estimators barely differ, and the conclusion says so instead.
        var flat = SgdLimit.Run(new SgdLimitSettings { Steps = 200, Estimators = new[] { "adam", "yogi" } });
        Assert.True(SgdLimit.EstimatorSpread(flat) < 0.05);
        Assert.Contains("nearly the same AdamD iterates", string.Join(" ", SgdLimit.Conclusion(flat)));
    }

    [Fact]
    public void TheConclusion_FollowsTheNumbers()
    {
        var r = SgdLimit.Run(new SgdLimitSettings { Steps = 100, Estimators = new[] { "adam" } });
        var run = r.Runs[0];

        var levelling = r with { Runs = new[] { run with { RelativeQuarter = 1.0, RelativeFinal = 0.9 } } };
        Assert.Contains("levels off", string.Join(" ", SgdLimit.Conclusion(levelling)));
        var falling = r with { Runs = new[] { run with { RelativeQuarter = 1.0, RelativeFinal = 0.01 } } };
        var fallingText = string.Join(" ", SgdLimit.Conclusion(falling));
        Assert.DoesNotContain("levels off", fallingText);
        Assert.Contains("keeps falling", fallingText);

        var growing = r with { Runs = new[] { run with { DistanceQuarter = 1e-3, DistanceFinal = 1e-2 } } };
        Assert.Contains("does not shrink", string.Join(" ", SgdLimit.Conclusion(growing)));
        var stuck = r with { Runs = new[] { run with { StepDeviationQuarter = 0.1, StepDeviationFinal = 0.2 } } };
        Assert.Contains("does not fall", string.Join(" ", SgdLimit.Conclusion(stuck)));
        var literalCloser = r with { Runs = new[] { run with { DistanceLiteralFinal = run.DistanceFinal / 2 } } };
        Assert.Contains("as close to AdamD or closer", string.Join(" ", SgdLimit.Conclusion(literalCloser)));
        var literalBehind = r with { Runs = new[] { run with { DistanceLiteralFinal = run.DistanceFinal * 2 } } };
        Assert.Contains("ends further from AdamD", string.Join(" ", SgdLimit.Conclusion(literalBehind)));
    }
}
