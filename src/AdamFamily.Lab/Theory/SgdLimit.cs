using AdamFamily.Lab.Reports;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static AdamFamily.Lab.Theory.TheoryCommon;

namespace AdamFamily.Lab.Theory;

/// <summary>What <c>afm theory sgd-limit</c> runs.</summary>
public sealed record SgdLimitSettings
{
    public int Steps { get; init; } = 2000;
    /// <summary>Constant η of AdamD; with <see cref="Eps"/> and <see cref="WeightDecay"/> it sets the tracking rate η·σ·ε^(−1/2).</summary>
    public double LearningRate { get; init; } = 4.5;
    /// <summary>Large against v, so H ≈ ε^(−1/2) in every coordinate and x moves the fraction η·σ·ε^(−1/2) of the way to −m̂/σ each step.</summary>
    public double Eps { get; init; } = 1.0;
    public double WeightDecay { get; init; } = 0.2;
    /// <summary>θ₀ = 1 − β₁.</summary>
    public double Theta0 { get; init; } = 0.1;
    /// <summary>The diminishing schedule θ_t = θ₀(1 + (t − 1)/T)^(−p).</summary>
    public double ScheduleT { get; init; } = 5;
    public double ScheduleP { get; init; } = 0.7;
    public string[] Estimators { get; init; } = { "adam", "yogi" };
    public int Seed { get; init; }
}

/// <summary>
/// AdamD with one estimator next to SGD on g, per step t = 0..steps: the distance of the iterates (both from x₀),
/// the difference of g, the distance to an SGD with the literal step θ_t/σ, AdamD's tracking error ‖x + m̂/σ‖, and
/// the one-step deviation ‖(x_t − x_{t−1}) − s_t‖/‖s_t‖ of AdamD's step from the SGD step s_t = −(ρ_t/σ)∇g(x_{t−1})
/// taken from AdamD's own point (the local form of the claim).
/// </summary>
public sealed record SgdLimitRun(string Estimator, string Optimizer, string Options,
    double[] Distance, double[] ObjectiveGap, double[] DistanceLiteral, double[] Tracking, double[] StepDeviation, double[] Theta, double[] Rho,
    double DistanceQuarter, double DistanceHalf, double DistanceFinal, double RelativeQuarter, double RelativeFinal,
    double ObjectiveGapFinal, double DistanceLiteralFinal, double TrackingFinal, double StepDeviationQuarter, double StepDeviationFinal);

/// <summary>The result of <c>afm theory sgd-limit</c>.</summary>
public sealed record SgdLimitResult(SgdLimitSettings Settings, string Problem, double GradientLipschitz, double TrackingFactor,
    double MinimumObjective, double[] SgdToMinimum, double[] SgdObjectiveGap, IReadOnlyList<SgdLimitRun> Runs);

/// <summary>
/// docs/algorithms.md §5.2, the SGD limit. With a diminishing θ_t and a constant η, AdamD's x follows −m̂/σ:
/// each step moves x a fraction c = η·σ·H (≈ η·σ·ε^(−1/2)) of the way to −m̂_{t}/σ, while m̂ moves slowly.
/// With x ≈ −m̂/σ the moment update m̂_t = (1 − ρ_t)m̂_{t−1} + ρ_t∇f(x_{t−1}) reads
/// x_t ≈ x_{t−1} − (ρ_t/σ)(∇f(x_{t−1}) + σx_{t−1}): SGD on g = f + (σ/2)‖x‖² with step ρ_t/σ. Here
/// ρ_t = θ_t/(1 − B₁,t) is θ_t with AdamD's bias correction folded in (B₁,t = Π(1 − θ_s)); it tends to θ_t, and
/// at t = 1 it is 1, which is what makes the two start at the same point: both take x₁ ≈ −∇f(x₀)/σ.
/// The comparison therefore runs the library's SGD (weight_decay = σ, so its gradient is ∇g) from the same x₀
/// with lr = ρ_t/σ, ρ_t read off AdamD's own running product B₁; a second SGD with the literal θ_t/σ shows what
/// the bias correction changes.
/// </summary>
public static class SgdLimit
{
    /// <summary>The AdamD-family preset of an estimator (adam → adamd, yogi → yogid, ...).</summary>
    public static string PresetOf(string estimator) => estimator.Trim().ToLowerInvariant() switch
    {
        "adam" => "adamd",
        "yogi" => "yogid",
        "amsgrad" => "amsgradd",
        "adabelief" => "adabeliefd",
        var e => throw new ArgumentException($"Unknown estimator '{e}' for sgd-limit. Valid: adam, yogi, amsgrad, adabelief."),
    };

