using AdamFamily.Lab.Reports;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static AdamFamily.Lab.Theory.TheoryCommon;

namespace AdamFamily.Lab.Theory;

/// <summary>What <c>afm theory stability</c> runs: AdamD's defaults ε and σ, learning rates set so that η·σ·ε^(−1/2) takes each factor.</summary>
public sealed record StabilitySettings
{
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 5e-4;
    public int Steps { get; init; } = 30;
    /// <summary>The factors c = η·σ·ε^(−1/2) that are plotted.</summary>
    public double[] Factors { get; init; } = { 0.5, 0.9, 1.0, 1.5, 2.1 };
    /// <summary>The factors the check is tried at (a superset: just below the bound too).</summary>
    public double[] CheckedFactors { get; init; } = { 0.5, 0.9, 0.999, 1.0, 1.5, 2.1 };
    public double Start { get; init; } = 1.0;
}

/// <summary>One factor with the check off: x_t of a coordinate whose gradient is zero, the prediction (1 − c)^t·x₀, and the largest |x_t − prediction|/|x₀|.</summary>
public sealed record StabilityRun(double Factor, double LearningRate, double[] X, double[] Predicted, int SignFlips, double FinalRatio, double MaxDeviationFromPrediction);


/// <summary>One factor with the check on: whether construction succeeded and, if not, the library's message.</summary>
public sealed record StabilityCheckRow(double Factor, double LearningRate, double LibraryFactor, bool Constructed, string? Message);

/// <summary>The result of <c>afm theory stability</c>.</summary>
public sealed record StabilityResult(StabilitySettings Settings, double MaxLearningRate, IReadOnlyList<StabilityRun> Runs,
    IReadOnlyList<StabilityCheckRow> Checks, string? LearningRateChangeMessage);

/// <summary>
/// docs/algorithms.md §6, stability of the preconditioned decay: a coordinate with zero gradient has v = 0, so
/// H = ε^(−1/2) and the AdamD step is x ← (1 − η·σ·ε^(−1/2))·x. At a factor c = η·σ·ε^(−1/2) ≥ 1 the decay
/// overshoots zero every step (c = 1 lands on it, 1 &lt; c &lt; 2 oscillates and shrinks, c &gt; 2 oscillates and grows).
/// With <c>stability_check=false</c> the library lets it happen; with the check on it refuses at construction and
/// at a learning-rate change.
/// </summary>
public static class Stability
{
    /// <summary>The learning rate at which the library's own computation of the factor is <paramref name="factor"/> (for 1: the smallest lr it refuses).</summary>
    public static double LearningRateFor(double factor, double eps, double sigma)
    {
        double maxH = 1 / Math.Sqrt(eps);   // as the library computes it
        double lr = factor / (sigma * maxH);
        if (factor >= 1)
            while (!(lr * sigma * maxH >= factor)) lr = Math.BitIncrement(lr);
        return lr;
    }

    /// <summary>The factor as the library computes it.</summary>
    public static double LibraryFactor(double lr, double eps, double sigma) => lr * sigma * (1 / Math.Sqrt(eps));

    private static string Options(double lr, StabilitySettings s, bool check)
        => $"lr={F(lr)},eps={F(s.Eps)},weight_decay={F(s.WeightDecay)}" + (check ? "" : ",stability_check=false");

    public static StabilityResult Run(StabilitySettings s) => SingleThreaded(() =>
    {
        Validate(s);
        var runs = s.Factors.Select(c => Overshoot(s, c)).ToList();
        var checks = s.CheckedFactors.Select(c => Check(s, c)).ToList();
        return new StabilityResult(s, 1 / (s.WeightDecay * (1 / Math.Sqrt(s.Eps))), runs, checks, LearningRateChange(s));
    });

    /// <summary>Checks the settings (before any output folder is made); errors name the option and the value.</summary>
    public static void Validate(StabilitySettings s)
    {
        CheckSteps(s.Steps);
        CheckPositive(s.Eps, "--eps");
        CheckPositive(s.WeightDecay, "--weight-decay");   // the bound η < ε^(1/2)/σ needs σ > 0
        if (s.Factors.Length == 0) throw new ArgumentException("--factors: no factors given (e.g. 0.5,1,1.5).", "factors");
        foreach (var c in s.Factors) CheckPositive(c, "--factors");
        // x_t = (1 − c)^t·x₀ must stay a finite double over every step (past that the iterate is ∞, then NaN).
        double largest = 1 + Math.Pow(1e300 / Math.Max(Math.Abs(s.Start), double.Epsilon), 1.0 / s.Steps);
        foreach (var c in s.Factors)
            if (c > largest)
                throw new ArgumentException($"--factors {F(c)} with --steps {s.Steps}: (1 − c)^t·x₀ overflows a double before the last step; " +
                                            $"at {s.Steps} steps the factor must be at most {F(largest)} (or give fewer --steps).", "factors");
    }

