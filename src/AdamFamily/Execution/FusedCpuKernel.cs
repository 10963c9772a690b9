using System.Numerics;
using System.Runtime.CompilerServices;
using AdamFamily.Rules;
using static TorchSharp.torch;

namespace AdamFamily.Execution;

/// <summary>
/// The fused CPU step: the whole element-wise program of <see cref="StepCoefficients"/> in one pass over
/// memory (read x, g, m, v once; write x, m, v once), vectorised with <see cref="Vector{T}"/> and
/// specialised by the JIT for each estimator and preconditioner (they are struct type arguments, so
/// there is no per-element dispatch). Serves contiguous float32/float64 CPU tensors; everything else
/// goes through <see cref="TensorStep"/>, the reference it is tested against.
/// </summary>
internal static unsafe class FusedCpuKernel
{
    /// <summary>
    /// Describes one parameter's step as a <see cref="KernelJob"/> if the kernel supports its tensors
    /// (contiguous float32/float64 CPU x, gradient and state of one dtype and size); returns false otherwise,
    /// and the caller uses <see cref="TensorStep"/>. Reads only data pointers and layouts: allocates nothing.
    /// </summary>
    public static bool TryPrepare(Tensor x, IntPtr grad, Tensor? gradWrapper, ParameterState s, SecondMoment? estimator,
        in StepCoefficients c, out KernelJob job)
    {
        job = default;
        var dtype = x.dtype;
        if (dtype != ScalarType.Float32 && dtype != ScalarType.Float64) return false;
        long n = x.numel();
        job.Coefficients = c;
        job.Estimator = estimator;
        job.IsDouble = dtype == ScalarType.Float64;
        job.Length = n;
        if (n == 0) return x.device_type == TorchSharp.DeviceType.CPU; // nothing to do, but still a step
        if ((job.X = NativeTensors.DenseCpuData(x, dtype, n)) == null) return false;
        if ((job.G = NativeTensors.DenseCpuData(grad, gradWrapper, dtype, n)) == null) return false;
        var precision = s.Precision;
        job.Precision = precision;
        if (precision != StatePrecision.Float32)
        {
            // Low-precision state: float32 parameters only (float64 ones take the tensor-op path).
            if (job.IsDouble) return false;
            job.Granule = StateCodec.Block;
            job.RoundingKey = StateCodec.StepKey(s.RoundingSeed, s.Scalars.Step + 1);
        }
        var stateType = StateCodecTensors.StorageType(precision, dtype);
        long blocks = StateCodecTensors.Blocks(n);
        bool int8 = precision == StatePrecision.Int8;
        if (c.HasFirstMoment && (s.M is null || (job.M = NativeTensors.DenseCpuData(s.M, stateType, n)) == null
            || (int8 && (s.MScale is null || (job.MScale = (float*)NativeTensors.DenseCpuData(s.MScale, ScalarType.Float32, blocks)) == null)))) return false;
        if (estimator is not null && (s.V is null || (job.V = NativeTensors.DenseCpuData(s.V, stateType, n)) == null
            || (int8 && (s.VScale is null || (job.VScale = (float*)NativeTensors.DenseCpuData(s.VScale, ScalarType.Float32, blocks)) == null)))) return false;
        if (estimator is { KeepsMax: true } && (s.VMax is null || (job.VMax = NativeTensors.DenseCpuData(s.VMax, stateType, n)) == null
            || (int8 && (s.VMaxScale is null || (job.VMaxScale = (float*)NativeTensors.DenseCpuData(s.VMaxScale, ScalarType.Float32, blocks)) == null)))) return false;
        return true;
    }

    /// <summary>Applies the step to elements [start, end) of one job. Chunks of a job are independent (element-wise).</summary>
    public static void Run(ref KernelJob job, long start, long end)
    {
        var dispatch = new Dispatch { Job = job, Start = start, End = end };
        if (job.Estimator is null) dispatch.Visit<NoSecondMoment>();
        else job.Estimator.Accept(ref dispatch);
    }

