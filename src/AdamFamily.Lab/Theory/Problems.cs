using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Theory;

/// <summary>
/// A deterministic full-batch objective f on one flat float64 parameter vector, differentiated by autograd:
/// what the theory commands train with, so that ∇f(x) is exact at every iterate. Data are drawn from a
/// seeded <see cref="Random"/>, never from torch's global generator, so runs are reproducible and tests
/// can run in parallel.
/// </summary>
public abstract class FullBatchProblem : IDisposable
{
    protected FullBatchProblem(string name, string description, bool smooth, double[] start)
    {
        Name = name;
        Description = description;
        IsSmooth = smooth;
        Start = start;
    }

    /// <summary>Short name used on the command line (relu, l1, logistic).</summary>
    public string Name { get; }
    /// <summary>One line saying what f is.</summary>
    public string Description { get; }
    /// <summary>Whether f is continuously differentiable (its gradient then has a Lipschitz bound, <see cref="GradientLipschitz"/>).</summary>
    public bool IsSmooth { get; }
    /// <summary>The common starting point of every optimizer.</summary>
    public double[] Start { get; }
    public int Dimension => Start.Length;
    /// <summary>A bound L on the Lipschitz constant of ∇f, when f is smooth and one is known.</summary>
    public virtual double? GradientLipschitz => null;

    /// <summary>f(x) as a differentiable scalar tensor; x is a float64 vector of length <see cref="Dimension"/>.</summary>
    public abstract Tensor Loss(Tensor x);

    /// <summary>f(x) and ∇f(x) by autograd, on plain arrays.</summary>
    public (double Value, double[] Gradient) ValueAndGradient(double[] x)
    {
        using var scope = NewDisposeScope();
        var p = tensor(x, dtype: ScalarType.Float64).requires_grad_(true);
        var f = Loss(p);
        var grad = autograd.grad(new[] { f }, new[] { p })[0];
        using var values = grad.data<double>();
        return (f.item<double>(), values.ToArray());
    }

    public virtual void Dispose() { }

    /// <summary>The problems <c>afm theory stationarity</c> knows, by name.</summary>
    public static readonly IReadOnlyList<string> Names = new[] { "relu", "l1", "logistic" };

    /// <summary>Creates a problem by name with data from <paramref name="seed"/>.</summary>
    public static FullBatchProblem Create(string name, int seed = 0) => name.Trim().ToLowerInvariant() switch
    {
        "relu" => new ReluRegression(seed),
        "l1" => new L1Regression(seed),
        "logistic" => new LogisticRegression(seed),
        _ => throw new ArgumentException($"Unknown problem '{name}'. Valid: {string.Join(", ", Names)}."),
    };

    // ---- seeded data ----------------------------------------------------------------------------

    /// <summary>A standard normal draw (Box–Muller) from a seeded generator.</summary>
    protected static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    protected static double[] Normals(Random rng, int n, double scale = 1.0)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = scale * Normal(rng);
        return a;
    }

    /// <summary>A float64 tensor of shape [rows, cols] from a row-major array, kept outside every dispose scope.</summary>
    protected static Tensor Matrix(double[] values, int rows, int cols)
        => tensor(values, new long[] { rows, cols }, ScalarType.Float64).DetachFromDisposeScope();

    protected static Tensor Vector(double[] values) => tensor(values, ScalarType.Float64).DetachFromDisposeScope();
}

/// <summary>
/// Nonsmooth and nonconvex: a one-hidden-layer ReLU network (2 → <c>hidden</c> → 1) regressing fixed
/// synthetic targets sin(πa)·cos(πb)/2 at n points of [−1, 1]², mean squared error, all weights and biases in
/// one vector.
/// </summary>
public sealed class ReluRegression : FullBatchProblem
{
    private readonly Tensor _inputs, _targets;
    private readonly int _hidden;

    public ReluRegression(int seed = 0, int points = 64, int hidden = 16)
        : base("relu", $"ReLU network 2→{hidden}→1, mean squared error on {points} fixed points (nonsmooth, nonconvex)", smooth: false, StartOf(seed, hidden))
    {
        _hidden = hidden;
        var rng = new Random(1000 + seed);
        var a = new double[points * 2];
        var y = new double[points];
        for (int i = 0; i < points; i++)
        {
            a[2 * i] = 2 * rng.NextDouble() - 1;
            a[2 * i + 1] = 2 * rng.NextDouble() - 1;
            y[i] = 0.5 * Math.Sin(Math.PI * a[2 * i]) * Math.Cos(Math.PI * a[2 * i + 1]);
        }
        _inputs = Matrix(a, points, 2);
        _targets = Vector(y);
    }

