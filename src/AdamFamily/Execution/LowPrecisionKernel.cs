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
            {
                if (hasM) StateCodec.EncodeBf16(mb, (ushort*)job.M + t, n, t, key, high: false);
                if (hasV) StateCodec.EncodeBf16(vb, (ushort*)job.V + t, n, t, key, high: true);
                if (hasVm) StateCodec.EncodeBf16(vmb, (ushort*)job.VMax + t, n, t, key, high: true);
            }
            else
            {
                if (hasM) Requantise(mb, (byte*)job.M + t, job.MScale + block, n, t, key, high: false, signed: true);
                if (hasV) Requantise(vb, (byte*)job.V + t, job.VScale + block, n, t, key, high: true, signed: false);
                if (hasVm) Requantise(vmb, (byte*)job.VMax + t, job.VMaxScale + block, n, t, key, high: true, signed: false);
            }
        }
    }

    private static void Requantise(float* values, byte* codes, float* scale, int n, long first, uint key, bool high, bool signed)
    {
        float s = StateCodec.AbsMax(values, n);
        *scale = s;
        StateCodec.EncodeInt8(values, codes, n, s, first, key, high, signed);
    }
}
