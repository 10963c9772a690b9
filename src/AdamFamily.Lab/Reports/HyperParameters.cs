using System.Globalization;

namespace AdamFamily.Lab.Reports;

/// <summary>One resolved hyper-parameter of an arm, as a table shows it.</summary>
public sealed record HyperParameter(string Key, string Value);

/// <summary>
/// The resolved hyper-parameters of an optimizer spec: what the optimizer actually runs with, not what was typed.
/// Always lr, weight_decay, its placement (decay) and ε (for rules with a second moment), then every option that
/// differs from the preset's default. This is the one seam between the lab and the library's option
/// facilities (<see cref="Presets"/>, <see cref="Optimizers.Resolve"/>, <see cref="OptionSchema"/>): options are
/// resolved and listed exactly as the library declares them.
/// </summary>
public static class HyperParameters
{
    /// <summary>Resolves "adamw:lr=3e-4" into (key, value) pairs; throws <see cref="ArgumentException"/> on a bad spec.</summary>
    public static IReadOnlyList<HyperParameter> Resolve(string spec)
    {
        var (name, options) = Optimizers.ParseArm(spec);
        var preset = Presets.Get(name);
        var resolved = Optimizers.Resolve(preset, options).Defaults;
        var defaults = preset.Defaults();
        bool hasSecondMoment = resolved.ToRule().Estimator is not null;
        var always = new[] { OptionSchema.LearningRate, (OptionDeclaration)OptionSchema.WeightDecay, OptionSchema.Decay, OptionSchema.Eps };
        var list = new List<HyperParameter>();
        foreach (var option in always)
        {
            if (option == OptionSchema.Eps && !hasSecondMoment) continue;
            list.Add(new(option.Key, Show(option, resolved.Get(option))));
        }
        // Then every option (schema order) whose value differs from the preset's default; the stability check is a run policy.
        foreach (var option in OptionSchema.All)
        {
            if (always.Contains(option) || option == OptionSchema.StabilityCheck) continue;
            var value = resolved.Get(option);
            if (!Equals(value, defaults.Get(option))) list.Add(new(option.Key, Show(option, value)));
        }
        return list;
    }

    private static string Show(OptionDeclaration option, object? value) => value switch
    {
        null => "(unset)",
        double d => F(d),
        System.Enum e => e.ToString().ToLowerInvariant(),
        _ => option.Format(value),
    };

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
    }