    // Layout: W1 [hidden×2], b1 [hidden], W2 [hidden], b2 [1]; He-scaled normal weights, small biases.
    private static double[] StartOf(int seed, int hidden)
    {
        var rng = new Random(2000 + seed);
        var x = new List<double>();
        x.AddRange(Normals(rng, hidden * 2, 1.0));
        x.AddRange(Normals(rng, hidden, 0.1));
        x.AddRange(Normals(rng, hidden, Math.Sqrt(2.0 / hidden)));
        x.Add(0.0);
        return x.ToArray();
    }

    public override Tensor Loss(Tensor x)
    {
        int h = _hidden;
        var w1 = x.narrow(0, 0, 2 * h).view(h, 2);
        var b1 = x.narrow(0, 2 * h, h);
        var w2 = x.narrow(0, 3 * h, h);
        var b2 = x.narrow(0, 4 * h, 1);
        var hidden = nn.functional.relu(_inputs.matmul(w1.t()) + b1);
        var output = hidden.matmul(w2) + b2;
        return (output - _targets).square().mean() * 0.5;
    }

    public override void Dispose() { _inputs.Dispose(); _targets.Dispose(); base.Dispose(); }
}

/// <summary>
/// Nonsmooth and convex: ℓ1 regression f(x) = (1/n)·Σ|aᵢᵀx − bᵢ| with Gaussian A and Laplace-noise targets.
/// Its minimisers sit on kinks (some residuals are exactly zero), so a constant step must chatter there.
/// </summary>
public sealed class L1Regression : FullBatchProblem
{
    private readonly Tensor _a, _b;

    public L1Regression(int seed = 0, int rows = 400, int cols = 8)
        : base("l1", $"ℓ1 regression (1/n)·Σ|aᵢᵀx − bᵢ|, n = {rows}, d = {cols} (nonsmooth, convex)", smooth: false, Normals(new Random(3000 + seed), cols, 1.0))
    {
        var rng = new Random(4000 + seed);
        var a = Normals(rng, rows * cols);
        var truth = Normals(rng, cols);
        var b = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += a[i * cols + j] * truth[j];
            double u = rng.NextDouble() - 0.5;
            b[i] = s - 0.5 * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)); // Laplace(0, 0.5) noise
        }
        _a = Matrix(a, rows, cols);
        _b = Vector(b);
    }

    public override Tensor Loss(Tensor x) => (_a.matmul(x) - _b).abs().mean();

    public override void Dispose() { _a.Dispose(); _b.Dispose(); base.Dispose(); }
}

/// <summary>
/// Smooth and convex: logistic regression f(x) = (1/n)·Σ log(1 + exp(−yᵢaᵢᵀx)) on Gaussian features with
/// noisy labels (not separable). ∇f is Lipschitz with L = λ_max(AᵀA)/(4n), computed exactly.
/// </summary>
public sealed class LogisticRegression : FullBatchProblem
{
    private readonly Tensor _ya;
    private readonly double _lipschitz;

    public LogisticRegression(int seed = 0, int rows = 200, int cols = 10, double featureScale = 1.0)
        : base("logistic", $"logistic regression, n = {rows}, d = {cols}, noisy labels (smooth, convex)", smooth: true, Normals(new Random(5000 + seed), cols, 1.0))
    {
        var rng = new Random(6000 + seed);
        var a = Normals(rng, rows * cols, featureScale);
        var truth = Normals(rng, cols);
        var ya = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += a[i * cols + j] * truth[j];
            double label = s / featureScale + 1.5 * Normal(rng) >= 0 ? 1 : -1;
            for (int j = 0; j < cols; j++) ya[i * cols + j] = label * a[i * cols + j];
        }
        _ya = Matrix(ya, rows, cols);
        using var scope = NewDisposeScope();
        var gram = _ya.t().matmul(_ya);
        _lipschitz = linalg.eigvalsh(gram).max().item<double>() / (4.0 * rows);
    }

    public override double? GradientLipschitz => _lipschitz;

    public override Tensor Loss(Tensor x) => nn.functional.softplus(-_ya.matmul(x), 1, 40).mean(); // threshold 40: exact in float64, no kink at 20

    public override void Dispose() { _ya.Dispose(); base.Dispose(); }
}
