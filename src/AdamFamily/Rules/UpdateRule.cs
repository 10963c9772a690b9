using System.Globalization;

namespace AdamFamily.Rules;

/// <summary>How the first-moment direction d is formed from m and g (docs/algorithms.md §2 and §2.5).</summary>
public enum Direction
{
    /// <summary>d = m̂ (heavy ball).</summary>
    HeavyBall,
    /// <summary>d = β₁m/(1 − B₁β₁) + (1 − β₁)g/(1 − B₁) (AFMDW Nesterov).</summary>
    Nesterov,
    /// <summary>PyTorch NAdam's μ-schedule (momentum_decay ψ).</summary>
    NAdam,
    /// <summary>PyTorch SGD's momentum buffer (dampening; nesterov when <see cref="UpdateRule.Nesterov"/>).</summary>
    Sgd,
}

/// <summary>Where the weight-decay term σx enters the update.</summary>
public enum DecayPlacement
{
    /// <summary>x ← x − η·H⊙(d + σx): inside the preconditioner (AFMDW, AdamD). Fixed points satisfy ∇f(x) + σx = 0.</summary>
    Preconditioned,
    /// <summary>x ← x − η·(H⊙d + σx) = x(1 − ησ) − ηH⊙d (AdamW).</summary>
    Decoupled,
    /// <summary>g ← g + σx before the moments (Adam's coupled weight_decay).</summary>
    L2,
    /// <summary>No weight decay.</summary>
    None,
}

/// <summary>Where ε goes in the preconditioner.</summary>
public enum EpsMode
{
    /// <summary>H = (v̂ + ε)^(−1/2) (AFMDW default).</summary>
    Inside,
    /// <summary>H = 1/(√v̂ + ε) (PyTorch's Adam).</summary>
    Outside,
}

/// <summary>
/// A fully resolved update rule: the structural choices and hyper-parameters of one parameter group.
/// <see cref="Plan"/> turns it, the parameter's step scalars and the current learning rate into the
/// element-wise coefficients every execution path applies.
/// </summary>
public sealed record UpdateRule
{
    /// <summary>How the direction d is formed from m and g.</summary>
    public Direction Direction { get; init; }
    /// <summary>The second-moment estimator; null for rules without one (SGD).</summary>
    public SecondMoment? Estimator { get; init; }
    /// <summary>Where ε goes in the preconditioner (for estimators that use it, see <see cref="SecondMoment.UsesEpsMode"/>).</summary>
    public EpsMode EpsMode { get; init; }
    /// <summary>Where the weight decay enters.</summary>
    public DecayPlacement Decay { get; init; }
    /// <summary>Whether m and v are bias-corrected.</summary>
    public bool BiasCorrection { get; init; }
    /// <summary>Maximise instead of minimise (g ← −g).</summary>
    public bool Maximize { get; init; }
    /// <summary>The schedule of θ = 1 − β₁.</summary>
    public MomentSchedule ThetaSchedule { get; init; } = MomentSchedule.Constant;
    /// <summary>The schedule of τ = 1 − β₂.</summary>
    public MomentSchedule TauSchedule { get; init; } = MomentSchedule.Constant;
    /// <summary>RAdam's variance rectification (SGD-like steps while ρ_t ≤ 5).</summary>
    public bool Rectify { get; init; }
    /// <summary>β₁.</summary>
    public double Beta1 { get; init; }
    /// <summary>β₂.</summary>
    public double Beta2 { get; init; }
    /// <summary>ε.</summary>
    public double Eps { get; init; }
    /// <summary>σ.</summary>
    public double WeightDecay { get; init; }
    /// <summary>SGD momentum μ (Direction.Sgd).</summary>
    public double Momentum { get; init; }
    /// <summary>SGD dampening (Direction.Sgd).</summary>
    public double Dampening { get; init; }
    /// <summary>Nesterov momentum for Direction.Sgd.</summary>
    public bool Nesterov { get; init; }
    /// <summary>NAdam's ψ.</summary>
    public double MomentumDecay { get; init; }
    /// <summary>How m, v (and v_max) are stored between steps (float32 = the parameter's dtype, exact).</summary>
    public StatePrecision StatePrecision { get; init; }
    /// <summary>The options the rule was built from (for <see cref="Describe"/>); null for a rule built by hand.</summary>
    public AfmdwOptions? Options { get; init; }

