using AdamFamily.Rules;

namespace AdamFamily;

// The option schema: every optimizer option is declared here once (key, type, range, default, which presets
// accept it, how descriptions show it), next to its typed property on AfmdwOptions. Option strings
// (Optimizers.Create, arm specs), validation, defaults, checkpoints and descriptions all read these
// declarations. Adding an option = one declaration + one property here, and the rule that uses it
// (Rules/UpdateRule.cs: a field read in UpdateRule.From, and its use in Plan). See README "Adding an option".

/// <summary>The declarations of every optimizer option, in checkpoint and description order.</summary>
public static class OptionSchema
{
    private static readonly OptionCodec<double> Number = OptionCodecs.Double;
    private static readonly OptionCodec<bool> Flag = OptionCodecs.Bool;
    private const PresetFamily Adaptive = PresetFamily.Afmdw | PresetFamily.AdamStyle;

    private static bool FiniteNonNegative(double x) => double.IsFinite(x) && x >= 0;
    private const string FiniteNonNegativeText = "must be a finite number ≥ 0";

    /// <summary>η, the learning rate (stored in TorchSharp's <c>LearningRate</c>; schedulers change it).</summary>
    public static readonly OptionDeclaration<double> LearningRate = new("lr", Number, 1e-3, "learning rate η", PresetFamily.All,
        inRange: FiniteNonNegative, rangeText: FiniteNonNegativeText);
    /// <summary>β₁ = 1 − θ, the first-moment decay.</summary>
    public static readonly OptionDeclaration<double> Beta1 = new("beta1", Number, 0.9, "first-moment decay β₁", Adaptive,
        inRange: b => b >= 0 && b < 1, rangeText: "must satisfy 0 ≤ beta1 < 1") { Relevant = o => o.Direction != Rules.Direction.Sgd };
    /// <summary>β₂ = 1 − τ, the second-moment decay.</summary>
    public static readonly OptionDeclaration<double> Beta2 = new("beta2", Number, 0.999, "second-moment decay β₂", Adaptive,
        inRange: b => b >= 0 && b < 1, rangeText: "must satisfy 0 ≤ beta2 < 1") { Relevant = o => o.Estimator != "none" };
    /// <summary>ε of the preconditioner (and of v for estimators that add it).</summary>
    public static readonly OptionDeclaration<double> Eps = new("eps", Number, 1e-8, "ε of the preconditioner", Adaptive,
        inRange: FiniteNonNegative, rangeText: FiniteNonNegativeText) { Relevant = o => o.Estimator != "none" };
    /// <summary>σ, the weight decay; where it enters is <see cref="Decay"/>.</summary>
    public static readonly OptionDeclaration<double> WeightDecay = new("weight_decay", Number, 5e-4, "weight decay σ", PresetFamily.All,
        inRange: FiniteNonNegative, rangeText: FiniteNonNegativeText);
    /// <summary>The second-moment estimator by registry name, or "none" (SGD).</summary>
    public static readonly OptionDeclaration<string> Estimator = new("estimator", OptionCodecs.Estimator, "adam", "second-moment estimator", PresetFamily.Afmdw,
        structural: true) { Relevant = o => o.Estimator != "none" };
    /// <summary>How the direction d is formed from m and g.</summary>
    public static readonly OptionDeclaration<Direction> Direction = new("direction", OptionCodecs.Enum<Direction>(), Rules.Direction.HeavyBall, "first-moment direction",
        structural: true);
    /// <summary>Where ε goes in the preconditioner.</summary>
    public static readonly OptionDeclaration<EpsMode> EpsMode = new("eps_mode", OptionCodecs.Enum<EpsMode>(), Rules.EpsMode.Inside, "ε inside or outside the root", PresetFamily.Afmdw,
        structural: true) { Relevant = o => o.Estimator is { } e && e != "none" && SecondMoments.Get(e).UsesEpsMode };
    /// <summary>Where the decay σx enters.</summary>
    public static readonly OptionDeclaration<DecayPlacement> Decay = new("decay", OptionCodecs.Enum<DecayPlacement>(), DecayPlacement.Preconditioned, "weight-decay placement", PresetFamily.Afmdw,
        structural: true);
    /// <summary>Whether m and v are bias-corrected.</summary>
    public static readonly OptionDeclaration<bool> BiasCorrection = new("bias_correction", Flag, true, "bias correction of m and v", PresetFamily.Afmdw,
        display: OptionDisplay.WhenNotDefault, structural: true);
    /// <summary>Maximise instead of minimise (g ← −g).</summary>
    public static readonly OptionDeclaration<bool> Maximize = new("maximize", Flag, false, "maximise the objective", PresetFamily.All,
        display: OptionDisplay.WhenNotDefault);
    /// <summary>Initial value of v (Yogi uses 1e-6).</summary>
    public static readonly OptionDeclaration<double> InitialAccumulator = new("initial_accumulator", Number, 0.0, "initial value of v", PresetFamily.Afmdw, new[] { "yogi" },
        inRange: FiniteNonNegative, rangeText: FiniteNonNegativeText, display: OptionDisplay.WhenNotDefault);
    /// <summary>The schedule of θ = 1 − β₁.</summary>
    public static readonly OptionDeclaration<MomentSchedule> ThetaSchedule = new("theta_schedule", OptionCodecs.Schedule, MomentSchedule.Constant, "schedule of θ = 1 − β₁", PresetFamily.Afmdw,
        display: OptionDisplay.WhenNotDefault, structural: true);
    /// <summary>The schedule of τ = 1 − β₂.</summary>
    public static readonly OptionDeclaration<MomentSchedule> TauSchedule = new("tau_schedule", OptionCodecs.Schedule, MomentSchedule.Constant, "schedule of τ = 1 − β₂", PresetFamily.Afmdw,
        display: OptionDisplay.WhenNotDefault, structural: true);
    /// <summary>RAdam's variance rectification (settable on <c>adabelief</c>, whose official form has <c>rectify=True</c>).</summary>
    public static readonly OptionDeclaration<bool> Rectify = new("rectify", Flag, false, "RAdam's rectification", PresetFamily.None, new[] { "adabelief" },
        display: OptionDisplay.WhenNotDefault, structural: true);
    /// <summary>SGD's momentum μ.</summary>
    public static readonly OptionDeclaration<double> Momentum = new("momentum", Number, 0.0, "SGD momentum μ", PresetFamily.Sgd,
        inRange: FiniteNonNegative, rangeText: FiniteNonNegativeText) { Relevant = o => o.Direction == Rules.Direction.Sgd };
    /// <summary>SGD's dampening.</summary>
    public static readonly OptionDeclaration<double> Dampening = new("dampening", Number, 0.0, "SGD dampening", PresetFamily.Sgd,
        inRange: d => d >= 0 && d <= 1, rangeText: "must satisfy 0 ≤ dampening ≤ 1") { Relevant = o => o.Direction == Rules.Direction.Sgd };
    /// <summary>SGD's Nesterov momentum (for the AFMDW presets, the key <c>nesterov</c> is an alias of <see cref="Direction"/>).</summary>
    public static readonly OptionDeclaration<bool> Nesterov = new("nesterov", Flag, false, "SGD Nesterov momentum", PresetFamily.Sgd,
        display: OptionDisplay.WhenNotDefault) { Relevant = o => o.Direction == Rules.Direction.Sgd };
    /// <summary>NAdam's ψ.</summary>
    public static readonly OptionDeclaration<double> MomentumDecay = new("momentum_decay", Number, 4e-3, "NAdam's ψ", PresetFamily.None, new[] { "nadam", "nadamw" },
        inRange: FiniteNonNegative, rangeText: FiniteNonNegativeText) { Relevant = o => o.Direction == Rules.Direction.NAdam };
    /// <summary>Whether steps refuse preconditioned decay with η·σ·max H ≥ 1.</summary>
    public static readonly OptionDeclaration<bool> StabilityCheck = new("stability_check", Flag, true, "refuse unstable preconditioned decay", PresetFamily.All,
        display: OptionDisplay.WhenNotDefault);

