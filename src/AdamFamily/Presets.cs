using TorchSharp.Modules;

namespace AdamFamily;

/// <summary>A named preset: its optimizer class, family, description, and its rule as options over the declared defaults.</summary>
public sealed class PresetInfo
{
    private readonly Func<AfmdwOptions, IEnumerable<AfmdwOptimizer.ParamGroup>, AfmdwOptimizer> _construct;
    private AfmdwOptions? _defaults;

    private readonly string[] _layers;

    internal PresetInfo(string name, Type type, PresetFamily family, string description, string[] layers,
        Func<AfmdwOptions, IEnumerable<AfmdwOptimizer.ParamGroup>, AfmdwOptimizer> construct)
    {
        Name = name; Type = type; Family = family; Description = description; _layers = layers; _construct = construct;
    }

    /// <summary>The preset's name (<c>afm list</c>, arm specs, <see cref="Optimizers.Create(string, IEnumerable{Parameter}, string?)"/>).</summary>
    public string Name { get; }
    /// <summary>The optimizer class (checkpoints carry its name).</summary>
    public Type Type { get; }
    /// <summary>The preset's family: which option keys it accepts (see <see cref="OptionDeclaration.Families"/>).</summary>
    public PresetFamily Family { get; }
    /// <summary>A one-line description.</summary>
    public string Description { get; }
    /// <summary>The preset's rule and defaults: option-string settings laid over the declared defaults (AdamD's), later layers over earlier ones.</summary>
    public string Settings => string.Join("; ", _layers.Where(l => l.Length > 0));
    /// <summary>The option keys the preset accepts, in schema order.</summary>
    public IReadOnlyList<string> Keys => OptionSchema.KeysOf(this);

    /// <summary>A fresh copy of the preset's complete defaults.</summary>
    public AfmdwOptions Defaults()
    {
        if (_defaults is null)
        {
            var o = new AfmdwOptions();
            foreach (var option in OptionSchema.All) o.Set(option, option.DefaultValue);
            foreach (var layer in _layers)
                foreach (var (key, value) in OptionStrings.Parse(layer))
                    foreach (var (option, v) in OptionSchema.Assignments(key, value, preset: null))
                        o.Set(option, v);
            _defaults = o;
        }
        return _defaults.Clone();
    }

    /// <summary>Builds the preset's optimizer from complete defaults and parameter groups.</summary>
    public AfmdwOptimizer Construct(AfmdwOptions defaults, IEnumerable<AfmdwOptimizer.ParamGroup> groups) => _construct(defaults, groups);
}

/// <summary>
/// The presets (docs/algorithms.md §4) in one table: every preset's rule and defaults live here and nowhere else, as option settings
/// over the defaults declared in <see cref="OptionSchema"/> (AdamD's). The preset classes only name them.
/// <c>afm list</c> prints this table.
/// </summary>
public static class Presets
{
    // PyTorch's Adam as the base of the reference presets: ε outside the root, coupled L2 decay, σ 0.
    private const string Torch = "eps_mode=outside, decay=l2, weight_decay=0";

    private static PresetInfo P<T>(string name, PresetFamily family, string description, string baseSettings, string settings,
        Func<IEnumerable<AfmdwOptimizer.ParamGroup>, AfmdwOptions, T> construct) where T : AfmdwOptimizer
        => new(name, typeof(T), family, description, new[] { baseSettings, settings }, (d, groups) => construct(groups, d));

    private static PresetInfo P<T>(string name, PresetFamily family, string description, string settings,
        Func<IEnumerable<AfmdwOptimizer.ParamGroup>, AfmdwOptions, T> construct) where T : AfmdwOptimizer
        => P(name, family, description, "", settings, construct);

    private const PresetFamily D = PresetFamily.Afmdw, R = PresetFamily.AdamStyle;

