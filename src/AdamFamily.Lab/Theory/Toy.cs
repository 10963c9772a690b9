using AdamFamily.Lab.Reports;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static AdamFamily.Lab.Theory.TheoryCommon;

namespace AdamFamily.Lab.Theory;

/// <summary>What <c>afm toy</c> runs.</summary>
public sealed record ToySettings
{
    public string Function { get; init; } = "rosenbrock";
    public string[] Optimizers { get; init; } = { "adamd", "adamw", "adam", "sgd" };
    public int Steps { get; init; } = 500;
    /// <summary>The start (x, y); null for the function's default.</summary>
    public double[]? Start { get; init; }
    /// <summary>σ, given to every optimizer as its weight_decay (each applies it in its own placement).</summary>
    public double WeightDecay { get; init; } = 1e-3;
    /// <summary>One learning rate for every optimizer; null for the function's defaults (one for the adaptive methods, one for SGD).</summary>
    public double? LearningRate { get; init; }
    /// <summary>ε for every optimizer that has one; null for each preset's own.</summary>
    public double? Eps { get; init; }
    /// <summary>Search the learning rate on <see cref="Grid"/> per optimizer and show each at its best.</summary>
    public bool Search { get; init; }
    public double[] Grid { get; init; } = LogGrid(1e-4, 1, 8);

    /// <summary>The most learning rates a --search grid may have (each is a full run).</summary>
    public const int MaxGrid = 100;

    /// <summary><paramref name="count"/> log-spaced values from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static double[] LogGrid(double min, double max, int count)
    {
        if (!(min > 0 && max >= min && double.IsFinite(max) && count >= 1 && count <= MaxGrid))
            throw new ArgumentException($"--grid {min}:{max}:{count}: need finite 0 < min ≤ max and a count from 1 to {MaxGrid}.", "grid");
        if (count == 1) return new[] { min };
        return Enumerable.Range(0, count).Select(i => Math.Exp(Math.Log(min) + (Math.Log(max) - Math.Log(min)) * i / (count - 1))).ToArray();
    }
}

/// <summary>One learning rate of a search: the final objective g = f + (σ/2)‖x‖², or why there is none.</summary>
public sealed record ToySearchPoint(double LearningRate, double FinalObjective, string Status);

/// <summary>One optimizer's trajectory: steps + 1 points (the start, then one per step; NaN after a divergence).</summary>
/// <see cref="DistanceToMinimum"/> is measured to the minimiser of f, <see cref="DistanceToRegularisedMinimum"/> to
/// the minimiser of g = f + (σ/2)‖x‖², the point a method whose fixed points are stationary for g (AdamD) can reach.
public sealed record ToyTrajectory(string Optimizer, string Options, double LearningRate, double[] X, double[] Y,
    double FinalF, double FinalObjective, double DistanceToMinimum, string Status, IReadOnlyList<ToySearchPoint>? Search)
{
    public double DistanceToRegularisedMinimum { get; init; } = double.NaN;
}

/// <summary>
/// The result of <c>afm toy</c>. <see cref="Minimum"/> is the minimiser of f; <see cref="RegularisedMinimum"/> the
/// minimiser of g = f + (σ/2)‖x‖² (the same point when σ = 0), found numerically by <see cref="Toy.RegularisedMinimiser"/>.
/// </summary>
public sealed record ToyResult(ToySettings Settings, string Function, string Formula, double[] Start, double[] Minimum, IReadOnlyList<ToyTrajectory> Trajectories)
{
    public double[] RegularisedMinimum { get; init; } = Array.Empty<double>();
}

