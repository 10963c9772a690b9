using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Theory;

/// <summary>An optimizer to run: a label for tables and plots, a preset name and its options ("key=value,...").</summary>
public sealed record OptimizerArm(string Label, string Preset, string Options)
{
    public override string ToString() => $"{Preset}:{Options}";
}

/// <summary>Helpers shared by the theory experiments.</summary>
public static class TheoryCommon
{
    /// <summary>The most steps a theory or toy run may take: every step is kept in memory (several arrays per optimizer).</summary>
    public const int MaxSteps = 1_000_000;

    /// <summary>Checks a step count against 1 (or <paramref name="min"/>) .. <see cref="MaxSteps"/>.</summary>
    public static void CheckSteps(int steps, int min = 1)
    {
        if (steps < min || steps > MaxSteps)
            throw new ArgumentOutOfRangeException("steps", steps, $"--steps {steps}: must be from {min} to {MaxSteps:N0} (every step is kept in memory).");
    }

    /// <summary>Checks that a setting is a finite number greater than 0 (or ≥ 0 with <paramref name="allowZero"/>).</summary>
    public static void CheckPositive(double value, string option, bool allowZero = false)
    {
        if (!double.IsFinite(value) || value < 0 || (!allowZero && value == 0))
            throw new ArgumentOutOfRangeException(option, value, $"{option} {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}: must be a finite number {(allowZero ? "≥" : ">")} 0.");
    }

    /// <summary>
    /// Runs <paramref name="body"/> with torch's intra-op thread pool at one thread, restoring it afterwards. The
    /// theory problems are tiny (tens of parameters): with two threads every small op pays for a hand-off, which
    /// on a 2-core machine made them about eight times slower.
    /// </summary>
    public static T SingleThreaded<T>(Func<T> body)
    {
        int before = torch.get_num_threads();
        torch.set_num_threads(1);
        try { return body(); }
        finally { torch.set_num_threads(before); }
    }

    /// <summary>Formats a number for an options string (invariant culture, round-trip).</summary>
    public static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A float64 parameter vector holding a copy of <paramref name="values"/>.</summary>
    public static Parameter NewParameter(double[] values)
    {
        var p = new Parameter(tensor(values, ScalarType.Float64));
        p.DetachFromDisposeScope();
        return p;
    }

    /// <summary>The parameter's values as an array.</summary>
    public static double[] Values(Tensor p)
    {
        using var _ = no_grad();
        using var c = p.detach().contiguous();
        using var a = c.data<double>();
        return a.ToArray();
    }

    /// <summary>The median of the last <paramref name="fraction"/> of the values (at least one).</summary>
    public static double TailMedian(double[] values, double fraction = 0.1)
    {
        int n = Math.Max(1, (int)Math.Ceiling(values.Length * fraction));
        var tail = values.Skip(values.Length - n).Where(double.IsFinite).OrderBy(v => v).ToArray();
        if (tail.Length == 0) return double.NaN;
        return tail.Length % 2 == 1 ? tail[tail.Length / 2] : 0.5 * (tail[tail.Length / 2 - 1] + tail[tail.Length / 2]);
    }

    /// <summary>The smallest finite value (NaN if none).</summary>
    public static double FiniteMin(IEnumerable<double> values)
    {
        double m = double.NaN;
        foreach (var v in values) if (double.IsFinite(v) && !(v >= m)) m = v;
        return m;
    }

    /// <summary>0, 1, ..., n − 1 as doubles (x values of per-step series).</summary>
    public static double[] Steps(int n) => Enumerable.Range(0, n).Select(i => (double)i).ToArray();

    /// <summary>The Euclidean distance of two vectors.</summary>
    public static double Distance(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) { double d = a[i] - b[i]; s += d * d; }
        return Math.Sqrt(s);
    }

    /// <summary>The Euclidean norm.</summary>
    public static double Norm(double[] a) => Math.Sqrt(a.Sum(v => v * v));
}
