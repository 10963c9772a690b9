using System.Globalization;
using AdamFamily.Rules;
using TorchSharp.Modules;

namespace AdamFamily;

/// <summary>
/// Creates optimizers by preset name with options from a dictionary or a "key=value,key=value" string,
/// using PyTorch's option names: <c>Optimizers.Create("adamd", model.parameters(), "lr=1e-3,weight_decay=5e-4")</c>.
/// Besides the group options, two optimizer-level keys are understood everywhere:
/// <c>nonfinite=throw|skip|propagate</c> and <c>stability_check=true|false</c>.
/// </summary>
public static class Optimizers
{
    private static readonly string[] OptimizerKeys = { "nonfinite", "stability_check" };

    /// <summary>Creates the named preset over the parameters.</summary>
    public static AfmdwOptimizer Create(string name, IEnumerable<Parameter> parameters, string? options = null)
        => Create(name, parameters, ParseSpec(options ?? ""));

    /// <summary>Creates the named preset over the parameters with options as key/value strings.</summary>
    public static AfmdwOptimizer Create(string name, IEnumerable<Parameter> parameters, IEnumerable<KeyValuePair<string, string>> options)
        => Create(name, new[] { new AfmdwOptimizer.ParamGroup(parameters) }, options);

    /// <summary>Creates the named preset over parameter groups; the options become the optimizer's defaults.</summary>
    public static AfmdwOptimizer Create(string name, IEnumerable<AfmdwOptimizer.ParamGroup> groups, IEnumerable<KeyValuePair<string, string>> options)
    {
        var preset = Presets.Get(name);
        var defaults = preset.Defaults();
        NonFinitePolicy? policy = null;
        foreach (var (rawKey, value) in options)
        {
            var key = rawKey.Trim().ToLowerInvariant();
            if (key == "nonfinite") { policy = ParseEnum<NonFinitePolicy>(key, value); continue; }
            if (key == "stability_check") { defaults.StabilityCheck = ParseBool(key, value); continue; }
            if (!preset.Keys.Contains(key))
                throw new ArgumentException($"'{rawKey}' is not an option of optimizer '{preset.Name}'. Its options: {string.Join(", ", preset.Keys.Concat(OptimizerKeys))}.", rawKey);
            Apply(defaults, key, value);
        }
        var optimizer = preset.Construct(defaults, groups);
        if (policy is { } p) optimizer.NonFinitePolicy = p;
        return optimizer;
    }

    /// <summary>Splits "lr=1e-3, betas=(0.9,0.99), theta_schedule=diminishing T=5 p=0.7" into pairs (commas inside brackets do not split).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseSpec(string spec)
    {
        var result = new List<KeyValuePair<string, string>>();
        int depth = 0, start = 0;
        for (int i = 0; i <= spec.Length; i++)
        {
            char ch = i < spec.Length ? spec[i] : ',';
            if (ch is '(' or '[') depth++;
            else if (ch is ')' or ']')
            {
                // A stray closing bracket used to swallow the rest of the string (options silently ignored).
                if (--depth < 0) throw new ArgumentException($"Cannot read optimizer options '{spec}': unbalanced '{ch}' at character {i + 1}.", nameof(spec));
            }
            else if (ch == ',' && depth == 0)
            {
                var item = spec[start..i].Trim();
                start = i + 1;
                if (item.Length == 0) continue;
                int eq = item.IndexOf('=');
                if (eq <= 0) throw new ArgumentException($"Cannot read optimizer option '{item}': expected key=value.", nameof(spec));
                result.Add(new(item[..eq].Trim(), item[(eq + 1)..].Trim()));
            }
        }
        if (depth != 0) throw new ArgumentException($"Cannot read optimizer options '{spec}': a bracket is never closed.", nameof(spec));
        return result;
    }

    /// <summary>Parses "adamd:lr=1e-3,weight_decay=5e-4" into the preset name and its options.</summary>
    public static (string Name, IReadOnlyList<KeyValuePair<string, string>> Options) ParseArm(string arm)
    {
        int colon = arm.IndexOf(':');
        var name = (colon < 0 ? arm : arm[..colon]).Trim();
        Presets.Get(name);
        return (name, colon < 0 ? Array.Empty<KeyValuePair<string, string>>() : ParseSpec(arm[(colon + 1)..]));
    }

    /// <summary>Sets one option by its PyTorch name; errors name the key and the value.</summary>
    public static void Apply(AfmdwOptions o, string key, string value)
    {
        switch (key)
        {
            case "lr": o.LearningRate = ParseDouble(key, value); break;
            case "betas":
                var parts = value.Trim('(', ')', '[', ']', ' ').Split(new[] { ',', ':', ';', ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2) throw new ArgumentException($"betas = '{value}': expected two numbers, e.g. betas=(0.9,0.999).", key);
                o.Beta1 = ParseDouble("beta1", parts[0]); o.Beta2 = ParseDouble("beta2", parts[1]); break;
            case "beta1": o.Beta1 = ParseDouble(key, value); break;
            case "beta2": o.Beta2 = ParseDouble(key, value); break;
            case "eps": o.Eps = ParseDouble(key, value); break;
            case "weight_decay": o.WeightDecay = ParseDouble(key, value); break;
            case "maximize": o.Maximize = ParseBool(key, value); break;
            case "amsgrad": o.Estimator = ParseBool(key, value) ? "amsgrad" : "adam"; break;
            case "decoupled_weight_decay": o.Decay = ParseBool(key, value) ? DecayPlacement.Decoupled : DecayPlacement.L2; break;
            case "nesterov":
                bool n = ParseBool(key, value);
                if (o.Direction == Direction.Sgd) o.Nesterov = n;
                else o.Direction = n ? Direction.Nesterov : Direction.HeavyBall;
                break;
            case "momentum": o.Momentum = ParseDouble(key, value); break;
            case "dampening": o.Dampening = ParseDouble(key, value); break;
            case "momentum_decay": o.MomentumDecay = ParseDouble(key, value); break;
            case "initial_accumulator": o.InitialAccumulator = ParseDouble(key, value); break;
            case "estimator": SecondMoments.Get(value.Trim()); o.Estimator = value.Trim().ToLowerInvariant(); break;
            case "eps_mode": o.EpsMode = ParseEnum<EpsMode>(key, value); break;
            case "decay": o.Decay = ParseEnum<DecayPlacement>(key, value); break;
            case "bias_correction": o.BiasCorrection = ParseBool(key, value); break;
            case "theta_schedule": o.ThetaSchedule = MomentSchedule.Parse(value, key); break;
            case "tau_schedule": o.TauSchedule = MomentSchedule.Parse(value, key); break;
            default: throw new ArgumentException($"Unknown optimizer option '{key}'.", key);
        }
    }

    private static double ParseDouble(string key, string value)
        => double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
           : throw new ArgumentException($"{key} = '{value}' is not a number.", key);

    private static bool ParseBool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new ArgumentException($"{key} = '{value}' is not true/false.", key),
    };

    private static T ParseEnum<T>(string key, string value) where T : struct, Enum
        => Enum.TryParse<T>(value.Trim().Replace("-", "").Replace("_", ""), ignoreCase: true, out var e) && Enum.IsDefined(e) ? e
           : throw new ArgumentException($"{key} = '{value}' is not one of: {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}.", key);
}