    /// <summary>Every preset, in the order <c>afm list</c> shows them.</summary>
    public static readonly IReadOnlyList<PresetInfo> All = new[]
    {
        P<AdamD>("adamd", D, "Adam with decoupled weight decay (Ding, Xiao & Toh 2023): decay inside the preconditioner, ε inside the root", "", (g, d) => new AdamD(g, d)),
        P<AMSGradD>("amsgradd", D, "AdamD with the AMSGrad running-max second moment", "estimator=amsgrad", (g, d) => new AMSGradD(g, d)),
        P<YogiD>("yogid", D, "AdamD with Yogi's additive second moment (ε 1e-3, v₀ 1e-6)", "estimator=yogi, eps=1e-3, initial_accumulator=1e-6", (g, d) => new YogiD(g, d)),
        P<AdaBeliefD>("adabeliefd", D, "AdamD with AdaBelief's second moment of (g − m)²", "estimator=adabelief", (g, d) => new AdaBeliefD(g, d)),
        P<NAdamD>("nadamd", D, "AdamD with the Nesterov first-moment direction", "direction=nesterov", (g, d) => new NAdamD(g, d)),
        P<Afmdw>("afmdw", D, "the generic AFMDW rule: every choice is an option (defaults as AdamD)", "", (g, d) => new Afmdw(g, d)),
        P<Adam>("adam", R, "PyTorch Adam: coupled L2 weight_decay, ε outside (amsgrad, maximize, decoupled_weight_decay)", Torch, "", (g, d) => new Adam(g, d)),
        P<AdamW>("adamw", R, "PyTorch AdamW: x ← x(1 − ησ), then the Adam step (σ 1e-2)", Torch, "decay=decoupled, weight_decay=1e-2", (g, d) => new AdamW(g, d)),
        P<NAdam>("nadam", R, "PyTorch NAdam: μ-schedule momentum (ψ 4e-3), coupled L2", Torch, "lr=2e-3, direction=nadam", (g, d) => new NAdam(g, d)),
        P<NAdamW>("nadamw", R, "PyTorch NAdam with decoupled_weight_decay (σ 1e-2)", Torch, "lr=2e-3, direction=nadam, decay=decoupled, weight_decay=1e-2", (g, d) => new NAdamW(g, d)),
        P<RAdam>("radam", R, "PyTorch RAdam: rectified adaptive step, SGD-like while ρ_t ≤ 5, coupled L2", Torch, "rectify=true", (g, d) => new RAdam(g, d)),
        P<RAdamW>("radamw", R, "PyTorch RAdam with decoupled_weight_decay (σ 1e-2)", Torch, "rectify=true, decay=decoupled, weight_decay=1e-2", (g, d) => new RAdamW(g, d)),
        P<Adamax>("adamax", R, "PyTorch Adamax: infinity-norm second moment, coupled L2", Torch, "lr=2e-3, estimator=infinity", (g, d) => new Adamax(g, d)),
        P<SGD>("sgd", PresetFamily.Sgd, "PyTorch SGD: momentum, dampening, nesterov, coupled weight_decay (momentum 0)", Torch, "estimator=none, direction=sgd", (g, d) => new SGD(g, d)),
        P<AdaBelief>("adabelief", R, "official AdaBelief (adabelief_pytorch 0.2.0 defaults): (g − m)² second moment, ε 1e-16 outside, decoupled decay, rectified as RAdam", Torch, "estimator=adabelief, eps=1e-16, decay=decoupled, rectify=true", (g, d) => new AdaBelief(g, d)),
        P<Yogi>("yogi", R, "Yogi: additive second moment, ε 1e-3 outside, v₀ 1e-6, decoupled decay (η 1e-2)",
            Torch, "lr=1e-2, estimator=yogi, eps=1e-3, initial_accumulator=1e-6, decay=decoupled", (g, d) => new Yogi(g, d)),
    };

    /// <summary>The preset of that name (case-insensitive), or an error listing the valid names.</summary>
    public static PresetInfo Get(string name)
        => All.FirstOrDefault(p => p.Name.Equals((name ?? throw new ArgumentNullException(nameof(name), $"The optimizer name is null. Valid: {string.Join(", ", All.Select(p => p.Name))}.")).Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new ArgumentException($"Unknown optimizer '{name}'. Valid: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));

    /// <summary>The preset whose optimizer class is <paramref name="type"/>, or null (a user's own subclass).</summary>
    public static PresetInfo? OfType(Type type) => All.FirstOrDefault(p => p.Type == type);

    /// <summary>The preset's defaults with the given options laid over them (unset values inherit).</summary>
    public static AfmdwOptions Complete(string preset, AfmdwOptions? options)
    {
        var d = Get(preset).Defaults();
        if (options is null) return d;
        var o = options.Clone();
        o.FillFrom(d);
        return o;
    }
}
