using AdamFamily.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Execution;

/// <summary>
/// The reference execution path: the element-wise program of <see cref="StepCoefficients"/> as
/// in-place TorchSharp tensor operations. It serves every device, dtype and layout, and is what the
/// fused CPU kernel is tested against. Temporaries live in a dispose scope per parameter, so peak
/// memory stays at a few parameter-sized buffers whatever the model size.
/// </summary>
internal static class TensorStep
{
    public static void Apply(Tensor x, Tensor grad, ParameterState s, SecondMoment? estimator,
        in StepCoefficients c, ScalarCoefficients k, DiagnosticsAccumulator? diag, double measureSigma)
    {
        using var scope = NewDisposeScope();
        // g is the caller's gradient unless maximize or L2 change it; it is never written in place.
        var g = c.GradScale == 1.0 ? grad : grad.mul(k.GradScale);
        if (c.L2 != 0) g = ReferenceEquals(g, grad) ? grad.add(x, k.L2) : g.add_(x, k.L2);

        if (c.HasFirstMoment) s.M!.mul_(k.MDecay).add_(g, k.MGain);
        var u = estimator?.Update(s.V!, s.VMax, g, s.M ?? g, k);

        Tensor d;
        if (!c.HasFirstMoment) d = c.DirG == 1.0 ? g : g.mul(k.DirG);
        else if (c.DirG == 0) d = s.M!.mul(k.DirM);
        else d = s.M!.mul(k.DirM).add_(g, k.DirG);

        Tensor? denom = c.Preconditioner switch
        {
            Preconditioner.EpsInside => u!.mul(k.VScale).add_(k.PrecondEps).sqrt_(),
            Preconditioner.EpsOutside => u!.sqrt().mul_(k.VScale).add_(k.PrecondEps),
            Preconditioner.InverseNorm => u!,
            _ => null,
        };

        Tensor? before = null;
        if (diag is not null)
        {
            before = x.clone();
            diag.AddStationarity(measureSigma == 0 ? d : d.add(x, measureSigma));
            double immediate = c.HasFirstMoment ? c.DirM * c.MGain + c.DirG : c.DirG;
            double maxH = denom is null ? 1.0 : 1.0 / denom.min().to_type(ScalarType.Float64).item<double>();
            double decay = c.DecayInside != 0 ? c.StepSize * c.DecayInside * maxH
                         : c.L2 != 0 ? c.StepSize * c.L2 * maxH * immediate
                         : 1 - c.DecayFactor;
            diag.AddDecay(decay);
        }

        if (c.DecayInside != 0) d = d.add(x, k.DecayInside);
        if (c.DecayFactor != 1.0) x.mul_(k.DecayFactor);
        if (denom is null) x.add_(d, k.NegStepSize);
        else x.addcdiv_(d, denom, k.NegStepSize);

        if (before is not null) diag!.AddUpdate(x.sub(before));
    }
}