    /// <summary>The smooth problem: logistic regression (L is printed; the defaults keep L/σ below 2, so SGD's early large ρ_t/σ steps are stable).</summary>
    public static LogisticRegression Problem(int seed) => new(seed);

    public static SgdLimitResult Run(SgdLimitSettings s) => SingleThreaded(() =>
    {
        CheckSteps(s.Steps, min: 4);
        if (!(s.WeightDecay > 0 && double.IsFinite(s.WeightDecay))) throw new ArgumentException($"--weight-decay {s.WeightDecay}: the SGD limit needs a finite σ > 0 (the step is θ_t/σ).", "weight-decay");
        CheckPositive(s.LearningRate, "--lr");
        CheckPositive(s.Eps, "--eps");
        if (!(s.Theta0 > 0 && s.Theta0 <= 1)) throw new ArgumentOutOfRangeException("theta0", s.Theta0, $"--theta0 {s.Theta0}: θ₀ = 1 − β₁ must be in (0, 1].");
        CheckPositive(s.ScheduleT, "--T");
        CheckPositive(s.ScheduleP, "--p", allowZero: true);
        if (s.Estimators.Length == 0) throw new ArgumentException("--estimators: no estimators given (e.g. adam,yogi).", "estimators");
        using var problem = Problem(s.Seed);
        double sigma = s.WeightDecay;
        var (xStar, gStar) = Minimiser(problem, sigma);

        // SGD's own distance to x* and objective gap: the scale against which the distances are read.
        var runs = new List<SgdLimitRun>();
        double[]? sgdToMin = null, sgdGap = null;
        foreach (var e in s.Estimators)
        {
            var (run, toMin, gap) = RunEstimator(problem, s, e, xStar, gStar);
            runs.Add(run);
            sgdToMin ??= toMin;
            sgdGap ??= gap;
        }
        return new SgdLimitResult(s, problem.Description, problem.GradientLipschitz!.Value,
            s.LearningRate * sigma / Math.Sqrt(s.Eps), gStar, sgdToMin ?? Array.Empty<double>(), sgdGap ?? Array.Empty<double>(), runs);
    });

    private static (SgdLimitRun Run, double[] SgdToMinimum, double[] SgdGap) RunEstimator(LogisticRegression problem, SgdLimitSettings s, string estimator, double[] xStar, double gStar)
    {
        using var scope = NewDisposeScope();
        double sigma = s.WeightDecay;
        string preset = PresetOf(estimator);
        string options = $"lr={F(s.LearningRate)},eps={F(s.Eps)},weight_decay={F(sigma)},betas=({F(1 - s.Theta0)},0.999)," +
                         $"theta_schedule=diminishing T={F(s.ScheduleT)} p={F(s.ScheduleP)}";
        using var x = NewParameter(problem.Start);
        using var y = NewParameter(problem.Start);
        using var z = NewParameter(problem.Start);
        using var adam = Optimizers.Create(preset, new[] { x }, options);
        using var sgd = Optimizers.Create("sgd", new[] { y }, $"lr=1,weight_decay={F(sigma)}");
        using var literal = Optimizers.Create("sgd", new[] { z }, $"lr=1,weight_decay={F(sigma)}");

        int n = s.Steps;
        var distance = new double[n + 1];
        var gap = new double[n + 1];
        var distLiteral = new double[n + 1];
        var tracking = new double[n + 1];
        var local = new double[n + 1];
        var toMin = new double[n + 1];
        var sgdGap = new double[n + 1];
        var theta = new double[n + 1];
        var rho = new double[n + 1];
        theta[0] = rho[0] = tracking[0] = local[0] = double.NaN;
        double b1Before = 1.0;
        double[] xv = Values(x);
        var (fx, gradX) = problem.ValueAndGradient(xv);
        for (int t = 0; t <= n; t++)
        {
            if (t > 0)
            {
                double[] xPrev = xv, gradPrev = gradX;
                Step(problem, adam, x);
                double b1 = adam.StateOf(x).Scalars.Beta1Product;
                theta[t] = 1 - b1 / b1Before;      // the θ_t AdamD used this step
                rho[t] = theta[t] / (1 - b1);      // ... with its bias correction folded in
                b1Before = b1;
                sgd.Groups[0].Options.LearningRate = rho[t] / sigma;
                literal.Groups[0].Options.LearningRate = theta[t] / sigma;
                Step(problem, sgd, y);
                Step(problem, literal, z);
                xv = Values(x);
                (fx, gradX) = problem.ValueAndGradient(xv);
                // AdamD's step against the SGD step from the same point: −(ρ_t/σ)(∇f(x) + σx).
                double dev = 0, len = 0;
                for (int i = 0; i < xv.Length; i++)
                {
                    double sgdStep = -(rho[t] / sigma) * (gradPrev[i] + sigma * xPrev[i]);
                    double e = (xv[i] - xPrev[i]) - sgdStep;
                    dev += e * e;
                    len += sgdStep * sgdStep;
                }
                local[t] = Math.Sqrt(dev / len);
                tracking[t] = Tracking(adam, x, sigma);
            }
            double[] yv = Values(y), zv = Values(z);
            double gx = fx + 0.5 * sigma * xv.Sum(v => v * v), gy = Objective(problem, yv, sigma);
            distance[t] = Distance(xv, yv);
            distLiteral[t] = Distance(xv, zv);
            gap[t] = Math.Abs(gx - gy);
            toMin[t] = Distance(yv, xStar);
            sgdGap[t] = gy - gStar;
        }
        double At(double[] a, int t) => a[Math.Clamp(t, 0, n)];
        var run = new SgdLimitRun(estimator, preset, options, distance, gap, distLiteral, tracking, local, theta, rho,
            At(distance, n / 4), At(distance, n / 2), distance[n], At(distance, n / 4) / At(toMin, n / 4), distance[n] / toMin[n],
            gap[n], distLiteral[n], tracking[n], At(local, n / 4), local[n]);
        return (run, toMin, sgdGap);
    }

