using System.Globalization;
using AdamFamily.Lab.Reports;
using AdamFamily.Rules;

namespace AdamFamily.Lab.Tuning;

/// <summary>One tuned hyper-parameter: an option key of the arm's preset and its range, log-uniform or uniform.</summary>
public sealed record SearchDimension(string Key, double Low, double High, bool Log)
{
    /// <summary>The value at u ∈ [0, 1): Low·(High/Low)^u (log) or Low + u·(High − Low).</summary>
    public double At(double u) => Log ? Math.Exp(Math.Log(Low) + u * (Math.Log(High) - Math.Log(Low))) : Low + u * (High - Low);

    /// <summary>Where a value lies in the range, 0 … 1, on the dimension's own scale.</summary>
    public double Position(double value) => Log ? (Math.Log(value) - Math.Log(Low)) / (Math.Log(High) - Math.Log(Low)) : (value - Low) / (High - Low);

    public override string ToString() => $"{Key} {(Log ? "log-uniform" : "uniform")} [{HyperParameters.F(Low)}, {HyperParameters.F(High)}]";
}

/// <summary>
/// The search space of one arm. Defaults (<see cref="Default"/>) depend on where the arm's weight decay enters:
/// <list type="bullet">
/// <item>lr: log-uniform over [lr/10, 10·lr] around the arm's lr (two decades for every arm);</item>
/// <item>decoupled decay (AdamW: the step shrinks x by η·λ, λ multiplies the lr): λ log-uniform [1e-4, 1];</item>
/// <item>preconditioned decay (AdamD: σx joins the direction inside H, shrinking by up to η·σ·ε^(−1/2) per step):
/// σ log-uniform [1e-6, 1e-2], the top kept at half the stability limit η_max·σ·ε^(−1/2) &lt; 1;</item>
/// <item>L2 (Adam, SGD: σx is added to the gradient, then normalised with it): σ log-uniform [1e-6, 1e-2];</item>
/// <item>no decay: weight decay is not tuned.</item>
/// </list>
/// β1 (uniform) and ε (log-uniform) are tuned only when asked for (command line or space file).
/// </summary>
public sealed record SearchSpace(IReadOnlyList<SearchDimension> Dimensions)
{
    /// <summary>Keys that may be tuned: they are options of (nearly) every preset.</summary>
    public static readonly string[] TunableKeys = { "lr", "weight_decay", "beta1", "beta2", "eps", "momentum" };

    /// <summary>The documented default space of an arm spec ("adamw:lr=1e-3").</summary>
    public static SearchSpace Default(string armSpec)
    {
        var hp = HyperParameters.Resolve(armSpec).ToDictionary(h => h.Key, h => h.Value);
        double lr = double.Parse(hp["lr"], CultureInfo.InvariantCulture);
        if (!(lr > 0)) throw new ArgumentException($"arm '{armSpec}': lr = {lr} cannot centre a log-uniform search space; give the arm an lr > 0.", "space");
        var dims = new List<SearchDimension> { new("lr", lr / 10, lr * 10, Log: true) };
        var placement = Enum.Parse<DecayPlacement>(hp["decay"], ignoreCase: true);
        switch (placement)
        {
            case DecayPlacement.Decoupled: dims.Add(new("weight_decay", 1e-4, 1, true)); break;
            case DecayPlacement.Preconditioned:
                double eps = double.Parse(hp["eps"], CultureInfo.InvariantCulture);
                // max H is ε^(−1/2) with ε inside the root, 1/ε outside it.
                double hMax = hp.TryGetValue("eps_mode", out var mode) && mode == "outside" ? 1 / eps : 1 / Math.Sqrt(eps);
                double top = Math.Min(1e-2, 0.5 / (lr * 10 * hMax));
                dims.Add(new("weight_decay", Math.Min(1e-6, top / 100), top, true));
                break;
            case DecayPlacement.L2: dims.Add(new("weight_decay", 1e-6, 1e-2, true)); break;
        }
        return new SearchSpace(dims);
    }

    /// <summary>This space with the dimensions of <paramref name="overrides"/> replacing (or adding to) its own.</summary>
    public SearchSpace With(IEnumerable<SearchDimension> overrides)
    {
        var dims = Dimensions.ToList();
        foreach (var o in overrides)
        {
            int i = dims.FindIndex(d => d.Key == o.Key);
            if (i >= 0) dims[i] = o; else dims.Add(o);
        }
        return new SearchSpace(dims);
    }