    /// <summary>
    /// The rule of complete options: the one place that reads the declared options into the rule (every value
    /// and default comes from <see cref="OptionSchema"/> and <see cref="Presets"/>, none from here).
    /// </summary>
    public static UpdateRule From(AfmdwOptions o)
    {
        var estimator = o.Required(OptionSchema.Estimator);
        return new UpdateRule
        {
            Direction = o.Required(OptionSchema.Direction),
            Estimator = estimator.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : SecondMoments.Get(estimator),
            EpsMode = o.Required(OptionSchema.EpsMode),
            Decay = o.Required(OptionSchema.Decay),
            BiasCorrection = o.Required(OptionSchema.BiasCorrection),
            Maximize = o.Required(OptionSchema.Maximize),
            ThetaSchedule = o.Required(OptionSchema.ThetaSchedule),
            TauSchedule = o.Required(OptionSchema.TauSchedule),
            Rectify = o.Required(OptionSchema.Rectify),
            Beta1 = o.Required(OptionSchema.Beta1),
            Beta2 = o.Required(OptionSchema.Beta2),
            Eps = o.Required(OptionSchema.Eps),
            WeightDecay = o.Required(OptionSchema.WeightDecay),
            Momentum = o.Required(OptionSchema.Momentum),
            Dampening = o.Required(OptionSchema.Dampening),
            Nesterov = o.Required(OptionSchema.Nesterov),
            MomentumDecay = o.Required(OptionSchema.MomentumDecay),
            StatePrecision = o.Required(OptionSchema.StatePrecision),
            Options = o.Clone(),
        };
    }

