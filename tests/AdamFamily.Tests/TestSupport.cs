using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>Small deterministic fixtures: parameters, gradients and runs.</summary>
internal static class Fixture
{
    public static Parameter[] Parameters(int seed = 1, ScalarType dtype = ScalarType.Float32, params long[][] shapes)
    {
        if (shapes.Length == 0) shapes = new[] { new long[] { 4, 3 }, new long[] { 5 } };
        var gen = new Generator((ulong)seed);
        return shapes.Select(s => new Parameter(randn(s, dtype: dtype, generator: gen))).ToArray();
    }

    /// <summary>Sets each parameter's gradient to a deterministic function of (seed, step).</summary>
    public static void SetGrads(Parameter[] ps, int step, int seed = 7)
    {
        var gen = new Generator((ulong)(seed * 100_003 + step));
        using var _ = NewDisposeScope();
        foreach (var p in ps)
        {
            var g = randn(p.shape, dtype: p.dtype, generator: gen);
            if (p.grad is { } existing) existing.copy_(g);
            else p.grad = g.DetachFromDisposeScope();
        }
    }

    public static void Run(AfmdwOptimizer opt, Parameter[] ps, int from, int to)
    {
        for (int k = from; k < to; k++) { SetGrads(ps, k); opt.step(); }
    }

    public static double[][] Values(Parameter[] ps) => ps.Select(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();

    public static Parameter[] Clone(Parameter[] ps) => ps.Select(p => new Parameter(p.detach().clone())).ToArray();

    /// <summary>Options that keep every preset stable on these fixtures (preconditioned decay needs η·σ·ε^(−1/2) &lt; 1).</summary>
    public static string OptionsFor(string preset) => preset switch
    {
        "sgd" => "lr=0.05,momentum=0.9,weight_decay=1e-3",
        _ => "lr=1e-2",
    };
}