    // Double dispatch: the estimator hands us its rule type; we pick the element type and preconditioner.
    private struct Dispatch : ISecondMomentVisitor
    {
        public KernelJob Job;
        public long Start, End;

        public void Visit<TRule>() where TRule : struct, ISecondMomentRule
        {
            if (Job.IsDouble) WithPreconditioner<double, TRule>(ref Job, Start, End);
            else WithPreconditioner<float, TRule>(ref Job, Start, End);
        }
    }

    private static void WithPreconditioner<T, TRule>(ref KernelJob job, long start, long end)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TRule : struct, ISecondMomentRule
    {
        bool m = job.Coefficients.HasFirstMoment;
        switch (job.Coefficients.Preconditioner)
        {
            case Preconditioner.EpsInside: if (m) Loop<T, TRule, EpsInsideH, WithMomentum>(ref job, start, end); else Loop<T, TRule, EpsInsideH, NoMomentum>(ref job, start, end); break;
            case Preconditioner.EpsOutside: if (m) Loop<T, TRule, EpsOutsideH, WithMomentum>(ref job, start, end); else Loop<T, TRule, EpsOutsideH, NoMomentum>(ref job, start, end); break;
            case Preconditioner.InverseNorm: if (m) Loop<T, TRule, InverseNormH, WithMomentum>(ref job, start, end); else Loop<T, TRule, InverseNormH, NoMomentum>(ref job, start, end); break;
            default: if (m) Loop<T, TRule, IdentityH, WithMomentum>(ref job, start, end); else Loop<T, TRule, IdentityH, NoMomentum>(ref job, start, end); break;
        }
    }

    // The terms a rule leaves at their neutral value (GradScale 1 and L2 0, DirG 0, DecayInside 0,
    // DecayFactor 1) are dropped at compile time, one flag per term, so each preset's loop carries only
    // the arithmetic it needs (the divider-bound Adam loop keeps its other ports free; SGD's loop halves).
    // The dropped terms are exact no-ops for finite values, and the tensor-op path skips them too.
    private static void Loop<T, TRule, TPre, TMom>(ref KernelJob job, long start, long end)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TRule : struct, ISecondMomentRule where TPre : struct, IPreconditionerForm where TMom : struct, IFlag
    {
        if (job.Coefficients.GradScale != 1.0 || job.Coefficients.L2 != 0.0) WithDirG<T, TRule, TPre, TMom, Yes>(ref job, start, end);
        else WithDirG<T, TRule, TPre, TMom, No>(ref job, start, end);
    }

    private static void WithDirG<T, TRule, TPre, TMom, TGrad>(ref KernelJob job, long start, long end)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TRule : struct, ISecondMomentRule where TPre : struct, IPreconditionerForm where TMom : struct, IFlag where TGrad : struct, IFlag
    {
        if (job.Coefficients.DirG != 0.0) WithDecayInside<T, TRule, TPre, TMom, TGrad, Yes>(ref job, start, end);
        else WithDecayInside<T, TRule, TPre, TMom, TGrad, No>(ref job, start, end);
    }

    private static void WithDecayInside<T, TRule, TPre, TMom, TGrad, TDirG>(ref KernelJob job, long start, long end)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TRule : struct, ISecondMomentRule where TPre : struct, IPreconditionerForm where TMom : struct, IFlag
        where TGrad : struct, IFlag where TDirG : struct, IFlag
    {
        if (job.Coefficients.DecayInside != 0.0) WithDecayFactor<T, TRule, TPre, TMom, TGrad, TDirG, Yes>(ref job, start, end);
        else WithDecayFactor<T, TRule, TPre, TMom, TGrad, TDirG, No>(ref job, start, end);
    }

