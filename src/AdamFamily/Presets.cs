using AdamFamily.Rules;
using TorchSharp.Modules;

namespace AdamFamily;

/// <summary>A named preset: its optimizer class, a one-line description, its complete defaults and the option keys it accepts.</summary>
public sealed record PresetInfo(string Name, Type Type, string Description, IReadOnlyList<string> Keys,
    Func<AfmdwOptions> Defaults, Func<AfmdwOptions, IEnumerable<AfmdwOptimizer.ParamGroup>, AfmdwOptimizer> Construct);

/// <summary>
/// The presets of ALGORITHMS.md §3 in one table: every preset's rule and defaults live here and nowhere
/// else (the preset classes below only name them). <c>afm list</c> prints this table.
/// </summary>
public static class Presets
{
    private static readonly string[] Common = { "lr", "betas", "beta1", "beta2", "eps", "weight_decay", "maximize" };
    private static readonly string[] AfmdwKeys = Common.Concat(new[] { "estimator", "nesterov", "eps_mode", "decay", "bias_correction", "initial_accumulator", "theta_schedule", "tau_schedule" }).ToArray();

    /// <summary>AdamD's defaults, the base of every AFMDW preset: η 1e-3, β (0.9, 0.999), ε 1e-8 inside the root, σ 5e-4 preconditioned.</summary>
    private static AfmdwOptions Afmdw() => new()
    {
        LearningRate = 1e-3, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8, WeightDecay = 5e-4,
        Estimator = "adam", Direction = Direction.HeavyBall, EpsMode = EpsMode.Inside, Decay = DecayPlacement.Preconditioned,
        BiasCorrection = true, Maximize = false, InitialAccumulator = 0, ThetaSchedule = MomentSchedule.Constant, TauSchedule = MomentSchedule.Constant,
        Rectify = false, Momentum = 0, Dampening = 0, Nesterov = false, MomentumDecay = 4e-3,
    };

    /// <summary>PyTorch's Adam as the base of the PyTorch presets: ε outside, coupled L2 decay, σ 0.</summary>
    private static AfmdwOptions Torch() => With(Afmdw(), o => { o.EpsMode = EpsMode.Outside; o.Decay = DecayPlacement.L2; o.WeightDecay = 0; });

    private static AfmdwOptions With(AfmdwOptions o, Action<AfmdwOptions> change) { change(o); return o; }

    private static PresetInfo P<T>(string name, string description, string[] keys, Func<AfmdwOptions> defaults,
        Func<IEnumerable<AfmdwOptimizer.ParamGroup>, AfmdwOptions, T> construct) where T : AfmdwOptimizer
        => new(name, typeof(T), description, keys, defaults, (d, groups) => construct(groups, d));