    /// <summary>The checks that involve several options (each value's own range is checked by its declaration).</summary>
    internal void Validate(string where)
    {
        static void Require(bool ok, string name, object? value, string rule, string where)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{where}: {name} = {value} is out of range: {rule}.");
        }
        // ε = 0 (or an ε that float32 state rounds to 0) makes a coordinate whose gradient and moments are 0 compute 0/0 = NaN,
        // wherever ε sits; and preconditioned decay would be unbounded.
        if (Estimator is not null)
            Require(Eps > 0 && (float)Eps > 0, "eps", Eps, "must be > 0, and not 0 in float32 (at least 1.4e-45): with ε = 0 a coordinate whose gradient and moments are 0 computes 0/0 = NaN", where);
        if (Direction == Direction.Sgd && Nesterov)
            Require(Momentum > 0 && Dampening == 0, "nesterov", true, "Nesterov momentum requires momentum > 0 and dampening = 0", where);
        if (Estimator is null && Decay is DecayPlacement.Preconditioned)
            Require(false, "decay", "preconditioned", "a rule without a second moment has no preconditioner; use l2 or decoupled", where);
    }

    /// <summary>Whether the rule keeps a first-moment buffer m.</summary>
    public bool HasFirstMoment => Direction != Direction.Sgd || Momentum != 0;

    /// <summary>The preconditioner kind the estimator and ε placement imply (before RAdam's per-step switch).</summary>
    public Preconditioner Preconditioner => Estimator?.PreconditionerFor(EpsMode) ?? Preconditioner.Identity;

    /// <summary>
    /// The coefficients of step t = scalars.Step + 1 at learning rate <paramref name="lr"/>
    /// (<paramref name="initialLr"/> is η₀ for the lr-tied schedule), and the scalars after it.
    /// Pure: the caller commits the returned scalars only once the step has been applied.
    /// </summary>
    public (StepCoefficients Coefficients, StepScalars Next) Plan(StepScalars scalars, double lr, double initialLr)
    {
        long t = scalars.Step + 1;
        double lrRatio = initialLr > 0 ? lr / initialLr : 1.0;
        double beta1 = 1 - ThetaSchedule.Rate(1 - Beta1, t, lrRatio);
        double beta2 = 1 - TauSchedule.Rate(1 - Beta2, t, lrRatio);
        // Constant schedules use β^t exactly as PyTorch does; others carry the product of the β's used.
        double b1 = ThetaSchedule.IsConstant ? Math.Pow(Beta1, t) : scalars.Beta1Product * beta1;
        double b2 = TauSchedule.IsConstant ? Math.Pow(Beta2, t) : scalars.Beta2Product * beta2;
        double bc1 = BiasCorrection ? 1 - b1 : 1.0;
        double bc2 = BiasCorrection ? 1 - b2 : 1.0;
        // bc = 0 only under the lr-tied schedule when every step so far had η = 0 (θ = 0): m and v are
        // still exactly their initial values and carry no information, so their corrected values are 0.
        static double Div(double a, double b) => b == 0 ? 0 : a / b;
        double muProduct = scalars.MuProduct;

        var c = new StepCoefficients
        {
            GradScale = Maximize ? -1.0 : 1.0,
            L2 = Decay == DecayPlacement.L2 ? WeightDecay : 0.0,
            HasFirstMoment = HasFirstMoment,
            MDecay = beta1,
            MGain = 1 - beta1,
            VDecay = beta2,
            VGain = 1 - beta2,
            VEps = Estimator is { EpsInV: true } ? Eps : 0.0,
            Preconditioner = Preconditioner,
            VScale = EpsMode == EpsMode.Inside ? Div(1, bc2) : Div(1, Math.Sqrt(bc2)),
            PrecondEps = Eps,
            StepSize = lr,
            DecayInside = Decay == DecayPlacement.Preconditioned ? WeightDecay : 0.0,
            DecayFactor = Decay == DecayPlacement.Decoupled ? 1 - lr * WeightDecay : 1.0,
        };

        switch (Direction)
        {
            case Direction.HeavyBall:
                c = c with { DirM = Div(1, bc1), DirG = 0 };
                break;
            case Direction.Nesterov:
                c = BiasCorrection
                    ? c with { DirM = Div(beta1, 1 - b1 * beta1), DirG = Div(1 - beta1, 1 - b1) }
                    : c with { DirM = beta1, DirG = 1 - beta1 };
                break;
            case Direction.NAdam:
                double mu = Beta1 * (1 - 0.5 * Math.Pow(0.96, t * MomentumDecay));
                double muNext = Beta1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * MomentumDecay));
                // PyTorch keeps mu_product in a float32 scalar tensor (the default scalar dtype), so the
                // product is rounded to float32 each step; matching it is what float64 parity needs.
                muProduct = (float)muProduct * (float)mu;
                c = c with { DirG = (1 - mu) / (1 - muProduct), DirM = muNext / (1 - muProduct * muNext) };
                break;
            case Direction.Sgd:
                bool first = t == 1;
                c = c with
                {
                    MDecay = first ? 0 : Momentum,
                    MGain = first ? 1 : 1 - Dampening,
                    DirM = !HasFirstMoment ? 0 : Nesterov ? Momentum : 1,
                    DirG = !HasFirstMoment ? 1 : Nesterov ? 1 : 0,
                };
                break;
        }

        if (Rectify)
        {
            // RAdam (PyTorch's form): rectified adaptive step while ρ_t > 5, plain momentum step before.
            double rhoInf = 2 / (1 - Beta2) - 1;
            double beta2t = Math.Pow(Beta2, t);
            double rhoT = rhoInf - 2 * t * beta2t / (1 - beta2t);
            if (rhoT > 5)
            {
                double r = Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
                c = c with { Preconditioner = Preconditioner.EpsOutside, VScale = 1.0, StepSize = lr * r * Math.Sqrt(1 - beta2t) };
            }
            else
            {
                c = c with { Preconditioner = Preconditioner.Identity };
            }
        }

        return (c, new StepScalars(t, b1, b2, muProduct));
    }

    /// <summary>A one-line description of the rule's structure (the structural options, as their declarations say), for listings and error messages.</summary>
    public string Describe() => Options?.Describe(structural: true) ?? $"direction={Direction}, estimator={Estimator?.Name ?? "none"}, decay={Decay}".ToLowerInvariant();
}

