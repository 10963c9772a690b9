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
    public double GradScale { get; init; }
    public double L2 { get; init; }
    public bool HasFirstMoment { get; init; }
    public double MDecay { get; init; }
    public double MGain { get; init; }
    public double VDecay { get; init; }
    public double VGain { get; init; }
    public double VEps { get; init; }
    public double DirM { get; init; }
    public double DirG { get; init; }
    public Preconditioner Preconditioner { get; init; }
    public double VScale { get; init; }
    public double PrecondEps { get; init; }
    public double StepSize { get; init; }
    public double DecayInside { get; init; }
    public double DecayFactor { get; init; }
}

/// <summary>The scalar part of a parameter's state that the per-step coefficients depend on.</summary>
public record struct StepScalars(long Step, double Beta1Product, double Beta2Product, double MuProduct)
{
    public static StepScalars Initial => new(0, 1.0, 1.0, 1.0);
}
