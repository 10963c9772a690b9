using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AdamFamily.Rules;

namespace AdamFamily.Execution;

/// <summary>
/// The low-precision storage formats of the moment buffers and the random bits of their stochastic rounding,
/// for the fused kernel (SIMD over raw memory). <see cref="StateCodecTensors"/> is the same arithmetic in tensor
/// ops (the reference path); the two are tested to agree bit for bit.
/// <para>
/// <b>Random bits.</b> Element i of a parameter at step t takes h = lowbias32(i mod 2³² XOR k_t), where
/// lowbias32 is C. Wellons' bijective 32-bit integer hash (x ^= x≫16; x ·= 0x7feb352d; x ^= x≫15; x ·= 0x846ca68b;
/// x ^= x≫16) and k_t the low 32 bits of SplitMix64(seed ⊕ SplitMix64(t)), seed being the parameter's ordinal in
/// its optimizer (stored in checkpoints). m takes the low 16 bits of h, v and v_max the high 16. The bits depend
/// only on (seed, t, i), never on threads or chunks: a step is bit-identical for any thread count and after a
/// checkpoint round trip.
/// </para>
/// <para>
/// <b>Stochastic rounding.</b> A float32 value f is rounded to fewer mantissa bits by adding 16 random bits at
/// the position just below the kept bits of its bit pattern and truncating: it rounds up with probability equal
/// to the dropped fraction, so E[round(f)] = f (unbiased, which keeps v decaying by β₂ = 0.999 even though one
/// step's change is far below one unit in the last place).
/// </para>
/// <para>
/// <b>bfloat16</b>: the top 16 bits of the float32 pattern (8 exponent bits, 7 mantissa bits).
/// <b>int8</b>: per block of 256 elements, scale = max |f| (float32) and y = f·(1/scale) ∈ [−1, 1] (the reciprocal
/// rounded to float32 once per block); y is coded as
/// an 8-bit minifloat cut from its float32 bits (exponent and top 3 mantissa bits, code = (bits ≫ 20) − base):
/// m (signed) as sign + 7 bits covering |y| ∈ [2⁻¹⁵, 1]; v (non-negative) as 8 bits covering y ∈ [2⁻³¹, 1].
/// A minifloat has equal relative spacing (12.5%) over its whole range, which suits v: it spans many decades
/// (v ∝ g², so 4½ decades of gradient magnitude are 9 of v), and a linear code would round every v below 1/255
/// of its block's maximum to 0 — and H = (v + ε)^(−1/2) of a v rounded to 0 is the largest step there is. For
/// the same reason a positive v never rounds to 0 (it rounds up to the smallest code), while m below the range
/// rounds to 0 (no step). Code 0 is exactly 0; the block maximum is coded exactly. Encoding and decoding are
/// integer shifts of the float32 pattern: no table lookups, SIMD-friendly (bitsandbytes' dynamic-tree code needs
/// a 256-entry table and a search to encode).
/// </para>
/// </summary>
internal static unsafe class StateCodec
{
    /// <summary>Elements per int8 quantisation block.</summary>
    public const int Block = StatePrecisions.BlockSize;

    /// <summary>m's int8 code: magnitude code c ∈ [0, MMax] is (bits(|y|) ≫ 20) − MBase (exponent ≥ 2⁻¹⁵), sign in bit 7.</summary>
    public const int MBase = 112 << 3, MMax = 120;
    /// <summary>v's int8 code: c ∈ [0, VMax] is (bits(y) ≫ 20) − VBase (exponent ≥ 2⁻³¹); c ≥ 1 for every y &gt; 0.</summary>
    public const int VBase = 96 << 3, VMax = 248;

    // ---- random bits ---------------------------------------------------------------------------------------

