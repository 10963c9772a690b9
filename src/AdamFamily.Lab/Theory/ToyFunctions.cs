using AdamFamily.Lab.Reports;

namespace AdamFamily.Lab.Theory;

/// <summary>
/// A 2-D test function with its analytic (sub)gradient, the box it is drawn on, a default start and its
/// minimiser. Where f has a kink the gradient takes the value automatic differentiation would (sign(0) = 0,
/// relu'(0) = 0), i.e. one element of a conservative field.
/// </summary>
public sealed record ToyFunction(string Name, string Formula, Func<double, double, double> Value,
    Func<double, double, (double Dx, double Dy)> Gradient, Domain Domain, double StartX, double StartY,
    double MinX, double MinY, double MinValue, double DefaultAdaptiveLr, double DefaultSgdLr)
{
    /// <summary>The test functions by name: rosenbrock, rastrigin, ackley, nonsmooth.</summary>
    public static readonly IReadOnlyList<ToyFunction> All = new[]
    {
        new ToyFunction("rosenbrock", "(1 − x)² + 100(y − x²)²",
            (x, y) => Sq(1 - x) + 100 * Sq(y - x * x),
            (x, y) => (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)),
            new Domain(-2, 2, -1, 3), -1.5, 2.0, 1, 1, 0, 0.05, 5e-4),
        new ToyFunction("rastrigin", "20 + x² − 10cos(2πx) + y² − 10cos(2πy)",
            (x, y) => 20 + x * x - 10 * Math.Cos(2 * Math.PI * x) + y * y - 10 * Math.Cos(2 * Math.PI * y),
            (x, y) => (2 * x + 20 * Math.PI * Math.Sin(2 * Math.PI * x), 2 * y + 20 * Math.PI * Math.Sin(2 * Math.PI * y)),
            new Domain(-5.12, 5.12, -5.12, 5.12), 3.4, -4.3, 0, 0, 0, 0.05, 1e-3),
        new ToyFunction("ackley", "−20·exp(−0.2·√(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + e + 20",
            Ackley, AckleyGradient, new Domain(-5, 5, -5, 5), 3.3, -2.6, 0, 0, 0, 0.05, 0.01),
        new ToyFunction("nonsmooth", "|x| + 2|y| + 3·relu(1 − x − y) + 2·relu(−x)",
            (x, y) => Math.Abs(x) + 2 * Math.Abs(y) + 3 * Relu(1 - x - y) + 2 * Relu(-x),
            (x, y) => (Math.Sign(x) - 3 * Step(1 - x - y) - 2 * Step(-x), 2 * Math.Sign(y) - 3 * Step(1 - x - y)),
            new Domain(-2, 3, -2, 2.5), -1.5, 2.0, 1, 0, 1, 0.05, 0.01),
    };

    /// <summary>The function of that name, or an error listing the names.</summary>
    public static ToyFunction Get(string name)
        => All.FirstOrDefault(f => f.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new ArgumentException($"Unknown test function '{name}'. Valid: {string.Join(", ", All.Select(f => f.Name))}.");

    private static double Sq(double v) => v * v;
    private static double Relu(double v) => v > 0 ? v : 0;
    private static double Step(double v) => v > 0 ? 1 : 0;

    private static double Ackley(double x, double y)
        => -20 * Math.Exp(-0.2 * Math.Sqrt(0.5 * (x * x + y * y)))
           - Math.Exp(0.5 * (Math.Cos(2 * Math.PI * x) + Math.Cos(2 * Math.PI * y))) + Math.E + 20;

    private static (double, double) AckleyGradient(double x, double y)
    {
        double r = Math.Sqrt(0.5 * (x * x + y * y));
        double radial = r > 0 ? 2 * Math.Exp(-0.2 * r) / r : 0;   // the cone at the origin: 0 is in its subdifferential
        double wave = Math.PI * Math.Exp(0.5 * (Math.Cos(2 * Math.PI * x) + Math.Cos(2 * Math.PI * y)));
        return (radial * x + wave * Math.Sin(2 * Math.PI * x), radial * y + wave * Math.Sin(2 * Math.PI * y));
    }
}
