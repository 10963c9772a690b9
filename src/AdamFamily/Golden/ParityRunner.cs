using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Golden;

/// <summary>The outcome of replaying one case.</summary>
/// <param name="Case">The case's name.</param>
/// <param name="Steps">The steps replayed.</param>
/// <param name="MaxAbsError">The largest |got − expected|.</param>
/// <param name="MaxRelError">The largest |got − expected|/|expected|.</param>
/// <param name="WorstToleranceRatio">The largest error as a fraction of its tolerance (≤ 1 passes).</param>
/// <param name="Passed">Whether every value is within tolerance.</param>
/// <param name="Error">Why the replay stopped, if it did.</param>
public sealed record ParityResult(string Case, int Steps, double MaxAbsError, double MaxRelError, double WorstToleranceRatio, bool Passed, string? Error = null);

/// <summary>Replays trajectory cases through the library and measures the error against the reference.</summary>
public static class ParityRunner
{
    /// <summary>
    /// Replays a case. The learning rate of step k is set from lrs[k] unless <paramref name="schedulerStep"/>
    /// attaches a real scheduler to the optimizer and returns its step action (called after every optimizer step).
    /// </summary>
    public static ParityResult Run(TrajectoryCase tc, ExecutionPath path = ExecutionPath.Auto,
        Func<AfmdwOptimizer, Action>? schedulerStep = null)
    {
        using var scope = NewDisposeScope();
        var dtype = tc.ScalarType;
        var parameters = tc.Shapes.Select((s, i) => new Parameter(tensor(tc.Initial[i], dtype: ScalarType.Float64).to_type(dtype).reshape(s))).ToArray();
        var options = tc.Options.Where(kv => kv.Key != "lr").ToList();
        options.Add(new("lr", tc.Lrs[0].ToString("R", CultureInfo.InvariantCulture)));
        // A replay reproduces what the reference did, and references have no stability guard (the
        // afmdw eps_outside case has η·σ/ε = 5000: safe only because no gradient is exactly zero).
        options.Add(new("stability_check", "false"));
        using var opt = Optimizers.Create(tc.Preset, parameters, options);
        opt.ExecutionPath = path;
        var afterStep = schedulerStep?.Invoke(opt);
        var (rtol, atol) = tc.Tolerance;
        double maxAbs = 0, maxRel = 0, worst = 0;
        for (int k = 0; k < tc.Steps; k++)
        {
            if (afterStep is null) opt.Groups[0].LearningRate = tc.Lrs[k];
            else if (Math.Abs(opt.Groups[0].LearningRate - tc.Lrs[k]) > 1e-12 * tc.Lrs[k])
                return new ParityResult(tc.Name, k, double.NaN, double.NaN, double.NaN, false,
                    $"the scheduler set lr {opt.Groups[0].LearningRate} at step {k}; the case expects {tc.Lrs[k]}");
            for (int i = 0; i < parameters.Length; i++)
                parameters[i].grad = tensor(tc.Grads[k][i], dtype: ScalarType.Float64).to_type(dtype).reshape(tc.Shapes[i]);
            opt.step();
            afterStep?.Invoke();
            for (int i = 0; i < parameters.Length; i++)
            {
                var got = parameters[i].detach().to_type(ScalarType.Float64).data<double>().ToArray();
                var expected = tc.Trajectory[k][i];
                for (int j = 0; j < got.Length; j++)
                {
                    double abs = Math.Abs(got[j] - expected[j]);
                    maxAbs = Math.Max(maxAbs, abs);
                    if (expected[j] != 0) maxRel = Math.Max(maxRel, abs / Math.Abs(expected[j]));
                    worst = Math.Max(worst, abs / (atol + rtol * Math.Abs(expected[j])));
                    if (double.IsNaN(got[j])) worst = double.PositiveInfinity;
                }
            }
        }
        return new ParityResult(tc.Name, tc.Steps, maxAbs, maxRel, worst, worst <= 1.0);
    }
}