    /// <summary>SplitMix64's output function (Steele, Lea, Flood 2014).</summary>
    public static ulong SplitMix64(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The 32-bit key of step <paramref name="step"/> of the parameter with rounding seed <paramref name="seed"/>.</summary>
    public static uint StepKey(ulong seed, long step) => (uint)SplitMix64(seed ^ SplitMix64((ulong)step));

    /// <summary>lowbias32 (C. Wellons): a bijective 32-bit hash with low bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(uint x)
    {
        x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> Hash(Vector<uint> x)
    {
        x ^= Vector.ShiftRightLogical(x, 16); x *= new Vector<uint>(0x7feb352dU);
        x ^= Vector.ShiftRightLogical(x, 15); x *= new Vector<uint>(0x846ca68bU);
        x ^= Vector.ShiftRightLogical(x, 16);
        return x;
    }

    private static readonly Vector<uint> LaneIndex = CreateLaneIndex();
    private static Vector<uint> CreateLaneIndex()
    {
        Span<uint> lanes = stackalloc uint[Vector<uint>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = (uint)i;
        return new Vector<uint>(lanes);
    }

    /// <summary>16 random bits of element <paramref name="index"/>: the low half of its hash for m, the high half for v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Random16(long index, uint key, bool high)
    {
        uint h = Hash((uint)index ^ key);
        return high ? h >> 16 : h & 0xFFFF;
    }

    /// <summary>The 32-bit hashes of elements index … index + lanes − 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> RandomBits(long index, uint key)
        => Hash((new Vector<uint>((uint)index) + LaneIndex) ^ new Vector<uint>(key));

    // ---- bfloat16 ------------------------------------------------------------------------------------------

    /// <summary>Widens <paramref name="n"/> bfloat16 values to float32 (exact).</summary>
    public static void DecodeBf16(ushort* src, float* dst, int n)
    {
        int w = Vector<ushort>.Count, k = 0;
        for (; k + w <= n; k += w)
        {
            Vector.Widen(Unsafe.ReadUnaligned<Vector<ushort>>(src + k), out var lo, out var hi);
            Unsafe.WriteUnaligned(dst + k, Vector.AsVectorSingle(Vector.ShiftLeft(lo, 16)));
            Unsafe.WriteUnaligned(dst + k + w / 2, Vector.AsVectorSingle(Vector.ShiftLeft(hi, 16)));
        }
        for (; k < n; k++) dst[k] = BitConverter.Int32BitsToSingle(src[k] << 16);
    }

    /// <summary>Rounds <paramref name="n"/> float32 values (elements <paramref name="first"/>… of their tensor) to bfloat16, stochastically.</summary>
    public static void EncodeBf16(float* src, ushort* dst, int n, long first, uint key, bool high)
    {
        if (high) EncodeBf16Tile(null, null, src, dst, null, null, n, first, key);
        else EncodeBf16Tile(src, dst, null, null, null, null, n, first, key);
    }

    /// <summary>
    /// Rounds one tile of m (low random bits), v and v_max (high random bits) to bfloat16; any pair may be null.
    /// One hash per element serves all three.
    /// </summary>
    public static void EncodeBf16Tile(float* m, ushort* dm, float* v, ushort* dv, float* vm, ushort* dvm, int n, long first, uint key)
    {
        int w = Vector<uint>.Count, k = 0;
        var low = new Vector<uint>(0xFFFF);
        for (; k + 2 * w <= n; k += 2 * w)
        {
            var h0 = RandomBits(first + k, key);
            var h1 = RandomBits(first + k + w, key);
            if (m != null) Unsafe.WriteUnaligned(dm + k, RoundBf16(m + k, w, h0 & low, h1 & low));
            if (v != null || vm != null)
            {
                var r0 = Vector.ShiftRightLogical(h0, 16);
                var r1 = Vector.ShiftRightLogical(h1, 16);
                if (v != null) Unsafe.WriteUnaligned(dv + k, RoundBf16(v + k, w, r0, r1));
                if (vm != null) Unsafe.WriteUnaligned(dvm + k, RoundBf16(vm + k, w, r0, r1));
            }
        }
        for (; k < n; k++)
        {
            uint h = Hash((uint)(first + k) ^ key);
            if (m != null) dm[k] = RoundBf16(m[k], h & 0xFFFF);
            if (v != null) dv[k] = RoundBf16(v[k], h >> 16);
            if (vm != null) dvm[k] = RoundBf16(vm[k], h >> 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<ushort> RoundBf16(float* p, int w, Vector<uint> r0, Vector<uint> r1)
    {
        var lo = Vector.ShiftRightLogical(Vector.AsVectorUInt32(Unsafe.ReadUnaligned<Vector<float>>(p)) + r0, 16);
        var hi = Vector.ShiftRightLogical(Vector.AsVectorUInt32(Unsafe.ReadUnaligned<Vector<float>>(p + w)) + r1, 16);
        return Pack16(lo, hi);
    }

    // Codes are already in range, so a saturating pack is exact; on AVX2 it is one instruction plus a lane fix-up
    // (Vector.Narrow masks first). Same bits either way.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<ushort> Pack16(Vector<uint> lo, Vector<uint> hi)
    {
        if (Avx2.IsSupported && Vector<uint>.Count == 8)
        {
            var p = Avx2.PackUnsignedSaturate(lo.AsVector256().AsInt32(), hi.AsVector256().AsInt32());
            return Avx2.Permute4x64(p.AsUInt64(), 0b11_01_10_00).AsUInt16().AsVector();
        }
        return Vector.Narrow(lo, hi);
    }

    private static readonly Vector256<int> ByteOrder = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<byte> Pack8(Vector<uint> c0, Vector<uint> c1, Vector<uint> c2, Vector<uint> c3)
    {
        if (Avx2.IsSupported && Vector<uint>.Count == 8)
        {
            var a = Avx2.PackUnsignedSaturate(c0.AsVector256().AsInt32(), c1.AsVector256().AsInt32());
            var b = Avx2.PackUnsignedSaturate(c2.AsVector256().AsInt32(), c3.AsVector256().AsInt32());
            var p = Avx2.PackUnsignedSaturate(a.AsInt16(), b.AsInt16());
            return Avx2.PermuteVar8x32(p.AsInt32(), ByteOrder).AsByte().AsVector();
        }
        return Vector.Narrow(Vector.Narrow(c0, c1), Vector.Narrow(c2, c3));
    }

    /// <summary>One value: the top 16 bits of bits(f) + r.</summary>
    public static ushort RoundBf16(float f, uint random16) => (ushort)((BitConverter.SingleToUInt32Bits(f) + random16) >> 16);

    // ---- int8 ----------------------------------------------------------------------------------------------

    /// <summary>Decodes one block's codes with its scale into float32.</summary>
    public static void DecodeInt8(byte* src, float scale, float* dst, int n, bool signed)
    {
        int w = Vector<byte>.Count, q = w / 4, k = 0;
        var vs = new Vector<float>(scale);
        uint mask = signed ? 0x7Fu : 0xFFu;
        uint bas = signed ? (uint)MBase : (uint)VBase;
        for (; k + w <= n; k += w)
        {
            Vector.Widen(Unsafe.ReadUnaligned<Vector<byte>>(src + k), out var s0, out var s1);
            Vector.Widen(s0, out var u0, out var u1);
            Vector.Widen(s1, out var u2, out var u3);
            Unsafe.WriteUnaligned(dst + k, Decode(u0, vs, mask, bas, signed));
            Unsafe.WriteUnaligned(dst + k + q, Decode(u1, vs, mask, bas, signed));
            Unsafe.WriteUnaligned(dst + k + 2 * q, Decode(u2, vs, mask, bas, signed));
            Unsafe.WriteUnaligned(dst + k + 3 * q, Decode(u3, vs, mask, bas, signed));
        }
        for (; k < n; k++) dst[k] = DecodeInt8(src[k], scale, signed);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Decode(Vector<uint> u, Vector<float> scale, uint mask, uint bas, bool signed)
    {
        var c = u & new Vector<uint>(mask);
        var bits = Vector.ShiftLeft(c + new Vector<uint>(bas), 20);
        if (signed) bits |= Vector.ShiftLeft(u & new Vector<uint>(0x80), 24);
        // Code 0 is +0 · scale: 0 for a finite scale, NaN for a non-finite block (which so stays non-finite).
        bits = Vector.ConditionalSelect(Vector.Equals(c, Vector<uint>.Zero), Vector<uint>.Zero, bits);
        return Vector.AsVectorSingle(bits) * scale;
    }

    /// <summary>One code.</summary>
    public static float DecodeInt8(byte code, float scale, bool signed)
    {
        uint c = signed ? code & 0x7Fu : code;
        if (c == 0) return 0f * scale;
        uint bits = (c + (uint)(signed ? MBase : VBase)) << 20;
        if (signed) bits |= (uint)(code & 0x80) << 24;
        return BitConverter.UInt32BitsToSingle(bits) * scale;
    }

    /// <summary>The block's scale: max |f| over its <paramref name="n"/> values; NaN if any value is NaN (as LibTorch's amax).</summary>
    public static float AbsMax(float* src, int n)
    {
        int w = Vector<float>.Count, k = 0;
        var acc = Vector<float>.Zero;
        var nan = Vector<int>.Zero;
        for (; k + w <= n; k += w)
        {
            var v = Unsafe.ReadUnaligned<Vector<float>>(src + k);
            acc = Vector.Max(acc, Vector.Abs(v));
            nan |= ~Vector.Equals(v, v);
        }
        float max = 0;
        for (int i = 0; i < w; i++) max = Math.Max(max, acc[i]);
        bool anyNaN = nan != Vector<int>.Zero;
        for (; k < n; k++) { max = Math.Max(max, Math.Abs(src[k])); anyNaN |= float.IsNaN(src[k]); }
        return anyNaN ? float.NaN : max;
    }

    /// <summary>Codes one block (<paramref name="n"/> ≤ 256 values, elements <paramref name="first"/>… of their tensor) with its scale.</summary>
    public static void EncodeInt8(float* src, byte* dst, int n, float scale, long first, uint key, bool high, bool signed)
    {
        if (signed != !high) throw new ArgumentException("m (signed) takes the low random bits, v and v_max (unsigned) the high ones.");
        if (signed) EncodeInt8Tile(src, dst, scale, null, null, 0, null, null, 0, n, first, key);
        else EncodeInt8Tile(null, null, 0, src, dst, scale, null, null, 0, n, first, key);
    }

    /// <summary>
    /// Codes one block of m (signed, low random bits), v and v_max (unsigned, high random bits) with their scales; any
    /// may be null. One hash per element serves all three. y = f·(1/scale): the reciprocal is rounded once per block.
    /// </summary>
    public static void EncodeInt8Tile(float* m, byte* dm, float sm, float* v, byte* dv, float sv, float* vm, byte* dvm, float svm, int n, long first, uint key)
    {
        // A zero or non-finite block codes as all 0 (see DecodeInt8: a non-finite scale keeps it non-finite).
        if (m != null && !Codable(sm)) { new Span<byte>(dm, n).Clear(); m = null; }
        if (v != null && !Codable(sv)) { new Span<byte>(dv, n).Clear(); v = null; }
        if (vm != null && !Codable(svm)) { new Span<byte>(dvm, n).Clear(); vm = null; }
        if (m == null && v == null && vm == null) return;
        float im = 1f / sm, iv = 1f / sv, ivm = 1f / svm;
        int w = Vector<byte>.Count, q = w / 4, k = 0;
        var low = new Vector<uint>(0xFFFF);
        for (; k + w <= n; k += w)
        {
            var h0 = RandomBits(first + k, key);
            var h1 = RandomBits(first + k + q, key);
            var h2 = RandomBits(first + k + 2 * q, key);
            var h3 = RandomBits(first + k + 3 * q, key);
            if (m != null)
            {
                var vi = new Vector<float>(im);
                var c0 = EncodeSigned(m + k, vi, Vector.ShiftLeft(h0 & low, 4));
                var c1 = EncodeSigned(m + k + q, vi, Vector.ShiftLeft(h1 & low, 4));
                var c2 = EncodeSigned(m + k + 2 * q, vi, Vector.ShiftLeft(h2 & low, 4));
                var c3 = EncodeSigned(m + k + 3 * q, vi, Vector.ShiftLeft(h3 & low, 4));
                Unsafe.WriteUnaligned(dm + k, Pack8(c0, c1, c2, c3));
            }
            if (v != null || vm != null)
            {
                var r0 = Vector.ShiftLeft(Vector.ShiftRightLogical(h0, 16), 4);
                var r1 = Vector.ShiftLeft(Vector.ShiftRightLogical(h1, 16), 4);
                var r2 = Vector.ShiftLeft(Vector.ShiftRightLogical(h2, 16), 4);
                var r3 = Vector.ShiftLeft(Vector.ShiftRightLogical(h3, 16), 4);
                if (v != null)
                {
                    var vi = new Vector<float>(iv);
                    Unsafe.WriteUnaligned(dv + k, Pack8(EncodeUnsigned(v + k, vi, r0), EncodeUnsigned(v + k + q, vi, r1),
                        EncodeUnsigned(v + k + 2 * q, vi, r2), EncodeUnsigned(v + k + 3 * q, vi, r3)));
                }
                if (vm != null)
                {
                    var vi = new Vector<float>(ivm);
                    Unsafe.WriteUnaligned(dvm + k, Pack8(EncodeUnsigned(vm + k, vi, r0), EncodeUnsigned(vm + k + q, vi, r1),
                        EncodeUnsigned(vm + k + 2 * q, vi, r2), EncodeUnsigned(vm + k + 3 * q, vi, r3)));
                }
            }
        }
        for (; k < n; k++)
        {
            uint h = Hash((uint)(first + k) ^ key);
            if (m != null) dm[k] = EncodeInt8(m[k], im, h & 0xFFFF, signed: true);
            if (v != null) dv[k] = EncodeInt8(v[k], iv, h >> 16, signed: false);
            if (vm != null) dvm[k] = EncodeInt8(vm[k], ivm, h >> 16, signed: false);
        }
    }

    private static bool Codable(float scale) => scale > 0 && float.IsFinite(scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> EncodeSigned(float* p, Vector<float> inverseScale, Vector<uint> r)
    {
        var f = Unsafe.ReadUnaligned<Vector<float>>(p);
        var y = Vector.AsVectorUInt32(Vector.Abs(f * inverseScale));
        var c = Vector.AsVectorInt32(Vector.ShiftRightLogical(y + r, 20)) - new Vector<int>(MBase);
        var cu = Vector.AsVectorUInt32(Vector.Min(Vector.Max(c, Vector<int>.Zero), new Vector<int>(MMax)));
        var sign = Vector.ShiftLeft(Vector.ShiftRightLogical(Vector.AsVectorUInt32(f), 31), 7);
        return Vector.ConditionalSelect(Vector.Equals(cu, Vector<uint>.Zero), Vector<uint>.Zero, cu | sign);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> EncodeUnsigned(float* p, Vector<float> inverseScale, Vector<uint> r)
    {
        var y = Vector.AsVectorUInt32(Vector.Abs(Unsafe.ReadUnaligned<Vector<float>>(p) * inverseScale));
        var c = Vector.AsVectorInt32(Vector.ShiftRightLogical(y + r, 20)) - new Vector<int>(VBase);
        // A positive v never codes to 0 (see the class comment): the lower bound is 1 where y > 0.
        var lower = Vector.AsVectorInt32(Vector.Min(y, Vector<uint>.One)); // 1 where y > 0
        return Vector.AsVectorUInt32(Vector.Min(Vector.Max(c, lower), new Vector<int>(VMax)));
    }

    /// <summary>One value with the block's reciprocal scale (the scalar form of the SIMD encoder, bit for bit).</summary>
    public static byte EncodeInt8(float f, float inverseScale, uint random16, bool signed)
    {
        uint y = BitConverter.SingleToUInt32Bits(Math.Abs(f * inverseScale));
        int c = (int)((y + (random16 << 4)) >> 20) - (signed ? MBase : VBase);
        if (signed)
        {
            c = Math.Clamp(c, 0, MMax);
            return c == 0 ? (byte)0 : (byte)(c | (int)((BitConverter.SingleToUInt32Bits(f) >> 31) << 7));
        }
        return (byte)Math.Clamp(c, y > 0 ? 1 : 0, VMax);
    }
}