    /// <summary>
    /// How far apart the estimators' AdamD iterates get, at least: max over t of |‖xA,e − xS‖ − ‖xA,e' − xS‖| over
    /// pairs of estimators (every estimator is compared with the same SGD run, so by the triangle inequality
    /// ‖xA,e − xA,e'‖ is at least this), divided by the largest ‖xA − xS‖ of the two; 0 with one estimator.
    /// </summary>
    public static double EstimatorSpread(SgdLimitResult r)
    {
        double worst = 0;
        for (int a = 0; a < r.Runs.Count; a++)
            for (int b = a + 1; b < r.Runs.Count; b++)
            {
                double[] da = r.Runs[a].Distance, db = r.Runs[b].Distance;
                double diff = 0, scale = 0;
                for (int t = 0; t < Math.Min(da.Length, db.Length); t++)
                {
                    diff = Math.Max(diff, Math.Abs(da[t] - db[t]));
                    scale = Math.Max(scale, Math.Max(da[t], db[t]));
                }
                if (scale > 0) worst = Math.Max(worst, diff / scale);
            }
        return worst;
    }

    /// <summary>
    /// The closing sentences of <c>afm theory sgd-limit</c>, each derived from the numbers of <paramref name="r"/>
    /// (never fixed text): whether the distance to SGD shrinks, whether it levels off relative to SGD's own distance
    /// to x*, whether the one-step deviation falls, whether the literal-θ SGD ends further away, and whether the
    /// estimators behave alike.
    /// </summary>
    public static IReadOnlyList<string> Conclusion(SgdLimitResult r)
    {
        var lines = new List<string>();
        if (r.Runs.Count == 0) return lines;
        int n = r.Settings.Steps;
        string Names(IEnumerable<SgdLimitRun> runs) => string.Join(", ", runs.Select(x => x.Estimator));
        string Pairs(Func<SgdLimitRun, string> f) => string.Join("; ", r.Runs.Select(x => $"{x.Estimator} {f(x)}"));

        var notShrinking = r.Runs.Where(x => !(x.DistanceFinal < x.DistanceQuarter)).ToList();
        lines.Add(notShrinking.Count == 0
            ? $"‖xA − xS‖ shrinks from t = {n / 4} to {n} ({Pairs(x => $"{x.DistanceQuarter:E2} → {x.DistanceFinal:E2}")})."
            : $"‖xA − xS‖ does not shrink from t = {n / 4} to {n} for {Names(notShrinking)} ({Pairs(x => $"{x.DistanceQuarter:E2} → {x.DistanceFinal:E2}")}).");

        // Relative to SGD's own distance to x*: levelling off (within a factor 2) means both contract at the same rate.
        var level = r.Runs.Where(x => x.RelativeFinal >= 0.5 * x.RelativeQuarter).ToList();
        var falling = r.Runs.Except(level).ToList();
        if (level.Count > 0)
            lines.Add($"Relative to ‖xS − x*‖ it levels off instead of vanishing for {Names(level)} ({string.Join("; ", level.Select(x => $"{x.RelativeQuarter:E2} → {x.RelativeFinal:E2}"))}): " +
                      "the difference was made in the first steps, where ρ_t ≈ 1, 1/2, 1/3, … are jumps that x cannot follow within a step " +
                      "(it moves only the fraction η·σ·H of the way to −m̂/σ), and afterwards both contract at the same rate.");
        if (falling.Count > 0)
            lines.Add($"Relative to ‖xS − x*‖ it keeps falling for {Names(falling)} ({string.Join("; ", falling.Select(x => $"{x.RelativeQuarter:E2} → {x.RelativeFinal:E2}"))}): AdamD closes in on SGD faster than SGD closes in on x*.");

        var devFalls = r.Runs.Where(x => x.StepDeviationFinal < x.StepDeviationQuarter).ToList();
        var devNot = r.Runs.Except(devFalls).ToList();
        if (devFalls.Count > 0)
            lines.Add($"The step deviation ‖Δx_A − Δx_SGD‖/‖Δx_SGD‖ (AdamD's step against the SGD step from AdamD's own point) falls for {Names(devFalls)} " +
                      $"({string.Join("; ", devFalls.Select(x => $"{x.StepDeviationQuarter:E2} → {x.StepDeviationFinal:E2}"))}): the sense in which the iteration becomes SGD.");
        if (devNot.Count > 0)
            lines.Add($"The step deviation does not fall for {Names(devNot)} ({string.Join("; ", devNot.Select(x => $"{x.StepDeviationQuarter:E2} → {x.StepDeviationFinal:E2}"))}): here AdamD's step is not becoming the SGD step.");

        var behind = r.Runs.Where(x => x.DistanceLiteralFinal > x.DistanceFinal).ToList();
        lines.Add(behind.Count == r.Runs.Count
            ? $"An SGD with the literal θ_t/σ (no bias correction) ends further from AdamD ({Pairs(x => $"{x.DistanceLiteralFinal:E2} vs {x.DistanceFinal:E2}")}): its tiny first steps leave it behind."
            : $"An SGD with the literal θ_t/σ (no bias correction) ends as close to AdamD or closer for {Names(r.Runs.Except(behind))} ({Pairs(x => $"{x.DistanceLiteralFinal:E2} vs {x.DistanceFinal:E2}")}).");

        if (r.Runs.Count > 1)
        {
            double spread = EstimatorSpread(r);
            lines.Add(spread < 0.05
                ? $"The estimators ({Names(r.Runs)}) give nearly the same AdamD iterates (they differ by at most {spread:P1} of the distance to SGD): " +
                  $"with ε = {r.Settings.Eps:G3} against v the preconditioner is close to ε^(−1/2) for every estimator, so this run does not tell them apart; a smaller --eps does."
                : $"The estimators ({Names(r.Runs)}) give different AdamD iterates (apart by at least {spread:P0} of the distance to SGD), " +
                  (notShrinking.Count == 0 && devNot.Count == 0 ? "and each still tends to the SGD iteration." : "and not every one tends to the SGD iteration here."));
        }
        return lines;
    }

