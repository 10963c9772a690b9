using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Statistics;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Tests;

/// <summary>
/// The verdict rules of issue #9 §1 on constructed per-seed numbers. Expected values are computed here, independently:
/// sign patterns enumerated recursively on integers (exact), Holm's step-down written out, seed counts by scanning n.
/// </summary>
public class VerdictRuleTests
{
    /// <summary>Two-sided sign-flip p by recursive enumeration on integer differences (exact arithmetic).</summary>
    private static double ReferenceP(long[] d, bool twoSided = true)
    {
        long obs = d.Sum(), hits = 0, total = 0;
        void Walk(int i, long sum)
        {
            if (i == d.Length) { total++; if (twoSided ? Math.Abs(sum) >= Math.Abs(obs) : sum >= obs) hits++; return; }
            Walk(i + 1, sum + d[i]);
            Walk(i + 1, sum - d[i]);
        }
        Walk(0, 0);
        return (double)hits / total;
    }

    /// <summary>Holm's step-down as a textbook states it: which hypotheses are rejected at α.</summary>
    private static bool[] ReferenceHolm(double[] p, double alpha)
    {
        int k = p.Length;
        var idx = Enumerable.Range(0, k).OrderBy(i => p[i]).ThenBy(i => i).ToArray();
        var rejected = new bool[k];
        for (int r = 1; r <= k; r++)
        {
            if (p[idx[r - 1]] <= alpha / (k - r + 1)) rejected[idx[r - 1]] = true;
            else break;
        }
        return rejected;
    }

    [Fact]
    public void SignFlip_IsExact_ForOneToTenSeeds()
    {
        var rng = new Random(7);
        for (int n = 1; n <= 10; n++)
            for (int rep = 0; rep < 20; rep++)
            {
                // Small integers: zeros, ties and equal magnitudes happen often.
                var d = Enumerable.Range(0, n).Select(_ => (long)rng.Next(-4, 6)).ToArray();
                var asDouble = d.Select(x => x * 0.1).ToArray(); // in the metric's units, with rounding
                Assert.Equal(ReferenceP(d), SignFlipTest.TwoSided(asDouble), 12);
                Assert.Equal(ReferenceP(d, twoSided: false), SignFlipTest.Greater(asDouble), 12);
            }
    }

    [Fact]
    public void SignFlip_SmallestP_IsTwoOverTwoToTheN()
    {
        for (int n = 1; n <= 10; n++)
        {
            var d = Enumerable.Range(1, n).Select(i => (double)i).ToArray(); // all positive
            Assert.Equal(Math.Min(1, 2.0 / Math.Pow(2, n)), SignFlipTest.TwoSided(d), 15);
            Assert.Equal(SignFlipTest.SmallestTwoSided(n), SignFlipTest.TwoSided(d), 15);
        }
        Assert.Equal(0.25, SignFlipTest.TwoSided([0.2, 0.3, 0.1])); // 3 seeds: never below 0.25
        Assert.Equal(1.0, SignFlipTest.TwoSided([0, 0, 0, 0]));     // no difference at all
        Assert.Equal(0.5, SignFlipTest.TwoSided([0.2, 0.2]));        // the issue's "+0.20 [+0.20, +0.20]"
    }

    [Fact]
    public void Holm_AdjustedPValues_HandExample()
    {
        // p = [0.01, 0.04, 0.03, 0.005]: sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.06, 0.04·1) = 0.06.
        var adj = Holm.Adjust([0.01, 0.04, 0.03, 0.005]);
        Assert.Equal(new[] { 0.03, 0.06, 0.06, 0.02 }, adj.Select(x => Math.Round(x, 12)));
        Assert.Equal(new[] { 0.05 / 3, 0.05 / 1, 0.05 / 2, 0.05 / 4 }, Holm.Levels([0.01, 0.04, 0.03, 0.005], 0.05));
    }

