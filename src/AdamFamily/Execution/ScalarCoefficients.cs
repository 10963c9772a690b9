using AdamFamily.Rules;
using TorchSharp;

namespace AdamFamily.Execution;

/// <summary>
/// The step coefficients as native TorchSharp Scalars for the tensor-op path: built once per group and
/// step count and disposed after the step (a double passed directly would allocate a finalizer-freed
/// native Scalar on every call). Besides the coefficients themselves it holds the two folded ones the
/// tensor-op heavy-ball step uses to avoid a direction temporary.
/// </summary>
public sealed class ScalarCoefficients : IDisposable
{
    public readonly Scalar GradScale, L2, MDecay, MGain, VDecay, VGain, NegVGain, VEps, DirM, DirG, VScale, PrecondEps, NegStepSize, DecayInside, DecayFactor;
    /// <summary>−η·DirM: the heavy-ball step with the bias correction folded into the step size.</summary>
    public readonly Scalar NegStepDirM;
    /// <summary>σ/DirM: preconditioned decay added to m before the common factor DirM is taken out.</summary>
    public readonly Scalar DecayInsideOverDirM;

    /// <summary>The coefficients these Scalars were built from (to tell when they must be rebuilt).</summary>
    public StepCoefficients Coefficients { get; }

    public ScalarCoefficients(in StepCoefficients c)
    {
        Coefficients = c;
        GradScale = c.GradScale.ToScalar(); L2 = c.L2.ToScalar(); MDecay = c.MDecay.ToScalar(); MGain = c.MGain.ToScalar();
        VDecay = c.VDecay.ToScalar(); VGain = c.VGain.ToScalar(); NegVGain = (-c.VGain).ToScalar(); VEps = c.VEps.ToScalar();
        DirM = c.DirM.ToScalar(); DirG = c.DirG.ToScalar(); VScale = c.VScale.ToScalar(); PrecondEps = c.PrecondEps.ToScalar();
        NegStepSize = (-c.StepSize).ToScalar(); DecayInside = c.DecayInside.ToScalar(); DecayFactor = c.DecayFactor.ToScalar();
        NegStepDirM = (-c.StepSize * c.DirM).ToScalar();
        DecayInsideOverDirM = (c.DirM != 0 ? c.DecayInside / c.DirM : 0.0).ToScalar();
    }

    public void Dispose()
    {
        GradScale.Dispose(); L2.Dispose(); MDecay.Dispose(); MGain.Dispose(); VDecay.Dispose(); VGain.Dispose(); NegVGain.Dispose();
        VEps.Dispose(); DirM.Dispose(); DirG.Dispose(); VScale.Dispose(); PrecondEps.Dispose(); NegStepSize.Dispose();
        DecayInside.Dispose(); DecayFactor.Dispose(); NegStepDirM.Dispose(); DecayInsideOverDirM.Dispose();
    }
}