    /// <summary>One full-batch step: the exact gradient of f at the parameter, then the optimizer's step.</summary>
    private static void Step(FullBatchProblem problem, AfmdwOptimizer opt, Parameter p)
    {
        using var scope = NewDisposeScope();
        opt.zero_grad();
        problem.Loss(p).backward();
        opt.step();
    }

    private static double Objective(FullBatchProblem problem, double[] x, double sigma)
        => problem.ValueAndGradient(x).Value + 0.5 * sigma * x.Sum(v => v * v);

    /// <summary>‖x + m̂/σ‖: how far AdamD's x is from the point −m̂/σ it is tracking.</summary>
    private static double Tracking(AfmdwOptimizer opt, Parameter x, double sigma)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var st = opt.StateOf(x);
        var mhat = st.M! / (1 - st.Scalars.Beta1Product);
        return (x + mhat / sigma).norm().item<double>();
    }

    /// <summary>The minimiser of g = f + (σ/2)‖x‖² (strongly convex here), by the library's SGD with step 1/(L + σ).</summary>
    public static (double[] X, double G) Minimiser(LogisticRegression problem, double sigma)
    {
        using var scope = NewDisposeScope();
        using var x = NewParameter(problem.Start);
        double lr = 1.0 / (problem.GradientLipschitz!.Value + sigma);
        using var opt = Optimizers.Create("sgd", new[] { x }, $"lr={F(lr)},weight_decay={F(sigma)}");
        for (int i = 0; i < 100_000; i++)
        {
            using var inner = NewDisposeScope();
            opt.zero_grad();
            problem.Loss(x).backward();
            double residual;
            using (no_grad()) residual = x.grad!.add(x, sigma).norm().item<double>();
            if (residual < 1e-14) break;
            opt.step();
        }
        var v = Values(x);
        return (v, Objective(problem, v, sigma));
    }

    /// <summary>Writes the distance and objective plots and sgd-limit.json; returns the files.</summary>
    public static IReadOnlyList<string> Save(SgdLimitResult r, string dir)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        string setting = $"η = {r.Settings.LearningRate:G3}, σ = {r.Settings.WeightDecay:G3}, ε = {r.Settings.Eps:G3}, θ_t = {r.Settings.Theta0:G2}(1+(t−1)/{r.Settings.ScheduleT:G3})^−{r.Settings.ScheduleP:G2}";
        var dist = new List<PlotSeries>();
        foreach (var run in r.Runs)
        {
            var steps = Steps(run.Distance.Length);
            dist.Add(new PlotSeries($"‖x_AdamD − x_SGD‖, {run.Estimator}", steps, run.Distance));
            dist.Add(new PlotSeries($"‖x_AdamD − x_SGD(literal θ_t/σ)‖, {run.Estimator}", steps, run.DistanceLiteral) { Width = 1, Dashed = true });
        }
        dist.Add(new PlotSeries("‖x_SGD − x*‖ (for scale)", Steps(r.SgdToMinimum.Length), r.SgdToMinimum) { Width = 1, Dashed = true });
        var (p1, s1) = Plots.Save(new LinePlot($"AdamD vs SGD on f + (σ/2)‖x‖² with step ρ_t/σ: distance\n{setting}", "step", "distance", dist, LogY: true) { Legend = LegendPosition.Below },
            Path.Combine(dir, "sgd-limit-distance"), 900, 660);
        var gaps = r.Runs.Select(run => new PlotSeries($"|g(x_AdamD) − g(x_SGD)|, {run.Estimator}", Steps(run.ObjectiveGap.Length), run.ObjectiveGap)).ToList();
        gaps.Add(new PlotSeries("g(x_SGD) − g* (for scale)", Steps(r.SgdObjectiveGap.Length), r.SgdObjectiveGap) { Width = 1, Dashed = true });
        var (p2, s2) = Plots.Save(new LinePlot($"AdamD vs SGD on f + (σ/2)‖x‖²: objective values\n{setting}", "step", "|difference of g|", gaps, LogY: true) { Legend = LegendPosition.Below },
            Path.Combine(dir, "sgd-limit-objective"), 900, 640);
        var dev = r.Runs.Select(run => new PlotSeries($"AdamD step vs SGD step from the same point, {run.Estimator}", Steps(run.StepDeviation.Length), run.StepDeviation)).ToList();
        if (r.Runs.Count > 0) dev.Add(new PlotSeries("θ_t (for scale)", Steps(r.Runs[0].Theta.Length), r.Runs[0].Theta) { Width = 1, Dashed = true });
        var (p3, s3) = Plots.Save(new LinePlot($"One step: ‖Δx_AdamD − Δx_SGD‖ / ‖Δx_SGD‖, SGD step −(ρ_t/σ)∇g(x_t) from AdamD's x_t\n{setting}", "step", "relative deviation", dev, LogY: true) { Legend = LegendPosition.Below },
            Path.Combine(dir, "sgd-limit-step"), 900, 640);
        files.AddRange(new[] { p1, s1, p2, s2, p3, s3 });
        files.Add(LabFiles.WriteJson(r, Path.Combine(dir, "sgd-limit.json")));
        return files;
    }
}
