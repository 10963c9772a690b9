using System.Numerics;

namespace AdamFamily.Rules;

/// <summary>The step coefficients broadcast into SIMD registers, built once per kernel call.</summary>
public readonly struct VectorCoefficients<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public readonly Vector<T> GradScale, L2, MDecay, MGain, VDecay, VGain, VEps, DirM, DirG, VScale, PrecondEps, StepSize, DecayInside, DecayFactor;

    public VectorCoefficients(in StepCoefficients c)
    {
        GradScale = V(c.GradScale); L2 = V(c.L2); MDecay = V(c.MDecay); MGain = V(c.MGain);
        VDecay = V(c.VDecay); VGain = V(c.VGain); VEps = V(c.VEps); DirM = V(c.DirM); DirG = V(c.DirG);
        VScale = V(c.VScale); PrecondEps = V(c.PrecondEps); StepSize = V(c.StepSize);
        DecayInside = V(c.DecayInside); DecayFactor = V(c.DecayFactor);
    }

    private static Vector<T> V(double x) => new(T.CreateChecked(x));
}
