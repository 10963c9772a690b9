using System.Numerics;
using TorchSharp;

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

/// <summary>
/// The step coefficients as native TorchSharp Scalars for the tensor-op path: built once per group and
/// step count and disposed after the step (a double passed directly would allocate a finalizer-freed
/// native Scalar on every call).
/// </summary>
public sealed class ScalarCoefficients : IDisposable
{
    public readonly Scalar GradScale, L2, MDecay, MGain, VDecay, VGain, NegVGain, VEps, DirM, DirG, VScale, PrecondEps, NegStepSize, DecayInside, DecayFactor;

    public ScalarCoefficients(in StepCoefficients c)
    {
        GradScale = c.GradScale.ToScalar(); L2 = c.L2.ToScalar(); MDecay = c.MDecay.ToScalar(); MGain = c.MGain.ToScalar();
        VDecay = c.VDecay.ToScalar(); VGain = c.VGain.ToScalar(); NegVGain = (-c.VGain).ToScalar(); VEps = c.VEps.ToScalar();
        DirM = c.DirM.ToScalar(); DirG = c.DirG.ToScalar(); VScale = c.VScale.ToScalar(); PrecondEps = c.PrecondEps.ToScalar();
        NegStepSize = (-c.StepSize).ToScalar(); DecayInside = c.DecayInside.ToScalar(); DecayFactor = c.DecayFactor.ToScalar();
    }

    public void Dispose()
    {
        foreach (var s in new[] { GradScale, L2, MDecay, MGain, VDecay, VGain, NegVGain, VEps, DirM, DirG, VScale, PrecondEps, NegStepSize, DecayInside, DecayFactor })
            s.Dispose();
    }
}
