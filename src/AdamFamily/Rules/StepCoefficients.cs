namespace AdamFamily.Rules;

/// <summary>What the preconditioner H does with the second-moment value u the estimator hands it.</summary>
public enum Preconditioner
{
    /// <summary>H = (u·VScale + ε)^(−1/2): ε inside the root, the AFMDW default.</summary>
    EpsInside,
    /// <summary>H = 1/(√u·VScale + ε): ε outside the root, PyTorch's Adam.</summary>
    EpsOutside,
    /// <summary>H = 1/u: Adamax's infinity norm (u already holds |g| + ε).</summary>
    InverseNorm,
    /// <summary>H = 1: SGD, and RAdam's un-rectified early steps.</summary>
    Identity,
}

/// <summary>
/// The per-step scalars of one update, computed once per parameter group and step count by
/// <see cref="UpdateRule.Plan"/>. Every execution path (tensor ops, fused CPU kernel) applies exactly
/// this element-wise program, with x, m, v the values before the step:
/// <code>
///   g  = GradScale·grad + L2·x
///   m  = MDecay·m + MGain·g                    (if HasFirstMoment)
///   u  = estimator(v, vMax, g, m)               (VDecay, VGain, VEps)
///   d  = DirM·m + DirG·g
///   h  = preconditioner(u)                      (VScale, PrecondEps)
///   x  = DecayFactor·x − StepSize·h⊙(d + DecayInside·x)
/// </code>
/// </summary>
public readonly record struct StepCoefficients
{
    /// <summary>−1 under maximize, else 1: g = GradScale·grad + L2·x.</summary>
    public double GradScale { get; init; }
    /// <summary>σ for coupled (L2) decay, else 0.</summary>
    public double L2 { get; init; }
    /// <summary>Whether the rule keeps m.</summary>
    public bool HasFirstMoment { get; init; }
    /// <summary>m ← MDecay·m + MGain·g (β₁ of this step).</summary>
    public double MDecay { get; init; }
    /// <summary>The gain of g in m (1 − β₁, or SGD's 1 − dampening).</summary>
    public double MGain { get; init; }
    /// <summary>β₂ of this step (the estimator's decay).</summary>
    public double VDecay { get; init; }
    /// <summary>1 − β₂ of this step (the estimator's gain).</summary>
    public double VGain { get; init; }
    /// <summary>ε added inside v by estimators that do so (AdaBelief, Adamax), else 0.</summary>
    public double VEps { get; init; }
    /// <summary>d = DirM·m + DirG·g: the factor of m (bias correction included).</summary>
    public double DirM { get; init; }
    /// <summary>The factor of g in d (Nesterov, NAdam, SGD).</summary>
    public double DirG { get; init; }
    /// <summary>The preconditioner form of this step.</summary>
    public Preconditioner Preconditioner { get; init; }
    /// <summary>The bias correction of the estimator's value (1/(1 − β₂ᵗ) inside the root, its square root outside).</summary>
    public double VScale { get; init; }
    /// <summary>ε of the preconditioner.</summary>
    public double PrecondEps { get; init; }
    /// <summary>η (times RAdam's rectification where it applies).</summary>
    public double StepSize { get; init; }
    /// <summary>σ for preconditioned decay (added to d inside H), else 0.</summary>
    public double DecayInside { get; init; }
    /// <summary>1 − ησ for decoupled decay, else 1.</summary>
    public double DecayFactor { get; init; }
}

/// <summary>The scalar part of a parameter's state that the per-step coefficients depend on.</summary>
/// <param name="Step">Steps taken.</param>
/// <param name="Beta1Product">The product of the β₁'s used (bias correction of schedules that vary β).</param>
/// <param name="Beta2Product">The product of the β₂'s used.</param>
/// <param name="MuProduct">NAdam's product of μ's (rounded to float32 each step, as PyTorch keeps it).</param>
public record struct StepScalars(long Step, double Beta1Product, double Beta2Product, double MuProduct)
{
    /// <summary>The scalars before the first step: step 0, products 1.</summary>
    public static StepScalars Initial => new(0, 1.0, 1.0, 1.0);
}
