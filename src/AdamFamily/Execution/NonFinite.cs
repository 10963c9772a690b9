using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace AdamFamily.Execution;

/// <summary>Checks a gradient for NaN/±∞: a SIMD scan on contiguous CPU float tensors, a tensor reduction elsewhere.</summary>
internal static class NonFinite
{
    public static bool IsAllFinite(Tensor t)
    {
        if (t.device_type == TorchSharp.DeviceType.CPU && t.is_contiguous())
        {
            if (t.dtype == ScalarType.Float32) return AllFinite(MemoryMarshal.Cast<byte, float>(t.bytes));
            if (t.dtype == ScalarType.Float64) return AllFinite(MemoryMarshal.Cast<byte, double>(t.bytes));
        }
        using var all = t.isfinite().all();
        return all.item<bool>();
    }

    /// <summary>
    /// x·0 is 0 for every finite x and NaN for NaN/±∞, so accumulated sums answer for the whole span. Four
    /// independent accumulators keep the add latency off the critical path (the scan runs at memory speed).
    /// </summary>
    public static bool AllFinite<T>(ReadOnlySpan<T> span) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var vectors = MemoryMarshal.Cast<T, Vector<T>>(span);
        Vector<T> a0 = Vector<T>.Zero, a1 = Vector<T>.Zero, a2 = Vector<T>.Zero, a3 = Vector<T>.Zero;
        int i = 0;
        for (; i + 4 <= vectors.Length; i += 4)
        {
            a0 += vectors[i] * Vector<T>.Zero;
            a1 += vectors[i + 1] * Vector<T>.Zero;
            a2 += vectors[i + 2] * Vector<T>.Zero;
            a3 += vectors[i + 3] * Vector<T>.Zero;
        }
        for (; i < vectors.Length; i++) a0 += vectors[i] * Vector<T>.Zero;
        T tail = T.Zero;
        for (int k = vectors.Length * Vector<T>.Count; k < span.Length; k++) tail += span[k] * T.Zero;
        return T.IsFinite(Vector.Sum((a0 + a1) + (a2 + a3)) + tail);
    }
}
