using AdamFamily.Lab.Reports;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static AdamFamily.Lab.Theory.TheoryCommon;

namespace AdamFamily.Lab.Theory;

/// <summary>The hyper-parameters of one stationarity run: constant η, ε (AFMDW's, inside the root) and σ.</summary>
public sealed record StationarityHyper(double LearningRate, double Eps, double WeightDecay);

/// <summary>What <c>afm theory stationarity</c> runs.</summary>
public sealed record StationaritySettings
{
    public string[] Problems { get; init; } = FullBatchProblem.Names.ToArray();
    public int Steps { get; init; } = 3000;
    public int Seed { get; init; }
    /// <summary>Overrides of the per-problem defaults (<see cref="Stationarity.DefaultHyper"/>).</summary>
    public double? LearningRate { get; init; }
    public double? Eps { get; init; }
    public double? WeightDecay { get; init; }
}

/// <summary>One optimizer on one problem: the exact residual ‖∇f(x_t) + σx_t‖ at every iterate t = 0..steps.</summary>
public sealed record StationarityRun(string Label, string Optimizer, string Options, double[] Residual, double[] Objective,
    double FinalResidual, double TailMedianResidual, double MinResidual, double FinalObjective, double FinalNorm,
    double? PredictedPlateau, double FinalLibraryMeasure);

/// <summary>All optimizers on one problem, with the numbers that make the constant step stable.</summary>
public sealed record StationarityProblemResult(string Problem, string Description, bool Smooth, int Dimension,
    double LearningRate, double Eps, double WeightDecay, double? GradientLipschitz,
    double StepBound, double? StepBoundTimesL, double DecayFactor, IReadOnlyList<StationarityRun> Runs);

/// <summary>The result of <c>afm theory stationarity</c>.</summary>
public sealed record StationarityResult(StationaritySettings Settings, IReadOnlyList<StationarityProblemResult> Problems);

/// <summary>
/// docs/algorithms.md §5.1, stationarity: every fixed point of the preconditioned placement satisfies ∇f(x) + σx = 0,
/// while AdamW's placement has fixed points with ∇f(x) + σx = σ(1 − H⁻¹)⊙x. Each problem is trained full-batch
/// from one start by AdamD, the AFMDW rule with AdamW's placement, PyTorch's AdamW and Adam with L2, and the
/// exact residual ‖∇f(x) + σx‖ (∇f recomputed at each iterate by autograd, not the optimizer's moment) is
/// recorded at every step.
/// </summary>
public static class Stationarity
{
    /// <summary>
    /// The per-problem defaults. AdamD's preconditioner is bounded, H = (v̂ + ε)^(−1/2) ≤ ε^(−1/2), so its step is at
    /// most η·ε^(−1/2) times its direction; the defaults keep that bound stable: η·ε^(−1/2)·L &lt; 2 on the smooth
    /// problem and η·σ·ε^(−1/2) &lt; 1 everywhere. (H does not reach the bound near a solution: the moments still see
    /// ∇f(x*) = −σx* ≠ 0.)
    /// </summary>
    public static StationarityHyper DefaultHyper(string problem) => problem switch
    {
        "logistic" => new(0.03, 1e-3, 0.05),
        "relu" => new(0.01, 1e-3, 0.01),
        "l1" => new(0.01, 1e-3, 0.1),
        _ => new(0.01, 1e-3, 0.05),
    };

    /// <summary>
    /// The four optimizers at the same η and σ. AdamD and the AFMDW/AdamW-placement rule take ε inside the root;
    /// PyTorch's AdamW and Adam take ε outside, so they get √ε: all four then have the same largest
    /// preconditioner, 1/√ε.
    /// </summary>
    public static IReadOnlyList<OptimizerArm> Arms(StationarityHyper h)
    {
        string common = $"lr={F(h.LearningRate)},weight_decay={F(h.WeightDecay)}";
        return new[]
        {
            new OptimizerArm("AdamD (preconditioned)", "adamd", $"{common},eps={F(h.Eps)}"),
            new OptimizerArm("AFMDW, AdamW placement", "afmdw", $"{common},eps={F(h.Eps)},decay=decoupled"),
            new OptimizerArm("AdamW (PyTorch)", "adamw", $"{common},eps={F(Math.Sqrt(h.Eps))}"),
            new OptimizerArm("Adam + L2 (PyTorch)", "adam", $"{common},eps={F(Math.Sqrt(h.Eps))}"),
        };
    }

    public static StationarityResult Run(StationaritySettings s, Action<string>? progress = null) => SingleThreaded(() =>
    {
        CheckSteps(s.Steps);
        if (s.Problems.Length == 0) throw new ArgumentException($"--problems: no problems given (e.g. {string.Join(",", FullBatchProblem.Names)}).", "problems");
        if (s.LearningRate is { } lr) CheckPositive(lr, "--lr");
        if (s.Eps is { } eps) CheckPositive(eps, "--eps");
        if (s.WeightDecay is { } wd) CheckPositive(wd, "--weight-decay", allowZero: true);
        var results = new List<StationarityProblemResult>();
        foreach (var name in s.Problems)
        {
            using var problem = FullBatchProblem.Create(name, s.Seed);
            var d = DefaultHyper(problem.Name);
            var h = new StationarityHyper(s.LearningRate ?? d.LearningRate, s.Eps ?? d.Eps, s.WeightDecay ?? d.WeightDecay);
            progress?.Invoke(problem.Name);
            results.Add(RunProblem(problem, h, s.Steps));
        }
        return new StationarityResult(s, results);
    });