/// <summary>
/// Trajectories of the library's optimizers on 2-D test functions with weight decay: each optimizer gets the
/// analytic (sub)gradient of f in p.grad and σ as its weight_decay, so the decay enters where that optimizer puts
/// it (AdamD inside the preconditioner, AdamW outside, Adam and SGD as L2).
/// </summary>
public static class Toy
{
    public static ToyResult Run(ToySettings s, Action<string>? progress = null) => SingleThreaded(() =>
    {
        var fn = ToyFunction.Get(s.Function);
        CheckSteps(s.Steps);
        if (s.LearningRate is { } fixedLr) CheckPositive(fixedLr, "--lr");
        if (s.Eps is { } fixedEps) CheckPositive(fixedEps, "--eps");
        CheckPositive(s.WeightDecay, "--weight-decay", allowZero: true);
        if (s.Optimizers.Length == 0) throw new ArgumentException("no optimizers given.");
        foreach (var o in s.Optimizers) Presets.Get(o);
        if (s.Start is { } st && (st.Length != 2 || !st.All(double.IsFinite))) throw new ArgumentException("the start needs two finite numbers x,y.");
        double sx = s.Start?[0] ?? fn.StartX, sy = s.Start?[1] ?? fn.StartY;
        var list = new List<ToyTrajectory>();
        foreach (var name in s.Optimizers)
        {
            var preset = Presets.Get(name).Name;
            progress?.Invoke(preset);
            if (!s.Search)
            {
                double lr = s.LearningRate ?? (preset == "sgd" ? fn.DefaultSgdLr : fn.DefaultAdaptiveLr);
                list.Add(RunOne(fn, preset, lr, s, sx, sy, null));
                continue;
            }
            var points = new List<ToySearchPoint>();
            ToyTrajectory? best = null;
            foreach (var lr in s.Grid)
            {
                var t = RunOne(fn, preset, lr, s, sx, sy, null);
                points.Add(new ToySearchPoint(lr, t.FinalObjective, t.Status));
                if (t.Status == "ok" && (best is null || t.FinalObjective < best.FinalObjective)) best = t;
            }
            best ??= RunOne(fn, preset, s.Grid.Min(), s, sx, sy, null) with { Status = "no learning rate of the grid stayed finite" };
            list.Add(best with { Search = points });
        }
        var (gx, gy) = RegularisedMinimiser(fn, s.WeightDecay);
        list = list.Select(t => t with { DistanceToRegularisedMinimum = t.Status == "ok" ? Hypot(t.X[^1] - gx, t.Y[^1] - gy) : double.NaN }).ToList();
        return new ToyResult(s, fn.Name, fn.Formula, new[] { sx, sy }, new[] { fn.MinX, fn.MinY }, list) { RegularisedMinimum = new[] { gx, gy } };
    });

    private static double Hypot(double dx, double dy) => Math.Sqrt(dx * dx + dy * dy);

    /// <summary>
    /// The minimiser of g = f + (σ/2)(x² + y²) over the function's box: f's own minimiser when σ = 0; otherwise the
    /// best point of a 401 × 401 grid, refined by a compass search (derivative-free, so kinks do not matter) down to
    /// steps of 1e-13. g is continuous and the box holds its global minimiser for the functions here.
    /// </summary>
    public static (double X, double Y) RegularisedMinimiser(ToyFunction fn, double sigma)
    {
        if (sigma == 0) return (fn.MinX, fn.MinY);
        var d = fn.Domain;
        const int n = 400;
        double bx = fn.MinX, by = fn.MinY, best = Objective(fn, sigma, bx, by);
        for (int i = 0; i <= n; i++)
            for (int j = 0; j <= n; j++)
            {
                double x = d.XMin + d.Width * i / n, y = d.YMin + d.Height * j / n, v = Objective(fn, sigma, x, y);
                if (v < best) (best, bx, by) = (v, x, y);
            }
        double step = Math.Max(d.Width, d.Height) / n;
        var dirs = new (double, double)[] { (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1) };
        for (int it = 0; it < 2_000_000 && step > 1e-13; it++)
        {
            bool moved = false;
            foreach (var (ux, uy) in dirs)
            {
                double x = bx + step * ux, y = by + step * uy, v = Objective(fn, sigma, x, y);
                if (v < best) { (best, bx, by) = (v, x, y); moved = true; break; }
            }
            if (!moved) step /= 2;
        }
        return (bx, by);
    }

    /// <summary>g = f + (σ/2)(x² + y²), the objective with weight decay.</summary>
    public static double Objective(ToyFunction fn, double sigma, double x, double y) => fn.Value(x, y) + 0.5 * sigma * (x * x + y * y);

    /// <summary>The options string of an optimizer on a toy run.</summary>
    public static string OptionsFor(string preset, double lr, ToySettings s)
    {
        var o = $"lr={F(lr)},weight_decay={F(s.WeightDecay)}";
        if (s.Eps is { } e && Presets.Get(preset).Keys.Contains("eps")) o += $",eps={F(e)}";
        return o;
    }

