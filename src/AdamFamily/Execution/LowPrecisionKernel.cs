using AdamFamily.Rules;

namespace AdamFamily.Execution;

/// <summary>
/// The fused step over float32 parameters whose moments are stored in bfloat16 or int8 (<see cref="StateCodec"/>):
/// tile by tile (one quantisation block of 256 elements), decode m, v, v_max into float32 on the stack, run the
/// float32 step of <see cref="FusedCpuKernel"/> on the tile, and encode the new moments (int8: with the tile's new
/// absolute maximum as its scale). Still one pass over memory: each tile's decoded state lives in L1 only.
/// Chunks start on a tile boundary (<see cref="KernelBatch"/>), so tiles are quantisation blocks.
/// </summary>
internal static unsafe class LowPrecisionKernel
{
    public static void Range<TRule, TPre, TMom, TTerms>(ref KernelJob job, long start, long end, in VectorCoefficients<float> c)
        where TRule : struct, ISecondMomentRule where TPre : struct, IPreconditionerForm where TMom : struct, IFlag where TTerms : struct, ITerms
    {
        const int B = StateCodec.Block;
        float* mb = stackalloc float[B], vb = stackalloc float[B], vmb = stackalloc float[B];
        float* x = (float*)job.X, g = (float*)job.G;
        bool hasM = job.M != null, hasV = job.V != null, hasVm = job.VMax != null;
        bool bf16 = job.Precision == StatePrecision.BFloat16;
        uint key = job.RoundingKey;
        for (long t = start; t < end; t += B)
        {
            int n = (int)Math.Min(B, end - t);
            long block = t / B;
            if (bf16)
            {
                if (hasM) StateCodec.DecodeBf16((ushort*)job.M + t, mb, n);
                if (hasV) StateCodec.DecodeBf16((ushort*)job.V + t, vb, n);
                if (hasVm) StateCodec.DecodeBf16((ushort*)job.VMax + t, vmb, n);
            }
            else
            {
                if (hasM) StateCodec.DecodeInt8((byte*)job.M + t, job.MScale[block], mb, n, signed: true);
                if (hasV) StateCodec.DecodeInt8((byte*)job.V + t, job.VScale[block], vb, n, signed: false);
                if (hasVm) StateCodec.DecodeInt8((byte*)job.VMax + t, job.VMaxScale[block], vmb, n, signed: false);
            }

            FusedCpuKernel.Range<float, TRule, TPre, TMom, TTerms>(x + t, g + t, hasM ? mb : null, hasV ? vb : null, hasVm ? vmb : null, 0, n, in c);

            if (bf16)
                StateCodec.EncodeBf16Tile(hasM ? mb : null, (ushort*)job.M + t, hasV ? vb : null, (ushort*)job.V + t, hasVm ? vmb : null, (ushort*)job.VMax + t, n, t, key);
            else
            {
                float sm = 0, sv = 0, svm = 0;
                if (hasM) job.MScale[block] = sm = StateCodec.AbsMax(mb, n);
                if (hasV) job.VScale[block] = sv = StateCodec.AbsMax(vb, n);
                if (hasVm) job.VMaxScale[block] = svm = StateCodec.AbsMax(vmb, n);
                StateCodec.EncodeInt8Tile(hasM ? mb : null, (byte*)job.M + t, sm, hasV ? vb : null, (byte*)job.V + t, sv,
                    hasVm ? vmb : null, (byte*)job.VMax + t, svm, n, t, key);
            }
        }
    }
}
