using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Experiments;

/// <summary>
/// The strict grammar of an arm's optimizer spec, <c>preset[:key=value,key=value,...]</c>, as the lab reads it:
/// brackets balance (commas inside <c>(...)</c> or <c>[...]</c> do not split), every item is <c>key=value</c> with a
/// key and a value, no key is given twice (nor two keys that set the same option, such as <c>betas</c> and
/// <c>beta1</c>), and no key the lab sets itself. The options are then applied to a one-element parameter, so
/// every value the library would refuse when training starts is refused here, before anything is written.
/// Errors name the arm and the key.
/// </summary>
public static class ArmGrammar
{
    /// <summary>Keys the lab sets itself: the non-finite policy is always Throw, so a diverged run is recorded as such.</summary>
    public static readonly IReadOnlyDictionary<string, string> LabOwnedKeys = new Dictionary<string, string>
    {
        ["nonfinite"] = "the lab always uses nonfinite=throw, so that a non-finite gradient is recorded as a divergence",
    };

    // Keys that set the same option: giving both is as ambiguous as giving one key twice.
    private static readonly string[][] SameOption =
    {
        new[] { "betas", "beta1" }, new[] { "betas", "beta2" }, new[] { "amsgrad", "estimator" }, new[] { "decoupled_weight_decay", "decay" },
    };

    /// <summary>Checks the arm's spec; throws <see cref="ArgumentException"/> naming the arm, the key and the value.</summary>
    public static void Check(ArmSpec arm)
    {
        var (preset, options) = Parse(arm);

        // Everything the library checks at construction (names, numbers, ranges, the stability of preconditioned decay).
        try
        {
            using var scope = NewDisposeScope();
            var p = new Parameter(zeros(1));
            using var opt = Optimizers.Create(preset, new[] { p }, options);
        }
        catch (ArgumentException e) { throw Error(arm, e.Message.Split('\n')[0].Replace(" (Parameter '", " (option '")); }
    }

    /// <summary>The preset name and the options of the arm's spec, read strictly (see the class summary).</summary>
    public static (string Preset, IReadOnlyList<KeyValuePair<string, string>> Options) Parse(ArmSpec arm)
    {
        var spec = arm.Optimizer.Trim();
        int colon = spec.IndexOf(':');
        var preset = (colon < 0 ? spec : spec[..colon]).Trim();
        if (preset.Length == 0) throw Error(arm, $"no preset before ':' in '{spec}' (e.g. adamd:lr=1e-3; afm list shows the presets).");
        if (!Presets.All.Any(p => string.Equals(p.Name, preset, StringComparison.OrdinalIgnoreCase)))
            throw Error(arm, $"'{preset}' is not a preset; known: {string.Join(", ", Presets.All.Select(p => p.Name.ToLowerInvariant()))}.");
        var options = colon < 0 ? new List<KeyValuePair<string, string>>() : Split(arm, spec[(colon + 1)..]);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, _) in options)
        {
            if (!seen.Add(key)) throw Error(arm, $"option '{key}' is given twice.");
            if (LabOwnedKeys.TryGetValue(key, out var why)) throw Error(arm, $"option '{key}' cannot be set in an arm: {why}.");
        }
        foreach (var pair in SameOption)
            if (pair.All(seen.Contains))
                throw Error(arm, $"options '{pair[0]}' and '{pair[1]}' both set the same thing; give one.");
        return (preset.ToLowerInvariant(), options);
    }

    /// <summary>Splits the options after the preset into key/value pairs, refusing anything that is not strictly key=value.</summary>
    public static List<KeyValuePair<string, string>> Split(ArmSpec arm, string options)
    {
        var result = new List<KeyValuePair<string, string>>();
        var open = new Stack<(char Bracket, int At)>();
        int start = 0;
        if (options.Trim().Length == 0) throw Error(arm, "nothing after ':'; leave the ':' out for the preset's defaults, or give key=value options.");
        for (int i = 0; i <= options.Length; i++)
        {
            char ch = i < options.Length ? options[i] : ',';
            if (ch is '(' or '[') open.Push((ch, i));
            else if (ch is ')' or ']')
            {
                char expected = ch == ')' ? '(' : '[';
                if (open.Count == 0) throw Error(arm, $"unbalanced '{ch}' at character {i + 1} of '{options}': no bracket to close.");
                if (open.Pop().Bracket != expected) throw Error(arm, $"mismatched '{ch}' at character {i + 1} of '{options}'.");
            }
            else if (ch == ',' && open.Count == 0)
            {
                var item = options[start..Math.Min(i, options.Length)].Trim();
                start = i + 1;
                if (item.Length == 0) throw Error(arm, $"an empty option in '{options}' (two commas, or a comma at an end).");
                int eq = item.IndexOf('=');
                if (eq < 0) throw Error(arm, $"'{item}' is not key=value.");
                var key = item[..eq].Trim().ToLowerInvariant();
                var value = item[(eq + 1)..].Trim();
                if (key.Length == 0) throw Error(arm, $"'{item}' has no key before '='.");
                if (value.Length == 0) throw Error(arm, $"option '{key}' has an empty value.");
                result.Add(new(key, value));
            }
        }
        if (open.Count > 0)
        {
            var (b, at) = open.Peek();
            throw Error(arm, $"unbalanced '{b}' at character {at + 1} of '{options}': it is never closed.");
        }
        return result;
    }

    private static ArgumentException Error(ArmSpec arm, string message) => new($"arm '{arm.Name}' ({arm.Optimizer}): {message}", "arms");
}