    /// <summary>One optimizer at one learning rate from (x₀, y₀) for the settings' steps.</summary>
    public static ToyTrajectory RunOne(ToyFunction fn, string preset, double lr, ToySettings s, double x0, double y0, IReadOnlyList<ToySearchPoint>? search)
    {
        var options = OptionsFor(preset, lr, s);
        int n = s.Steps;
        var xs = new double[n + 1];
        var ys = new double[n + 1];
        Array.Fill(xs, double.NaN);
        Array.Fill(ys, double.NaN);
        xs[0] = x0;
        ys[0] = y0;
        using var scope = NewDisposeScope();
        using var p = NewParameter(new[] { x0, y0 });
        AfmdwOptimizer opt;
        try { opt = Optimizers.Create(preset, new[] { p }, options); }
        catch (UnstableDecayException e)
        {
            return new ToyTrajectory(preset, options, lr, xs, ys, double.NaN, double.NaN, double.NaN, "refused: " + FirstSentence(e.Message), search);
        }
        string status = "ok";
        using (opt)
        {
            for (int t = 1; t <= n; t++)
            {
                var (gx, gy) = fn.Gradient(xs[t - 1], ys[t - 1]);
                if (!double.IsFinite(gx) || !double.IsFinite(gy)) { status = "diverged"; break; }
                using (var inner = NewDisposeScope())
                {
                    p.grad = tensor(new[] { gx, gy }, ScalarType.Float64);
                    opt.step();
                }
                using (var v = p.data<double>())
                {
                    xs[t] = v[0];
                    ys[t] = v[1];
                }
                if (!double.IsFinite(xs[t]) || !double.IsFinite(ys[t]) || Math.Abs(xs[t]) > 1e6 || Math.Abs(ys[t]) > 1e6)
                {
                    status = "diverged";
                    break;
                }
            }
        }
        int last = status == "ok" ? n : Array.FindLastIndex(xs, double.IsFinite);
        double fx = status == "ok" ? fn.Value(xs[last], ys[last]) : double.NaN;
        double g = status == "ok" ? Objective(fn, s.WeightDecay, xs[last], ys[last]) : double.PositiveInfinity;
        double dist = status == "ok" ? Math.Sqrt((xs[last] - fn.MinX) * (xs[last] - fn.MinX) + (ys[last] - fn.MinY) * (ys[last] - fn.MinY)) : double.NaN;
        return new ToyTrajectory(preset, options, lr, xs, ys, fx, g, dist, status, search);
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(", so ", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message;
    }

    /// <summary>The box drawn: the function's box, widened to the trajectories (at most to three times its size) with a 2% margin.</summary>
    public static Domain DrawnDomain(ToyFunction fn, IEnumerable<ToyTrajectory> trajectories)
    {
        var d = fn.Domain;
        double xmin = d.XMin, xmax = d.XMax, ymin = d.YMin, ymax = d.YMax;
        foreach (var t in trajectories)
            for (int i = 0; i < t.X.Length; i++)
            {
                if (!double.IsFinite(t.X[i]) || !double.IsFinite(t.Y[i])) continue;
                xmin = Math.Min(xmin, t.X[i]); xmax = Math.Max(xmax, t.X[i]);
                ymin = Math.Min(ymin, t.Y[i]); ymax = Math.Max(ymax, t.Y[i]);
            }
        double cx = (d.XMin + d.XMax) / 2, cy = (d.YMin + d.YMax) / 2;
        double padX = 0.02 * d.Width, padY = 0.02 * d.Height; // a path along the edge stays visible
        return new Domain(Math.Max(xmin - padX, cx - 1.5 * d.Width), Math.Min(xmax + padX, cx + 1.5 * d.Width),
                          Math.Max(ymin - padY, cy - 1.5 * d.Height), Math.Min(ymax + padY, cy + 1.5 * d.Height));
    }

    /// <summary>Writes toy-&lt;function&gt;.png/.svg (the map of g with the trajectories) and toy-&lt;function&gt;.json; returns the files.</summary>
    public static IReadOnlyList<string> Save(ToyResult r, string dir)
    {
        Directory.CreateDirectory(dir);
        var fn = ToyFunction.Get(r.Function);
        double sigma = r.Settings.WeightDecay;
        var paths = r.Trajectories.Select(t => new PlotSeries($"{t.Optimizer} (lr {t.LearningRate:G3}{(t.Status == "ok" ? "" : ", " + t.Status.Split(':')[0])})", t.X, t.Y) { Width = 2 }).ToList();
        var plot = new FieldPlot($"{fn.Name} + (σ/2)‖x‖², σ = {sigma:G3}, {r.Settings.Steps} steps{(r.Settings.Search ? ", each at its best lr of the grid" : "")}\nf = {fn.Formula}",
            (x, y) => Objective(fn, sigma, x, y), DrawnDomain(fn, r.Trajectories), paths)
        {
            Transform = v => Math.Log10(1 + Math.Max(0, v - fn.MinValue)),
            Markers = sigma == 0 || r.RegularisedMinimum.Length != 2 ? new[] { (fn.MinX, fn.MinY, "minimiser of f") }
                : new[] { (fn.MinX, fn.MinY, "minimiser of f"), (r.RegularisedMinimum[0], r.RegularisedMinimum[1], "minimiser of f + (σ/2)‖x‖²") },
            ContourLines = 14,
        };
        var (png, svg) = Plots.Save(plot, Path.Combine(dir, $"toy-{fn.Name}"));
        var json = LabFiles.WriteJson(r, Path.Combine(dir, $"toy-{fn.Name}.json"));
        return new[] { png, svg, json };
    }
}