    /// <summary>Checks the ranges and that the preset has every key; errors name the arm, the key and the value.</summary>
    public void Validate(string arm, string armSpec)
    {
        if (Dimensions.Count == 0) throw new ArgumentException($"arm '{arm}': the search space is empty.", "space");
        var preset = Presets.Get(Optimizers.ParseArm(armSpec).Name);
        foreach (var d in Dimensions)
        {
            if (!TunableKeys.Contains(d.Key)) throw new ArgumentException($"arm '{arm}': '{d.Key}' cannot be tuned (tunable: {string.Join(", ", TunableKeys)}).", "space");
            if (!preset.Keys.Contains(d.Key)) throw new ArgumentException($"arm '{arm}': '{d.Key}' is not an option of {preset.Name}.", "space");
            if (!(double.IsFinite(d.Low) && double.IsFinite(d.High) && d.Low < d.High))
                throw new ArgumentException($"arm '{arm}': {d.Key} range [{d.Low}, {d.High}] must be finite with low < high.", "space");
            if (d.Log && !(d.Low > 0)) throw new ArgumentException($"arm '{arm}': {d.Key} is log-uniform, so its range [{d.Low}, {d.High}] must be > 0.", "space");
            // Both ends must be values the preset accepts (parsed through the same path the trials use).
            foreach (var v in new[] { d.Low, d.High }) HyperParameters.Resolve(WithValues(armSpec, new[] { (d.Key, v) }));
        }
        if (Dimensions.Select(d => d.Key).Distinct().Count() != Dimensions.Count) throw new ArgumentException($"arm '{arm}': a key appears twice in its space.", "space");
    }

    /// <summary>The hyper-parameters of a unit-cube point, in dimension order.</summary>
    public (string Key, double Value)[] At(double[] u) => Dimensions.Select((d, i) => (d.Key, d.At(u[i]))).ToArray();

    /// <summary>The arm spec with these values set (replacing the spec's own values of those keys).</summary>
    public static string WithValues(string armSpec, IEnumerable<(string Key, double Value)> values)
    {
        var (name, options) = Optimizers.ParseArm(armSpec);
        var set = values.ToList();
        var kept = options.Where(o => !set.Any(v => v.Key == o.Key.Trim().ToLowerInvariant())).Select(o => $"{o.Key}={o.Value}");
        var added = set.Select(v => $"{v.Key}={v.Value.ToString("R", CultureInfo.InvariantCulture)}");
        return $"{name}:{string.Join(",", kept.Concat(added))}";
    }

    /// <summary>Whether a key is searched log-uniformly when no scale is given: lr, weight_decay and eps are; the others are uniform.</summary>
    public static bool LogByDefault(string key) => key is "lr" or "weight_decay" or "eps";

    /// <summary>
    /// Parses a command-line override "ARM:key=low..high[:log|:lin],key=…" (ARM the arm's label; log is the default for
    /// lr, weight_decay and eps, uniform for the others).
    /// </summary>
    public static (string Arm, SearchDimension[] Dimensions) ParseOverride(string text)
    {
        int colon = text.IndexOf(':');
        if (colon <= 0) throw new ArgumentException($"--space '{text}': expected ARM:key=low..high, e.g. adamw:lr=1e-4..1e-2,weight_decay=1e-3..1.", "space");
        var arm = text[..colon].Trim();
        var dims = new List<SearchDimension>();
        var items = text[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries);
        if (items.All(i => i.Length == 0)) throw new ArgumentException($"--space '{text}': no dimensions.", "space");
        foreach (var item in items)
        {
            if (item.Length == 0) throw new ArgumentException($"--space '{text}': an empty item (two commas, or a comma at an end).", "space");
            int eq = item.IndexOf('='), dots = item.IndexOf("..", StringComparison.Ordinal);
            if (eq <= 0 || dots < eq) throw new ArgumentException($"--space '{text}': '{item}' is not key=low..high.", "space");
            var key = item[..eq].Trim().ToLowerInvariant();
            var rest = item[(eq + 1)..];
            var parts = rest.Split(':');
            if (parts.Length > 2) throw new ArgumentException($"--space '{text}': '{item}' has more than one scale (give one of :log or :lin).", "space");
            var range = parts[0].Split("..");
            if (range.Length != 2 || !double.TryParse(range[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var lo)
                || !double.TryParse(range[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var hi))
                throw new ArgumentException($"--space '{text}': '{rest}' is not low..high with two numbers.", "space");
            bool log = parts.Length > 1 ? parts[1].Trim().ToLowerInvariant() switch
            {
                "log" => true,
                "lin" or "linear" or "uniform" => false,
                var other => throw new ArgumentException($"--space '{text}': scale '{other}' is not log or lin.", "space"),
            } : LogByDefault(key);
            if (dims.Any(d => d.Key == key)) throw new ArgumentException($"--space '{text}': '{key}' is given twice.", "space");
            dims.Add(new SearchDimension(key, lo, hi, log));
        }
        return (arm, dims.ToArray());
    }

    public override string ToString() => string.Join("; ", Dimensions);
}
