using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Training;
using AdamFamily.Lab.Tuning;

namespace AdamFamily.Lab.Tests;

public class TuneSpaceTests
{
    [Fact]
    public void ScrambledHalton_KeepsOnePointPerStratum_AndIsSeeded()
    {
        var h = new ScrambledHalton(3, seed: 5);
        int[] bases = [2, 3, 5];
        for (int j = 0; j < 3; j++)
        {
            int b = bases[j];
            for (int k = 1; k <= 3; k++)
            {
                int cells = (int)Math.Pow(b, k);
                // Points 1..b^k: the radical inverse puts one in each cell; a digit permutation keeps that.
                // (Index 0 is skipped, index b^k has the same low digits as 0.)
                var seen = Enumerable.Range(1, cells).Select(i => (int)(h.Point(i)[j] * cells)).ToList();
                Assert.Equal(cells, seen.Distinct().Count());
            }
        }
        Assert.All(Enumerable.Range(1, 200).SelectMany(i => h.Point(i)), u => Assert.InRange(u, 0, Math.BitDecrement(1.0)));
        Assert.Equal(h.Point(7), new ScrambledHalton(3, 5).Point(7));
        Assert.NotEqual(h.Point(7), new ScrambledHalton(3, 6).Point(7));
        // Unscrambled Halton's point 1 is (1/2, 1/3, 1/5); scrambling moves it.
        Assert.NotEqual(new[] { 0.5, 1 / 3.0, 0.2 }, h.Point(1));
    }

    [Fact]
    public void DefaultSpaces_FollowTheDecayPlacement()
    {
        SearchDimension D(string spec, string key) => SearchSpace.Default(spec).Dimensions.Single(d => d.Key == key);
        Assert.Equal(new SearchDimension("lr", 1e-4, 1e-2, true), D("adamw:lr=1e-3", "lr"));
        Assert.Equal(new SearchDimension("weight_decay", 1e-4, 1, true), D("adamw", "weight_decay"));       // λ multiplies lr
        Assert.Equal(new SearchDimension("weight_decay", 1e-6, 1e-2, true), D("adam", "weight_decay"));     // L2, even at the default σ 0
        Assert.Equal(new SearchDimension("weight_decay", 1e-6, 1e-2, true), D("sgd:lr=0.1", "weight_decay"));
        // AdamD: preconditioned, top at half the stability limit η_max·σ·ε^(−1/2) < 1: 0.5·√1e-8 / 1e-2 = 5e-3.
        var adamd = D("adamd", "weight_decay");
        Assert.Equal(5e-3, adamd.High, 15);
        Assert.Equal(1e-6, adamd.Low);
        Assert.Equal(new SearchDimension("lr", 0.01, 1, true), D("sgd:lr=0.1", "lr"));
        Assert.DoesNotContain(SearchSpace.Default("afmdw:decay=none").Dimensions, d => d.Key == "weight_decay");
        Assert.Equal(1e-3 * Math.Pow(10, 0.5) / 1e-3, new SearchDimension("lr", 1e-4, 1e-2, true).At(0.75) / 1e-3, 12);
    }

    [Fact]
    public void Overrides_ParseAndAreValidated()
    {
        var (arm, dims) = SearchSpace.ParseOverride("adamw:lr=1e-4..1e-2,beta1=0.8..0.95,eps=1e-10..1e-6");
        Assert.Equal("adamw", arm);
        Assert.Equal(new[] { new SearchDimension("lr", 1e-4, 1e-2, true), new SearchDimension("beta1", 0.8, 0.95, false), new SearchDimension("eps", 1e-10, 1e-6, true) }, dims);
        Assert.Throws<ArgumentException>(() => SearchSpace.ParseOverride("adamw:lr=1e-4"));
        Assert.Throws<ArgumentException>(() => SearchSpace.ParseOverride("adamw:lr=a..b"));
        Assert.Contains("not an option of sgd", Assert.Throws<ArgumentException>(() => new SearchSpace([new SearchDimension("eps", 1e-9, 1e-6, true)]).Validate("sgd", "sgd")).Message);
        Assert.Contains("must be > 0", Assert.Throws<ArgumentException>(() => new SearchSpace([new SearchDimension("lr", 0, 1, true)]).Validate("a", "adam")).Message);
        Assert.Contains("low < high", Assert.Throws<ArgumentException>(() => new SearchSpace([new SearchDimension("lr", 1, 0.1, true)]).Validate("a", "adam")).Message);
        Assert.Equal("adamw:amsgrad=true,lr=0.002", SearchSpace.WithValues("adamw:lr=1e-3,amsgrad=true", [("lr", 0.002)]));
    }