    /// <summary>Every preset, in the order <c>afm list</c> shows them.</summary>
    public static readonly IReadOnlyList<PresetInfo> All = new[]
    {
        P<AdamD>("adamd", "Adam with decoupled weight decay (Ding, Xiao & Toh 2023): decay inside the preconditioner, ε inside the root", AfmdwKeys, Afmdw, (g, d) => new AdamD(g, d)),
        P<AMSGradD>("amsgradd", "AdamD with the AMSGrad running-max second moment", AfmdwKeys, () => With(Afmdw(), o => o.Estimator = "amsgrad"), (g, d) => new AMSGradD(g, d)),
        P<YogiD>("yogid", "AdamD with Yogi's additive second moment (ε 1e-3, v₀ 1e-6)", AfmdwKeys, () => With(Afmdw(), o => { o.Estimator = "yogi"; o.Eps = 1e-3; o.InitialAccumulator = 1e-6; }), (g, d) => new YogiD(g, d)),
        P<AdaBeliefD>("adabeliefd", "AdamD with AdaBelief's second moment of (g − m)²", AfmdwKeys, () => With(Afmdw(), o => o.Estimator = "adabelief"), (g, d) => new AdaBeliefD(g, d)),
        P<NAdamD>("nadamd", "AdamD with the Nesterov first-moment direction", AfmdwKeys, () => With(Afmdw(), o => o.Direction = Direction.Nesterov), (g, d) => new NAdamD(g, d)),
        P<Afmdw>("afmdw", "the generic AFMDW rule: every choice is an option (defaults as AdamD)", AfmdwKeys, Afmdw, (g, d) => new Afmdw(g, d)),
        P<Adam>("adam", "PyTorch Adam: coupled L2 weight_decay, ε outside (amsgrad, maximize, decoupled_weight_decay)", Common.Concat(new[] { "amsgrad", "decoupled_weight_decay" }).ToArray(), Torch, (g, d) => new Adam(g, d)),
        P<AdamW>("adamw", "PyTorch AdamW: x ← x(1 − ησ), then the Adam step (σ 1e-2)", Common.Concat(new[] { "amsgrad" }).ToArray(), () => With(Torch(), o => { o.Decay = DecayPlacement.Decoupled; o.WeightDecay = 1e-2; }), (g, d) => new AdamW(g, d)),
        P<NAdam>("nadam", "PyTorch NAdam: μ-schedule momentum (ψ 4e-3), coupled L2", Common.Concat(new[] { "momentum_decay", "decoupled_weight_decay" }).ToArray(), () => With(Torch(), o => { o.LearningRate = 2e-3; o.Direction = Direction.NAdam; }), (g, d) => new NAdam(g, d)),
        P<NAdamW>("nadamw", "PyTorch NAdam with decoupled_weight_decay (σ 1e-2)", Common.Concat(new[] { "momentum_decay" }).ToArray(), () => With(Torch(), o => { o.LearningRate = 2e-3; o.Direction = Direction.NAdam; o.Decay = DecayPlacement.Decoupled; o.WeightDecay = 1e-2; }), (g, d) => new NAdamW(g, d)),
        P<RAdam>("radam", "PyTorch RAdam: rectified adaptive step, SGD-like while ρ_t ≤ 5, coupled L2", Common.Concat(new[] { "decoupled_weight_decay" }).ToArray(), () => With(Torch(), o => o.Rectify = true), (g, d) => new RAdam(g, d)),
        P<RAdamW>("radamw", "PyTorch RAdam with decoupled_weight_decay (σ 1e-2)", Common, () => With(Torch(), o => { o.Rectify = true; o.Decay = DecayPlacement.Decoupled; o.WeightDecay = 1e-2; }), (g, d) => new RAdamW(g, d)),
        P<Adamax>("adamax", "PyTorch Adamax: infinity-norm second moment, coupled L2", Common, () => With(Torch(), o => { o.LearningRate = 2e-3; o.Estimator = "infinity"; }), (g, d) => new Adamax(g, d)),
        P<SGD>("sgd", "PyTorch SGD: momentum, dampening, nesterov, coupled weight_decay (momentum 0)", new[] { "lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize" },
            () => With(Torch(), o => { o.Estimator = "none"; o.Direction = Direction.Sgd; }), (g, d) => new SGD(g, d)),
        P<AdaBelief>("adabelief", "official AdaBelief (adabelief_pytorch 0.2.0 defaults): (g − m)² second moment, ε 1e-16 outside, decoupled decay, rectified as RAdam", Common, () => With(Torch(), o => { o.Estimator = "adabelief"; o.Eps = 1e-16; o.Decay = DecayPlacement.Decoupled; o.Rectify = true; }), (g, d) => new AdaBelief(g, d)),
        P<Yogi>("yogi", "Yogi: additive second moment, ε 1e-3 outside, v₀ 1e-6, decoupled decay (η 1e-2)", Common.Concat(new[] { "initial_accumulator" }).ToArray(),
            () => With(Torch(), o => { o.LearningRate = 1e-2; o.Estimator = "yogi"; o.Eps = 1e-3; o.InitialAccumulator = 1e-6; o.Decay = DecayPlacement.Decoupled; }), (g, d) => new Yogi(g, d)),
    };

    /// <summary>The preset of that name (case-insensitive), or an error listing the valid names.</summary>
    public static PresetInfo Get(string name)
        => All.FirstOrDefault(p => p.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new ArgumentException($"Unknown optimizer '{name}'. Valid: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));

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

// The preset classes: stable names (checkpoints carry the class name), nothing but constructors.
// Each takes parameters or parameter groups plus optional options; unset options are the preset's defaults.

/// <summary>
/// AdamD: Adam with decoupled weight decay from Ding, Xiao and Toh, "Adam-family Methods with Decoupled
/// Weight Decay in Deep Learning" (arXiv 2310.08858). The moments see only the loss gradient; the decay
/// σx joins the direction inside the preconditioner: x ← x − η·(v̂ + ε)^(−1/2)⊙(m̂ + σx). Unlike AdamW
/// (x ← x − η·(H⊙m̂ + σx), decay outside H), its fixed points are stationary for f + (σ/2)‖x‖²; unlike Adam
/// with L2 (g + σx fed into m and v), the moments are not polluted by the decay. Not to be confused with
/// "AdamD" = Adam without first-moment bias correction (St John 2021). Defaults: η 1e-3, β (0.9, 0.999),
/// ε 1e-8, σ 5e-4. Requires η·σ·ε^(−1/2) &lt; 1 (checked).
/// </summary>
public sealed class AdamD : AfmdwOptimizer
{
    public AdamD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adamd", options), new[] { new ParamGroup(parameters) }) { }
    public AdamD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adamd", defaults), groups) { }
}

/// <summary>AMSGradD: AdamD with v_max ← max(v_max, v).</summary>
public sealed class AMSGradD : AfmdwOptimizer
{
    public AMSGradD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("amsgradd", options), new[] { new ParamGroup(parameters) }) { }
    public AMSGradD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("amsgradd", defaults), groups) { }
}

/// <summary>YogiD: AdamD with Yogi's second moment (ε 1e-3, v₀ 1e-6).</summary>
public sealed class YogiD : AfmdwOptimizer
{
    public YogiD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("yogid", options), new[] { new ParamGroup(parameters) }) { }
    public YogiD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("yogid", defaults), groups) { }
}

