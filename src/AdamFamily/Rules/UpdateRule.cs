using System.Globalization;

namespace AdamFamily.Rules;

/// <summary>How the first-moment direction d is formed from m and g (ALGORITHMS.md §2 and §3).</summary>
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
    public Direction Direction { get; init; } = Direction.HeavyBall;
    /// <summary>The second-moment estimator; null for rules without one (SGD).</summary>
    public SecondMoment? Estimator { get; init; } = SecondMoments.Get("adam");
    public EpsMode EpsMode { get; init; } = EpsMode.Inside;
    public DecayPlacement Decay { get; init; } = DecayPlacement.Preconditioned;
    public bool BiasCorrection { get; init; } = true;
    public bool Maximize { get; init; }
    public MomentSchedule ThetaSchedule { get; init; } = MomentSchedule.Constant;
    public MomentSchedule TauSchedule { get; init; } = MomentSchedule.Constant;
    /// <summary>RAdam's variance rectification (SGD-like steps while ρ_t ≤ 5).</summary>
    public bool Rectify { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; init; }
    /// <summary>SGD momentum μ (Direction.Sgd).</summary>
    public double Momentum { get; init; }
    /// <summary>SGD dampening (Direction.Sgd).</summary>
    public double Dampening { get; init; }
    /// <summary>Nesterov momentum for Direction.Sgd.</summary>
    public bool Nesterov { get; init; }
    /// <summary>NAdam's ψ.</summary>
    public double MomentumDecay { get; init; } = 4e-3;
    /// <summary>How m, v (and v_max) are stored between steps (float32 = the parameter's dtype, exact).</summary>
    public StatePrecision StatePrecision { get; init; }

    /// <summary>Whether the rule keeps a first-moment buffer m.</summary>
    public bool HasFirstMoment => Direction != Direction.Sgd || Momentum != 0;

    /// <summary>The preconditioner kind the estimator and ε placement imply (before RAdam's per-step switch).</summary>
    public Preconditioner Preconditioner => Estimator switch
    {
        null => Preconditioner.Identity,
        { Name: "infinity" } => Preconditioner.InverseNorm,
        _ => EpsMode == EpsMode.Inside ? Preconditioner.EpsInside : Preconditioner.EpsOutside,
    };

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
            VEps = Estimator?.Name is "adabelief" or "infinity" ? Eps : 0.0,
            Preconditioner = Preconditioner,
            VScale = EpsMode == EpsMode.Inside ? 1 / bc2 : 1 / Math.Sqrt(bc2),
            PrecondEps = Eps,
            StepSize = lr,
            DecayInside = Decay == DecayPlacement.Preconditioned ? WeightDecay : 0.0,
            DecayFactor = Decay == DecayPlacement.Decoupled ? 1 - lr * WeightDecay : 1.0,
        };

        switch (Direction)
        {
            case Direction.HeavyBall:
                c = c with { DirM = 1 / bc1, DirG = 0 };
                break;
            case Direction.Nesterov:
                c = BiasCorrection
                    ? c with { DirM = beta1 / (1 - b1 * beta1), DirG = (1 - beta1) / (1 - b1) }
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

    /// <summary>A one-line description of the rule's structure, for listings and error messages.</summary>
    public string Describe()
    {
        var parts = new List<string> { $"direction={Direction}" };
        if (Estimator is not null) parts.Add($"estimator={Estimator.Name}");
        if (Estimator is not null && Estimator.Name != "infinity") parts.Add($"eps_mode={EpsMode}");
        parts.Add($"decay={Decay}");
        if (!BiasCorrection) parts.Add("bias_correction=false");
        if (Rectify) parts.Add("rectify");
        if (!ThetaSchedule.IsConstant) parts.Add($"theta_schedule={ThetaSchedule}");
        if (!TauSchedule.IsConstant) parts.Add($"tau_schedule={TauSchedule}");
        if (StatePrecision != StatePrecision.Float32) parts.Add($"state_precision={StatePrecision.Name()}");
        return string.Join(", ", parts).ToLowerInvariant();
    }
}

/// <summary>
/// A moment step-size schedule for θ = 1 − β₁ (or τ = 1 − β₂): constant, diminishing
/// θ_t = θ₀(1 + (t − 1)/T)^(−p) (what the convergence theory asks for), or lr-tied θ_t = θ₀·η_t/η₀.
/// Parsed from and printed as "constant", "diminishing T=5 p=0.7", "lr-tied".
/// </summary>
public sealed record MomentSchedule(MomentScheduleKind Kind, double T = 1, double P = 0)
{
    public static readonly MomentSchedule Constant = new(MomentScheduleKind.Constant);
    public static readonly MomentSchedule LrTied = new(MomentScheduleKind.LrTied);
    public static MomentSchedule Diminishing(double t, double p) => new(MomentScheduleKind.Diminishing, t, p);

    public bool IsConstant => Kind == MomentScheduleKind.Constant;

    /// <summary>The rate θ_t for base rate θ₀ at step t, given η_t/η₀.</summary>
    public double Rate(double baseRate, long t, double lrRatio) => Kind switch
    {
        MomentScheduleKind.Diminishing => baseRate * Math.Pow(1 + (t - 1) / T, -P),
        MomentScheduleKind.LrTied => baseRate * lrRatio,
        _ => baseRate,
    };

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
            foreach (var tok in s["diminishing".Length..].Split(new[] { ' ', ';', '/' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = tok.Split('=', 2);
                if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var x))
                    throw new ArgumentException($"{optionName}: cannot read '{tok}' in '{text}'; expected 'diminishing T=<number> p=<number>'.", optionName);
                if (kv[0] == "t") t = x; else if (kv[0] == "p") p = x;
                else throw new ArgumentException($"{optionName}: unknown field '{kv[0]}' in '{text}'; expected T and p.", optionName);
            }
            if (!(t > 0)) throw new ArgumentOutOfRangeException(optionName, t, $"{optionName}: T must be > 0 (got {t}).");
            if (!(p >= 0)) throw new ArgumentOutOfRangeException(optionName, p, $"{optionName}: p must be ≥ 0 (got {p}).");
            return Diminishing(t, p);
        }
        throw new ArgumentException($"{optionName}: unknown schedule '{text}'; expected constant, lr-tied or 'diminishing T=<T> p=<p>'.", optionName);
    }
}

public enum MomentScheduleKind { Constant, Diminishing, LrTied }