    private static void WithDecayFactor<T, TRule, TPre, TMom, TGrad, TDirG, TInside>(ref KernelJob job, long start, long end)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TRule : struct, ISecondMomentRule where TPre : struct, IPreconditionerForm where TMom : struct, IFlag
        where TGrad : struct, IFlag where TDirG : struct, IFlag where TInside : struct, IFlag
    {
        if (job.Precision != StatePrecision.Float32)
        {
            var cf = new VectorCoefficients<float>(job.Coefficients);
            if (job.Coefficients.DecayFactor != 1.0) LowPrecisionKernel.Range<TRule, TPre, TMom, Terms<TGrad, TDirG, TInside, Yes>>(ref job, start, end, in cf);
            else LowPrecisionKernel.Range<TRule, TPre, TMom, Terms<TGrad, TDirG, TInside, No>>(ref job, start, end, in cf);
            return;
        }
        var c = new VectorCoefficients<T>(job.Coefficients);
        if (job.Coefficients.DecayFactor != 1.0)
            Range<T, TRule, TPre, TMom, Terms<TGrad, TDirG, TInside, Yes>>((T*)job.X, (T*)job.G, (T*)job.M, (T*)job.V, (T*)job.VMax, start, end, in c);
        else
            Range<T, TRule, TPre, TMom, Terms<TGrad, TDirG, TInside, No>>((T*)job.X, (T*)job.G, (T*)job.M, (T*)job.V, (T*)job.VMax, start, end, in c);
    }