    [Fact]
    public void Holm_RejectsWhatTheStepDownRejects_ForOneToFiveArms()
    {
        var rng = new Random(11);
        for (int k = 1; k <= 5; k++)
            for (int rep = 0; rep < 200; rep++)
            {
                var p = Enumerable.Range(0, k).Select(_ => rng.NextDouble() < 0.5 ? rng.NextDouble() * 0.06 : rng.NextDouble()).ToArray();
                var expected = ReferenceHolm(p, 0.05);
                var adj = Holm.Adjust(p);
                Assert.Equal(expected, adj.Select(a => a <= 0.05).ToArray());
            }
    }

    /// <summary>The verdict the rules give, derived here from the reference p-values and Holm.</summary>
    private static string ExpectedVerdict(long[][] diffs, int[] divergences, int baselineDivergences, int i)
    {
        int k = diffs.Length, n = diffs[0].Length;
        var p = diffs.Select(d => ReferenceP(d)).ToArray();
        var rejected = ReferenceHolm(p, 0.05);
        if (rejected[i] && diffs[i].Sum() != 0)
            return diffs[i].Sum() > 0 ? (divergences[i] > baselineDivergences ? "not better" : "better") : "worse";
        // Even the best possible data: every arm at p = 2/2^n; Holm's first step tests it at 0.05/k.
        return 2.0 / Math.Pow(2, n) <= 0.05 / k ? "no detectable difference" : "inconclusive";
    }

    [Fact]
    public void Verdicts_FollowTheExactTestAndHolm_ForOneToFiveArms_AndOneToTenSeeds()
    {
        var rng = new Random(3);
        for (int k = 1; k <= 5; k++)
            for (int n = 1; n <= 10; n++)
                for (int rep = 0; rep < 6; rep++)
                {
                    var baseline = Enumerable.Range(0, n).Select(_ => (long)rng.Next(700, 900)).ToArray();
                    // Arms with a shift of −3..+3 (in tenths of a point) plus noise, sometimes noise-free.
                    var diffs = Enumerable.Range(0, k).Select(_ =>
                    {
                        int shift = rng.Next(-3, 4) * 3;
                        bool noiseless = rng.Next(4) == 0;
                        return Enumerable.Range(0, n).Select(_ => (long)(shift + (noiseless ? 0 : rng.Next(-2, 3)))).ToArray();
                    }).ToArray();
                    var divergences = Enumerable.Range(0, k).Select(_ => rng.Next(3) == 0 ? 1 : 0).ToArray();
                    var b = new ArmSample("base", baseline.Select(x => x / 10.0).ToArray(), 0);
                    var arms = diffs.Select((d, i) => new ArmSample($"a{i}", baseline.Zip(d, (x, y) => (x + y) / 10.0).ToArray(), divergences[i])).ToList();
                    var judged = ArmVerdicts.Judge(b, arms, higherIsBetter: true, margin: 0.5);
                    for (int i = 0; i < k; i++)
                    {
                        string expected = ExpectedVerdict(diffs, divergences, 0, i);
                        Assert.True(judged[i].VerdictText.StartsWith(expected, StringComparison.Ordinal),
                            $"k={k} n={n} arm {i}: expected {expected}, got {judged[i].VerdictText} (diffs {string.Join(",", diffs[i])})");
                        Assert.Equal(ReferenceP(diffs[i]), judged[i].PValue, 9);
                        Assert.Equal(n, judged[i].Pairs);
                    }
                }
    }

    [Fact]
    public void ThreeSeeds_CanNeverSayBetter_AndSaySo()
    {
        var r = ArmVerdicts.Judge(new ArmSample("adam", [80, 81, 82], 0), [new ArmSample("adamd", [90, 91, 92], 0)], true, 0.5).Single();
        Assert.Equal(Verdict.Inconclusive, r.Verdict);
        Assert.Equal("inconclusive: 3 seeds cannot reach p < 0.05", r.VerdictText);
        Assert.Equal(0.25, r.PValue);
    }

