using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// The adabelief preset is the official AdaBelief with adabelief_pytorch 0.2.0's defaults, rectify=True included:
/// compared with that algorithm written out here in plain doubles (decoupled decay first; v ← β₂v + (1−β₂)(g−m)² + ε;
/// while ρ_t &lt; 5 an SGD step lr·m/(1−β₁ᵗ), after that the rectified step with denominator √v + ε).
/// </summary>
public class AdaBeliefPresetTests
{
    private static double[] Official(double x0, double[] grads, double lr, double b1, double b2, double eps, double wd)
    {
        double x = x0, m = 0, v = 0;
        var xs = new double[grads.Length];
        double rhoInf = 2 / (1 - b2) - 1;
        for (int t = 1; t <= grads.Length; t++)
        {
            double g = grads[t - 1];
            x *= 1 - lr * wd;
            m = b1 * m + (1 - b1) * g;
            double r = g - m;
            v = b2 * v + (1 - b2) * r * r;
            v += eps;   // adabelief_pytorch adds ε to exp_avg_var in place when it builds the denominator
            double bc1 = 1 - Math.Pow(b1, t), b2t = Math.Pow(b2, t);
            double rho = rhoInf - 2 * t * b2t / (1 - b2t);
            if (rho >= 5)
            {
                double step = Math.Sqrt((1 - b2t) * (rho - 4) / (rhoInf - 4) * (rho - 2) / rho * rhoInf / (rhoInf - 2)) / bc1;
                x -= lr * step * m / (Math.Sqrt(v) + eps);
            }
            else x -= lr * m / bc1;
            xs[t - 1] = x;
        }
        return xs;
    }

    [Theory]
    [InlineData(0.999, 1e-16, 0.0)]    // the defaults: 5 SGD-like steps (ρ_t < 5), then rectified ones
    [InlineData(0.99, 1e-8, 1e-2)]     // ρ_t passes 5 at step 2; decoupled decay on
    public void MatchesOfficialAdaBelief_WithRectification(double beta2, double eps, double wd)
    {
        var grads = new[] { 0.5, -0.3, 0.8, 0.1, -0.7, 0.4, 0.05, -0.2, 0.9, -0.6, 0.3, 0.2 };
        var expected = Official(1.5, grads, 1e-2, 0.9, beta2, eps, wd);

        var p = new Parameter(tensor(new[] { 1.5 }, ScalarType.Float64));
        using var opt = Optimizers.Create("adabelief", new[] { p }, $"lr=1e-2,betas=(0.9,{beta2}),eps={eps},weight_decay={wd}");
        for (int t = 0; t < grads.Length; t++)
        {
            p.grad = tensor(new[] { grads[t] }, ScalarType.Float64);
            opt.step();
            double got = p.data<double>()[0];
            Assert.True(Math.Abs(got - expected[t]) <= 1e-12 * Math.Max(1, Math.Abs(expected[t])), $"step {t + 1}: {got} vs official {expected[t]}");
        }
    }

    [Fact]
    public void TheUnrectifiedAlgorithm_WouldDifferInTheFirstSteps()
    {
        // Guards the test above: with rectify=False the first step is lr·m̂/(√v̂ + ε) ≈ lr·sign(g), not lr·m̂.
        var p = new Parameter(tensor(new[] { 1.5 }, ScalarType.Float64));
        using var opt = Optimizers.Create("adabelief", new[] { p }, "lr=1e-2");
        p.grad = tensor(new[] { 0.5 }, ScalarType.Float64);
        opt.step();
        Assert.Equal(1.5 - 1e-2 * 0.5, p.data<double>()[0], 12);   // the SGD-like rectified first step: lr · m/(1−β₁) = lr · g
    }
}
