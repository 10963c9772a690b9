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

    /// <summary>x·0 is 0 for every finite x and NaN for NaN/±∞, so one accumulated sum answers for the whole span.</summary>
    public static bool AllFinite<T>(ReadOnlySpan<T> span) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var acc = Vector<T>.Zero;
        var vectors = MemoryMarshal.Cast<T, Vector<T>>(span);
        foreach (var v in vectors) acc += v * Vector<T>.Zero;
        T tail = T.Zero;
        for (int i = vectors.Length * Vector<T>.Count; i < span.Length; i++) tail += span[i] * T.Zero;
        return T.IsFinite(Vector.Sum(acc) + tail);
    }
}