    /// <summary>Elements [start, end) of one parameter. Full vectors in place; the tail through a padded stack block.</summary>
    internal static void Range<T, TRule, TPre, TMom, TTerms>(T* x, T* g, T* m, T* v, T* vMax, long start, long end, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TRule : struct, ISecondMomentRule where TPre : struct, IPreconditionerForm where TMom : struct, IFlag where TTerms : struct, ITerms
    {
        int w = Vector<T>.Count;
        long i = start;
        for (; i + w <= end; i += w)
            Block<T, TRule, TPre, TMom, TTerms>(x + i, g + i, m is null ? null : m + i, v is null ? null : v + i, vMax is null ? null : vMax + i, in c);
        int rest = (int)(end - i);
        if (rest == 0) return;

        // Tail: copy into zero-padded vectors, run the same block, copy the live lanes back.
        T* bx = stackalloc T[w], bg = stackalloc T[w], bm = stackalloc T[w], bv = stackalloc T[w], bvm = stackalloc T[w];
        for (int k = 0; k < w; k++) { bx[k] = T.Zero; bg[k] = T.Zero; bm[k] = T.Zero; bv[k] = T.One; bvm[k] = T.One; }
        for (int k = 0; k < rest; k++)
        {
            bx[k] = x[i + k]; bg[k] = g[i + k];
            if (m is not null) bm[k] = m[i + k];
            if (v is not null) bv[k] = v[i + k];
            if (vMax is not null) bvm[k] = vMax[i + k];
        }
        Block<T, TRule, TPre, TMom, TTerms>(bx, bg, m is null ? null : bm, v is null ? null : bv, vMax is null ? null : bvm, in c);
        for (int k = 0; k < rest; k++)
        {
            x[i + k] = bx[k];
            if (m is not null) m[i + k] = bm[k];
            if (v is not null) v[i + k] = bv[k];
            if (vMax is not null) vMax[i + k] = bvm[k];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<T, TRule, TPre, TMom, TTerms>(T* px, T* pg, T* pm, T* pv, T* pvMax, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TRule : struct, ISecondMomentRule where TPre : struct, IPreconditionerForm where TMom : struct, IFlag where TTerms : struct, ITerms
    {
        var x = Unsafe.ReadUnaligned<Vector<T>>(px);
        var g = Unsafe.ReadUnaligned<Vector<T>>(pg);
        if (TTerms.GradTransform) g = c.GradScale * g + c.L2 * x;
        Vector<T> m = default, d;
        if (TMom.Value)
        {
            m = c.MDecay * Unsafe.ReadUnaligned<Vector<T>>(pm) + c.MGain * g;
            Unsafe.WriteUnaligned(pm, m);
            d = TTerms.DirG ? c.DirM * m + c.DirG * g : c.DirM * m;
        }
        else d = TTerms.DirG ? c.DirG * g : Vector<T>.Zero;

        Vector<T> u = default;
        if (pv is not null)
        {
            var v = Unsafe.ReadUnaligned<Vector<T>>(pv);
            var vMax = pvMax is null ? default : Unsafe.ReadUnaligned<Vector<T>>(pvMax);
            u = TRule.Update(ref v, ref vMax, g, m, in c);
            Unsafe.WriteUnaligned(pv, v);
            if (pvMax is not null) Unsafe.WriteUnaligned(pvMax, vMax);
        }

        if (TTerms.DecayInside) d += c.DecayInside * x;
        var step = c.StepSize * TPre.Apply(u, d, in c);
        x = TTerms.DecayFactor ? c.DecayFactor * x - step : x - step;
        Unsafe.WriteUnaligned(px, x);
    }
}

/// <summary>A compile-time boolean for kernel specialisation.</summary>
internal interface IFlag { static abstract bool Value { get; } }
internal readonly struct WithMomentum : IFlag { public static bool Value => true; }
internal readonly struct NoMomentum : IFlag { public static bool Value => false; }
internal readonly struct Yes : IFlag { public static bool Value => true; }
internal readonly struct No : IFlag { public static bool Value => false; }

/// <summary>Which optional terms of the step program a loop computes (compile-time, see FusedCpuKernel.Loop).</summary>
internal interface ITerms
{
    /// <summary>g ← GradScale·g + L2·x (maximize or coupled decay).</summary>
    static abstract bool GradTransform { get; }
    /// <summary>d includes DirG·g (Nesterov, NAdam, SGD).</summary>
    static abstract bool DirG { get; }
    /// <summary>d includes DecayInside·x (preconditioned decay).</summary>
    static abstract bool DecayInside { get; }
    /// <summary>x is scaled by DecayFactor (decoupled decay).</summary>
    static abstract bool DecayFactor { get; }
}
internal readonly struct Terms<TGrad, TDirG, TInside, TFactor> : ITerms
    where TGrad : struct, IFlag where TDirG : struct, IFlag where TInside : struct, IFlag where TFactor : struct, IFlag
{
    public static bool GradTransform => TGrad.Value;
    public static bool DirG => TDirG.Value;
    public static bool DecayInside => TInside.Value;
    public static bool DecayFactor => TFactor.Value;
}

/// <summary>The preconditioner applied to a direction block: returns H⊙dir.</summary>
internal interface IPreconditionerForm
{
    static abstract Vector<T> Apply<T>(Vector<T> u, Vector<T> dir, in VectorCoefficients<T> c) where T : unmanaged, IBinaryFloatingPointIeee754<T>;
}
internal readonly struct EpsInsideH : IPreconditionerForm
{
    public static Vector<T> Apply<T>(Vector<T> u, Vector<T> dir, in VectorCoefficients<T> c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => dir / Vector.SquareRoot(u * c.VScale + c.PrecondEps);
}
internal readonly struct EpsOutsideH : IPreconditionerForm
{
    public static Vector<T> Apply<T>(Vector<T> u, Vector<T> dir, in VectorCoefficients<T> c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => dir / (Vector.SquareRoot(u) * c.VScale + c.PrecondEps);
}
internal readonly struct InverseNormH : IPreconditionerForm
{
    public static Vector<T> Apply<T>(Vector<T> u, Vector<T> dir, in VectorCoefficients<T> c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => dir / u;
}
internal readonly struct IdentityH : IPreconditionerForm
{
    public static Vector<T> Apply<T>(Vector<T> u, Vector<T> dir, in VectorCoefficients<T> c) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => dir;
}

/// <summary>The "no second moment" rule (SGD): keeps no v.</summary>
internal readonly struct NoSecondMoment : ISecondMomentRule
{
    public static bool KeepsMax => false;
    public static Vector<T> Update<T>(ref Vector<T> v, ref Vector<T> vMax, Vector<T> g, Vector<T> m, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => Vector<T>.Zero;
    public static Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c) => v;
}