    /// <summary>How m, v (and v_max) are stored between steps: float32 (exact), bfloat16 or int8 (docs/low-precision-state.md).</summary>
    public static readonly OptionDeclaration<StatePrecision> StatePrecision = new("state_precision",
        OptionCodecs.Custom<StatePrecision>((key, text) => StatePrecisions.Parse(text, key), p => p.Name(),
            p => Enum.IsDefined(p) ? null : "must be float32, bfloat16 or int8"),
        Rules.StatePrecision.Float32, "storage of the moment buffers", Adaptive, display: OptionDisplay.WhenNotDefault, structural: true);

    /// <summary>Every option, in checkpoint and description order.</summary>
    public static readonly IReadOnlyList<OptionDeclaration> All = Indexed(
        LearningRate, Beta1, Beta2, Eps, WeightDecay, Estimator, Direction, EpsMode, Decay, BiasCorrection, Maximize,
        InitialAccumulator, ThetaSchedule, TauSchedule, Rectify, Momentum, Dampening, Nesterov, MomentumDecay, StabilityCheck, StatePrecision);

    /// <summary>Keys that set other options.</summary>
    public static readonly IReadOnlyList<OptionAlias> Aliases = new[]
    {
        new OptionAlias("betas", "(β₁, β₂)", Adaptive, null, text =>
        {
            var t = text.Trim();
            bool bracketed = (t.StartsWith('(') && t.EndsWith(')')) || (t.StartsWith('[') && t.EndsWith(']'));
            var parts = bracketed ? t[1..^1].Split(',') : Array.Empty<string>();
            var numbers = parts.Select(x => double.TryParse(x.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : double.NaN).ToArray();
            if (parts.Length != 2 || parts.Zip(numbers).Any(pn => double.IsNaN(pn.Second) && !pn.First.Trim().Equals("nan", StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"betas = '{text}': expected two numbers in brackets, e.g. betas=(0.9,0.999).", "betas");
            return new (OptionDeclaration, object)[] { (Beta1, numbers[0]), (Beta2, numbers[1]) };
        }),
        new OptionAlias("amsgrad", "PyTorch's amsgrad: estimator=amsgrad", PresetFamily.None, new[] { "adam", "adamw" },
            text => new (OptionDeclaration, object)[] { (Estimator, Flag.Parse("amsgrad", text) ? "amsgrad" : "adam") }),
        new OptionAlias("decoupled_weight_decay", "PyTorch's decoupled_weight_decay: decay=decoupled", PresetFamily.None, new[] { "adam", "nadam", "radam" },
            text => new (OptionDeclaration, object)[] { (Decay, Flag.Parse("decoupled_weight_decay", text) ? DecayPlacement.Decoupled : DecayPlacement.L2) }),
        new OptionAlias("nesterov", "AFMDW's Nesterov direction: direction=nesterov", PresetFamily.Afmdw, null,
            text => new (OptionDeclaration, object)[] { (Direction, Flag.Parse("nesterov", text) ? Rules.Direction.Nesterov : Rules.Direction.HeavyBall) }),
    };

    /// <summary>The option of that key (any preset), or null.</summary>
    public static OptionDeclaration? Find(string key) => All.FirstOrDefault(o => o.Key.Equals(key, StringComparison.OrdinalIgnoreCase));

    /// <summary>The keys a preset accepts in option strings, in schema order.</summary>
    public static IReadOnlyList<string> KeysOf(PresetInfo preset)
        => All.Where(o => o.AcceptedBy(preset)).Select(o => o.Key)
              .Concat(Aliases.Where(a => a.AcceptedBy(preset)).Select(a => a.Key))
              .Distinct().ToArray();

    /// <summary>
    /// What "key=value" sets for a preset (or, with <paramref name="preset"/> null, for a preset definition,
    /// where every option is settable). Throws an <see cref="ArgumentException"/> naming the key and value.
    /// </summary>
    public static IReadOnlyList<(OptionDeclaration Option, object Value)> Assignments(string key, string value, PresetInfo? preset)
    {
        var k = key.Trim().ToLowerInvariant();
        if (preset is null)
        {
            if (Find(k) is { } any) return new[] { (any, any.Parse(value)) };
            if (Aliases.FirstOrDefault(a => a.Key == k) is { } anyAlias) return anyAlias.Expand(value);
            throw new ArgumentException($"'{key}' is not an optimizer option. Options: {string.Join(", ", All.Select(o => o.Key))}.", key);
        }
        if (All.FirstOrDefault(o => o.Key == k && o.AcceptedBy(preset)) is { } option) return new[] { (option, option.Parse(value)) };
        if (Aliases.FirstOrDefault(a => a.Key == k && a.AcceptedBy(preset)) is { } alias) return alias.Expand(value);
        throw new ArgumentException($"'{key}' (= '{value}') is not an option of optimizer '{preset.Name}'. Its options: {string.Join(", ", KeysOf(preset).Append("nonfinite"))}.", key);
    }

    private static IReadOnlyList<OptionDeclaration> Indexed(params OptionDeclaration[] all)
    {
        for (int i = 0; i < all.Length; i++) all[i].Index = i;
        return all;
    }
}

/// <summary>The typed accessors of the declared options (one line per declaration above).</summary>
public sealed partial class AfmdwOptions
{
    /// <summary>β₁ (<c>beta1</c>).</summary>
    public double? Beta1 { get => Value(OptionSchema.Beta1); set => Put(OptionSchema.Beta1, value); }
    /// <summary>β₂ (<c>beta2</c>).</summary>
    public double? Beta2 { get => Value(OptionSchema.Beta2); set => Put(OptionSchema.Beta2, value); }
    /// <summary>ε (<c>eps</c>).</summary>
    public double? Eps { get => Value(OptionSchema.Eps); set => Put(OptionSchema.Eps, value); }
    /// <summary>σ, the weight decay (<c>weight_decay</c>); where it enters is <see cref="Decay"/>.</summary>
    public double? WeightDecay { get => Value(OptionSchema.WeightDecay); set => Put(OptionSchema.WeightDecay, value); }
    /// <summary>Second-moment estimator by registry name (adam, amsgrad, yogi, adabelief, infinity), or "none" for SGD.</summary>
    public string? Estimator { get => Reference(OptionSchema.Estimator); set => PutRef(OptionSchema.Estimator, value?.Trim().ToLowerInvariant()); }
    /// <summary>How the direction is formed (<c>direction</c>).</summary>
    public Direction? Direction { get => Value(OptionSchema.Direction); set => Put(OptionSchema.Direction, value); }
    /// <summary>Where ε goes in the preconditioner (<c>eps_mode</c>).</summary>
    public EpsMode? EpsMode { get => Value(OptionSchema.EpsMode); set => Put(OptionSchema.EpsMode, value); }
    /// <summary>Where the decay enters (<c>decay</c>).</summary>
    public DecayPlacement? Decay { get => Value(OptionSchema.Decay); set => Put(OptionSchema.Decay, value); }
    /// <summary>Bias correction of m and v (<c>bias_correction</c>).</summary>
    public bool? BiasCorrection { get => Value(OptionSchema.BiasCorrection); set => Put(OptionSchema.BiasCorrection, value); }
    /// <summary>Maximise the objective (<c>maximize</c>).</summary>
    public bool? Maximize { get => Value(OptionSchema.Maximize); set => Put(OptionSchema.Maximize, value); }
    /// <summary>Initial value of v (<c>initial_accumulator</c>; Yogi uses 1e-6).</summary>
    public double? InitialAccumulator { get => Value(OptionSchema.InitialAccumulator); set => Put(OptionSchema.InitialAccumulator, value); }
    /// <summary>The schedule of θ = 1 − β₁ (<c>theta_schedule</c>).</summary>
    public MomentSchedule? ThetaSchedule { get => Reference(OptionSchema.ThetaSchedule); set => PutRef(OptionSchema.ThetaSchedule, value); }
    /// <summary>The schedule of τ = 1 − β₂ (<c>tau_schedule</c>).</summary>
    public MomentSchedule? TauSchedule { get => Reference(OptionSchema.TauSchedule); set => PutRef(OptionSchema.TauSchedule, value); }
    /// <summary>RAdam's rectification (<c>rectify</c>).</summary>
    public bool? Rectify { get => Value(OptionSchema.Rectify); set => Put(OptionSchema.Rectify, value); }
    /// <summary>SGD's momentum μ (<c>momentum</c>).</summary>
    public double? Momentum { get => Value(OptionSchema.Momentum); set => Put(OptionSchema.Momentum, value); }
    /// <summary>SGD's dampening (<c>dampening</c>).</summary>
    public double? Dampening { get => Value(OptionSchema.Dampening); set => Put(OptionSchema.Dampening, value); }
    /// <summary>SGD's Nesterov momentum (<c>nesterov</c> for SGD).</summary>
    public bool? Nesterov { get => Value(OptionSchema.Nesterov); set => Put(OptionSchema.Nesterov, value); }
    /// <summary>NAdam's ψ (<c>momentum_decay</c>).</summary>
    public double? MomentumDecay { get => Value(OptionSchema.MomentumDecay); set => Put(OptionSchema.MomentumDecay, value); }
    /// <summary>Whether steps refuse preconditioned decay with η·σ·max H ≥ 1 (<c>stability_check</c>; default true).</summary>
    public bool? StabilityCheck { get => Value(OptionSchema.StabilityCheck); set => Put(OptionSchema.StabilityCheck, value); }
    /// <summary>How m, v (and v_max) are stored (<c>state_precision</c>: float32, bfloat16, int8). Fixed once the state exists; a checkpoint of another precision does not load.</summary>
    public StatePrecision? StatePrecision { get => Value(OptionSchema.StatePrecision); set => Put(OptionSchema.StatePrecision, value); }
}
