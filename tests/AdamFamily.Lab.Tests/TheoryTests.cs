using System.Text.Json;
using AdamFamily.Lab.Theory;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

/// <summary>The claims <c>afm theory</c> and <c>afm toy</c> show, held on small instances.</summary>
public class TheoryTests
{
    [Fact]
    public void OnTheSmoothProblemAdamDReachesStationarityAndAdamWPlacementLevelsOff()
    {
        using var problem = new LogisticRegression(seed: 0);
        var h = Stationarity.DefaultHyper("logistic");
        // The step is stable in the saturated regime: η·ε^(−1/2)·L < 2 and η·σ·ε^(−1/2) < 1.
        Assert.True(h.LearningRate / Math.Sqrt(h.Eps) * problem.GradientLipschitz!.Value < 2);
        Assert.True(h.LearningRate * h.WeightDecay / Math.Sqrt(h.Eps) < 1);

        var arms = Stationarity.Arms(h);
        var adamd = arms.Single(a => a.Preset == "adamd");
        var decoupled = arms.Single(a => a.Preset == "afmdw");
        var r = Stationarity.RunProblem(problem, h, steps: 1200, new[] { adamd, decoupled });
        var d = r.Runs[0];
        var w = r.Runs[1];

        Assert.Equal(1201, d.Residual.Length);
        Assert.True(d.FinalResidual < 1e-9, $"AdamD's ‖∇f + σx‖ = {d.FinalResidual:E3} after 1200 steps");
        Assert.True(d.FinalResidual < 1e-6 * d.Residual[0]);
        // AdamW's placement settles near ‖σ(1 − H⁻¹)⊙x‖, far from stationarity for g.
        Assert.True(w.TailMedianResidual > 1e-2, $"AdamW placement's residual = {w.TailMedianResidual:E3}");
        Assert.NotNull(w.PredictedPlateau);
        Assert.InRange(w.FinalResidual / w.PredictedPlateau!.Value, 0.9, 1.1);
        Assert.True(w.FinalObjective > d.FinalObjective, "AdamD's point is the better one for g = f + (σ/2)‖x‖²");
    }

    [Fact]
    public void ResidualIsTheExactFullBatchGradientAtTheIterate()
    {
        using var problem = new L1Regression(seed: 1, rows: 40, cols: 4);
        var arm = new OptimizerArm("sgd", "sgd", "lr=0");   // lr 0: x stays at the start
        var run = Stationarity.RunArm(problem, arm, sigma: 0.3, steps: 2);
        var (_, grad) = problem.ValueAndGradient(problem.Start);
        double expected = Math.Sqrt(grad.Zip(problem.Start, (g, x) => (g + 0.3 * x) * (g + 0.3 * x)).Sum());
        Assert.All(run.Residual, r => Assert.Equal(expected, r, 12));
    }

    [Fact]
    public void SgdLimitDistanceShrinks()
    {
        var s = new SgdLimitSettings { Steps = 400, Estimators = new[] { "adam", "yogi" } };
        var r = SgdLimit.Run(s);
        Assert.Equal(2, r.Runs.Count);
        foreach (var run in r.Runs)
        {
            Assert.Equal(401, run.Distance.Length);
            Assert.Equal(0, run.Distance[0]);
            Assert.True(run.DistanceFinal < run.DistanceQuarter, $"{run.Estimator}: {run.DistanceFinal:E3} at the end vs {run.DistanceQuarter:E3} at 1/4");
            Assert.True(run.DistanceFinal < 1e-5, $"{run.Estimator}: distance {run.DistanceFinal:E3}");
            Assert.True(run.ObjectiveGapFinal < 1e-9, $"{run.Estimator}: objective gap {run.ObjectiveGapFinal:E3}");
            // Locally, AdamD's step becomes the SGD step: the deviation falls with θ_t.
            Assert.True(run.StepDeviationFinal < run.StepDeviationQuarter);
            Assert.True(run.StepDeviationFinal < 1e-2);
            // ρ_t read off AdamD's own B₁ is 1 at the first step and tends to θ_t.
            Assert.Equal(1.0, run.Rho[1], 12);
            Assert.InRange(run.Rho[^1] / run.Theta[^1], 1.0, 1.05);
        }
    }

    [Fact]
    public void StabilityCheckRefusesExactlyAtTheBound()
    {
        // ε = 0.25 makes ε^(−1/2) = 2 exactly, so with σ = 0.5 the bound η·σ·ε^(−1/2) = 1 is at η = 1 exactly.
        using var x = new TorchSharp.Modules.Parameter(tensor(new[] { 1.0, -2.0 }));
        using (Optimizers.Create("adamd", new[] { x }, "lr=0.999999999,eps=0.25,weight_decay=0.5")) { }
        Assert.Throws<UnstableDecayException>(() => Optimizers.Create("adamd", new[] { x }, "lr=1,eps=0.25,weight_decay=0.5"));
        Assert.Throws<UnstableDecayException>(() => Optimizers.Create("adamd", new[] { x }, "lr=1.5,eps=0.25,weight_decay=0.5"));

        var r = Stability.Run(new StabilitySettings());
        Assert.True(r.Checks.Single(c => c.Factor == 0.999).Constructed);
        foreach (var c in r.Checks)
        {
            Assert.Equal(c.LibraryFactor < 1, c.Constructed);
            if (!c.Constructed) Assert.Contains("unstable", c.Message);
        }
        Assert.False(r.Checks.Single(c => c.Factor == 1.0).Constructed);
        Assert.NotNull(r.LearningRateChangeMessage);
    }