    [Fact]
    public void EqualDifferences_ZeroVariance_DoNotMakeAVerdict()
    {
        // The issue's case: two seeds that each differ by one test image (+0.20).
        var two = ArmVerdicts.Judge(new ArmSample("adam", [85.0, 86.0], 0), [new ArmSample("adamd", [85.2, 86.2], 0)], true, 0.5).Single();
        Assert.Equal(Verdict.Inconclusive, two.Verdict);
        Assert.NotEqual(NonInferiority.Yes, two.NonInferior);
        Assert.Equal(two.CiLow, two.CiHigh, 9); // the interval is still shown as what it is

        // Six seeds all +0.2: the exact test reaches p = 2/64, so this one is better.
        var six = ArmVerdicts.Judge(new ArmSample("adam", [85, 86, 87, 85, 86, 87], 0), [new ArmSample("adamd", [85.2, 86.2, 87.2, 85.2, 86.2, 87.2], 0)], true, 0.5).Single();
        Assert.Equal(Verdict.Better, six.Verdict);
        Assert.Equal(2.0 / 64, six.PValue, 12);

        // Identical arms: no detectable difference, and non-inferior once the exact test can show it (1/2^n ≤ 0.05 needs n ≥ 5).
        double[] same = [85, 86, 87, 85, 86, 87];
        var tie = ArmVerdicts.Judge(new ArmSample("adam", same, 0), [new ArmSample("copy", same, 0)], true, 0.5).Single();
        Assert.Equal(Verdict.NoDetectableDifference, tie.Verdict);
        Assert.Equal(1.0, tie.PValue);
        Assert.Equal(NonInferiority.Yes, tie.NonInferior);
        Assert.Equal(5, tie.SeedsNeeded);
        var tie4 = ArmVerdicts.Judge(new ArmSample("adam", same[..4], 0), [new ArmSample("copy", same[..4], 0)], true, 0.5).Single();
        Assert.Equal(NonInferiority.Inconclusive, tie4.NonInferior);
        Assert.Equal("inconclusive: needs 5 seeds", tie4.NonInferiorText);
    }