/// <summary>
/// A moment step-size schedule for θ = 1 − β₁ (or τ = 1 − β₂): constant, diminishing
/// θ_t = θ₀(1 + (t − 1)/T)^(−p) (what the convergence theory asks for), or lr-tied θ_t = min(1, θ₀·η_t/η₀)
/// (clamped so β stays in [0, 1) when the learning rate rises above its initial value).
/// Parsed from and printed as "constant", "diminishing T=5 p=0.7", "lr-tied".
/// </summary>
/// <param name="Kind">The kind of schedule.</param>
/// <param name="T">The diminishing schedule's time scale.</param>
/// <param name="P">The diminishing schedule's power.</param>
public sealed record MomentSchedule(MomentScheduleKind Kind, double T = 1, double P = 0)
{
    /// <summary>θ_t = θ₀.</summary>
    public static readonly MomentSchedule Constant = new(MomentScheduleKind.Constant);
    /// <summary>θ_t = min(1, θ₀·η_t/η₀).</summary>
    public static readonly MomentSchedule LrTied = new(MomentScheduleKind.LrTied);
    /// <summary>θ_t = θ₀(1 + (t − 1)/T)^(−p).</summary>
    public static MomentSchedule Diminishing(double t, double p) => new(MomentScheduleKind.Diminishing, t, p);

    /// <summary>Whether θ_t = θ₀ for every step.</summary>
    public bool IsConstant => Kind == MomentScheduleKind.Constant;

    /// <summary>The rate θ_t for base rate θ₀ at step t, given η_t/η₀.</summary>
    public double Rate(double baseRate, long t, double lrRatio) => Kind switch
    {
        MomentScheduleKind.Diminishing => baseRate * Math.Pow(1 + (t - 1) / T, -P),
        // Clamped to 1 (β = 0): a learning rate above η₀/θ₀ (warm-up, OneCycleLR) would otherwise give β < 0.
        MomentScheduleKind.LrTied => Math.Min(1.0, baseRate * lrRatio),
        _ => baseRate,
    };

    /// <summary>The schedule as option text ("constant", "lr-tied", "diminishing T=5 p=0.7").</summary>
    public override string ToString() => Kind switch
    {
        MomentScheduleKind.Diminishing => string.Create(CultureInfo.InvariantCulture, $"diminishing T={T} p={P}"),
        MomentScheduleKind.LrTied => "lr-tied",
        _ => "constant",
    };

    /// <summary>Parses "constant", "lr-tied" or "diminishing T=&lt;T&gt; p=&lt;p&gt;" (T &gt; 0, p ≥ 0).</summary>
    public static MomentSchedule Parse(string text, string optionName = "schedule")
    {
        var s = text.Trim().ToLowerInvariant();
        if (s is "constant" or "") return Constant;
        if (s is "lr-tied" or "lr_tied" or "lrtied") return LrTied;
        if (s.StartsWith("diminishing", StringComparison.Ordinal))
        {
            double t = 1, p = 0.5;
            var seen = new HashSet<string>();
            foreach (var tok in s["diminishing".Length..].Split(new[] { ' ', ';', '/' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = tok.Split('=', 2);
                if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var x))
                    throw new ArgumentException($"{optionName}: cannot read '{tok}' in '{text}'; expected 'diminishing T=<number> p=<number>'.", optionName);
                if (kv[0] is not ("t" or "p"))
                    throw new ArgumentException($"{optionName}: unknown field '{kv[0]}' in '{text}'; expected T and p.", optionName);
                if (!seen.Add(kv[0])) throw new ArgumentException($"{optionName}: {kv[0].ToUpperInvariant()} is given twice in '{text}'.", optionName);
                if (kv[0] == "t") t = x; else p = x;
            }
            if (!(t > 0 && double.IsFinite(t))) throw new ArgumentOutOfRangeException(optionName, t, $"{optionName}: T must be a finite number > 0 (got {t}).");
            if (!(p >= 0 && double.IsFinite(p))) throw new ArgumentOutOfRangeException(optionName, p, $"{optionName}: p must be a finite number ≥ 0 (got {p}).");
            return Diminishing(t, p);
        }
        throw new ArgumentException($"{optionName}: unknown schedule '{text}'; expected constant, lr-tied or 'diminishing T=<T> p=<p>'.", optionName);
    }
}

/// <summary>The kinds of <see cref="MomentSchedule"/>.</summary>
public enum MomentScheduleKind
{
    /// <summary>θ_t = θ₀.</summary>
    Constant,
    /// <summary>θ_t = θ₀(1 + (t − 1)/T)^(−p).</summary>
    Diminishing,
    /// <summary>θ_t = min(1, θ₀·η_t/η₀).</summary>
    LrTied,
}