    /// <summary>Runs the four optimizers on one problem.</summary>
    public static StationarityProblemResult RunProblem(FullBatchProblem problem, StationarityHyper h, int steps)
        => RunProblem(problem, h, steps, Arms(h));

    public static StationarityProblemResult RunProblem(FullBatchProblem problem, StationarityHyper h, int steps, IReadOnlyList<OptimizerArm> arms)
    {
        double stepBound = h.LearningRate / Math.Sqrt(h.Eps);   // η·ε^(−1/2): H ≤ ε^(−1/2)
        var runs = SingleThreaded(() => arms.Select(a => RunArm(problem, a, h.WeightDecay, steps)).ToList());
        return new StationarityProblemResult(problem.Name, problem.Description, problem.IsSmooth, problem.Dimension,
            h.LearningRate, h.Eps, h.WeightDecay, problem.GradientLipschitz,
            stepBound, problem.GradientLipschitz is { } l ? stepBound * l : null, stepBound * h.WeightDecay, runs);
    }

    /// <summary>One optimizer from the problem's start for <paramref name="steps"/> full-batch steps.</summary>
    public static StationarityRun RunArm(FullBatchProblem problem, OptimizerArm arm, double sigma, int steps)
    {
        using var scope = NewDisposeScope();
        using var x = NewParameter(problem.Start); // disposed after the optimizer (reverse order)
        using var opt = Optimizers.Create(arm.Preset, new[] { x }, arm.Options);
        opt.CollectDiagnostics = true;
        var residual = new double[steps + 1];
        var objective = new double[steps + 1];
        double measure = double.NaN;
        for (int t = 0; t <= steps; t++)
        {
            using var stepScope = NewDisposeScope();
            opt.zero_grad();
            var f = problem.Loss(x);
            f.backward();
            using (no_grad())
            {
                var grad = x.grad!;
                residual[t] = grad.add(x, sigma).norm().item<double>();
                objective[t] = f.item<double>() + 0.5 * sigma * x.square().sum().item<double>();
            }
            if (t == steps) break;
            opt.step();
            measure = opt.LastDiagnostics!.Stationarity;
        }
        double? plateau = PredictedPlateau(opt, x);
        double norm;
        using (no_grad()) norm = x.norm().item<double>();
        return new StationarityRun(arm.Label, arm.Preset, arm.Options, residual, objective,
            residual[^1], TailMedian(residual), FiniteMin(residual), objective[^1], norm, plateau, measure);
    }

    /// <summary>
    /// For AdamW's placement, the level its residual settles at: ‖σ(1 − H⁻¹)⊙x‖ with H⁻¹ from the optimizer's
    /// own second moment (√(v̂ + ε) with ε inside, √v̂ + ε outside). Null for the other placements.
    /// </summary>
    public static double? PredictedPlateau(AfmdwOptimizer opt, Parameter x)
    {
        var o = opt.Groups[0].Options;
        if (o.Decay != DecayPlacement.Decoupled) return null;
        var state = opt.StateOf(x);
        if (state.V is null) return null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double bc2 = o.BiasCorrection == false ? 1.0 : 1 - state.Scalars.Beta2Product;
        var vhat = state.V / bc2;
        var hinv = o.EpsMode == EpsMode.Inside ? (vhat + o.Eps!.Value).sqrt() : vhat.sqrt() + o.Eps!.Value;
        return ((1 - hinv) * x * o.WeightDecay!.Value).norm().item<double>();
    }

    /// <summary>Writes one log-scale residual plot per problem and stationarity.json; returns the files.</summary>
    public static IReadOnlyList<string> Save(StationarityResult result, string dir)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        foreach (var p in result.Problems)
        {
            var series = p.Runs.Select(r => new PlotSeries(r.Label, Steps(r.Residual.Length), r.Residual) { Width = 1.5f }).ToList();
            var lines = p.Runs.Where(r => r.PredictedPlateau is not null)
                              .Select(r => (r.PredictedPlateau!.Value, $"‖σ(1−H⁻¹)⊙x‖, {r.Label}")).ToList();
            var plot = new LinePlot(
                $"{p.Problem}: ‖∇f(x) + σx‖ (σ = {p.WeightDecay:G3}, η = {p.LearningRate:G3}, ε = {p.Eps:G3})",
                "step", "‖∇f(x) + σx‖ (exact, full batch)", series, LogY: true) { HorizontalLines = lines, Legend = LegendPosition.Below };
            var (png, svg) = Plots.Save(plot, Path.Combine(dir, $"stationarity-{p.Problem}"), 900, 640);
            files.Add(png);
            files.Add(svg);
        }
        files.Add(LabFiles.WriteJson(result, Path.Combine(dir, "stationarity.json")));
        return files;
    }
}