    [Fact]
    public void SeveralArms_AreHolmCorrected_AndTheIntervalsUseTheHolmLevel()
    {
        // Six seeds, every difference positive: raw p = 2/64 = 0.03125 each. One arm: better. Two arms: Holm
        // multiplies the smallest by 2 (0.0625 > 0.05), and 6 seeds can never reach it with 2 arms.
        double[] b = [80, 81, 82, 83, 84, 85];
        double[] up = [81, 82.5, 83.2, 84.9, 85.3, 86.6];
        var one = ArmVerdicts.Judge(new ArmSample("b", b, 0), [new ArmSample("x", up, 0)], true, 0.5).Single();
        Assert.Equal(Verdict.Better, one.Verdict);
        Assert.Equal(0.05, one.TestLevel, 15);
        var two = ArmVerdicts.Judge(new ArmSample("b", b, 0), [new ArmSample("x", up, 0), new ArmSample("y", up, 0)], true, 0.5);
        Assert.All(two, r => Assert.Equal(Verdict.Inconclusive, r.Verdict));
        Assert.All(two, r => Assert.Equal(0.0625, r.AdjustedPValue, 12));
        Assert.Equal("inconclusive: 6 seeds cannot reach p < 0.05 with 2 arms (Holm–Bonferroni)", two[0].VerdictText);
        // Levels 0.025 and 0.05 by rank (ties in input order); the interval is the paired-t one at that level.
        Assert.Equal(0.025, two[0].TestLevel, 15);
        Assert.Equal(0.05, two[1].TestLevel, 15);
        var d = up.Zip(b, (x, y) => x - y).ToArray();
        double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / 5);
        Assert.Equal(mean - StudentT.Quantile(1 - 0.0125, 5) * sd / Math.Sqrt(6), two[0].CiLow, 9);
        Assert.Equal(mean - StudentT.Quantile(1 - 0.025, 5) * sd / Math.Sqrt(6), two[1].CiLow, 9);
    }

    [Fact]
    public void AnArmThatDivergesMoreOften_IsNeverBetterOrNonInferior()
    {
        // Seed 0 of the arm diverged (enters at chance, 10 %) where the baseline was also near chance; it wins the rest.
        double[] baseline = [10.5, 80, 80, 80, 80, 80, 80, 80];
        double[] arm = [10.0, 81, 82, 83, 84, 85, 86, 87];
        var r = ArmVerdicts.Judge(new ArmSample("adam", baseline, 0), [new ArmSample("wild", arm, 1)], true, 0.5).Single();
        Assert.True(ReferenceP([-5, 10, 20, 30, 40, 50, 60, 70]) <= 0.05); // the test alone would say better
        Assert.Equal(Verdict.DivergedMoreOften, r.Verdict);
        Assert.Equal("not better: diverged more often (1 vs 0)", r.VerdictText);
        Assert.Equal(NonInferiority.No, r.NonInferior);
        // Equal divergence counts: the same numbers are better.
        Assert.Equal(Verdict.Better, ArmVerdicts.Judge(new ArmSample("adam", baseline, 1), [new ArmSample("wild", arm, 1)], true, 0.5).Single().Verdict);
    }

    [Fact]
    public void SeedsNeeded_IsTheSmallestNWhereThePairedTPowerConditionHolds()
    {
        // sd 1, margin 1, α 0.05: n = 7 fails ((1.9432 + 0.9057)² = 8.12 > 7), n = 8 holds ((1.8946 + 0.8960)² = 7.79 ≤ 8).
        Assert.Equal(8, SeedsNeeded.ForNonInferiority(1, 1, 0.05));
        foreach (var (sd, margin, alpha) in new[] { (0.3, 0.5, 0.05), (1.0, 0.5, 0.05), (2.0, 0.5, 0.025), (0.05, 0.5, 0.0125), (5.0, 0.2, 0.05) })
        {
            int n = 2;
            while (true)
            {
                double t = StudentT.Quantile(1 - alpha, n - 1) + StudentT.Quantile(0.8, n - 1);
                if (n >= t * t * sd * sd / (margin * margin)) break;
                n++;
            }
            int exactMinimum = (int)Math.Ceiling(Math.Log2(1 / alpha));
            Assert.Equal(Math.Max(n, exactMinimum), SeedsNeeded.ForNonInferiority(sd, margin, alpha));
        }
        Assert.Null(SeedsNeeded.ForNonInferiority(double.NaN, 0.5, 0.05)); // one seed: spread unknown
        Assert.Null(SeedsNeeded.ForNonInferiority(1, 0, 0.05));            // margin 0 cannot be resolved
    }

    [Fact]
    public void NonInferiority_BelowTheSeedsNeeded_IsInconclusive_NotYes()
    {
        // Differences [0.9, −0.3, 0.8, −0.2, 0.6] with margin 0.5: both tests pass with 5 seeds (bound −0.18; every d + m
        // positive, p = 1/32), but a spread of 0.57 needs about 8 seeds to resolve a 0.5 margin.
        double[] b = [80, 80, 80, 80, 80];
        double[] a = [80.9, 79.7, 80.8, 79.8, 80.6];
        var r = ArmVerdicts.Judge(new ArmSample("b", b, 0), [new ArmSample("a", a, 0)], true, 0.5).Single();
        var d = a.Zip(b, (x, y) => x - y).ToArray();
        double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / 4);
        Assert.Equal(mean - StudentT.Quantile(0.95, 4) * sd / Math.Sqrt(5), r.NonInferiorityBound, 9);
        Assert.True(r.NonInferiorityBound > -0.5);
        Assert.True(r.NonInferiorityAdjustedPValue <= 0.05);
        Assert.True(r.SeedsNeeded > 5, $"needs {r.SeedsNeeded}");
        Assert.Equal(NonInferiority.Inconclusive, r.NonInferior);
        Assert.Equal($"inconclusive: needs {r.SeedsNeeded} seeds", r.NonInferiorText);

        // Ten seeds with a small spread: yes.
        double[] b10 = Enumerable.Repeat(80.0, 10).ToArray();
        double[] a10 = [80.1, 79.9, 80.05, 79.95, 80.0, 80.1, 79.9, 80.05, 79.95, 80.0];
        var yes = ArmVerdicts.Judge(new ArmSample("b", b10, 0), [new ArmSample("a", a10, 0)], true, 0.5).Single();
        Assert.Equal(NonInferiority.Yes, yes.NonInferior);
        Assert.Equal(Verdict.NoDetectableDifference, yes.Verdict);

        // Clearly worse by more than the margin (every seed −2): no.
        var no = ArmVerdicts.Judge(new ArmSample("b", b10, 0), [new ArmSample("a", b10.Select(x => x - 2).ToArray(), 0)], true, 0.5).Single();
        Assert.Equal(NonInferiority.No, no.NonInferior);
        Assert.Equal(Verdict.Worse, no.Verdict);
    }

    [Fact]
    public void LowerIsBetter_MirrorsTheRules()
    {
        // Perplexity: the arm is 2 points lower on every one of 7 seeds.
        double[] b = [120, 121, 119, 122, 118, 120, 121];
        var r = ArmVerdicts.Judge(new ArmSample("b", b, 0), [new ArmSample("a", b.Select(x => x - 2 - 0.01 * x).ToArray(), 0)], higherIsBetter: false, margin: 1).Single();
        Assert.Equal(Verdict.Better, r.Verdict);
        Assert.True(r.MeanDifference < 0);
        var d = b.Select(x => -2 - 0.01 * x).ToArray();
        double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / 6);
        Assert.Equal(mean + StudentT.Quantile(0.95, 6) * sd / Math.Sqrt(7), r.NonInferiorityBound, 9); // the upper bound is the bad side
    }

    private static RunResult Run(string arm, int seed, double final, bool diverged = false, double worst = 10, double[]? valid = null, double[]? test = null)
    {
        var epochs = new List<EpochMetrics>();
        int count = test?.Length ?? 1;
        for (int e = 0; e < count; e++)
        {
            bool last = e == count - 1;
            epochs.Add(new EpochMetrics(e + 1, 1, 50, 1, test?[e] ?? final, 1e-3, 1, 1, 1, 0.1, diverged && last, ValidMetric: valid?[e] ?? double.NaN));
        }
        return new RunResult(arm, seed, epochs, worst);
    }

    [Fact]
    public void ComparisonSummary_KeepsDivergedRunsInTheirPairs_AtTheWorstValue()
    {
        var s = new ExperimentSettings
        {
            Task = "synthetic", Seeds = [0, 1, 2, 3],
            Arms = [new ArmSpec("adam", "adam:lr=1e-3"), new ArmSpec("wild", "sgd:lr=10")],
        };
        var runs = new List<RunResult>();
        for (int seed = 0; seed < 4; seed++)
        {
            runs.Add(Run("adam", seed, 80 + seed));
            runs.Add(Run("wild", seed, 90, diverged: seed == 0));
        }
        var summary = ComparisonSummary.From(s, runs);
        var wild = summary.Arms.Single(a => a.Arm == "wild");
        Assert.Equal(new[] { 10.0, 90, 90, 90 }, wild.FinalBySeed);
        Assert.Equal(new[] { true, false, false, false }, wild.DivergedBySeed);
        Assert.Equal(1, wild.Divergences);
        Assert.Equal((10 + 270) / 4.0, wild.FinalMean, 12);
        var v = summary.Versus.Single();
        Assert.Equal(4, v.Pairs);
        Assert.Equal(((10 - 80) + (90 - 81) + (90 - 82) + (90 - 83)) / 4.0, v.MeanDifference, 12);
        Assert.Equal(1, v.Divergences);
        Assert.Equal(0, v.BaselineDivergences);
        Assert.NotEqual("better", v.Verdict);
        Assert.StartsWith("no", v.NonInferiorText);
        Assert.Equal(10, summary.Statistics!.WorstValue);
        Assert.Contains("Holm", summary.Statistics.Correction);
        Assert.Contains("Holm", summary.ToJson());
    }

    [Fact]
    public void LanguageModelDivergence_CountsAsTheVocabularySize()
    {
        var s = new ExperimentSettings { Task = "text", Model = "lstm", Seeds = [0, 1], Arms = [new ArmSpec("adam", "adam"), new ArmSpec("adamd", "adamd")] };
        var runs = new List<RunResult> { Run("adam", 0, 150, worst: 5000), Run("adam", 1, 160, worst: 5000), Run("adamd", 0, 140, worst: 5000), Run("adamd", 1, 0, diverged: true, worst: 5000) };
        var summary = ComparisonSummary.From(s, runs);
        Assert.Equal(new[] { 140.0, 5000 }, summary.Arms[1].FinalBySeed);
        Assert.Contains("vocabulary", summary.Statistics!.Divergence);
    }

    [Fact]
    public void BestEpoch_IsSelectedOnValidation_NeverOnTest()
    {
        // Test peaks at epoch 3, validation at epoch 2: the selected metric is test at epoch 2.
        var r = Run("a", 0, 0, valid: [70, 75, 74], test: [71, 72, 90]);
        Assert.Equal(2, r.SelectedEpoch(higherIsBetter: true));
        Assert.Equal(72, r.SelectedTestMetric(true));
        Assert.Equal(75, r.BestValidMetric(true));
        Assert.Equal(1, r.SelectedEpoch(higherIsBetter: false)); // perplexity: lowest validation
        Assert.Null(Run("a", 0, 80).SelectedEpoch(true));          // no validation values
        var s = new ExperimentSettings { Task = "synthetic", Seeds = [0], Arms = [new ArmSpec("a", "adam")] };
        var summary = ComparisonSummary.From(s, [r]);
        Assert.Equal(72, summary.Arms[0].SelectedMean);
        Assert.Equal(90, summary.Arms[0].FinalMean);
    }
}

