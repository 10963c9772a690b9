using TorchSharp.Modules;

namespace AdamFamily;

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
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public AdamD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adamd", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public AdamD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adamd", defaults), groups) { }
}

/// <summary>AMSGradD: AdamD with v_max ← max(v_max, v).</summary>
public sealed class AMSGradD : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public AMSGradD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("amsgradd", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public AMSGradD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("amsgradd", defaults), groups) { }
}

/// <summary>YogiD: AdamD with Yogi's second moment (ε 1e-3, v₀ 1e-6).</summary>
public sealed class YogiD : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public YogiD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("yogid", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public YogiD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("yogid", defaults), groups) { }
}

/// <summary>AdaBeliefD: AdamD with AdaBelief's second moment.</summary>
public sealed class AdaBeliefD : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public AdaBeliefD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adabeliefd", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public AdaBeliefD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adabeliefd", defaults), groups) { }
}

/// <summary>NAdamD: AdamD with the Nesterov direction.</summary>
public sealed class NAdamD : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public NAdamD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("nadamd", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public NAdamD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("nadamd", defaults), groups) { }
}

/// <summary>The generic AFMDW rule under a stable preset name (every option settable).</summary>
public sealed class Afmdw : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public Afmdw(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("afmdw", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public Afmdw(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("afmdw", defaults), groups) { }
}

/// <summary>PyTorch's Adam (coupled L2 weight_decay; amsgrad; maximize). Same numbers as torch.optim.Adam.</summary>
public sealed class Adam : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public Adam(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adam", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public Adam(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adam", defaults), groups) { }
}

/// <summary>PyTorch's AdamW (weight_decay 1e-2 as in PyTorch, not TorchSharp's 0).</summary>
public sealed class AdamW : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public AdamW(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adamw", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adamw", defaults), groups) { }
}

/// <summary>PyTorch's NAdam (η 2e-3, momentum_decay 4e-3, coupled L2).</summary>
public sealed class NAdam : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public NAdam(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("nadam", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public NAdam(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("nadam", defaults), groups) { }
}

/// <summary>PyTorch's NAdam with decoupled_weight_decay=True (σ 1e-2).</summary>
public sealed class NAdamW : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public NAdamW(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("nadamw", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public NAdamW(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("nadamw", defaults), groups) { }
}

/// <summary>PyTorch's RAdam (η 1e-3, lr applied once — not TorchSharp's lr² rectified step).</summary>
public sealed class RAdam : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public RAdam(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("radam", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public RAdam(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("radam", defaults), groups) { }
}

/// <summary>PyTorch's RAdam with decoupled_weight_decay=True (σ 1e-2).</summary>
public sealed class RAdamW : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public RAdamW(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("radamw", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public RAdamW(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("radamw", defaults), groups) { }
}

/// <summary>PyTorch's Adamax (η 2e-3).</summary>
public sealed class Adamax : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public Adamax(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adamax", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public Adamax(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adamax", defaults), groups) { }
}

/// <summary>PyTorch's SGD (η 1e-3, momentum 0, dampening 0, nesterov false, coupled weight_decay).</summary>
public sealed class SGD : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public SGD(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("sgd", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public SGD(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("sgd", defaults), groups) { }
}

/// <summary>
/// The official AdaBelief with adabelief_pytorch 0.2.0's defaults: ε 1e-16 outside the root, decoupled decay, and
/// rectify=True (RAdam's rectification: a momentum-SGD step while ρ_t ≤ 5, then the rectified adaptive step).
/// </summary>
public sealed class AdaBelief : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public AdaBelief(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("adabelief", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public AdaBelief(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("adabelief", defaults), groups) { }
}

/// <summary>Yogi (η 1e-2, ε 1e-3 outside the root, v₀ 1e-6, decoupled decay).</summary>
public sealed class Yogi : AfmdwOptimizer
{
    /// <summary>The preset over <paramref name="parameters"/>; unset <paramref name="options"/> take the preset\'s defaults.</summary>
    public Yogi(IEnumerable<Parameter> parameters, AfmdwOptions? options = null) : base(Presets.Complete("yogi", options), new[] { new ParamGroup(parameters) }) { }
    /// <summary>The preset over parameter <paramref name="groups"/>; unset <paramref name="defaults"/> take the preset\'s, and groups inherit them.</summary>
    public Yogi(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null) : base(Presets.Complete("yogi", defaults), groups) { }
}