/// <summary>AdaBeliefD: AdamD with AdaBelief's second moment.</summary>
public sealed class AdaBeliefD : AfmdwOptimizer
{
    public AdaBeliefD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adabeliefd", options), new[] { new ParamGroup(parameters) }) { }
    public AdaBeliefD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adabeliefd", defaults), groups) { }
}

/// <summary>NAdamD: AdamD with the Nesterov direction.</summary>
public sealed class NAdamD : AfmdwOptimizer
{
    public NAdamD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("nadamd", options), new[] { new ParamGroup(parameters) }) { }
    public NAdamD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("nadamd", defaults), groups) { }
}

/// <summary>The generic AFMDW rule under a stable preset name (every option settable).</summary>
public sealed class Afmdw : AfmdwOptimizer
{
    public Afmdw(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("afmdw", options), new[] { new ParamGroup(parameters) }) { }
    public Afmdw(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("afmdw", defaults), groups) { }
}

/// <summary>PyTorch's Adam (coupled L2 weight_decay; amsgrad; maximize). Same numbers as torch.optim.Adam.</summary>
public sealed class Adam : AfmdwOptimizer
{
    public Adam(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adam", options), new[] { new ParamGroup(parameters) }) { }
    public Adam(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adam", defaults), groups) { }
}

/// <summary>PyTorch's AdamW (weight_decay 1e-2 as in PyTorch, not TorchSharp's 0).</summary>
public sealed class AdamW : AfmdwOptimizer
{
    public AdamW(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adamw", options), new[] { new ParamGroup(parameters) }) { }
    public AdamW(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adamw", defaults), groups) { }
}

/// <summary>PyTorch's NAdam (η 2e-3, momentum_decay 4e-3, coupled L2).</summary>
public sealed class NAdam : AfmdwOptimizer
{
    public NAdam(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("nadam", options), new[] { new ParamGroup(parameters) }) { }
    public NAdam(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("nadam", defaults), groups) { }
}

/// <summary>PyTorch's NAdam with decoupled_weight_decay=True (σ 1e-2).</summary>
public sealed class NAdamW : AfmdwOptimizer
{
    public NAdamW(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("nadamw", options), new[] { new ParamGroup(parameters) }) { }
    public NAdamW(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("nadamw", defaults), groups) { }
}

/// <summary>PyTorch's RAdam (η 1e-3, lr applied once — not TorchSharp's lr² rectified step).</summary>
public sealed class RAdam : AfmdwOptimizer
{
    public RAdam(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("radam", options), new[] { new ParamGroup(parameters) }) { }
    public RAdam(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("radam", defaults), groups) { }
}

/// <summary>PyTorch's RAdam with decoupled_weight_decay=True (σ 1e-2).</summary>
public sealed class RAdamW : AfmdwOptimizer
{
    public RAdamW(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("radamw", options), new[] { new ParamGroup(parameters) }) { }
    public RAdamW(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("radamw", defaults), groups) { }
}

/// <summary>PyTorch's Adamax (η 2e-3).</summary>
public sealed class Adamax : AfmdwOptimizer
{
    public Adamax(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adamax", options), new[] { new ParamGroup(parameters) }) { }
    public Adamax(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adamax", defaults), groups) { }
}

/// <summary>PyTorch's SGD (η 1e-3, momentum 0, dampening 0, nesterov false, coupled weight_decay).</summary>
public sealed class SGD : AfmdwOptimizer
{
    public SGD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("sgd", options), new[] { new ParamGroup(parameters) }) { }
    public SGD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("sgd", defaults), groups) { }
}

/// <summary>
/// The official AdaBelief with adabelief_pytorch 0.2.0's defaults: ε 1e-16 outside the root, decoupled decay, and
/// rectify=True (RAdam's rectification: an SGD-with-momentum step while ρ_t ≤ 5, then the rectified adaptive step).
/// </summary>
public sealed class AdaBelief : AfmdwOptimizer
{
    public AdaBelief(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adabelief", options), new[] { new ParamGroup(parameters) }) { }
    public AdaBelief(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adabelief", defaults), groups) { }
}

/// <summary>Yogi (η 1e-2, ε 1e-3 outside the root, v₀ 1e-6, decoupled decay).</summary>
public sealed class Yogi : AfmdwOptimizer
{
    public Yogi(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("yogi", options), new[] { new ParamGroup(parameters) }) { }
    public Yogi(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("yogi", defaults), groups) { }
}