public class HyperParameterTests
{
    private static Dictionary<string, string> R(string spec) => AdamFamily.Lab.Reports.HyperParameters.Resolve(spec).ToDictionary(h => h.Key, h => h.Value);

    [Fact]
    public void ResolvedValues_ComeFromThePreset_NotTheTypedString()
    {
        // adamw typed bare: PyTorch's defaults, decoupled decay 1e-2, ε outside.
        var adamw = R("adamw");
        Assert.Equal("0.001", adamw["lr"]);
        Assert.Equal("0.01", adamw["weight_decay"]);
        Assert.Equal("decoupled", adamw["decay"]);
        Assert.Equal("1e-8", adamw["eps"]);
        Assert.Equal(4, adamw.Count); // nothing differs from the preset

        var adam = R("adam:lr=3e-4,amsgrad=true,betas=(0.8,0.999)");
        Assert.Equal("3e-4", adam["lr"]);
        Assert.Equal("l2", adam["decay"]);
        Assert.Equal("amsgrad", adam["estimator"]);
        Assert.Equal("0.8", adam["beta1"]);
        Assert.False(adam.ContainsKey("beta2")); // unchanged

        var sgd = R("sgd:lr=0.05,momentum=0.9,weight_decay=5e-4");
        Assert.False(sgd.ContainsKey("eps"));    // no second moment, no ε
        Assert.Equal("0.9", sgd["momentum"]);
        Assert.Equal("5e-4", sgd["weight_decay"]);
        Assert.Equal("lr=0.05, weight_decay=5e-4 (l2), momentum=0.9", AdamFamily.Lab.Reports.HyperParameters.Format(AdamFamily.Lab.Reports.HyperParameters.Resolve("sgd:lr=0.05,momentum=0.9,weight_decay=5e-4")));
        Assert.Throws<ArgumentException>(() => R("adamd:lr=fast"));
    }
}
