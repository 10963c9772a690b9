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
    /// <summary><see cref="StepCoefficients.GradScale"/></summary>
    public readonly Scalar GradScale;
    /// <summary><see cref="StepCoefficients.L2"/></summary>
    public readonly Scalar L2;
    /// <summary><see cref="StepCoefficients.MDecay"/></summary>
    public readonly Scalar MDecay;
    /// <summary><see cref="StepCoefficients.MGain"/></summary>
    public readonly Scalar MGain;
    /// <summary><see cref="StepCoefficients.VDecay"/></summary>
    public readonly Scalar VDecay;
    /// <summary><see cref="StepCoefficients.VGain"/></summary>
    public readonly Scalar VGain;
    /// <summary>−<see cref="StepCoefficients.VGain"/></summary>
    public readonly Scalar NegVGain;
    /// <summary><see cref="StepCoefficients.VEps"/></summary>
    public readonly Scalar VEps;
    /// <summary><see cref="StepCoefficients.DirM"/></summary>
    public readonly Scalar DirM;
    /// <summary><see cref="StepCoefficients.DirG"/></summary>
    public readonly Scalar DirG;
    /// <summary><see cref="StepCoefficients.VScale"/></summary>
    public readonly Scalar VScale;
    /// <summary><see cref="StepCoefficients.PrecondEps"/></summary>
    public readonly Scalar PrecondEps;
    /// <summary>−<see cref="StepCoefficients.StepSize"/></summary>
    public readonly Scalar NegStepSize;
    /// <summary><see cref="StepCoefficients.DecayInside"/></summary>
    public readonly Scalar DecayInside;
    /// <summary><see cref="StepCoefficients.DecayFactor"/></summary>
    public readonly Scalar DecayFactor;
    /// <summary>−η·DirM: the heavy-ball step with the bias correction folded into the step size.</summary>
    public readonly Scalar NegStepDirM;
    /// <summary>σ/DirM: preconditioned decay added to m before the common factor DirM is taken out.</summary>
    public readonly Scalar DecayInsideOverDirM;

    /// <summary>The coefficients these Scalars were built from (to tell when they must be rebuilt).</summary>
    public StepCoefficients Coefficients { get; }

    /// <summary>Builds the Scalars of <paramref name="c"/>.</summary>
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

    /// <summary>Releases the native Scalars.</summary>
    public void Dispose()
    {
        GradScale.Dispose(); L2.Dispose(); MDecay.Dispose(); MGain.Dispose(); VDecay.Dispose(); VGain.Dispose(); NegVGain.Dispose();
        VEps.Dispose(); DirM.Dispose(); DirG.Dispose(); VScale.Dispose(); PrecondEps.Dispose(); NegStepSize.Dispose();
        DecayInside.Dispose(); DecayFactor.Dispose(); NegStepDirM.Dispose(); DecayInsideOverDirM.Dispose();
    }
}
