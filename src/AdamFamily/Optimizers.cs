using TorchSharp.Modules;

namespace AdamFamily;

/// <summary>
/// Creates optimizers by preset name with options from a dictionary or a "key=value,key=value" string,
/// using PyTorch's option names: <c>Optimizers.Create("adamd", model.parameters(), "lr=1e-3,weight_decay=5e-4")</c>.
/// The keys are the options declared in <see cref="OptionSchema"/> that the preset accepts, plus the
/// optimizer-level key <c>nonfinite=throw|skip|propagate</c>. The grammar is <see cref="OptionStrings"/>'s.
/// </summary>
public static class Optimizers
{
    private const string NonFiniteKey = "nonfinite";

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
        var (defaults, policy) = Resolve(preset, options);
        var optimizer = preset.Construct(defaults, groups);
        if (policy is { } p) optimizer.NonFinitePolicy = p;
        return optimizer;
    }

    /// <summary>
    /// The preset's complete defaults with the options applied and range-checked, and the non-finite policy
    /// if given. Every key and value is checked; the <see cref="ArgumentException"/> names the key and value.
    /// </summary>
    public static (AfmdwOptions Defaults, NonFinitePolicy? Policy) Resolve(PresetInfo preset, IEnumerable<KeyValuePair<string, string>> options)
    {
        var defaults = preset.Defaults();
        NonFinitePolicy? policy = null;
        var setBy = new Dictionary<OptionDeclaration, string>();
        var keys = new HashSet<string>();
        foreach (var (rawKey, value) in options)
        {
            var key = rawKey.Trim().ToLowerInvariant();
            if (!keys.Add(key)) throw new ArgumentException($"option {key} is given twice (the second time = '{value}').", key);
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"option {key} has an empty value ('').", key);
            if (key == NonFiniteKey)
            {
                policy = OptionCodecs.Enum<NonFinitePolicy>().Parse(key, value);
                continue;
            }
            foreach (var (option, v) in OptionSchema.Assignments(key, value, preset))
            {
                if (setBy.TryGetValue(option, out var other))
                    throw new ArgumentException($"option {key} = '{value}' sets {option.Key}, which '{other}' already set.", key);
                setBy[option] = key;
                defaults.Set(option, v);
            }
        }
        // A value the rule would silently ignore is an error when both keys were given: decay=none drops σ.
        if (setBy.ContainsKey(OptionSchema.WeightDecay) && setBy.ContainsKey(OptionSchema.Decay)
            && defaults.Decay == Rules.DecayPlacement.None && defaults.WeightDecay is { } wd && wd != 0)
            throw new ArgumentException($"optimizer '{preset.Name}': weight_decay = {wd.ToString(System.Globalization.CultureInfo.InvariantCulture)} with decay=none would be ignored; " +
                                        "give weight_decay=0, or a placement (preconditioned, decoupled, l2).", "weight_decay");
        defaults.InitialLearningRate = defaults.LearningRate ?? 0;
        defaults.Validate($"optimizer '{preset.Name}'");
        return (defaults, policy);
    }

    /// <summary>Splits "lr=1e-3, betas=(0.9,0.99), theta_schedule=diminishing T=5 p=0.7" into pairs (see <see cref="OptionStrings"/>).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseSpec(string spec) => OptionStrings.Parse(spec);

    /// <summary>
    /// Parses "adamd:lr=1e-3,weight_decay=5e-4" into the preset name and its options, checking every key and
    /// value against the preset (so a bad arm is refused before anything runs).
    /// </summary>
    public static (string Name, IReadOnlyList<KeyValuePair<string, string>> Options) ParseArm(string arm)
    {
        int colon = arm.IndexOf(':');
        var name = (colon < 0 ? arm : arm[..colon]).Trim();
        var preset = Presets.Get(name);
        var options = colon < 0 ? Array.Empty<KeyValuePair<string, string>>() : ParseSpec(arm[(colon + 1)..]);
        Resolve(preset, options);
        return (name, options);
    }

    /// <summary>Sets one option by its key for the generic preset (any declared key or alias); errors name the key and the value.</summary>
    public static void Apply(AfmdwOptions o, string key, string value)
    {
        foreach (var (option, v) in OptionSchema.Assignments(key, value, Presets.Get("afmdw")))
            o.Set(option, v);
    }
}
