using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Tuning;

namespace AdamFamily.Lab.Tests;

/// <summary>The near-best region of a tuning study (<see cref="Sensitivity"/>) and its plane plot.</summary>
public class SensitivityTests
{
    // lr log-uniform over 2 decades, weight decay over 4: the space is 2 × 4 = 8 decades².
    private static readonly SearchSpace Space = new([new SearchDimension("lr", 1e-4, 1e-2, true), new SearchDimension("weight_decay", 1e-6, 1e-2, true)]);

    private static TrialSummary T(int trial, double lr, double wd, double metric, bool diverged = false) =>
        new(0, trial, 100_000 + trial, new Dictionary<string, double> { ["lr"] = lr, ["weight_decay"] = wd }, metric, diverged, null);

    private static TuneArmResult Arm(params TrialSummary[] trials) =>
        new("a", "adamw:lr=1e-3", Space, trials, [new StudyBest(0, 0, trials[0].ValidationMetric)],
            new SelectedPoint(0, 0, trials[0].HyperParameters, trials[0].ValidationMetric, "adamw:lr=1e-3"), []);

    [Fact]
    public void TheRegion_CountsTrialsWithinTheTolerance_AndScalesTheShareByTheSpace()
    {
        var arm = Arm(
            T(0, 1e-3, 1e-5, 90.0),
            T(1, 1e-2, 1e-3, 89.5),   // exactly 0.5 below the best: inside
            T(2, 1e-4, 1e-2, 89.49),  // just outside
            T(3, 3e-3, 1e-6, 80.0),
            T(4, 5e-3, 1e-4, 10.0, diverged: true));
        var r = Sensitivity.Of(arm, higherIsBetter: true, tolerance: 0.5);
        Assert.Equal(90.0, r.Best);
        Assert.Equal(5, r.Trials);
        Assert.Equal(2, r.Within);
        Assert.Equal(0.4, r.Share, 12);
        Assert.Equal(8.0, r.SpaceVolume, 12);
        Assert.Equal(3.2, r.Area, 12);                       // 2/5 of 8 decades²
        Assert.Equal(1.0, r.Spans["lr"], 12);                 // 1e-3 … 1e-2
        Assert.Equal(2.0, r.Spans["weight_decay"], 12);       // 1e-5 … 1e-3
        Assert.True(Sensitivity.IsWithin(r, arm.Trials[1], true));
        Assert.False(Sensitivity.IsWithin(r, arm.Trials[2], true));
    }

    [Fact]
    public void ADivergedTrial_IsNeverInTheRegion_AndLowerIsBetterCountsUpwards()
    {
        // Perplexity: lower is better; a diverged trial with a (meaningless) low value must not become the best.
        var arm = Arm(T(0, 1e-3, 1e-5, 120.0), T(1, 2e-3, 1e-5, 120.4), T(2, 4e-3, 1e-4, 121.0), T(3, 1e-4, 1e-6, 5.0, diverged: true));
        var r = Sensitivity.Of(arm, higherIsBetter: false, tolerance: 0.5);
        Assert.Equal(120.0, r.Best);
        Assert.Equal(2, r.Within);
        Assert.Equal(Math.Log10(2), r.Spans["lr"], 12);
        Assert.Equal(0.0, r.Spans["weight_decay"], 12);
        Assert.False(Sensitivity.IsWithin(r, arm.Trials[3], false));

        var allDiverged = Sensitivity.Of(Arm(T(0, 1e-3, 1e-5, 10.0, diverged: true)), higherIsBetter: true);
        Assert.Equal(0, allDiverged.Within);
        Assert.True(double.IsNaN(allDiverged.Best));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sensitivity.Of(arm, true, tolerance: -1));
    }

    [Fact]
    public void AUniformDimension_IsMeasuredInItsOwnUnits()
    {
        var space = new SearchSpace([new SearchDimension("lr", 1e-4, 1e-2, true), new SearchDimension("beta1", 0.8, 0.95, false)]);
        var trials = new[]
        {
            new TrialSummary(0, 0, 1, new() { ["lr"] = 1e-3, ["beta1"] = 0.85 }, 70, false, null),
            new TrialSummary(0, 1, 2, new() { ["lr"] = 1e-3, ["beta1"] = 0.9 }, 69.8, false, null),
        };
        var arm = new TuneArmResult("b", "adamd:lr=1e-3", space, trials, [], new SelectedPoint(0, 0, trials[0].HyperParameters, 70, "adamd:lr=1e-3"), []);
        var r = Sensitivity.Of(arm, true);
        Assert.Equal(2 * 0.15, r.SpaceVolume, 12);           // 2 decades × 0.15
        Assert.Equal(0.05, r.Spans["beta1"], 12);
        Assert.False(TunePlane.HasPlane(arm));               // no weight decay: no plane
    }

    [Fact]
    public void ThePlane_IsWrittenPerArm_WithTheRegionInItsCaption()
    {
        var dir = Directory.CreateTempSubdirectory("afm-plane-").FullName;
        try
        {
            var arm = Arm(T(0, 1e-3, 1e-5, 90.0), T(1, 1e-2, 1e-3, 89.6), T(2, 1e-4, 1e-2, 85.0), T(3, 5e-3, 1e-4, 10.0, diverged: true));
            var tune = new TuneResult("fashion-mnist", "validation accuracy (%)", true, 4, 1, 0, [0], TuneRunner.SelectionRule, [arm]);
            var regions = Sensitivity.Of(tune);
            var files = TunePlane.WriteAll(tune, regions, dir);
            var (file, caption) = Assert.Single(files);
            Assert.Equal("tune_plane_a", file);
            Assert.Contains("2 of 4 trials (50 %), ≈ 4 of the space's 8 decades²", caption);
            var png = new FileInfo(Path.Combine(dir, file + ".png"));
            Assert.True(png.Exists && png.Length > 1000);
            Assert.True(File.Exists(Path.Combine(dir, file + ".svg")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