    [Fact]
    public void WithTheCheckOffTheOvershootShows()
    {
        var s = new StabilitySettings { Steps = 20 };
        var grow = Stability.Overshoot(s, 2.1);
        Assert.True(Math.Abs(grow.X[^1]) > Math.Abs(grow.X[0]), "|x| grows for a factor above 2");
        for (int t = 1; t < grow.X.Length; t++) Assert.True(Math.Abs(grow.X[t]) > Math.Abs(grow.X[t - 1]));
        Assert.Equal(s.Steps, grow.SignFlips);
        Assert.True(grow.MaxDeviationFromPrediction < 1e-10, "x_t = (1 − c)^t·x₀");

        var shrinkFlip = Stability.Overshoot(s, 1.5);
        Assert.Equal(s.Steps, shrinkFlip.SignFlips);
        Assert.True(Math.Abs(shrinkFlip.X[^1]) < 1e-5);

        var monotone = Stability.Overshoot(s, 0.9);
        Assert.Equal(0, monotone.SignFlips);
        Assert.Equal(0.0, Stability.Overshoot(s, 1.0).X[1]);
    }

    [Fact]
    public void ToyTrajectoriesHaveTheRequestedLength()
    {
        var s = new ToySettings { Function = "rosenbrock", Steps = 15 };
        var r = Toy.Run(s);
        Assert.Equal(s.Optimizers, r.Trajectories.Select(t => t.Optimizer));
        foreach (var t in r.Trajectories)
        {
            Assert.Equal(16, t.X.Length);
            Assert.Equal(16, t.Y.Length);
            Assert.Equal(-1.5, t.X[0]);
            Assert.Equal(2.0, t.Y[0]);
            Assert.Equal("ok", t.Status);
            Assert.All(t.X, v => Assert.True(double.IsFinite(v)));
        }
    }

    [Fact]
    public void ToySearchPicksTheBestLearningRateOfTheGrid()
    {
        var grid = ToySettings.LogGrid(1e-4, 1, 8);
        var s = new ToySettings { Function = "rosenbrock", Steps = 30, Search = true, Optimizers = new[] { "adamd", "sgd" }, Start = new[] { -1.2, 1.0 } };
        var r = Toy.Run(s);
        foreach (var t in r.Trajectories)
        {
            Assert.Contains(t.LearningRate, grid);
            Assert.NotNull(t.Search);
            Assert.Equal(grid, t.Search!.Select(p => p.LearningRate));
            var best = t.Search.Where(p => p.Status == "ok").MinBy(p => p.FinalObjective)!;
            Assert.Equal(best.LearningRate, t.LearningRate);
            Assert.Equal(31, t.X.Length);
            Assert.Equal(-1.2, t.X[0]);
        }
        // AdamD's grid is cut by the stability check (σ 1e-3, ε 1e-8: η < 0.1); SGD diverges at large steps.
        Assert.Contains(r.Trajectories[0].Search!, p => p.Status.StartsWith("refused"));
        Assert.Contains(r.Trajectories[1].Search!, p => p.Status == "diverged");
    }

    [Theory]
    [InlineData("rosenbrock")]
    [InlineData("rastrigin")]
    [InlineData("ackley")]
    [InlineData("nonsmooth")]
    public void ToyGradientsMatchFiniteDifferences(string name)
    {
        var fn = ToyFunction.Get(name);
        var rng = new Random(7);
        for (int i = 0; i < 20; i++)
        {
            double x = fn.Domain.XMin + fn.Domain.Width * rng.NextDouble();
            double y = fn.Domain.YMin + fn.Domain.Height * rng.NextDouble();
            const double h = 1e-6;
            var (dx, dy) = fn.Gradient(x, y);
            double fdx = (fn.Value(x + h, y) - fn.Value(x - h, y)) / (2 * h);
            double fdy = (fn.Value(x, y + h) - fn.Value(x, y - h)) / (2 * h);
            double scale = 1 + Math.Abs(dx) + Math.Abs(dy);
            Assert.True(Math.Abs(dx - fdx) < 1e-5 * scale && Math.Abs(dy - fdy) < 1e-5 * scale, $"{name} at ({x}, {y}): ({dx}, {dy}) vs ({fdx}, {fdy})");
        }
        Assert.True(fn.Value(fn.MinX, fn.MinY) <= fn.Value(fn.StartX, fn.StartY));
        Assert.Equal(fn.MinValue, fn.Value(fn.MinX, fn.MinY), 12);
    }

    [Fact]
    public void CommandsWriteTheirPlotsAndJson()
    {
        var dir = Path.Combine(Path.GetTempPath(), "afm-theory-" + Guid.NewGuid().ToString("N"));
        try
        {
            var stability = Stability.Save(Stability.Run(new StabilitySettings { Steps = 10 }), dir);
            var toy = Toy.Save(Toy.Run(new ToySettings { Function = "nonsmooth", Steps = 10 }), dir);
            foreach (var f in stability.Concat(toy))
                Assert.True(new FileInfo(f).Length > 0, f);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "stability.json")));
            Assert.Equal(5, json.RootElement.GetProperty("runs").GetArrayLength());
            using var toyJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "toy-nonsmooth.json")));
            Assert.Equal(11, toyJson.RootElement.GetProperty("trajectories")[0].GetProperty("x").GetArrayLength());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