    /// <summary>AdamD with the check off on f ≡ 0 (gradient exactly zero) from x₀: x_t for t = 0..steps.</summary>
    public static StabilityRun Overshoot(StabilitySettings s, double factor)
    {
        using var scope = NewDisposeScope();
        double lr = LearningRateFor(factor, s.Eps, s.WeightDecay);
        using var x = NewParameter(new[] { s.Start });
        using var opt = Optimizers.Create("adamd", new[] { x }, Options(lr, s, check: false));
        var xs = new double[s.Steps + 1];
        var predicted = new double[s.Steps + 1];
        xs[0] = predicted[0] = s.Start;
        double c = LibraryFactor(lr, s.Eps, s.WeightDecay);
        for (int t = 1; t <= s.Steps; t++)
        {
            using var inner = NewDisposeScope();
            opt.zero_grad();
            (x * 0.0).sum().backward();   // ∇f = 0 exactly: a coordinate the loss does not see
            opt.step();
            xs[t] = Values(x)[0];
            predicted[t] = Math.Pow(1 - c, t) * s.Start;
        }
        int flips = 0;
        for (int t = 1; t <= s.Steps; t++) if (Math.Sign(xs[t]) != 0 && Math.Sign(xs[t]) == -Math.Sign(xs[t - 1])) flips++;
        double maxDev = 0;
        for (int t = 0; t <= s.Steps; t++) maxDev = Math.Max(maxDev, Math.Abs(xs[t] - predicted[t]) / Math.Abs(s.Start));
        return new StabilityRun(factor, lr, xs, predicted, flips, Math.Abs(xs[^1] / s.Start), maxDev);
    }

    /// <summary>AdamD with the check on at this factor: constructed, or refused with the library's message.</summary>
    public static StabilityCheckRow Check(StabilitySettings s, double factor)
    {
        using var scope = NewDisposeScope();
        double lr = LearningRateFor(factor, s.Eps, s.WeightDecay);
        using var x = NewParameter(new[] { s.Start });
        try
        {
            using var opt = Optimizers.Create("adamd", new[] { x }, Options(lr, s, check: true));
            return new StabilityCheckRow(factor, lr, LibraryFactor(lr, s.Eps, s.WeightDecay), true, null);
        }
        catch (UnstableDecayException e)
        {
            return new StabilityCheckRow(factor, lr, LibraryFactor(lr, s.Eps, s.WeightDecay), false, e.Message);
        }
    }

    /// <summary>The check at a learning-rate change: built at factor 0.9, one step, then the lr raised to factor 1.5 (as a scheduler would); the next step's message.</summary>
    public static string? LearningRateChange(StabilitySettings s)
    {
        using var scope = NewDisposeScope();
        using var x = NewParameter(new[] { s.Start });
        using var opt = Optimizers.Create("adamd", new[] { x }, Options(LearningRateFor(0.9, s.Eps, s.WeightDecay), s, check: true));
        try
        {
            for (int i = 0; i < 2; i++)
            {
                using var inner = NewDisposeScope();
                opt.zero_grad();
                (x * 0.0).sum().backward();
                opt.step();
                opt.Groups[0].Options.LearningRate = LearningRateFor(1.5, s.Eps, s.WeightDecay);
            }
            return null;
        }
        catch (UnstableDecayException e) { return e.Message; }
    }

    /// <summary>Writes |x_t| (log scale) and x_t (signed) plots and stability.json; returns the files.</summary>
    public static IReadOnlyList<string> Save(StabilityResult r, string dir)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        string setting = $"ε = {r.Settings.Eps:G3}, σ = {r.Settings.WeightDecay:G3}: the bound is η < {r.MaxLearningRate:G4}";
        string Label(StabilityRun run) => $"c = {run.Factor:G3} (η = {run.LearningRate:G4})" + (run.X.Skip(1).Any(v => v == 0) ? ", hits 0 exactly" : "");
        var abs = r.Runs.Select(run => new PlotSeries(Label(run), Steps(run.X.Length), run.X.Select(Math.Abs).ToArray()) { Dashed = run.Factor > 1 }).ToList();
        var (p1, s1) = Plots.Save(new LinePlot($"AdamD, zero-gradient coordinate, check off: |x_t| = |1 − c|^t·|x₀|, c = η·σ·ε^(−1/2)\n{setting}",
            "step", "|x_t|  (dashed: c > 1, sign flips)", abs, LogY: true) { Legend = LegendPosition.LowerLeft }, Path.Combine(dir, "stability-abs"));
        int shown = Math.Min(12, r.Settings.Steps);
        var signed = r.Runs.Select(run => new PlotSeries(Label(run), Steps(shown + 1), run.X.Take(shown + 1).ToArray()) { Width = 1.5f, Markers = true }).ToList();
        var (p2, s2) = Plots.Save(new LinePlot($"The same, signed, first {shown} steps: x_t = (1 − c)^t·x₀ overshoots zero when c > 1\n{setting}",
            "step", "x_t", signed) { Legend = LegendPosition.LowerLeft }, Path.Combine(dir, "stability-signed"));
        files.AddRange(new[] { p1, s1, p2, s2 });
        files.Add(LabFiles.WriteJson(r, Path.Combine(dir, "stability.json")));
        return files;
    }
}
