using System.Globalization;
using AdamFamily.Rules;

namespace AdamFamily.Lab.Reports;

/// <summary>One resolved hyper-parameter of an arm, as a table shows it.</summary>
public sealed record HyperParameter(string Key, string Value);

/// <summary>
/// The resolved hyper-parameters of an optimizer spec: what the optimizer actually runs with, not what was typed.
/// Always lr, weight_decay, its placement (decay) and ε (for rules with a second moment), then every option that
/// differs from the preset's default. This is the one seam between the lab and the library's option
/// facilities (<see cref="Presets"/>, <see cref="Optimizers.Apply"/>, <see cref="AfmdwOptions.ToRule"/>): when the
/// library's options move to a schema, only this function changes.
/// </summary>
public static class HyperParameters
{
    /// <summary>Resolves "adamw:lr=3e-4" into (key, value) pairs; throws <see cref="ArgumentException"/> on a bad spec.</summary>
    public static IReadOnlyList<HyperParameter> Resolve(string spec)
    {
        var (name, options) = Optimizers.ParseArm(spec);
        var preset = Presets.Get(name);
        var defaults = preset.Defaults();
        var resolved = preset.Defaults();
        foreach (var (key, value) in options)
        {
            var k = key.Trim().ToLowerInvariant();
            if (k is "nonfinite" or "stability_check") continue; // run policy, not a hyper-parameter
            Optimizers.Apply(resolved, k, value);
        }
        var r = resolved.ToRule();
        var d = defaults.ToRule();
        var list = new List<HyperParameter>
        {
            new("lr", F(resolved.LearningRate ?? double.NaN)),
            new("weight_decay", F(r.WeightDecay)),
            new("decay", r.Decay.ToString().ToLowerInvariant()),
        };
        if (r.Estimator is not null) list.Add(new("eps", F(r.Eps)));
        void Diff<T>(string key, T value, T def, Func<T, string> show)
        {
            if (!EqualityComparer<T>.Default.Equals(value, def)) list.Add(new(key, show(value)));
        }
        Diff("beta1", r.Beta1, d.Beta1, F);
        Diff("beta2", r.Beta2, d.Beta2, F);
        Diff("estimator", r.Estimator?.Name ?? "none", d.Estimator?.Name ?? "none", s => s);
        Diff("direction", r.Direction, d.Direction, x => x.ToString().ToLowerInvariant());
        Diff("eps_mode", r.EpsMode, d.EpsMode, x => x.ToString().ToLowerInvariant());
        Diff("bias_correction", r.BiasCorrection, d.BiasCorrection, B);
        Diff("maximize", r.Maximize, d.Maximize, B);
        Diff("initial_accumulator", resolved.InitialAccumulator ?? 0, defaults.InitialAccumulator ?? 0, F);
        Diff("theta_schedule", r.ThetaSchedule.ToString(), d.ThetaSchedule.ToString(), s => s);
        Diff("tau_schedule", r.TauSchedule.ToString(), d.TauSchedule.ToString(), s => s);
        Diff("rectify", r.Rectify, d.Rectify, B);
        Diff("momentum", r.Momentum, d.Momentum, F);
        Diff("dampening", r.Dampening, d.Dampening, F);
        Diff("nesterov", r.Nesterov, d.Nesterov, B);
        Diff("momentum_decay", r.MomentumDecay, d.MomentumDecay, F);
        return list;
    }

    /// <summary>"lr=0.001, weight_decay=0.0005 (l2), eps=1e-08, …": the table form (the placement joins the decay).</summary>
    public static string Format(IReadOnlyList<HyperParameter> hp)
    {
        var parts = new List<string>();
        string? decay = hp.FirstOrDefault(h => h.Key == "decay")?.Value;
        foreach (var h in hp)
        {
            if (h.Key == "decay") continue;
            parts.Add(h.Key == "weight_decay" && decay is not null ? $"weight_decay={h.Value} ({decay})" : $"{h.Key}={h.Value}");
        }
        return string.Join(", ", parts);
    }

    /// <summary>Short and exact enough to re-type: 0.001, 0.9, 5e-4, 1e-8.</summary>
    public static string F(double x) => x == 0 || !double.IsFinite(x) ? x.ToString(CultureInfo.InvariantCulture)
        : Math.Abs(x) < 1e-3 || Math.Abs(x) >= 1e5 ? x.ToString("0.###e0", CultureInfo.InvariantCulture)
        : x.ToString("G4", CultureInfo.InvariantCulture);
    private static string B(bool b) => b ? "true" : "false";
}
