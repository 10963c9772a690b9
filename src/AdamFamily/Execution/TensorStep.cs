using AdamFamily.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Execution;

/// <summary>
/// The reference execution path: the element-wise program of <see cref="StepCoefficients"/> as
/// in-place TorchSharp tensor operations. It serves every device, dtype and layout, and is what the
/// fused CPU kernel is tested against. Temporaries live in a dispose scope per parameter, so peak
/// memory stays at a few parameter-sized buffers whatever the model size; a temporary the step owns is
/// updated in place rather than copied, and the heavy-ball direction is never materialised (its factor
/// DirM = 1/(1 − β₁ᵗ) goes into the step size, as PyTorch's Adam does). Half-precision parameters are
/// stepped in float32 (their state's dtype) and rounded once.
/// </summary>
internal static class TensorStep
{
    public static void Apply(Tensor x, Tensor grad, ParameterState s, SecondMoment? estimator,
        in StepCoefficients c, ScalarCoefficients k, DiagnosticsAccumulator? diag, double measureSigma)
    {
        if (s.Precision == StatePrecision.Float32)
        {
            Apply(x, grad, s.M, s.V, s.VMax, estimator, c, k, diag, measureSigma);
            return;
        }
        // Low-precision state: decode into the parameter's dtype, run the same program, encode with the
        // step's rounding bits (the kernel does the same per block of 256 elements).
        using var scope = NewDisposeScope();
        var p = s.Precision;
        var ft = ParameterState.StateType(x.dtype); // the step's arithmetic type (float32 for half-precision parameters)
        var m = s.M is null ? null : StateCodecTensors.Decode(s.M, s.MScale, p, signed: true, ft);
        var v = s.V is null ? null : StateCodecTensors.Decode(s.V, s.VScale, p, signed: false, ft);
        var vMax = s.VMax is null ? null : StateCodecTensors.Decode(s.VMax, s.VMaxScale, p, signed: false, ft);
        Apply(x, grad, m, v, vMax, estimator, c, k, diag, measureSigma);
        uint key = StateCodec.StepKey(s.RoundingSeed, s.Scalars.Step + 1);
        if (m is not null) StateCodecTensors.Encode(m, s.M!, s.MScale, p, signed: true, key, high: false);
        if (v is not null) StateCodecTensors.Encode(v, s.V!, s.VScale, p, signed: false, key, high: true);
        if (vMax is not null) StateCodecTensors.Encode(vMax, s.VMax!, s.VMaxScale, p, signed: false, key, high: true);
    }

    private static void Apply(Tensor x, Tensor grad, Tensor? sM, Tensor? sV, Tensor? sVMax, SecondMoment? estimator,
        in StepCoefficients c, ScalarCoefficients k, DiagnosticsAccumulator? diag, double measureSigma)
    {
        using var scope = NewDisposeScope();
        var stateType = ParameterState.StateType(x.dtype);
        if (stateType != x.dtype)
        {
            // Half precision: ε = 1e-8 is 0 in float16 and ε^(−1/2) overflows, so the step runs in the state's
            // float32 (upcast x and g, update, round once into x), as PyTorch's fused paths do.
            var wide = x.to_type(stateType);
            Apply(wide, grad.to_type(stateType), sM, sV, sVMax, estimator, c, k, diag, measureSigma);
            x.copy_(wide);
            return;
        }
        // g is the caller's gradient unless maximize or L2 change it; it is never written in place.
        var g = c.GradScale == 1.0 ? grad : grad.mul(k.GradScale);
        if (c.L2 != 0) g = ReferenceEquals(g, grad) ? grad.add(x, k.L2) : g.add_(x, k.L2);

        if (c.HasFirstMoment) sM!.mul_(k.MDecay).add_(g, k.MGain);
        var u = estimator?.Update(sV!, sVMax, g, sM ?? g, k);

        Tensor? denom = c.Preconditioner switch
        {
            Preconditioner.EpsInside => u!.mul(k.VScale).add_(k.PrecondEps).sqrt_(),
            Preconditioner.EpsOutside => u!.sqrt().mul_(k.VScale).add_(k.PrecondEps),
            Preconditioner.InverseNorm => u!,
            _ => null,
        };

        if (diag is null && c.HasFirstMoment && c.DirG == 0 && c.DirM != 0)
        {
            // Heavy ball: x ← DecayFactor·x − η·DirM·H⊙(m + (σ/DirM)·x), without a direction temporary
            // (and with one, m + (σ/DirM)·x, only for preconditioned decay).
            var dm = c.DecayInside != 0 ? sM!.add(x, k.DecayInsideOverDirM) : sM!;
            if (c.DecayFactor != 1.0) x.mul_(k.DecayFactor);
            if (denom is null) x.add_(dm, k.NegStepDirM);
            else x.addcdiv_(dm, denom, k.NegStepDirM);
            return;
        }

        Tensor d;
        bool owned = true;
        if (!c.HasFirstMoment)
        {
            if (c.DirG == 1.0) { d = g; owned = false; }
            else d = g.mul(k.DirG);
        }
        else if (c.DirG == 0) d = sM!.mul(k.DirM);
        else d = sM!.mul(k.DirM).add_(g, k.DirG);

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

        if (c.DecayInside != 0) d = owned ? d.add_(x, k.DecayInside) : d.add(x, k.DecayInside);
        if (c.DecayFactor != 1.0) x.mul_(k.DecayFactor);
        if (denom is null) x.add_(d, k.NegStepSize);
        else x.addcdiv_(d, denom, k.NegStepSize);

        if (before is not null) diag!.AddUpdate(x.sub(before));
    }
}
