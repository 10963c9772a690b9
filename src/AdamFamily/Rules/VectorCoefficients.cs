using System.Numerics;

namespace AdamFamily.Rules;

/// <summary>The step coefficients broadcast into SIMD registers, built once per kernel call.</summary>
/// <typeparam name="T">The element type (float or double).</typeparam>
public readonly struct VectorCoefficients<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary><see cref="StepCoefficients.GradScale"/> in every lane.</summary>
    public readonly Vector<T> GradScale;
    /// <summary><see cref="StepCoefficients.L2"/> in every lane.</summary>
    public readonly Vector<T> L2;
    /// <summary><see cref="StepCoefficients.MDecay"/> in every lane.</summary>
    public readonly Vector<T> MDecay;
    /// <summary><see cref="StepCoefficients.MGain"/> in every lane.</summary>
    public readonly Vector<T> MGain;
    /// <summary><see cref="StepCoefficients.VDecay"/> in every lane.</summary>
    public readonly Vector<T> VDecay;
    /// <summary><see cref="StepCoefficients.VGain"/> in every lane.</summary>
    public readonly Vector<T> VGain;
    /// <summary><see cref="StepCoefficients.VEps"/> in every lane.</summary>
    public readonly Vector<T> VEps;
    /// <summary><see cref="StepCoefficients.DirM"/> in every lane.</summary>
    public readonly Vector<T> DirM;
    /// <summary><see cref="StepCoefficients.DirG"/> in every lane.</summary>
    public readonly Vector<T> DirG;
    /// <summary><see cref="StepCoefficients.VScale"/> in every lane.</summary>
    public readonly Vector<T> VScale;
    /// <summary><see cref="StepCoefficients.PrecondEps"/> in every lane.</summary>
    public readonly Vector<T> PrecondEps;
    /// <summary><see cref="StepCoefficients.StepSize"/> in every lane.</summary>
    public readonly Vector<T> StepSize;
    /// <summary><see cref="StepCoefficients.DecayInside"/> in every lane.</summary>
    public readonly Vector<T> DecayInside;
    /// <summary><see cref="StepCoefficients.DecayFactor"/> in every lane.</summary>
    public readonly Vector<T> DecayFactor;

    /// <summary>Broadcasts <paramref name="c"/> into vectors of <typeparamref name="T"/>.</summary>
    public VectorCoefficients(in StepCoefficients c)
    {
        GradScale = V(c.GradScale); L2 = V(c.L2); MDecay = V(c.MDecay); MGain = V(c.MGain);
        VDecay = V(c.VDecay); VGain = V(c.VGain); VEps = V(c.VEps); DirM = V(c.DirM); DirG = V(c.DirG);
        VScale = V(c.VScale); PrecondEps = V(c.PrecondEps); StepSize = V(c.StepSize);
        DecayInside = V(c.DecayInside); DecayFactor = V(c.DecayFactor);
    }

    private static Vector<T> V(double x) => new(T.CreateChecked(x));
}