    [Fact]
    public void FinalSeeds_MustNotBeTuningSeeds()
    {
        var s = TuneTests.Tiny() with { };
        s = s with { Experiment = s.Experiment with { Seeds = [0, TuneSettings.TuningSeedBase + 1] } };
        Assert.Contains("fresh", Assert.ThrowsAny<ArgumentException>(() => s.Validate()).Message);
        var noValidation = TuneTests.Tiny();
        noValidation = noValidation with { Experiment = noValidation.Experiment with { Validation = 0 } };
        Assert.Contains("--validation", Assert.ThrowsAny<ArgumentException>(() => noValidation.Validate()).Message);
    }
}

[Collection(TorchRngCollection.Name)]
public class TuneTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-tune-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static TuneSettings Tiny(params ArmSpec[] arms)
    {
        arms = arms.Length > 0 ? arms : [new ArmSpec("adam", "adam:lr=1e-3"), new ArmSpec("adamd", "adamd:lr=1e-3")];
        var e = new ExperimentSettings
        {
            Protocol = "test", Task = "synthetic", Model = "mlp", Epochs = 1, BatchSize = 64, Seeds = [0, 1],
            TrainSubset = 256, TestSubset = 128, Validation = 128, Arms = arms,
        };
        return new TuneSettings { Experiment = e, Trials = 2, Studies = 1, Spaces = arms.ToDictionary(a => a.Name, a => SearchSpace.Default(a.Optimizer)) };
    }

    [Fact]
    public void AKilledStudy_ResumesToTheSameResult_AsAnUninterruptedOne()
    {
        var s = Tiny();
        var (straight, straightSummary) = TuneRunner.Run(s, Path.Combine(_dir, "straight"));
        Assert.Equal(2, straight.Arms.Count);
        Assert.All(straight.Arms, a => Assert.Equal(2, a.Trials.Count));

        var resumedDir = Path.Combine(_dir, "resumed");
        using var cts = new CancellationTokenSource();
        int batches = 0;
        // 4 batches per run; trials go (trial 0: adam, adamd), (trial 1: adam, adamd): kill inside the third.
        Assert.ThrowsAny<OperationCanceledException>(() => TuneRunner.Run(s, resumedDir, progress: _ => { if (++batches == 2 * 4 + 2) cts.Cancel(); }, cancel: cts.Token));
        Assert.True(File.Exists(Path.Combine(resumedDir, "trials", "adamd-s0-t0.jsonl")));
        Assert.False(File.Exists(Path.Combine(resumedDir, "trials", "adam-s0-t1.jsonl")));
        var reused = new List<string>();
        var (resumed, resumedSummary) = TuneRunner.Run(s, resumedDir, unitDone: (u, r) => { if (r) reused.Add($"{u.Arm.Name} {u.Trial}"); });
        Assert.Equal(new[] { "adam s0-t0", "adamd s0-t0" }, reused);
        Assert.Equal(straight.Arms.Select(a => a.Selected.Optimizer), resumed.Arms.Select(a => a.Selected.Optimizer));
        Assert.Equal(straight.Arms.SelectMany(a => a.Trials.Select(t => t.ValidationMetric)), resumed.Arms.SelectMany(a => a.Trials.Select(t => t.ValidationMetric)));
        Assert.Equal(straightSummary.Arms.Select(a => a.FinalBySeed), resumedSummary.Arms.Select(a => a.FinalBySeed));

        // The files the issue asks for; the final runs are the comparison's own, judged on test.
        foreach (var f in new[] { "tune.json", "tune-settings.json", "summary.json", "summary.csv", "experiment.json", "runs/adam-seed0.jsonl", "plan.json", "trials/adamd-s0-t1.jsonl", "trials/plan.json", "trials/experiment.json" })
            Assert.True(File.Exists(Path.Combine(resumedDir, f)), f);
        var summary = ComparisonSummary.FromJson(File.ReadAllText(Path.Combine(resumedDir, "summary.json")));
        Assert.Equal(resumed.Arms.Select(a => a.Selected.Optimizer), summary.Settings.Arms.Select(a => a.Optimizer));
        Assert.Equal(new[] { 0, 1 }, summary.Settings.Seeds);
        // Trials used tuning seeds, never the final ones.
        Assert.All(resumed.Arms.SelectMany(a => a.Trials), t => Assert.True(t.Seed >= TuneSettings.TuningSeedBase));

        var report = TuneReport.Write(resumedDir);
        var html = File.ReadAllText(report);
        foreach (var (file, _) in TuneReport.PlotFiles) Assert.Contains($"id=\"plot-{file}\"", html);
        Assert.Contains("<table id=\"tuning\">", html);
        Assert.Contains("Holm–Bonferroni", html);

        // Other settings in the same folder are refused; so is a folder that is not a tuning study.
        Assert.Throws<InvalidOperationException>(() => TuneRunner.Run(s with { Trials = 3 }, resumedDir));
        File.WriteAllText(Path.Combine(_dir, "mine.txt"), "user file");
        Assert.Contains("not empty", Assert.Throws<InvalidOperationException>(() => TuneRunner.Run(s, _dir)).Message);
        // A comparison never writes into a tuning study (its final runs are a comparison, its trials a plan of their own), nor tune into its trials.
        foreach (var inside in new[] { resumedDir, Path.Combine(resumedDir, "trials") })
            Assert.Contains("belongs to the tuning study", Assert.Throws<InvalidOperationException>(() => ComparisonRunner.Run(s.Experiment, inside)).Message);
        Assert.Contains("holds the trials of the tuning study", Assert.Throws<InvalidOperationException>(() => TuneRunner.Run(s, Path.Combine(resumedDir, "trials"))).Message);
    }

    [Fact]
    public void DivergedTrials_CountAsTrials_AtTheWorstValue()
    {
        // SGD at lr 1e8..1e10 diverges on every trial; the preconditioned decay past its stability limit is refused.
        var s = Tiny(new ArmSpec("adam", "adam:lr=1e-3"), new ArmSpec("wild", "sgd:lr=1e9"), new ArmSpec("unstable", "adamd:lr=1e-3"));
        s.Spaces["unstable"] = new SearchSpace([new SearchDimension("weight_decay", 10, 100, true)]);
        var (tune, summary) = TuneRunner.Run(s, Path.Combine(_dir, "wild"));
        var wild = tune.Arms.Single(a => a.Arm == "wild");
        Assert.Equal(2, wild.Trials.Count);
        Assert.All(wild.Trials, t => { Assert.True(t.Diverged); Assert.Equal(10, t.ValidationMetric); });
        var unstable = tune.Arms.Single(a => a.Arm == "unstable");
        Assert.All(unstable.Trials, t => { Assert.True(t.Diverged); Assert.NotNull(t.Failure); Assert.Equal(10, t.ValidationMetric); });
        Assert.Equal(2, summary.Arms.Single(a => a.Arm == "wild").Divergences);
    }

    [Fact]
    public void ASelectedPointAtTheEdge_IsWarnedAbout()
    {
        var s = Tiny(new ArmSpec("adam", "adam:lr=1e-3"));
        s = s with { Trials = 3 };
        var trials = new (int Trial, double Lr, double Metric)[] { (0, 2e-4, 50.0), (1, 9.8e-3, 70.0), (2, 1e-3, 60.0) }.Select(x => new TrialResult("adam", 0, x.Trial, TuneSettings.TuningSeedBase + x.Trial, $"adam:lr={x.Lr},weight_decay=1e-4",
            new Dictionary<string, double> { ["lr"] = x.Lr, ["weight_decay"] = 1e-4 }, x.Metric, false, null, Array.Empty<EpochMetrics>())).ToList();
        var tune = TuneRunner.Select(s, trials);
        var a = tune.Arms.Single();
        Assert.Equal(1, a.Selected.Trial);
        var w = Assert.Single(a.EdgeWarnings);
        Assert.Contains("lr", w);
        Assert.Contains("upper edge", w);
    }
}
